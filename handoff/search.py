"""Search over conversations, messages and customers, as the console shows it.

The store's index (`hub.search`) finds references; this service decides what the
searching agent may see — the same rule as every agent action (`handoff.actions.may_see`):
supervisors everything, agents the waiting queue and their own conversations — and turns
each hit into a result: the conversation, a snippet of the text with the matches marked,
and the customer. Snippets are (text, is_match) pieces, never markup: the browser builds
`<mark>` elements and fills them with `textContent`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from handoff.actions import ActionError, Actor, may_read, may_see
from handoff.inbox import customer_identity, customer_name, status_of
from handoff.tickets import label
from handoff.views import QueueView
from hub.model import Conversation, Customer
from hub.ports import Records
from hub.search import Hit, Scope, SearchIndex
from hub.search_text import Query, QueryError, customer_text, event_text, parse_query, snippet

PAGE = 20
CUSTOMERS = 5  # customer matches shown above the messages (first page only)


@dataclass(frozen=True, slots=True, kw_only=True)
class Results:
    query: str
    messages: Sequence[dict[str, Any]]
    customers: Sequence[dict[str, Any]]
    next_cursor: str | None


class ConversationSearch:
    """One per request: the index, and the engine's queue for who may see what."""

    def __init__(self, index: SearchIndex, engine: QueueView, store: Records) -> None:
        self.index = index
        self.engine = engine
        self.store = store

    def scope(self, actor: Actor) -> Scope | None:
        if actor.sees_all:
            return None
        visible = [t for t in self.engine.queue.tickets.values() if may_see(actor, t)]
        return Scope(
            conversations=frozenset(t.conversation_id for t in visible),
            customers=frozenset(t.customer_id for t in visible),
        )

    async def search(
        self, actor: Actor, text: str, *, limit: int = PAGE, cursor: str | None = None
    ) -> Results:
        try:
            query = parse_query(text)
            scope = self.scope(actor)
            hits = await self.index.search(
                query, kind="conversation", scope=scope, limit=limit, cursor=cursor
            )
            people = (
                await self.index.search(query, kind="customer", scope=scope, limit=CUSTOMERS)
                if not cursor
                else None
            )
        except QueryError as error:
            raise ActionError(str(error), zh_reason(str(error)), status=400) from None
        messages = await self._messages(actor, query, hits.items)
        customers = (
            await asyncio.gather(*(self._customer(actor, query, h) for h in people.items))
            if people
            else []
        )
        return Results(
            query=query.text,
            messages=messages,
            customers=[c for c in customers if c is not None],
            next_cursor=hits.next_cursor,
        )

    def _conversation_view(
        self, actor: Actor, conversation: Conversation, customer: Customer | None
    ) -> dict[str, Any]:
        ticket = self.engine.queue.tickets.get(conversation.id)
        open_here = ticket is not None and may_see(actor, ticket)
        return {
            "conversation_id": conversation.id,
            "channel": conversation.channel,
            "status": conversation.status.value,
            "ticket": label(ticket.number, ticket.conversation_id) if ticket else "",
            "handoff": status_of(ticket) if ticket else "",
            "priority": f"P{ticket.priority}" if ticket else "",
            # An open hand-off opens in the workspace to work on; a closed or bot-only
            # conversation (or one held by someone else) opens there to read.
            "open": open_here,
            "read": open_here
            or may_read(actor, conversation.customer_id, self.engine.queue.tickets.values()),
            "customer": {
                "id": conversation.customer_id,
                "name": customer_name(customer),
                "identity": customer_identity(customer),
            },
        }

    async def _messages(
        self, actor: Actor, query: Query, hits: Sequence[Hit]
    ) -> list[dict[str, Any]]:
        """The hits as results; each conversation and customer read once per page."""
        store = self.store
        ids = list(dict.fromkeys(h.conversation_id for h in hits))
        read = await asyncio.gather(*map(store.get_conversation, ids))
        conversations = dict(zip(ids, read, strict=True))
        people = list(dict.fromkeys(c.customer_id for c in read if c))
        customers = dict(
            zip(people, await asyncio.gather(*map(store.get_customer, people)), strict=True)
        )
        events = await asyncio.gather(
            *(store.events(h.conversation_id, after_seq=h.seq - 1, limit=1) for h in hits)
        )
        results = []
        for hit, found in zip(hits, events, strict=True):
            conversation = conversations.get(hit.conversation_id)
            if conversation is None or not found:
                continue  # gone since it was indexed
            event = found[0]
            pieces = snippet(event_text(event.type, event.data), query)
            customer = customers.get(conversation.customer_id)
            results.append(
                {
                    **self._conversation_view(actor, conversation, customer),
                    "kind": hit.kind,
                    "seq": hit.seq,
                    "at": event.at,
                    "who": _who(event.type),
                    "snippet": [[text, mark] for text, mark in pieces],
                }
            )
        return results

    async def _customer(self, actor: Actor, query: Query, hit: Hit) -> dict[str, Any] | None:
        customer = await self.store.get_customer(hit.customer_id)
        if customer is None:
            return None
        conversation = await self._conversation_of(actor, customer.id)
        pieces = snippet(customer_text(customer.to_json()), query)
        return {
            "kind": "customer",
            "customer": {
                "id": customer.id,
                "name": customer_name(customer),
                "identity": customer_identity(customer),
            },
            "snippet": [[text, mark] for text, mark in pieces],
            "conversation": self._conversation_view(actor, conversation, customer)
            if conversation is not None
            else None,
        }

    async def _conversation_of(self, actor: Actor, customer_id: str) -> Conversation | None:
        """The customer's conversation to open: their visible open hand-off, else (for
        those who see everything) their latest conversation."""
        for ticket in self.engine.queue.tickets.values():
            if ticket.customer_id == customer_id and may_see(actor, ticket):
                return await self.store.get_conversation(ticket.conversation_id)
        return await self.store.latest_conversation(customer_id) if actor.sees_all else None


def _who(event_type: str) -> str:
    return {
        "message.in": "customer",
        "message.edited": "customer",
        "message.out": "reply",
        "handoff.note": "note",
    }.get(event_type, "ticket")


_ZH = {
    "type something to search for": "请输入要搜索的内容",
    "the search has no letters, digits or Chinese characters": "搜索内容中没有文字或数字",
    "the page cursor is not one this search gave out": "分页标记无效",
}


def zh_reason(message: str) -> str:
    """The Chinese for a query refusal whose English names a limit."""
    if message.startswith("a search is at most"):
        return "搜索内容过长"
    if message.startswith("a search has at most"):
        return "搜索词过多"
    return _ZH.get(message, "无法执行该搜索")
