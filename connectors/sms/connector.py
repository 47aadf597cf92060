"""The SMS channel, through Twilio.

Inbound: Twilio POSTs each message, form-encoded, to ``/webhooks/sms``, and each status of
a message we sent to ``/webhooks/sms/status``. ``X-Twilio-Signature`` is checked with the
`twilio` library's `RequestValidator` over the *configured* public URL (a proxy in front of
the hub rewrites the host and scheme Twilio signed) before anything is read: otherwise 403
and nothing is stored. The message is stored first and only then answered with TwiML, so a
crash never acknowledges a lost message; Twilio's redelivery (same ``MessageSid``) is
dropped by the hub's dedupe. A status becomes a ``delivery.receipt`` beside the reply.

Carrier keywords: STOP (退订) opts the number out — recorded on the customer
(``sms_opted_out``) and in the conversation, and from then on every reply to the number is
parked with the reason instead of sent; START (订阅) opts back in; HELP (帮助) is answered
at once, in the webhook's TwiML, with the configured help text. The bot sees none of them.

Identity: an SMS ``From`` can be spoofed, so every message is an unverified claim
(`Inbound.sender_verified=False`), as a forged e-mail sender is; proving the number takes
a code sent to it (``/link +…`` on another channel sends the code by SMS).

Outbound: one message per reply (`render`: numbered choices, capped segments); a typed
number answers the last numbered list. Twilio's errors map onto the outbox in
`connectors.sms.twilio_api`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar, Self
from xml.sax.saxutils import escape

from aiohttp import web
from multidict import MultiDictProxy
from twilio.request_validator import RequestValidator

from connectors import choices
from connectors.choices import language_of
from connectors.history import recent_events, record_receipt
from connectors.sms import render
from connectors.sms.parse import (
    CHANNEL,
    HELP,
    START,
    STOP,
    account_of,
    identity_of,
    parse_message,
    parse_status,
    read_form,
)
from connectors.sms.segments import encoding, segments
from connectors.sms.settings import (
    ACCOUNT_SID_ENV,
    AUTH_TOKEN_ENV,
    E164,
    SmsSettings,
    read_settings,
)
from connectors.sms.twilio_api import (
    UNSUBSCRIBED,
    OptedOut,
    TwilioClient,
    TwilioError,
    classify,
)
from hub.abc import ChannelLinks, Connector, IngestReceipt
from hub.config import Section
from hub.errors import DeliveryError, InputError
from hub.http import error_response
from hub.logs import redact_secrets
from hub.model import Delivery, Inbound, InboundKind, NewEvent
from hub.ports import CustomerDirectory

log = logging.getLogger("frontdesk.connectors.sms")

WEBHOOK_PATH = "/webhooks/sms"
STATUS_PATH = "/webhooks/sms/status"
SIGNATURE_HEADER = "X-Twilio-Signature"
OPTED_OUT = "sms_opted_out"  # the customer attribute: when the number replied STOP
OPTED_OUT_EVENT = "sms.opted_out"
OPTED_IN_EVENT = "sms.opted_in"
HELP_EVENT = "sms.help_answered"
_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class SmsConnector(Connector):
    name = CHANNEL
    # Which identities' verification codes this channel carries (`hub.identity`).
    code_identities: ClassVar[tuple[str, ...]] = ("phone",)

    def __init__(
        self,
        *,
        links: ChannelLinks,
        settings: SmsSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(links=links)
        self.settings = settings
        self.clock = clock
        self.validator = RequestValidator(settings.auth_token)
        self.twilio = TwilioClient(
            base_url=settings.api_url,
            account_sid=settings.account_sid,
            auth_token=settings.auth_token,
            timeout=settings.request_timeout,
        )

    @classmethod
    def from_config(
        cls, settings: Section, *, links: ChannelLinks, environ: Mapping[str, str]
    ) -> Self:
        read = read_settings(settings, environ)
        if read.auth_token:
            redact_secrets(read.auth_token)
        return cls(links=links, settings=read)

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return [web.post(WEBHOOK_PATH, self.receive), web.post(STATUS_PATH, self.status)]

    async def start(self) -> None:
        if not self.settings.configured:
            log.warning(f"{ACCOUNT_SID_ENV} or {AUTH_TOKEN_ENV} is not set: sms stays idle")

    async def stop(self) -> None:
        await self.twilio.close()

    @property
    def _store(self) -> CustomerDirectory:
        # The customer directory the hub shares with its channels.
        return self.log.customers

    # ------------------------------------------------------------------ inbound
    async def _signed_form(self, request: web.Request) -> MultiDictProxy[str] | None:
        """The request's fields when Twilio signed them for our account, else None."""
        limit = self.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise InputError(f"body is larger than the limit of {limit} bytes", status=413)
        body = await request.read()
        if len(body) > limit:
            raise InputError(f"body is larger than the limit of {limit} bytes", status=413)
        form = read_form(body)
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not (self.settings.configured and self.settings.public_url and signature):
            return None
        url = f"{self.settings.public_url}{request.path_qs}"
        if not self.validator.validate(url, form, signature):
            return None
        if account_of(form) != self.settings.account_sid:
            return None  # signed with our token yet for another account: not ours to take
        return form

    async def receive(self, request: web.Request) -> web.Response:
        """An incoming message: verify, store, then answer TwiML (HELP's text, or none)."""
        form = await self._signed_form(request)
        if form is None:
            log.warning("sms webhook refused: bad signature", extra={"remote": request.remote})
            return error_response(403, f"missing or wrong {SIGNATURE_HEADER}")
        inbound = parse_message(form, received_at=self.clock())
        try:
            inbound = await self._resolved(inbound)
            stored = await self.ingest(inbound)
            answer = await self._keyword(inbound, stored)
        except Exception:
            log.exception("sms message not stored; Twilio may send it again")
            return error_response(503, "the message could not be stored; retry later")
        return web.Response(text=answer, content_type="text/xml")

    async def _resolved(self, inbound: Inbound) -> Inbound:
        """START counts only from an opted-out number (else "yes" would never reach the
        bot); a typed number answers the last numbered list with its choice's payload."""
        word = inbound.raw.get("keyword")
        if word == START:
            if await self.opted_out(inbound.sender) is not None:
                return replace(inbound, kind=InboundKind.NOTICE)
            inbound = replace(inbound, raw={k: v for k, v in inbound.raw.items() if k != "keyword"})
        if inbound.kind == InboundKind.MESSAGE and choices.typed_number(inbound.text) is not None:
            buttons = choices.last_buttons(await recent_events(self.log, inbound.identity))
            picked = choices.chosen(inbound.text, buttons)
            if picked is not None:
                raw = {**inbound.raw, "typed": inbound.text}
                inbound = replace(inbound, text=picked.payload, raw=raw)
        return inbound

    async def _keyword(self, inbound: Inbound, stored: IngestReceipt) -> str:
        """Act on STOP / START / HELP once the message is stored; the TwiML to answer."""
        word = inbound.raw.get("keyword")
        if word not in (STOP, START, HELP) or inbound.kind != InboundKind.NOTICE:
            return _EMPTY
        language = language_of(inbound.text)
        data: dict[str, Any] = {"channel": CHANNEL, "number": inbound.sender, "keyword": word}
        if word == HELP:
            text = self.settings.help_text[language]
            event = NewEvent(type=HELP_EVENT, data={**data, "text": text})
            answer = _message(text)
        else:
            at = _utc(inbound.timestamp) if word == STOP else None
            await self._record_opt_out(stored.customer_id, at)
            event = NewEvent(type=OPTED_OUT_EVENT if word == STOP else OPTED_IN_EVENT, data=data)
            # Twilio confirms STOP and START to the customer itself (Advanced Opt-Out).
            answer = _EMPTY
        if not stored.duplicate:
            await self.log.append(stored.conversation_id, (event,))
        log.info("sms keyword", extra={"keyword": word, "conversation_id": stored.conversation_id})
        return answer

    async def status(self, request: web.Request) -> web.Response:
        """A status callback: recorded as a receipt on the reply it refers to."""
        form = await self._signed_form(request)
        if form is None:
            log.warning("sms status refused: bad signature", extra={"remote": request.remote})
            return error_response(403, f"missing or wrong {SIGNATURE_HEADER}")
        report = parse_status(form)
        extra = {"error_code": report.error_code} if report.error_code else {}
        try:
            await record_receipt(
                self.log,
                identity=identity_of(report.to),
                channel=CHANNEL,
                id_key="message_sid",
                message_id=report.sid,
                status=report.status,
                at=self.clock(),
                extra=extra,
            )
            if report.error_code == UNSUBSCRIBED:
                await self._opt_out_number(report.to)
        except Exception:
            log.exception("sms status not stored")
            return error_response(503, "the status could not be stored; retry later")
        return web.Response(text=_EMPTY, content_type="text/xml")

    # ------------------------------------------------------------------ opt-out
    async def opted_out(self, number: str) -> str | None:
        """When `number` replied STOP (None while it may receive messages)."""
        customer = await self._store.find_customer(identity_of(number))
        value = customer.attributes.get(OPTED_OUT) if customer is not None else None
        return str(value) if value else None

    async def _record_opt_out(self, customer_id: str, at: str | None) -> None:
        await self._store.update_customer(customer_id, attributes={OPTED_OUT: at}, now=self.clock())

    async def _opt_out_number(self, number: str) -> None:
        """Twilio says the number opted out (21610) though we missed its STOP."""
        customer = await self._store.find_customer(identity_of(number))
        if customer is not None and not customer.attributes.get(OPTED_OUT):
            await self._record_opt_out(customer.id, _utc(self.clock()))

    # ------------------------------------------------------------------ outbound
    async def deliver(self, delivery: Delivery) -> Mapping[str, Any]:
        if not self.settings.configured:
            raise DeliveryError(f"{ACCOUNT_SID_ENV} and {AUTH_TOKEN_ENV} are not set")
        number = delivery.address
        if not E164.match(number):
            raise DeliveryError(f"not a phone number in E.164 form: {number!r}")
        since = await self.opted_out(number)
        if since is not None:
            raise DeliveryError(
                f"sms: {number} opted out (STOP) at {since}; nothing is sent until they reply START"
            )
        body = render.render(
            delivery.outbound,
            max_segments=self.settings.max_segments,
            chat_link=self.settings.chat_link,
        )
        if not body:
            raise DeliveryError("the reply has no text or links to send by SMS")
        form = {"To": number, "Body": body}
        if self.settings.messaging_service_sid:
            form["MessagingServiceSid"] = self.settings.messaging_service_sid
        else:
            form["From"] = self.settings.from_number
        if self.settings.public_url:
            form["StatusCallback"] = f"{self.settings.public_url}{STATUS_PATH}"
        try:
            sent = await self.twilio.send(form)
        except TwilioError as error:
            outcome = classify(error, pause=self.settings.rate_limit_pause)
            if isinstance(outcome, OptedOut):
                await self._opt_out_number(number)
            raise outcome from None
        return {
            "message_ids": [sent.sid],
            "to": number,
            "segments": sent.segments or segments(body),
            "encoding": encoding(body),
        }


def _message(text: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(text)}</Message></Response>'


def _utc(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))


__all__ = ["OPTED_OUT", "STATUS_PATH", "WEBHOOK_PATH", "SmsConnector"]
