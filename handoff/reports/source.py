"""Reading conversations and their events for a report: newest first, bounded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from hub.model import Conversation, Event
from hub.ports import Page

#: A report never reads more than this many conversations, whatever range it is asked for.
MAX_CONVERSATIONS = 20_000
MAX_EVENTS = 2_000


class ConversationReader(Protocol):
    """What reports need of the store: the conversation list and a conversation's events."""

    async def list_conversations(self, *, limit: int, cursor: str | None = None) -> Page: ...

    async def events(
        self, conversation_id: str, *, after_seq: int = 0, limit: int = 100
    ) -> list[Event]: ...


#: Listings come newest first by id, which follows creation closely but not exactly (imports,
#: clocks of several processes): the reading stops after this many older ones in a row.
OLDER_IN_A_ROW = 200


async def read_conversations(
    store: ConversationReader, *, since: float, limit: int = MAX_CONVERSATIONS
) -> AsyncIterator[tuple[Conversation, list[Event]]]:
    """Conversations created since `since` with their events (at most `limit`)."""
    cursor: str | None = None
    read = older = 0
    while read < limit:
        page = await store.list_conversations(limit=200, cursor=cursor)
        for conversation in page.items:
            if conversation.created_at < since:
                older += 1
                if older >= OLDER_IN_A_ROW:
                    return
                continue
            older = 0
            read += 1
            yield conversation, await store.events(conversation.id, limit=MAX_EVENTS)
            if read >= limit:
                return
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
