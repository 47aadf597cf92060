"""The customer directory port: one customer across channels, their profile, merges,
privacy (export and erasure) and the audit trail of all of it.

Every identity (`telegram:123`, `email:ana@example.com` …) belongs to exactly one customer
and is looked up in O(1). Nothing here decides *whether* two records may be joined: the
identity service (`hub.identity`) does, on proof.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hub.model import Conversation, Customer, Event
from hub.ports.page import Page

CUSTOMER_MERGED = "customer.merged"
CUSTOMER_UNMERGED = "customer.unmerged"


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerMerge:
    """Two customer records proved to be one person, joined into `kept_id`.

    Both records are kept as they were before the merge, with the conversations that
    moved, so that an operator can undo it exactly (`CustomerDirectory.unmerge_customers`).
    """

    id: str
    kept_id: str
    absorbed_id: str
    kept_before: Customer
    absorbed_before: Customer
    moved_conversations: tuple[str, ...]
    reason: Mapping[str, Any]
    at: float
    undone_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kept_id": self.kept_id,
            "absorbed_id": self.absorbed_id,
            "kept_before": self.kept_before.to_json(),
            "absorbed_before": self.absorbed_before.to_json(),
            "moved_conversations": list(self.moved_conversations),
            "reason": dict(self.reason),
            "at": self.at,
            "undone_at": self.undone_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CustomerMerge:
        return cls(
            id=str(data["id"]),
            kept_id=str(data["kept_id"]),
            absorbed_id=str(data["absorbed_id"]),
            kept_before=Customer.from_json(data["kept_before"]),
            absorbed_before=Customer.from_json(data["absorbed_before"]),
            moved_conversations=tuple(data.get("moved_conversations", ())),
            reason=dict(data.get("reason", {})),
            at=float(data["at"]),
            undone_at=None if data.get("undone_at") is None else float(data["undone_at"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Moved:
    """What a merge or an unmerge wrote: the merge record, and the `customer.merged` or
    `customer.unmerged` event it logged in each conversation it moved, in the order of
    `moved_conversations`, as a log read gives them. (A Redis call resent after a lost
    reply returns none: that conversation's next batch then fills the gap from the log.)"""

    merge: CustomerMerge
    events: tuple[Event, ...] = ()


class CustomerDirectory(Protocol):
    """Customers, their identities and profile, merges, privacy and audit."""

    # -- lookups
    @abc.abstractmethod
    async def get_customer(self, customer_id: str) -> Customer | None: ...

    @abc.abstractmethod
    async def find_customer(self, identity: str) -> Customer | None:
        """The customer owning `identity`, or None."""

    @abc.abstractmethod
    async def list_customers(self, *, limit: int, cursor: str | None = None) -> Page:
        """Newest first."""

    @abc.abstractmethod
    async def latest_conversation(self, customer_id: str) -> Conversation | None:
        """The customer's open conversation, else their most recent one."""

    @abc.abstractmethod
    async def customer_conversations(self, customer_id: str) -> list[Conversation]:
        """Every conversation of the customer, oldest first."""

    # -- identities and profile
    @abc.abstractmethod
    async def ensure_customer(self, identity: str, *, now: float) -> tuple[Customer, bool]:
        """The customer owning `identity`, created (with only that identity) when there is
        none; the flag says whether it was created."""

    @abc.abstractmethod
    async def add_identity(self, customer_id: str, identity: str, *, now: float) -> str | None:
        """Give `identity` to the customer unless someone already owns it. Returns the owner
        afterwards (`customer_id`, or the other customer: nothing changed), or None when
        the customer does not exist."""

    @abc.abstractmethod
    async def update_customer(
        self,
        customer_id: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
        now: float,
    ) -> Customer | None:
        """Upsert attributes (a None value deletes the key) and, when given, replace the tags.
        None when the customer does not exist."""

    # -- merge and unmerge
    @abc.abstractmethod
    async def record_merge(
        self, kept_id: str, absorbed_id: str, *, reason: Mapping[str, Any], now: float
    ) -> Moved:
        """Move the absorbed customer's identities, attributes (the kept record wins on
        conflicts), tags and conversations to `kept_id`, delete the absorbed record, and log a
        `customer.merged` event in every moved conversation. `KeyError` when either is missing,
        `ValueError` when they are the same customer. Returns the events logged too, so the
        caller can tell the event bus (nothing else publishes them)."""

    async def merge_customers(
        self, kept_id: str, absorbed_id: str, *, reason: Mapping[str, Any], now: float
    ) -> CustomerMerge:
        """`record_merge`, for a caller that only wants the merge."""
        return (await self.record_merge(kept_id, absorbed_id, reason=reason, now=now)).merge

    @abc.abstractmethod
    async def record_unmerge(self, merge_id: str, *, now: float) -> Moved | None:
        """Undo a merge: both records exactly as they were before it (identities linked to the
        kept customer since then stay with it), the moved conversations back to the absorbed
        customer, a `customer.unmerged` event in each (returned too, as `record_merge`'s
        are). None when there is no such merge; `ValueError` when it was undone already or
        the kept customer is gone."""

    async def unmerge_customers(self, merge_id: str, *, now: float) -> CustomerMerge | None:
        """`record_unmerge`, for a caller that only wants the merge."""
        moved = await self.record_unmerge(merge_id, now=now)
        return moved.merge if moved is not None else None

    @abc.abstractmethod
    async def get_merge(self, merge_id: str) -> CustomerMerge | None: ...

    # -- privacy
    @abc.abstractmethod
    async def erase_customer(self, customer_id: str, *, now: float) -> bool:
        """Erase personal data: identities, attributes, tags, message texts and payloads,
        addresses, merge snapshots, pending verification codes. Conversations and their event
        types and times stay (anonymous counters). False when the customer does not exist."""

    # -- audit trail (links, merges, edits, exports, erasures)
    @abc.abstractmethod
    async def append_audit(
        self, customer_id: str, entry: Mapping[str, Any], *, now: float
    ) -> None: ...

    @abc.abstractmethod
    async def audit_trail(self, customer_id: str, *, limit: int = 1000) -> list[dict[str, Any]]:
        """The customer's audit entries, oldest first, each with its `at`."""


__all__ = ["CUSTOMER_MERGED", "CUSTOMER_UNMERGED", "CustomerDirectory", "CustomerMerge", "Moved"]
