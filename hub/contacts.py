"""The contact panel's one service: who a customer is, what agents may change about them
(name, tags, attributes, CRM fields, notes) and what they did before, on any channel.

Both surfaces call it: the console's contact panel (`handoff/console/contacts_api.py`, which
adds who may see which customer) and the operators' REST API (`hub/customers_api.py`). Every
change is written to the customer's audit trail with who, when, the old and the new value.

Notes on a customer live in that same trail (`customer.note`): append-only, so a note is
never changed or removed silently, and an erasure (`erase_customer`) strips their text with
everything else the trail pointed at.

Merge suggestions come from verified identities only (`hub.identity_proofs`); an
``unverified:`` identity or an unproven claim never suggests anything.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hub import identity_proofs as proofs
from hub.errors import InputError
from hub.identity import UNVERIFIED
from hub.model import UNVERIFIED_SENDER, Conversation, Customer, Event, EventType
from hub.ports import Records

MAX_TAGS = 30
MAX_TAG = 32
MAX_ATTRIBUTES = 50
MAX_KEY = 40
MAX_VALUE = 500
MAX_NAME = 120
MAX_NOTE = 4000
MAX_QUERY = 200
MAX_CONVERSATIONS = 200  # the newest ones the panel lists and filters
EVENTS_PER_CONVERSATION = 2000
# Lower-case ASCII letter first, then letters, digits, `_`, `.`, `-`: attribute names are
# used as keys in templates, conditions and CRM exports, so they stay plain.
ATTRIBUTE_KEY = re.compile(rf"^[a-z][a-z0-9_.-]{{0,{MAX_KEY - 1}}}$")
NAME = "name"
# Attributes the panel shows as CRM fields, with their labels; the rest are "attributes".
CRM_FIELDS: dict[str, dict[str, str]] = {
    "company": {"en": "Company", "zh": "公司"},
    "tier": {"en": "Tier", "zh": "客户等级"},
    "account_manager": {"en": "Account manager", "zh": "客户经理"},
    "city": {"en": "City", "zh": "城市"},
    "country": {"en": "Country", "zh": "国家/地区"},
    "language": {"en": "Language", "zh": "语言"},
    "preferred_channel": {"en": "Preferred channel", "zh": "首选渠道"},
}
# Kept by other parts of the hub: the identity service's claims and the display name.
RESERVED = frozenset({UNVERIFIED, NAME})
NOTE = "customer.note"
TEXT_EVENTS = (EventType.MESSAGE_IN, EventType.MESSAGE_OUT)


def _printable(text: str) -> bool:
    return not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in text)


def _bad(message: str) -> InputError:
    return InputError(message, status=400)


# ------------------------------------------------------------------ validation (pure)


def clean_tag(tag: Any) -> str:
    """A tag as stored: trimmed, at most `MAX_TAG` characters, no spaces, commas or control
    characters (Chinese tags are fine: "重要客户")."""
    if not isinstance(tag, str):
        raise _bad("a tag must be a string")
    tag = unicodedata.normalize("NFC", tag.strip())
    if not tag or len(tag) > MAX_TAG:
        raise _bad(f"a tag must be 1–{MAX_TAG} characters")
    if any(c.isspace() or c in ",，" for c in tag) or not _printable(tag):
        raise _bad(f"tag {tag!r} may not contain spaces, commas or control characters")
    return str(tag)


def clean_key(key: Any) -> str:
    if not isinstance(key, str) or not ATTRIBUTE_KEY.match(key):
        raise _bad(
            f"attribute name {str(key)[:60]!r} must start with a-z and hold only a-z, 0-9,"
            f" '_', '.' or '-' (at most {MAX_KEY} characters)"
        )
    if key in RESERVED:
        raise _bad(f"attribute {key!r} cannot be edited here")
    return key


def clean_value(key: str, value: Any) -> str | None:
    """A text value of at most `MAX_VALUE` characters; None (or "") deletes the attribute."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(f"attribute {key!r} must be a string or null")
    value = value.strip()
    if len(value) > MAX_VALUE or not _printable(value.replace("\n", "")):
        raise _bad(f"attribute {key!r} must be at most {MAX_VALUE} printable characters")
    return value or None


