"""The `email` channel: mail in by SMTP/LMTP or IMAP, replies out through an SMTP relay.

Inbound, for every message: parse → drop the hub's own mail come back → decide whether
the From: is authenticated (`auth`; an unverified sender is kept apart from the address's
customer) → a bounce counts only through our VERP return path (`verp`), else find the
thread (headers, else the plus-address token) → auto-replies, bounces and over-the-limit
senders are recorded as `notice` (never answered) → a bare number answering a numbered
list becomes that button's payload → `ingest`. The transport acknowledges only after that.

Outbound: the reply is threaded on the customer's last mail in the conversation (read
back from the log), rendered to text + HTML, flattened here (so long Message-IDs stay
whole) and sent with aiosmtplib from a VERP return path. 4xx and network failures are
`RetryLater`; 5xx refusals and unusable addresses are `DeliveryError`.

Configuration (``channels.email``) and the environment variables are in
docs/channels/email.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Self

import aiosmtplib

from connectors.email.auth import AuthSettings, DnsLookup, authenticate
from connectors.email.files import keep_mail_files, reply_files
from connectors.email.imap_in import ImapPoller, ImapSettings
from connectors.email.loops import RateLimit
from connectors.email.parse import MailRejected, ParsedMail, parse_mail
from connectors.email.render import (
    OUTBOUND_POLICY,
    ReplyContext,
    Sender,
    choice_number,
    html_template,
    render_reply,
)
from connectors.email.settings import (
    auth_settings,
    imap_settings,
    relay_settings,
    smtp_settings,
    verp_settings,
)
from connectors.email.smtp_in import SmtpReceiver, SmtpSettings
from connectors.email.threading import plus_token, token_in
from connectors.email.verp import Verp
from hub.abc import ChannelLinks, Connector
from hub.config import Section
from hub.errors import DeliveryError, RetryLater
from hub.kv import shared_secret
from hub.leader import Lease as LeaderLease
from hub.model import Delivery, EventType, Inbound, InboundKind, Outbound

log = logging.getLogger("frontdesk.connectors.email")

# The event that precedes an agent's reply in the log (written by the hand-off engine).
AGENT_MESSAGE_EVENT = "handoff.agent_message"
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")
_HISTORY_PAGE = 100
VERP_KEY = "email:verp"  # the store's secret for return paths, when none is configured


class EmailConnector(Connector):
    name = "email"
    supports_buttons = False  # rendered as a numbered list; a reply "2" picks the second
    joins_replies = True  # one mail per turn, not one per sentence

    def __init__(
        self,
        *,
        links: ChannelLinks,
        sender: Sender,
        relay: Mapping[str, Any],
        smtp_in: SmtpSettings | None = None,
        imap: ImapSettings | None = None,
        rate_limit: RateLimit | None = None,
        max_text_length: int = 20_000,
        raw_source_limit: int = 256 * 1024,
        auth: AuthSettings | None = None,
        dns: DnsLookup | None = None,
        verp: Verp | None = None,
    ) -> None:
        super().__init__(links=links)
        self.sender = sender
        self.auth = auth or AuthSettings()
        self.dns = dns  # None: dkimpy asks the system's resolver
        # An empty secret is drawn from the store on first use (`_signing`).
        self.verp = verp or Verp(secret=b"", local_part="bounces", domain=sender.domain)
        self.relay = dict(relay)
        # The loop breaker's budget is the hub's: one per address across every process.
        self.rate_limit = rate_limit or RateLimit(
            limit=20, window=3600, limiter=links.log.limiter, prefix=self.name
        )
        self.max_text_length = max_text_length
        self.raw_source_limit = raw_source_limit
        self.receiver = SmtpReceiver(smtp_in, self.receive) if smtp_in else None
        self.poller = ImapPoller(imap, self.receive_fetched, leading=self._leads) if imap else None
        self._imap_lease: LeaderLease | None = None
        if imap is not None:
            # One process polls a mailbox at a time (named by a digest: no address in keys).
            mailbox = f"{imap.host}:{imap.port}/{imap.username}/{imap.mailbox}"
            digest = hashlib.sha256(mailbox.encode()).hexdigest()[:16]
            self._imap_lease = links.log.leader(f"{self.name}-imap:{digest}")

    # ------------------------------------------------------------------ config
    @classmethod
    def from_config(
        cls, settings: Section, *, links: ChannelLinks, environ: Mapping[str, str]
    ) -> Self:
        address = settings.get_str("address")
        if not _ADDRESS.fullmatch(address):
            raise settings.error("address", f"must be a mail address (got {address!r})")
        template_path = settings.get_str("html_template", "")
        template = None
        if template_path:
            try:
                template = html_template(Path(template_path).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as error:
                raise settings.error("html_template", f"cannot read: {error}") from None
            except Exception as error:  # jinja2.TemplateSyntaxError
                raise settings.error("html_template", f"invalid template: {error}") from None
        sender = Sender(
            address=address,
            name=settings.get_str("name", ""),
            signature=settings.get_str("signature", ""),
            default_subject=settings.get_str("default_subject", "Your request"),
            html_template=template,
        )
        inbound = settings.get_str("inbound", "smtp", choices=("smtp", "lmtp", "imap", "none"))
        auth = auth_settings(settings)
        verp = verp_settings(settings, sender.domain, environ)
        smtp_in = smtp_settings(settings.section("smtp_in"), inbound, address, environ)
        if smtp_in is not None and smtp_in.recipients:
            # Bounces come back to the VERP return path: accept it at RCPT too.
            bounces = f"{verp.local_part}@{verp.domain}"
            smtp_in = replace(smtp_in, recipients=(*smtp_in.recipients, bounces))
        imap = imap_settings(settings.section("imap"), inbound, address, environ)
        relay = relay_settings(settings.section("relay"), environ)
        connector = cls(
            links=links,
            sender=sender,
            relay=relay,
            smtp_in=smtp_in,
            imap=imap,
            rate_limit=RateLimit(
                limit=settings.get_int("rate_limit_messages", 20, minimum=0),
                window=settings.get_float("rate_limit_window", 3600.0, minimum=1.0),
                limiter=links.log.limiter,
                prefix=cls.name,
            ),
            max_text_length=settings.get_int("max_text_length", 20_000, minimum=1),
            raw_source_limit=settings.get_int("raw_source_limit", 256 * 1024, minimum=0),
            auth=auth,
            verp=verp,
        )
        settings.reject_unknown()
        return connector

    # ------------------------------------------------------------------ lifecycle
    def _leads(self) -> bool:
        return self._imap_lease is None or self._imap_lease.leading

    async def _signing(self) -> Verp:
        """The return-path scheme, with the secret made for the deployment when none is
        configured: every process must sign and check bounce addresses alike, since a
        bounce comes back to whichever process receives mail (or polls the mailbox)."""
        if not self.verp.secret:
            secret = await shared_secret(self.log.kv, VERP_KEY)
            self.verp = replace(self.verp, secret=secret)
        return self.verp

    async def start(self) -> None:
        await self._signing()  # before any mail comes in
        if self.receiver is not None:
            await self.receiver.start()
        if self.poller is not None:
            if self._imap_lease is not None:
                await self._imap_lease.start()
            await self.poller.start()

    async def stop(self) -> None:
        if self.poller is not None:
            await self.poller.stop()
            if self._imap_lease is not None:
                await self._imap_lease.stop()
        if self.receiver is not None:
            await self.receiver.stop()

    # ------------------------------------------------------------------ inbound
    async def receive_fetched(self, data: bytes) -> None:
        """One message fetched by IMAP (no envelope: `Return-Path` tells the sender)."""
        await self.receive(data, None, ())

    async def receive(
        self, data: bytes, envelope_sender: str | None, recipients: tuple[str, ...]
    ) -> None:
        """Store one message; returns once it is durable. Raises `MailRejected` for mail
        that can never be stored, anything else for "try again later"."""
        try:
            mail = parse_mail(
                data,
                domain=self.sender.domain,
                envelope_sender=envelope_sender,
                envelope_recipients=recipients,
                max_text_length=self.max_text_length,
                raw_source_limit=self.raw_source_limit,
            )
        except MailRejected as error:
            log.warning("email: refused a message", extra={"reason": str(error)})
            raise
        except Exception as error:
            log.exception("email: unparseable message", extra={"bytes": len(data)})
            raise MailRejected(f"unparseable message: {type(error).__name__}") from None
        if mail.own:
            log.info("email: ignored the hub's own mail", extra={"message_id": mail.message_id})
            return
        raw = dict(mail.raw)
        sender, root = mail.sender, mail.thread.root
        verified = await self._sender_verified(data, mail, raw)
        if mail.noise == "bounce":
            verp = await self._signing()
            owner = verp.owner(data, mail.recipients, list(raw.get("failed_recipients", ())))
            if owner is not None:
                # Our own return path vouches for it, whoever the bounce says it is from.
                (sender, root), verified, raw["bounce"] = owner, True, "verp"
            else:
                root, raw["bounce"] = mail.message_id, "unmatched"  # never by In-Reply-To
        elif mail.thread.source == "new" and verified:
            root, raw = await self._plus_address_thread(mail, root, raw)
        kind = InboundKind.MESSAGE
        if mail.noise:
            kind = InboundKind.NOTICE
        # Unverified mail has its own budget: forging her address must not use up Ana's.
        elif not await self.rate_limit.allow(sender if verified else f"unverified:{sender}"):
            kind = InboundKind.NOTICE
            raw["noise"] = "rate-limited"
            log.warning("email: sender over the reply rate limit", extra={"sender": sender})
        inbound = replace(
            mail.inbound(channel=self.name, thread_root=root, kind=kind),
            sender=sender,
            sender_verified=verified,
        )
        if kind == InboundKind.MESSAGE:
            text, raw = await self._choice(inbound, raw)
            inbound = replace(inbound, text=text)
            # Stored before the mail is acknowledged.
            files, refused = await keep_mail_files(self.attachments, mail, inbound.identity)
            inbound = replace(inbound, attachments=files)
            if refused:
                raw["attachments_refused"] = refused
                if any(f.id for f in files) and raw.pop("source", None) is not None:
                    # The source would carry the files' bytes into the log a second time.
                    raw["source_omitted"] = "attachments are kept in the attachment store"
        if sender != mail.sender:
            raw["original_from"] = mail.sender
        receipt = await self.ingest(replace(inbound, raw=raw))
        log.info(
            "email: stored",
            extra={
                "conversation_id": receipt.conversation_id,
                "duplicate": receipt.duplicate,
                "kind": kind.value,
                "noise": raw.get("noise", ""),
            },
        )

    async def _plus_address_thread(
        self, mail: ParsedMail, root: str, raw: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """A client that dropped every threading header: the ``support+<token>@``
        address it replied to still names the thread, if it is the sender's latest."""
        token = token_in(list(mail.recipients), self.sender.address)
        if token is None:
            return root, raw
        latest = await self.log.latest_conversation(f"{self.name}:{mail.sender}")
        if latest is not None and latest.thread_hint and plus_token(latest.thread_hint) == token:
            return latest.thread_hint, {**raw, "thread_source": "plus-address"}
        return root, raw

    async def _sender_verified(self, data: bytes, mail: ParsedMail, raw: dict[str, Any]) -> bool:
        """Decide whether the mail speaks for its From: address (`sender_auth`): `require`
        enforces the verdict, `flag` only records it in ``raw.auth``, `off` skips it."""
        if self.auth.policy == "off":
            return True
        # dkimpy asks DNS, which blocks: keep the event loop free for other mail.
        verdict = await asyncio.to_thread(
            authenticate,
            data,
            trusted_authserv_ids=self.auth.trusted_authserv_ids,
            dns=self.dns,
        )
        if verdict.authenticated and verdict.domain != mail.sender.rpartition("@")[2]:
            # The sender was read from Sender:/the envelope, not the From: that was vouched for.
            verdict = replace(verdict, authenticated=False, reason="From: is not the sender")
        raw["auth"] = verdict.to_json()
        if not verdict.authenticated:
            log.info(
                "email: sender not verified",
                extra={"reason": verdict.reason, "policy": self.auth.policy},
            )
        return verdict.authenticated or self.auth.policy != "require"

    async def _choice(self, inbound: Inbound, raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """A reply "2" to a numbered list becomes the second button's payload."""
        text, root = inbound.text, inbound.thread_hint
        number = choice_number(text)
        if number is None:
            return text, raw
        conversation = await self.log.latest_conversation(inbound.identity)
        if conversation is None or conversation.thread_hint != root:
            return text, raw
        events = await self.log.events(
            conversation.id, after_seq=max(0, conversation.last_seq - 50), limit=50
        )
        for event in reversed(events):
            if event.type != EventType.MESSAGE_OUT:
                continue
            buttons = Outbound.from_json(event.data["outbound"]).buttons
            if 1 <= number <= len(buttons):
                chosen = buttons[number - 1]
                choice = {"number": number, "title": chosen.title, "text": text}
                return chosen.payload, {**raw, "choice": choice}
            break
        return text, raw

    # ------------------------------------------------------------------ outbound
    async def deliver(self, delivery: Delivery) -> Mapping[str, Any]:
        context = await self._reply_context(delivery)
        files = await reply_files(self.attachments, delivery.outbound.attachments)
        try:
            message = render_reply(
                delivery, sender=self.sender, context=context, now=time.time(), files=files
            )
        except ValueError as error:
            raise DeliveryError(f"cannot address the reply: {error}") from None
        relay = self.relay
        recipient = delivery.address.strip()
        # Flattened here, with our policy: handed an EmailMessage, aiosmtplib would fold it
        # again at 78 columns and turn long Message-IDs into encoded-words.
        source = message.as_bytes(policy=OUTBOUND_POLICY.clone(linesep="\r\n"))
        try:
            _, response = await aiosmtplib.send(
                source,
                sender=(await self._signing()).return_path(str(message["Message-ID"]), recipient),
                recipients=[recipient],
                hostname=relay["host"],
                port=relay["port"],
                username=relay["username"] or None,
                password=relay["password"] or None,
                use_tls=relay["security"] == "tls",
                start_tls=relay["security"] == "starttls",
                timeout=relay["timeout"],
            )
        except aiosmtplib.SMTPAuthenticationError as error:
            log.error("email: the relay refused our credentials", extra={"code": error.code})
            raise RetryLater(f"relay authentication failed: {error.code}") from None
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refusal.code for refusal in error.recipients]
            if codes and all(code >= 500 for code in codes):
                raise DeliveryError(f"relay refused the recipient: {codes}") from None
            raise RetryLater(f"relay deferred the recipient: {codes}") from None
        except aiosmtplib.SMTPResponseException as error:
            if error.code >= 500:
                raise DeliveryError(f"relay refused: {error.code} {error.message}") from None
            raise RetryLater(f"relay deferred: {error.code} {error.message}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise RetryLater(f"relay unreachable: {type(error).__name__}: {error}") from None
        return {"message_id": str(message["Message-ID"]), "relay": response[:200]}

    async def _reply_context(self, delivery: Delivery) -> ReplyContext:
        """The customer's last mail before this reply: subject, Message-ID, References."""
        upper = delivery.seq  # exclusive: the reply's own message.out
        automatic: bool | None = None  # decided by the first author-telling event back
        while upper > 1:
            after = max(0, upper - 1 - _HISTORY_PAGE)
            events = await self.log.events(
                delivery.conversation_id, after_seq=after, limit=upper - 1 - after
            )
            for event in reversed(events):
                if automatic is None and event.type == AGENT_MESSAGE_EVENT:
                    automatic = False  # a person wrote it: not Auto-Submitted (RFC 3834)
                elif event.type in (EventType.MESSAGE_OUT, EventType.BOT_TURN):
                    automatic = True if automatic is None else automatic
                if event.type != EventType.MESSAGE_IN or event.data.get("channel") != self.name:
                    continue
                raw = event.data.get("raw") or {}
                return ReplyContext(
                    subject=str(raw.get("subject", "")),
                    parent_id=str(raw.get("message_id", "")),
                    references=tuple(str(ref) for ref in raw.get("references", ())),
                    automatic=automatic is not False,
                )
            upper = after + 1
        return ReplyContext(automatic=automatic is not False)


__all__ = ["EmailConnector"]
