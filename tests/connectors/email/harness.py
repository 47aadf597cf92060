"""Test harness for the email channel: a capturing SMTP relay, a hub with the email
channel on loopback, and a blocking-client helper (smtplib runs in a worker thread,
because the receiver it talks to lives on the test's own event loop)."""

from __future__ import annotations

import asyncio
import re
import smtplib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from hub.abc import ConversationHandler, Turn, TurnResult
from hub.hub import Hub
from hub.model import Button, Event, Outbound

FIXTURES = Path(__file__).parent / "fixtures"
SUPPORT = "support@example.com"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class CaptureRelay:
    """A real SMTP server on 127.0.0.1 that keeps every message the hub sends."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.raw: list[bytes] = []
        self.refuse_next: list[str] = []  # SMTP replies to give DATA instead of 250
        self._arrived = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse_next:
            return self.refuse_next.pop(0)
        data = envelope.original_content or b""
        assert isinstance(data, bytes)
        self.raw.append(data)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        message = BytesParser(policy=policy.default).parsebytes(data)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        async with self._arrived:
            self._arrived.notify_all()
        return "250 OK"

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self), "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        """Wait until `count` messages arrived (fails the test after `timeout`)."""
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self.messages) >= count), timeout
            )
        return self.messages


def config_yaml(tmp_path: Path, *, relay_port: int, inbound: str = "smtp", **email: Any) -> Path:
    """A hub config with only the email channel enabled (on loopback)."""
    smtp_in = {"host": "127.0.0.1", "port": 0, **email.pop("smtp_in", {})}
    # Journeys about threading, loops or hand-off send unsigned mail; sender
    # authentication has its own tests (test_sender_auth*.py), which set this.
    email.setdefault("sender_auth", "off")
    imap = email.pop("imap", None)
    lines = [
        "delivery:",
        "  base_delay: 0.01",
        "  max_delay: 0.05",
        "  max_attempts: 3",
        "  poll_interval: 0.05",
        "bot:",
        "  kind: echo",
        "channels:",
        "  api:",
        "    enabled: false",
        "  email:",
        f"    address: {SUPPORT}",
        "    name: Example Support",
        '    signature: "Example Support\\nhttps://example.com/help"',
        f"    inbound: {inbound}",
    ]
    for key, value in email.items():
        lines.append(f"    {key}: {value!r}" if isinstance(value, str) else f"    {key}: {value}")
    lines.append("    smtp_in:")
    lines += [f"      {k}: {v}" for k, v in smtp_in.items()]
    if imap:
        lines.append("    imap:")
        lines += [f"      {k}: {v}" for k, v in imap.items()]
    lines += [
        "    relay:",
        "      host: 127.0.0.1",
        f"      port: {relay_port}",
        "      security: none",
    ]
    path = tmp_path / "frontdesk.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def send_mail(
    port: int,
    data: bytes,
    *,
    sender: str = "customer@example.net",
    recipients: Sequence[str] = (SUPPORT,),
    lmtp: bool = False,
) -> None:
    """Send raw message bytes with the standard library's client (in a thread).

    Line endings become CRLF first, as SMTP requires (smtplib leaves bytes as they are).
    """
    data = re.sub(rb"\r?\n", b"\r\n", data)

    def send() -> None:
        client = smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port)
        try:
            client.sendmail(sender, list(recipients), data)
        finally:
            client.quit()

    await asyncio.to_thread(send)


def reply_to(message: EmailMessage, text: str, *, sender: str) -> bytes:
    """A customer's reply to one of the hub's mails, threaded as a mail client does."""
    reply = EmailMessage(policy=policy.SMTP.clone(max_line_length=998))
    reply["From"] = sender
    reply["To"] = str(message["Reply-To"])
    reply["Subject"] = f"Re: {message['Subject']}"
    reply["Message-ID"] = f"<reply.{abs(hash(text))}.{len(text)}@example.net>"
    reply["In-Reply-To"] = str(message["Message-ID"])
    reply["References"] = f"{message.get('References', '')} {message['Message-ID']}".strip()
    quoted = "\n".join(f"> {line}" for line in plain_text(message).splitlines())
    reply.set_content(f"{text}\n\nOn Sun, 22 Nov 2026, Example Support wrote:\n{quoted}\n")
    return reply.as_bytes()


def plain_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content()).replace("\r\n", "\n")


def html_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content()).replace("\r\n", "\n")


class MenuBot(ConversationHandler):
    """Offers three choices; a chosen payload (starting with "/") is echoed back."""

    BUTTONS = (
        Button(title="Track my order", payload="/track"),
        Button(title="Ask for a refund", payload="/refund"),
        Button(title="Talk to a person", payload="/human"),
    )

    async def handle(self, turn: Turn) -> TurnResult:
        text = turn.inbound.text.strip()
        if text.startswith("/"):
            return TurnResult(replies=(Outbound(text=f"Chosen: {text}"),))
        return TurnResult(replies=(Outbound(text="How can we help?", buttons=self.BUTTONS),))


def bounce_of(reply: EmailMessage, *, failed: str) -> bytes:
    """A Postfix delivery-status report for one of the hub's replies (`fixtures/bounce.eml`
    with that reply's Message-ID and recipient), as the relay would send it back."""
    template = fixture("bounce.eml").decode("ascii")
    template = re.sub(r"Message-ID: <fd\.[^>]+>", f"Message-ID: {reply['Message-ID']}", template)
    return template.replace("ana.lima@gmail.com", failed).encode("ascii")


@dataclass
class EmailHub:
    """A running hub with the email channel, its capturing relay and its SMTP port."""

    hub: Hub
    relay: CaptureRelay
    port: int

    async def send(self, data: bytes, **kwargs: Any) -> None:
        await send_mail(self.port, data, **kwargs)

    async def events(self, identity: str) -> list[Event]:
        conversation = await self.hub.latest_conversation(identity)
        assert conversation is not None, f"no conversation for {identity}"
        return await self.hub.events(conversation.id, limit=1000)


Start = Callable[..., Awaitable[EmailHub]]
