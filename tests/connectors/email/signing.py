"""DKIM for tests: sign with the committed test key (``fixtures/dkim-test.key``, used
nowhere else) and answer the public key from a dict instead of DNS."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage

import dkim  # type: ignore[import-untyped]

from connectors.email.auth import DnsLookup
from tests.connectors.email.harness import FIXTURES

SELECTOR = "s2026"
PRIVATE_KEY = (FIXTURES / "dkim-test.key").read_bytes()
PUBLIC_KEY = (FIXTURES / "dkim-test.pub.b64").read_text(encoding="ascii").strip()
SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"in-reply-to"]


def dns_records(*domains: str) -> dict[str, str]:
    """The TXT records that publish the test key for `domains`."""
    return {f"{SELECTOR}._domainkey.{d}.": f"v=DKIM1; k=rsa; p={PUBLIC_KEY}" for d in domains}


def lookup(records: dict[str, str]) -> DnsLookup:
    """A dkimpy ``dnsfunc`` answering from `records` (no network)."""

    def txt(name: bytes | str, timeout: float = 5) -> bytes | None:
        key = name.decode("ascii") if isinstance(name, bytes) else name
        value = records.get(key if key.endswith(".") else key + ".")
        return value.encode("ascii") if value is not None else None

    return txt


def mail(
    *,
    sender: str,
    text: str,
    subject: str = "Order #1042",
    message_id: str = "<m1@example.net>",
    in_reply_to: str = "",
    to: str = "support@example.com",
) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Sun, 29 Nov 2026 10:00:00 +0000"
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(text)
    return message


def signed(message: EmailMessage, *, domain: str) -> bytes:
    """`message` with a DKIM-Signature by `domain` (relaxed/relaxed, rsa-sha256)."""
    data = message.as_bytes()
    signature = dkim.sign(
        data,
        SELECTOR.encode(),
        domain.encode(),
        PRIVATE_KEY,
        include_headers=SIGNED_HEADERS,
        canonicalize=(b"relaxed", b"relaxed"),
    )
    return bytes(signature) + data
