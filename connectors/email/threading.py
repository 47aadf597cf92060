"""Which email thread a message belongs to, from its headers alone (pure, stateless).

A thread is named by its *root*: the Message-ID of the mail that started it, written
without angle brackets. It becomes `Inbound.thread_hint`, so the hub keeps one conversation
per thread and a new subject (a new root) opens a new conversation.

The Message-IDs the hub puts on its own replies carry the root inside them
(``<fd.<delivery id>.<base32 of the root>@<our domain>>``), so a reply to one of our mails
finds its thread even when the customer's client drops `References`. The `Reply-To`
address carries a short token of the root (``support+<token>@…``) as the last resort for
clients that drop every threading header.

Order of evidence: `In-Reply-To` naming one of our mails, then `References` right to left
for one of ours, then the first id of `References` (the root, as every client keeps it),
then `In-Reply-To`, then the message's own Message-ID (it starts a thread).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

OWN_PREFIX = "fd"
MAX_ENCODED_ROOT = 400  # a Message-ID must fit on one header line (998 octets)
_ID = re.compile(r"<([^<>\s]{1,998})>")
_BARE_ID = re.compile(r"[^<>\s,;]+@[^<>\s,;]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadRef:
    """The thread a message continues (`root`) and which header said so (`source`)."""

    root: str
    source: str  # "in-reply-to:own", "references:own", "references", "in-reply-to", "new"


def message_ids(value: str | None) -> list[str]:
    """Every ``<id>`` in a header value, in order, without brackets.

    Python's `email` package treats `References`/`In-Reply-To` as unstructured text, and
    some clients omit the brackets: a bare ``local@domain`` is accepted then.
    """
    if not value:
        return []
    found = _ID.findall(value)
    if found:
        return found
    return _BARE_ID.findall(value)


def own_message_id(*, delivery_id: str, root: str, domain: str) -> str:
    """The Message-ID (with brackets) of a reply the hub sends in thread `root`."""
    encoded = _encode(root)
    if len(encoded) > MAX_ENCODED_ROOT:
        encoded = ""  # an absurdly long root: References still carries it
    return f"<{OWN_PREFIX}.{delivery_id}.{encoded}@{domain}>"


def is_own(message_id: str, domain: str) -> bool:
    """Whether a Message-ID (without brackets) is one the hub generated."""
    local, _, host = message_id.rpartition("@")
    return host.lower() == domain.lower() and local.startswith(f"{OWN_PREFIX}.")


def root_from_own(message_id: str, domain: str) -> str | None:
    """The thread root encoded in one of our Message-IDs, or None."""
    if not is_own(message_id, domain):
        return None
    local = message_id.rpartition("@")[0]
    parts = local.split(".", 2)
    if len(parts) != 3 or not parts[2]:
        return None
    return _decode(parts[2])


def thread_of(
    *, message_id: str, in_reply_to: str | None, references: str | None, domain: str
) -> ThreadRef:
    """The thread a message belongs to; see the module docstring for the order."""
    replied = message_ids(in_reply_to)
    refs = message_ids(references)
    for candidate in replied[:1]:
        root = root_from_own(candidate, domain)
        if root:
            return ThreadRef(root=root, source="in-reply-to:own")
    for candidate in reversed(refs):
        root = root_from_own(candidate, domain)
        if root:
            return ThreadRef(root=root, source="references:own")
    if refs:
        return ThreadRef(root=refs[0], source="references")
    if replied:
        return ThreadRef(root=replied[0], source="in-reply-to")
    return ThreadRef(root=message_id, source="new")


def plus_token(root: str) -> str:
    """A short, address-safe token naming thread `root` (for ``support+<token>@…``)."""
    digest = hashlib.sha256(root.encode("utf-8", "surrogateescape")).digest()
    return base64.b32encode(digest).decode("ascii")[:16].lower()


def plus_address(mailbox: str, root: str) -> str:
    """``local+<token>@domain`` for the configured support address `mailbox`."""
    local, _, domain = mailbox.partition("@")
    return f"{local}+{plus_token(root)}@{domain}"


def token_in(addresses: list[str], mailbox: str) -> str | None:
    """The plus-address token of the first recipient ``local+<token>@domain``, if any."""
    local, _, domain = mailbox.lower().partition("@")
    for address in addresses:
        user, _, host = address.lower().partition("@")
        head, plus, token = user.partition("+")
        if plus and head == local and host == domain and re.fullmatch(r"[a-z2-7]{16}", token):
            return token
    return None


def reply_references(references: list[str], message_id: str, *, keep: int = 20) -> list[str]:
    """`References` for a reply: the parent's chain plus the parent, trimmed the way
    RFC 5322 suggests (the root stays first; the newest are kept)."""
    chain = [ref for ref in references if ref != message_id] + ([message_id] if message_id else [])
    if len(chain) > keep:
        chain = chain[:1] + chain[-(keep - 1) :]
    return chain


def _encode(root: str) -> str:
    raw = root.encode("utf-8", "surrogateescape")
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def _decode(encoded: str) -> str | None:
    padded = encoded.upper() + "=" * (-len(encoded) % 8)
    try:
        return base64.b32decode(padded).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


__all__ = [
    "ThreadRef",
    "is_own",
    "message_ids",
    "own_message_id",
    "plus_address",
    "plus_token",
    "reply_references",
    "root_from_own",
    "thread_of",
    "token_in",
]