def clean_name(name: Any) -> str:
    if not isinstance(name, str):
        raise _bad("field 'name' must be a string")
    name = name.strip()
    if len(name) > MAX_NAME or not _printable(name):
        raise _bad(f"field 'name' must be at most {MAX_NAME} printable characters")
    return str(name)


def clean_note(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise _bad("field 'text' must be a non-empty string")
    if len(text) > MAX_NOTE:
        raise _bad(f"field 'text' is longer than {MAX_NOTE} characters")
    return text.strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """What an edit asks for; fields left None are not touched."""

    name: str | None = None
    tags: tuple[str, ...] | None = None
    attributes: Mapping[str, str | None] | None = None


def parse_change(body: Mapping[str, Any]) -> Change:
    """`{"name"?, "tags"?: [...], "attributes"?: {key: text | null}}` or a 400 naming the
    problem; nothing is written unless all of it is good."""
    unknown = set(body) - {"name", "tags", "attributes"}
    if unknown:
        raise _bad(f"unknown field {sorted(unknown)[0]!r} (name, tags, attributes)")
    tags = None
    if "tags" in body:
        raw = body["tags"]
        if not isinstance(raw, list):
            raise _bad("field 'tags' must be a list of strings")
        tags = tuple(dict.fromkeys(clean_tag(t) for t in raw))
        if len(tags) > MAX_TAGS:
            raise _bad(f"at most {MAX_TAGS} tags")
    attributes = None
    if "attributes" in body:
        raw_attributes = body["attributes"]
        if not isinstance(raw_attributes, Mapping):
            raise _bad("field 'attributes' must be an object")
        attributes = {clean_key(k): clean_value(k, v) for k, v in raw_attributes.items()}
    name = clean_name(body["name"]) if "name" in body else None
    return Change(name=name, tags=tags, attributes=attributes)


# ------------------------------------------------------------------ identities (pure)


def identities_by_channel(customer: Customer) -> list[dict[str, Any]]:
    """Each identity with its channel and whether it is proven. ``unverified:`` identities
    (a sender the channel could not prove, e.g. a mail failing DMARC) and claims the customer
    typed ("my email is …") are listed as unverified."""
    rows: list[dict[str, Any]] = []
    for identity in customer.identities:
        verified = not identity.startswith(f"{UNVERIFIED_SENDER}:")
        plain = identity if verified else identity.removeprefix(f"{UNVERIFIED_SENDER}:")
        kind, _, value = plain.partition(":")
        rows.append({"identity": plain, "channel": kind, "value": value, "verified": verified})
    claims = customer.attributes.get(UNVERIFIED) or {}
    if isinstance(claims, Mapping):
        for kind, claimed in claims.items():
            for identity in claimed if isinstance(claimed, list) else ():
                value = str(identity).partition(":")[2]
                rows.append(
                    {"identity": str(identity), "channel": str(kind), "value": value,
                     "verified": False, "claimed": True}
                )  # fmt: skip
    return sorted(rows, key=lambda r: (not r["verified"], r["channel"], r["value"]))


def verified_identities(customer: Customer) -> list[str]:
    return [i for i in customer.identities if not i.startswith(f"{UNVERIFIED_SENDER}:")]


def same_mailbox(identity: str) -> str | None:
    """The plain mailbox a sub-addressed verified email delivers to (``email:ana+shop@x`` →
    ``email:ana@x``), or None: both were proven by someone who reads that mailbox."""
    kind, _, address = identity.partition(":")
    local, at, domain = address.partition("@")
    if kind != "email" or not at or "+" not in local:
        return None
    base = local.split("+", 1)[0]
    if not base:
        return None
    try:
        return proofs.normalize_identity(f"email:{base}@{domain}")
    except proofs.IdentityError:
        return None


# ------------------------------------------------------------------ transcripts (pure)


def matches(events: Sequence[Event], query: str) -> bool:
    """Whether a message of the conversation contains `query` (case-insensitive)."""
    needle = query.casefold()
    return any(needle in message_text(e).casefold() for e in events if e.type in TEXT_EVENTS)


def message_text(event: Event) -> str:
    if event.type == EventType.MESSAGE_OUT:
        return str((event.data.get("outbound") or {}).get("text", ""))
    return str(event.data.get("text", ""))


def conversation_row(conversation: Conversation, events: Sequence[Event]) -> dict[str, Any]:
    """One line of the customer's history: channel, status, when, first customer words."""
    first = next((message_text(e) for e in events if e.type == EventType.MESSAGE_IN), "")
    channels = sorted(
        {str(e.data.get("channel") or "") for e in events if e.type == EventType.MESSAGE_IN} - {""}
    )
    return {
        "id": conversation.id,
        "channel": conversation.channel,
        "channels": channels or [conversation.channel],
        "status": conversation.status.value,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "preview": first[:140],
        "messages": sum(1 for e in events if e.type in TEXT_EVENTS),
    }


# ------------------------------------------------------------------ the service


@dataclass(frozen=True, slots=True)
class Contact:
    customer: Customer
    notes: list[dict[str, Any]]
    suggestions: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        attributes = {
            k: v for k, v in self.customer.attributes.items() if k not in RESERVED
        }  # fmt: skip
        return {
            "customer_id": self.customer.id,
            "name": str(self.customer.attributes.get(NAME, "")),
            "since": self.customer.created_at,
            "identities": identities_by_channel(self.customer),
            "tags": list(self.customer.tags),
            "crm": [
                {"key": k, "label": label, "value": _text(attributes.get(k))}
                for k, label in CRM_FIELDS.items()
            ],
            "crm_ids": [
                i.partition(":")[2] for i in self.customer.identities if i.startswith("crm:")
            ],
            "attributes": {k: _text(v) for k, v in attributes.items() if k not in CRM_FIELDS},
            "notes": self.notes,
            "merge_suggestions": self.suggestions,
        }


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


class Contacts:
    """The contact panel's reads and edits on a `Records`; `actor` is who acts (audited)."""

    def __init__(self, store: Records) -> None:
        self.store = store

    async def customer(self, customer_id: str) -> Customer:
        customer = await self.store.get_customer(customer_id)
        if customer is None:
            raise InputError("no such customer", status=404)
        return customer

    async def contact(self, customer_id: str) -> Contact:
        customer = await self.customer(customer_id)
        return Contact(
            customer=customer,
            notes=await self.notes(customer_id),
            suggestions=await self.merge_suggestions(customer),
        )

    async def edit(self, customer_id: str, change: Change, *, actor: str, now: float) -> Contact:
        """Apply `change`; one audit entry per field that really changed (old → new)."""
        before = await self.customer(customer_id)
        old = dict(before.attributes)
        attributes: dict[str, Any] = dict(change.attributes or {})
        if change.name is not None:
            attributes[NAME] = change.name or None
        entries: list[dict[str, Any]] = []
        for key, value in attributes.items():
            if old.get(key) != value and not (value is None and key not in old):
                entries.append(
                    {"action": "customer.attribute_changed", "field": key,
                     "old": old.get(key), "new": value}
                )  # fmt: skip
        custom = {k for k, v in {**old, **attributes}.items() if v is not None} - RESERVED
        if len(custom - set(CRM_FIELDS)) > MAX_ATTRIBUTES and attributes.keys() - old.keys():
            raise _bad(f"at most {MAX_ATTRIBUTES} attributes besides the CRM fields")
        tags = change.tags
        if tags is not None and tuple(tags) != tuple(before.tags):
            entries.append(
                {"action": "customer.tags_changed", "field": "tags",
                 "old": list(before.tags), "new": list(tags)}
            )  # fmt: skip
        if not entries:
            return await self.contact(customer_id)
        updated = await self.store.update_customer(
            customer_id, attributes=attributes or None, tags=tags, now=now
        )
        if updated is None:
            raise InputError("no such customer", status=404)
        for entry in entries:
            await self.store.append_audit(customer_id, {**entry, "actor": actor}, now=now)
        return await self.contact(customer_id)

    async def add_note(
        self, customer_id: str, text: Any, *, actor: str, now: float
    ) -> dict[str, Any]:
        await self.customer(customer_id)
        entry = {"action": NOTE, "actor": actor, "text": clean_note(text)}
        await self.store.append_audit(customer_id, entry, now=now)
        return {**entry, "at": now}

    async def notes(self, customer_id: str) -> list[dict[str, Any]]:
        """Notes on the customer, newest first (erased ones have no text and are left out)."""
        trail = await self.store.audit_trail(customer_id, limit=-1)
        found = [
            {"text": str(e["text"]), "actor": str(e.get("actor", "")), "at": e.get("at", 0.0)}
            for e in trail
            if e.get("action") == NOTE and e.get("text")
        ]
        return found[::-1]

    async def conversations(self, customer_id: str, query: str = "") -> list[dict[str, Any]]:
        """Every conversation of the customer on any channel, newest first; with `query`,
        only those where a message contains it."""
        query = query.strip()
        if len(query) > MAX_QUERY:
            raise _bad(f"query parameter 'q' is longer than {MAX_QUERY} characters")
        await self.customer(customer_id)
        listed = await self.store.customer_conversations(customer_id)
        newest = sorted(listed, key=lambda c: (c.created_at, c.id), reverse=True)
        rows = []
        for conversation in newest[:MAX_CONVERSATIONS]:
            events = await self.store.events(conversation.id, limit=EVENTS_PER_CONVERSATION)
            if query and not matches(events, query):
                continue
            rows.append(conversation_row(conversation, events))
        return rows

    async def transcript(
        self, customer_id: str, conversation_id: str
    ) -> tuple[Conversation, list[Event]]:
        """One of the customer's conversations with its events (a 404 when it is not
        theirs: ids of other people's conversations are not confirmed)."""
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None or conversation.customer_id != customer_id:
            raise InputError("no such conversation for this customer", status=404)
        events = await self.store.events(conversation_id, limit=EVENTS_PER_CONVERSATION)
        return conversation, events

    async def merge_suggestions(self, customer: Customer) -> list[dict[str, Any]]:
        """Other customers that verified data says are this one: the same mailbox behind a
        sub-address, or an identity a CRM vouched for that another record proved. Never from
        ``unverified:`` identities or claims."""
        found: dict[str, dict[str, Any]] = {}
        for identity in verified_identities(customer):
            mailbox = same_mailbox(identity)
            if mailbox is not None:
                await self._suggest(found, customer, mailbox, "same_mailbox", identity)
        trail = await self.store.audit_trail(customer.id, limit=-1)
        for entry in trail:
            for identity in entry.get("conflicts") or ():
                if isinstance(identity, str) and not identity.startswith(UNVERIFIED_SENDER):
                    await self._suggest(found, customer, identity, "crm", identity)
        return list(found.values())

    async def _suggest(
        self, found: dict[str, dict[str, Any]], customer: Customer, identity: str, why: str,
        because: str,
    ) -> None:  # fmt: skip
        other = await self.store.find_customer(identity)
        if other is None or other.id == customer.id or other.id in found:
            return
        found[other.id] = {
            "customer_id": other.id,
            "name": str(other.attributes.get(NAME, "")),
            "identity": identity,
            "because": because,
            "reason": why,
        }
