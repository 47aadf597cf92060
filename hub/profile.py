"""The customer's 360° view, CRM upserts, and the privacy operations (export, erasure).

Derived facts are computed from the conversation log, never stored, so they cannot drift
from it: conversations and complaints in the last 90 days, the last CSAT score, the
channels used. The dialog engine's templates and conditions and the handoff summary read
them through `profile()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hub import identity_proofs as proofs
from hub import jsonio
from hub.model import Customer, EventType
from hub.ports import CustomerDirectory, Records

RECENT = 90 * 24 * 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DerivedFacts:
    conversations_90d: int
    complaints_90d: int
    last_csat: float | None
    channels_used: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "conversations_90d": self.conversations_90d,
            "complaints_90d": self.complaints_90d,
            "last_csat": self.last_csat,
            "channels_used": list(self.channels_used),
        }


def _is_complaint(kind: str, data: Mapping[str, Any]) -> bool:
    # The handoff engine logs why it handed off; a complaint trigger names itself.
    reason = " ".join(str(data.get(k, "")) for k in ("reason", "trigger", "intent"))
    return (kind.startswith("handoff.") or kind == EventType.BOT_TURN) and "complaint" in reason


def _csat(kind: str, data: Mapping[str, Any]) -> float | None:
    score = data.get("score", data.get("rating"))
    if "csat" in kind and isinstance(score, int | float) and not isinstance(score, bool):
        return float(score)
    return None


async def derived_facts(store: Records, customer: Customer, *, now: float) -> DerivedFacts:
    """Facts from the log (reads every recent conversation: fine for one profile, not for
    a listing)."""
    channels = {i.partition(":")[0] for i in customer.identities} - {"crm", "user"}
    recent = complaints = 0
    last_csat: tuple[float, float] | None = None
    for conversation in await store.customer_conversations(customer.id):
        if conversation.updated_at < now - RECENT:
            continue
        recent += 1
        complained = False
        async for event in store.iter_events(conversation.id):
            if event.type == EventType.MESSAGE_IN:
                channels.add(str(event.data.get("channel", "")))
            complained = complained or _is_complaint(event.type, event.data)
            score = _csat(event.type, event.data)
            if score is not None and (last_csat is None or event.at >= last_csat[0]):
                last_csat = (event.at, score)
        complaints += complained
    return DerivedFacts(
        conversations_90d=recent,
        complaints_90d=complaints,
        last_csat=last_csat[1] if last_csat else None,
        channels_used=tuple(sorted(c for c in channels if c)),
    )


async def profile(store: Records, customer_id: str, *, now: float) -> dict[str, Any] | None:
    """The customer record with its derived facts, as templates and the console see it."""
    customer = await store.get_customer(customer_id)
    if customer is None:
        return None
    facts = await derived_facts(store, customer, now=now)
    return {**customer.to_json(), "facts": facts.to_json()}


# ------------------------------------------------------------------ CRM upserts


@dataclass(frozen=True, slots=True, kw_only=True)
class CrmRecord:
    """One customer as a CRM describes it; `identities` are trusted (the CRM verified them)."""

    external_id: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    tags: Sequence[str] | None = None
    identities: Sequence[str] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Upserted:
    customer: Customer
    created: bool
    conflicts: tuple[str, ...] = ()  # identities that already belong to someone else


def crm_record(data: Mapping[str, Any]) -> CrmRecord:
    """Validate one record (from the API or an import line); `ValueError` names the field."""
    external_id = data.get("external_id")
    if not isinstance(external_id, str | int) or isinstance(external_id, bool):
        raise ValueError("field 'external_id' is required (a string)")
    external_id = str(external_id).strip()
    if not external_id or len(external_id) > 200 or any(c.isspace() for c in external_id):
        raise ValueError("field 'external_id' must be 1–200 characters without spaces")
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        raise ValueError("field 'attributes' must be an object")
    for key in attributes:
        if not isinstance(key, str) or not key or key == "unverified":
            raise ValueError(f"attribute name {key!r} is not allowed")
    if not jsonio.finite(attributes):
        # Stored, a NaN would break every strict JSON reader of the profile and the export.
        raise ValueError("field 'attributes' must hold finite numbers only (no NaN or Infinity)")
    tags = data.get("tags")
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags)
    ):
        raise ValueError("field 'tags' must be a list of non-empty strings")
    raw_identities = data.get("identities") or []
    if not isinstance(raw_identities, list) or not all(isinstance(i, str) for i in raw_identities):
        raise ValueError("field 'identities' must be a list of kind:value strings")
    try:
        identities = [proofs.normalize_identity(i) for i in raw_identities]
    except proofs.IdentityError as error:
        raise ValueError(f"field 'identities': {error}") from None
    return CrmRecord(
        external_id=external_id,
        attributes=dict(attributes),
        tags=None if tags is None else [t.strip() for t in tags],
        identities=identities,
    )


async def upsert_from_crm(store: CustomerDirectory, record: CrmRecord, *, now: float) -> Upserted:
    """Create or update the customer known to the CRM as `external_id` (idempotent).
    Identities owned by another customer are reported, never merged: merging is an
    operator's decision (`POST /api/v1/customers/{id}/merge`)."""
    customer, created = await store.ensure_customer(f"crm:{record.external_id}", now=now)
    conflicts = []
    for identity in record.identities:
        owner = await store.add_identity(customer.id, identity, now=now)
        if owner != customer.id:
            conflicts.append(identity)
    updated = await store.update_customer(
        customer.id, attributes=record.attributes, tags=record.tags, now=now
    )
    if updated is None:
        raise KeyError(customer.id)
    return Upserted(customer=updated, created=created, conflicts=tuple(conflicts))


# ------------------------------------------------------------------ privacy


async def export_customer(store: Records, customer_id: str, *, now: float) -> dict[str, Any] | None:
    """Everything held about a customer, as one JSON document."""
    found = await profile(store, customer_id, now=now)
    if found is None:
        return None
    conversations = []
    for conversation in await store.customer_conversations(customer_id):
        events = [e.to_json() async for e in store.iter_events(conversation.id)]
        conversations.append({**conversation.to_json(), "events": events})
    return {
        "exported_at": now,
        "customer": found,
        "conversations": conversations,
        "audit": await store.audit_trail(customer_id, limit=-1),
    }
