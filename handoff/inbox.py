"""The conversation list: which open hand-offs an agent sees, in which order, filtered.

One query service behind the console's list (the JSON endpoint and the workspace page):
the rows come from the hand-off queue's index (derived from the log, so every process
agrees), are filtered and ordered here, and only the page shown is read from the store for
what the index does not hold (the customer's name, the last message, the unread count).

Tabs: `mine` (offered to or held by me), `queue` (waiting, in queue order), `all` (every
open hand-off; supervisors only). Filters: status (queued, offered, assigned), channel,
priority (P1…), skill, team (of the agent holding it), language, agent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from handoff.actions import ActionError, Actor, may_see
from handoff.queue import Ticket
from handoff.views import QueueView
from hub.model import Customer, Event
from hub.ports import Records

TABS = ("mine", "queue", "all")
STATUSES = ("queued", "offered", "assigned")
MAX_PAGE = 200
DEFAULT_PAGE = 50
TAIL = 30  # events read from the end of a conversation for its preview and unread count
PREVIEW = 140  # characters of the last message shown in the row


@dataclass(frozen=True, slots=True, kw_only=True)
class Filters:
    """Every field optional ("" matches everything); values compare exactly."""

    status: str = ""
    channel: str = ""
    priority: str = ""  # "P1", "P2" …
    skill: str = ""
    team: str = ""
    language: str = ""
    agent: str = ""

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Filters:
        """From a query string; a 400 in both languages for a value that cannot be one."""
        values: dict[str, str] = {}
        for f in fields(cls):
            value = query.get(f.name, "").strip()
            if len(value) > 64 or any(ord(c) < 32 for c in value):
                raise _bad(f"filter '{f.name}' is not a valid value", f"筛选条件 '{f.name}' 无效")
            values[f.name] = value
        if values["status"] and values["status"] not in STATUSES:
            raise _bad(
                f"filter 'status' must be one of {', '.join(STATUSES)}",
                f"筛选条件 'status' 必须是以下之一：{', '.join(STATUSES)}",
            )
        priority = values["priority"].upper()
        if priority and not (len(priority) == 2 and priority[0] == "P" and priority[1].isdigit()):
            raise _bad(
                "filter 'priority' looks like P1, P2 or P3", "筛选条件 'priority' 应为 P1、P2 或 P3"
            )
        return cls(**{**values, "priority": priority})


def _bad(english: str, chinese: str) -> ActionError:
    return ActionError(english, chinese, status=400)


def status_of(ticket: Ticket) -> str:
    if not ticket.agent_id:
        return "queued"
    return "assigned" if ticket.accepted else "offered"


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One line of the list: the ticket and what the store adds to it."""

    ticket: Ticket
    status: str
    customer_name: str
    customer_identity: str
    preview: str
    preview_from: str  # "customer", "agent" or "bot" ("" when nothing was said yet)
    unread: int  # customer messages since the last reply to them
    agent_name: str
    team: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ListPage:
    rows: Sequence[Row]
    total: int
    counts: Mapping[str, int]  # per tab, with the same filters
    next_cursor: str | None


