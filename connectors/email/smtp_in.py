"""Inbound mail over SMTP or LMTP, on aiosmtpd, served on the hub's own event loop.

The server is the hub's MX (or a relay's delivery target). A message is acknowledged
(``250``) only after the hub has stored it; a storage failure answers ``451`` so the
sending MTA keeps the mail and retries. Recipients outside the allowed addresses are
refused at ``RCPT``; oversized mail is refused by aiosmtpd with ``552``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from connectors.email.parse import MailRejected

log = logging.getLogger("frontdesk.connectors.email")

# (message bytes, envelope sender, envelope recipients) → stored; raises MailRejected for
# mail that can never be accepted, anything else for "try again later".
OnMessage = Callable[[bytes, str, tuple[str, ...]], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 2525
    lmtp: bool = False
    hostname: str = "frontdesk"
    max_message_bytes: int = 50 * 1024 * 1024
    recipients: tuple[str, ...] = ()  # allowed addresses; local+tag@domain also matches
    auth_username: str = ""
    auth_password: str = ""  # from the environment
    tls_cert: str = ""
    tls_key: str = ""
    require_tls: bool = False


def recipient_allowed(address: str, allowed: Sequence[str]) -> bool:
    """Whether `address` is one of `allowed`, ignoring case and a ``+tag``."""
    local, at, domain = address.strip().lower().rpartition("@")
    if not at:
        return False
    base = f"{local.partition('+')[0]}@{domain}"
    return any(base == entry.lower() for entry in allowed)


class SmtpReceiver:
    """An aiosmtpd server bound to the hub's loop; `port` is known once started."""

    def __init__(self, settings: SmtpSettings, on_message: OnMessage) -> None:
        self.settings = settings
        self.on_message = on_message
        self.port = settings.port
        self._server: asyncio.Server | None = None
        self._tls = _tls_context(settings)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.settings.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info(
            "email receiver listening",
            extra={"host": self.settings.host, "port": self.port, "lmtp": self.settings.lmtp},
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _protocol(self) -> SMTP:
        s = self.settings
        kwargs: dict[str, Any] = {
            "data_size_limit": s.max_message_bytes,
            "hostname": s.hostname,
            "enable_SMTPUTF8": True,
            "ident": "Frontdesk",
        }
        if self._tls is not None:
            kwargs["tls_context"] = self._tls
            kwargs["require_starttls"] = s.require_tls
        if s.auth_username:
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_required"] = True
            kwargs["auth_require_tls"] = self._tls is not None
        cls = LMTP if s.lmtp else SMTP
        return cls(_Handler(self), **kwargs)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = hmac.compare_digest(
            data.login, self.settings.auth_username.encode()
        ) & hmac.compare_digest(data.password, self.settings.auth_password.encode())
        if not ok:
            log.warning("email receiver: failed SMTP AUTH", extra={"peer": str(session.peer)})
        return AuthResult(success=ok)


class _Handler:
    """aiosmtpd's hook object: checks recipients, hands DATA to the connector."""

    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        allowed = self.receiver.settings.recipients
        if allowed and not recipient_allowed(address, allowed):
            log.info("email receiver: refused recipient", extra={"recipient": address[:320]})
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        data = content if isinstance(content, bytes) else content.encode("utf-8", "replace")
        sender = envelope.mail_from or ""
        if sender == "<>":
            sender = ""
        try:
            await self.receiver.on_message(data, sender, tuple(envelope.rcpt_tos))
        except MailRejected as error:
            status = f"550 5.6.0 {error}"
        except Exception:
            # Not stored: the sending MTA keeps the mail and tries again.
            log.exception("email receiver: could not store a message")
            status = "451 4.3.0 temporary failure, try again later"
        else:
            status = "250 2.0.0 OK: queued"
        if self.receiver.settings.lmtp:
            # LMTP answers DATA once per recipient.
            return "\r\n".join([status] * max(1, len(envelope.rcpt_tos)))
        return status


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext | None:
    if not settings.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.tls_cert, settings.tls_key or None)
    return context


__all__ = ["SmtpReceiver", "SmtpSettings", "recipient_allowed"]
