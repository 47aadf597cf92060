"""The conversation search index, as a port with one implementation per store.

- SQLite (`hub.search_sqlite`): FTS5 tables kept by triggers in the same transaction as
  every event and customer write; existing files are indexed once on open.
- Redis (`hub.search_redis`): an inverted index of tokens in sorted sets, filled from the
  conversation log behind a per-conversation watermark (the events this process appends,
  at once; another process's when it has not done so within a grace, or before a search;
  everything else on start).

Both tokenise and match with the same pure rules (`hub.search_text`). The index answers
with references (conversation and seq, or customer) newest first; who may see which one
and how a hit is shown is the caller's business (`handoff.search`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from aiohttp import web

from hub.model import Event
from hub.search_text import Query

Kind = Literal["conversation", "customer"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    """One indexed document that matched: a message or ticket of a conversation (`seq` in
    its log), or a customer record."""

    kind: str  # "message", "ticket" or "customer"
    conversation_id: str = ""
    seq: int = 0
    customer_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """What the searcher may see: None for everything, else these conversations (for
    message and ticket hits) and these customers (for customer hits)."""

    conversations: frozenset[str] = frozenset()
    customers: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class Hits:
    items: Sequence[Hit]
    next_cursor: str | None = None


class SearchIndex(Protocol):
    async def start(self) -> None:
        """Bring the index up to date with what is stored (may work in the background)."""

    async def stop(self) -> None: ...

    def wrote(self, events: Sequence[Event]) -> None:
        """Events this process has just appended, as it publishes them (must not block)."""

    def on_events(self, events: Sequence[Event]) -> None:
        """Every batch of events any process appended, from the bus (a hub listener; must
        not block). An index shared by several processes leaves another's to it."""

    async def search(
        self,
        query: Query,
        *,
        kind: Kind,
        scope: Scope | None,
        limit: int,
        cursor: str | None = None,
    ) -> Hits:
        """Matching messages and tickets (`kind="conversation"`) or customers, newest first.
        A cursor from an earlier page continues after it; a malformed one is a `QueryError`."""

    async def forget_customer(self, customer_id: str, conversation_ids: Sequence[str]) -> None:
        """After an erasure: nothing of this customer's records or conversations stays in
        the index."""


SEARCH = web.AppKey("search", SearchIndex)


class NoSearch:
    """A store without an index (a test double): every search finds nothing."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def wrote(self, events: Sequence[Event]) -> None:
        return None

    def on_events(self, events: Sequence[Event]) -> None:
        return None

    async def search(
        self,
        query: Query,
        *,
        kind: Kind,
        scope: Scope | None,
        limit: int,
        cursor: str | None = None,
    ) -> Hits:
        return Hits(items=())

    async def forget_customer(self, customer_id: str, conversation_ids: Sequence[str]) -> None:
        return None