class Inbox:
    """The list's query service (cheap to build: one per request)."""

    def __init__(self, engine: QueueView, store: Records) -> None:
        self.engine = engine
        self.store = store

    def tickets(self, actor: Actor, tab: str, filters: Filters) -> list[Ticket]:
        """The tab's tickets after the filters, in the tab's order (no I/O)."""
        return self._tabs(actor, tab, filters)[0]

    def _tabs(
        self, actor: Actor, tab: str, filters: Filters
    ) -> tuple[list[Ticket], dict[str, int]]:
        """The tab's tickets in order, and every tab's count: one pass over the index."""
        if tab not in TABS:
            raise _bad(
                f"tab must be one of {', '.join(TABS)}", f"标签必须是以下之一：{', '.join(TABS)}"
            )
        if tab == "all" and not actor.sees_all:
            raise ActionError(
                "only supervisors see every conversation", "只有主管可以查看全部会话", status=403
            )
        passing = [
            t
            for t in self.engine.queue.tickets.values()
            if may_see(actor, t) and self._passes(t, filters)
        ]
        mine = [t for t in passing if t.agent_id == actor.agent_id]
        waiting = [t for t in passing if t.waiting]
        counts = {"mine": len(mine), "queue": len(waiting)}
        if actor.sees_all:
            counts["all"] = len(passing)
        if tab == "mine":
            # Offers first (they time out), then the longest waiting.
            chosen = sorted(mine, key=lambda t: (t.accepted, t.requested_at, t.conversation_id))
        else:  # the queue's own order: priority, pick-up deadline, age
            chosen = sorted(waiting if tab == "queue" else passing, key=lambda t: t.key)
        return chosen, counts

    def _passes(self, ticket: Ticket, f: Filters) -> bool:
        if not (
            (not f.status or status_of(ticket) == f.status)
            and (not f.channel or ticket.channel == f.channel)
            and (not f.priority or f"P{ticket.priority}" == f.priority)
            and (not f.skill or ticket.skill == f.skill)
            and (not f.language or ticket.language == f.language)
            and (not f.agent or ticket.agent_id == f.agent)
        ):
            return False
        if not f.team:
            return True
        agent = self.engine.queue.agents.get(ticket.agent_id)
        return agent is not None and agent.spec.team == f.team

    async def page(
        self,
        actor: Actor,
        tab: str,
        filters: Filters,
        *,
        limit: int = DEFAULT_PAGE,
        cursor: str | None = None,
    ) -> ListPage:
        start = _offset(cursor)
        limit = max(1, min(limit, MAX_PAGE))
        chosen, counts = self._tabs(actor, tab, filters)
        shown = chosen[start : start + limit]
        rows = await asyncio.gather(*(self.row(t) for t in shown))
        more = start + limit < len(chosen)
        return ListPage(
            rows=rows,
            total=len(chosen),
            counts=counts,
            next_cursor=str(start + limit) if more else None,
        )

    async def row(self, ticket: Ticket) -> Row:
        """The ticket with its customer, last message and unread count from the store."""
        conversation = await self.store.get_conversation(ticket.conversation_id)
        customer = await self.store.get_customer(ticket.customer_id) if ticket.customer_id else None
        tail: list[Event] = []
        if conversation is not None:
            after = max(0, conversation.last_seq - TAIL)
            tail = await self.store.events(ticket.conversation_id, after_seq=after, limit=TAIL)
        preview, said_by, unread = last_message(tail)
        agent = self.engine.queue.agents.get(ticket.agent_id)
        return Row(
            ticket=ticket,
            status=status_of(ticket),
            customer_name=customer_name(customer),
            customer_identity=customer_identity(customer),
            preview=preview,
            preview_from=said_by,
            unread=unread,
            agent_name=agent.spec.name if agent is not None else ticket.agent_id,
            team=agent.spec.team if agent is not None else "",
        )


def customer_name(customer: Customer | None) -> str:
    if customer is None:
        return ""
    return str(customer.attributes.get("name") or "")


def customer_identity(customer: Customer | None) -> str:
    """The identity a customer is shown by when they have no name (`telegram:42`)."""
    return customer.identities[0] if customer is not None and customer.identities else ""


def last_message(events: Sequence[Event]) -> tuple[str, str, int]:
    """(text, who said it, unread) from the tail of a hand-off's log: the last message
    of the customer or an agent (or the bot before the hand-off), and the customer's
    messages since an agent last replied. The bot's notices to a waiting customer ("you
    are number 3") are neither: they answer nothing."""
    text, who, unread = "", "", 0
    agent_reply = False
    # A tail that starts after the request is all hand-off.
    handed = not any(e.type == "handoff.requested" for e in events)
    for event in events:
        if event.type == "handoff.requested":
            handed = True
        elif event.type == "handoff.agent_message":
            agent_reply = True
        elif event.type == "message.in":
            text, who = str(event.data.get("text") or ""), "customer"
            unread += 1
        elif event.type == "message.out":
            if agent_reply or not handed:  # the bot's notices to a waiting customer are not shown
                outbound = event.data.get("outbound") or {}
                text = str(outbound.get("text") or "") if isinstance(outbound, Mapping) else ""
                who, unread = ("agent" if agent_reply else "bot"), 0
            agent_reply = False
    text = " ".join(text.split())
    return (text[: PREVIEW - 1] + "…" if len(text) > PREVIEW else text), who, unread


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit() or len(cursor) > 9:
        raise _bad("the page cursor is not one this list gave out", "分页标记无效")
    return int(cursor)
