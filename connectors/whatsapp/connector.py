"""The WhatsApp channel (Cloud API), on a thin aiohttp Graph client.

Inbound: Meta POSTs webhooks to ``/webhooks/whatsapp``. The raw body's HMAC-SHA256 with the
app secret must match ``X-Hub-Signature-256`` (compared in constant time) before anything
is parsed: otherwise 401 and nothing is stored. Every message and status in the body is
stored first; only then does the hub answer 200, so Meta redelivers whatever a crash lost.
A redelivered message (same ``wamid``) is dropped by the hub's dedupe. The ``GET`` on the
same path answers Meta's verification handshake.

Outbound: `render` (text split at 4,096; reply buttons; list; numbered list), paced per
customer and per number. WhatsApp accepts free-form messages only within 24 hours of the
customer's last message; after that the connector sends the operator's approved template
for the kind of reply (an agent's reply, the CSAT question), or parks the reply with the
reason. Graph error codes map onto the outbox in `connectors.whatsapp.errors`.

Why not pywa: its webhook layer answers Meta before the message is stored (we must store
first), and its client is built on httpx; the hub needs three Graph calls, which a thin
client on the aiohttp session already in use does with full control of timeouts and errors.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import mimetypes
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Self

from aiohttp import web

from connectors import choices
from connectors.history import recent_events, record_receipt
from connectors.media import Fetched, MediaUnavailable, keep_media
from connectors.service_window import ServiceWindow, reply_purpose
from connectors.telegram.pacing import Pacer
from connectors.whatsapp import render
from connectors.whatsapp.errors import WindowClosed, classify
from connectors.whatsapp.graph import GraphClient, GraphError
from connectors.whatsapp.parse import CHANNEL, Receipt, parse_webhook
from connectors.whatsapp.settings import (
    APP_SECRET_ENV,
    TOKEN_ENV,
    WhatsAppSettings,
    read_settings,
)
from hub import jsonio
from hub.abc import ChannelLinks, Connector
from hub.attachments import too_large
from hub.config import Section
from hub.errors import DeliveryError, InputError, RetryLater
from hub.http import error_response, json_response
from hub.logs import redact_secrets
from hub.model import Attachment, Delivery, Event, Inbound, Outbound

log = logging.getLogger("frontdesk.connectors.whatsapp")

WEBHOOK_PATH = "/webhooks/whatsapp"
# Media kinds the attachment store can hold (videos stay references: too large for it), with
# the name a file gets when WhatsApp gave none. Voice notes are kept so an agent can listen.
KEPT_KINDS = {"image": "photo", "document": "document", "audio": "voice message"}
# What WhatsApp sends as an image; an agent's other stored files go as audio or documents.
UPLOAD_IMAGES = frozenset({"image/jpeg", "image/png"})
SIGNATURE_HEADER = "X-Hub-Signature-256"
WINDOW_HOURS = 24


class WhatsAppConnector(Connector):
    name = CHANNEL
    supports_buttons = True

    def __init__(
        self,
        *,
        links: ChannelLinks,
        settings: WhatsAppSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(links=links)
        self.settings = settings
        self.clock = clock
        self.window = ServiceWindow(channel=CHANNEL, length=WINDOW_HOURS * 3600.0)
        self.pacer = Pacer(
            per_second=settings.messages_per_second,
            chat_interval=settings.per_customer_interval,
            group_interval=settings.per_customer_interval,
            # One business number's budget, whichever process sends.
            bot=f"{CHANNEL}:{settings.phone_number_id}",
            # Send slots are booked by every process together (Redis beside a Redis store).
            pacing=links.log.pacing,
        )
        self.graph = GraphClient(
            base_url=settings.graph_url,
            api_version=settings.api_version,
            phone_number_id=settings.phone_number_id,
            token=settings.token,
            timeout=settings.request_timeout,
        )

    @classmethod
    def from_config(
        cls, settings: Section, *, links: ChannelLinks, environ: Mapping[str, str]
    ) -> Self:
        read = read_settings(settings, environ)
        redact_secrets(*(s for s in (read.token, read.app_secret, read.verify_token) if s))
        return cls(links=links, settings=read)

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return [web.get(WEBHOOK_PATH, self.verify), web.post(WEBHOOK_PATH, self.receive)]

    async def start(self) -> None:
        if not self.settings.configured:
            log.warning(f"{TOKEN_ENV} is not set: the whatsapp channel stays idle")

    async def stop(self) -> None:
        await self.graph.close()

    # ------------------------------------------------------------------ inbound
    async def verify(self, request: web.Request) -> web.Response:
        """Meta's subscription handshake: echo ``hub.challenge`` when the token matches."""
        query = request.query
        given = query.get("hub.verify_token", "").encode()
        expected = self.settings.verify_token.encode()
        challenge = query.get("hub.challenge", "")
        if (
            query.get("hub.mode") != "subscribe"
            or not expected
            or not hmac.compare_digest(given, expected)
        ):
            log.warning("whatsapp verification refused", extra={"remote": request.remote})
            return error_response(403, "wrong hub.mode or hub.verify_token")
        if not challenge.isdigit() or len(challenge) > 64:
            return error_response(400, "hub.challenge must be digits")
        return web.Response(text=challenge, content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        """The webhook: check the signature on the raw body, store everything, then 200."""
        limit = request.app._client_max_size
        if request.content_length is not None and request.content_length > limit:
            raise InputError(f"body is larger than the limit of {limit} bytes", status=413)
        body = await request.read()
        if not self._signed(body, request.headers.get(SIGNATURE_HEADER, "")):
            log.warning(
                "whatsapp webhook refused: missing or wrong signature",
                extra={"remote": request.remote},
            )
            return error_response(401, f"missing or wrong {SIGNATURE_HEADER}")
        data = jsonio.loads(body, what="webhook") if body else None
        items = parse_webhook(
            data, phone_number_id=self.settings.phone_number_id, received_at=self.clock()
        )
        try:
            for item in items:
                if isinstance(item, Receipt):
                    await self.record_receipt(item)
                else:
                    await self.ingest(await self._resolved(item))
        except Exception:
            log.exception("whatsapp webhook not stored; Meta will send it again")
            return error_response(503, "the webhook could not be stored; retry later")
        return json_response({"ok": True})

    def _signed(self, body: bytes, header: str) -> bool:
        secret = self.settings.app_secret
        if not secret:
            log.error(f"{APP_SECRET_ENV} is not set: every webhook is refused")
            return False
        scheme, _, given = header.partition("=")
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return scheme == "sha256" and hmac.compare_digest(given.strip().encode(), expected.encode())

    async def _resolved(self, inbound: Inbound) -> Inbound:
        """The message as the hub should read it: a choice's token or a typed number
        becomes the chosen payload; media is downloaded when an attachment store is set."""
        choice = inbound.raw.get("choice")
        if isinstance(choice, Mapping) and choices.is_token(inbound.text):
            payload = choices.payload_from_events(inbound.text, await self._recent(inbound))
            text = payload if payload is not None else str(choice.get("title", ""))
            inbound = replace(inbound, text=text)
        elif choices.typed_number(inbound.text) is not None:
            # An answer to a numbered list (more choices than a list message holds)?
            buttons = choices.last_buttons(await self._recent(inbound))
            picked = choices.chosen(inbound.text, buttons)
            if picked is not None and len(buttons) > render.MAX_ROWS:
                inbound = replace(
                    inbound, text=picked.payload, raw={**inbound.raw, "typed": inbound.text}
                )
        return await keep_media(
            self.attachments,
            inbound,
            self._fetch,
            names=KEPT_KINDS,
            max_bytes=self.settings.max_media_bytes,
        )

    async def _fetch(self, media_id: str, max_bytes: int) -> Fetched:
        """One media id's bytes through the Graph API. What Meta refuses (gone, too large)
        is unavailable for good; trouble reaching Meta propagates (no 200: Meta retries)."""
        try:
            media = await self.graph.media(media_id, max_bytes=max_bytes)
        except GraphError as error:
            if error.status == 0 or error.status >= 500:
                raise
            if error.status == 413:  # over the limit by its declared size or its bytes
                raise too_large(max_bytes) from None
            reason = f"whatsapp would not hand the media over: {error.describe()}"
            raise MediaUnavailable(reason) from None
        return Fetched(data=media.data, mime_type=media.mime_type)

    async def _recent(self, inbound: Inbound) -> Sequence[Event]:
        """The last events of the sender's conversation."""
        return await recent_events(self.log, inbound.identity)

    async def record_receipt(self, receipt: Receipt) -> None:
        """A status becomes a `delivery.receipt` event beside the reply it refers to."""
        extra = {"errors": [dict(e) for e in receipt.errors]} if receipt.errors else {}
        await record_receipt(
            self.log,
            identity=f"{CHANNEL}:{receipt.recipient}",
            channel=CHANNEL,
            id_key="wamid",
            message_id=receipt.wamid,
            status=receipt.status,
            at=receipt.timestamp,
            extra=extra,
        )

    # ------------------------------------------------------------------ outbound
    async def deliver(self, delivery: Delivery) -> Mapping[str, Any]:
        if not self.settings.configured:
            raise DeliveryError(f"{TOKEN_ENV} is not set")
        if not delivery.address.isdigit():
            raise DeliveryError(f"not a WhatsApp number: {delivery.address!r}")
        last = await self.window.last_before(self.log, delivery)
        if not self.window.is_open(last, self.clock()):
            return await self._after_window(delivery, last)
        messages = render.render(await self._with_uploads(delivery))
        if not messages:
            raise DeliveryError("the reply has no text, buttons or links to send")
        sent = list(delivery.parts_sent)
        for index, message in enumerate(messages[len(sent) :], start=len(sent) + 1):
            try:
                sent.append(await self._send(delivery.address, message))
            except WindowClosed:
                return await self._after_window(delivery, last)
            if index < len(messages):
                await self.log.delivery_progress(delivery.id, sent)
        return {"message_ids": sent, "to": delivery.address}

    async def _with_uploads(self, delivery: Delivery) -> Outbound:
        """The reply with an agent's stored files uploaded to WhatsApp (their media ids in
        ``ref``), as an image (JPEG, PNG), a voice/audio file or a document. The bytes are
        read from the store on every attempt (the outbox keeps only the reference)."""
        outbound = delivery.outbound
        wanted = [a for a in outbound.attachments if a.id and not a.url and not a.ref]
        if not wanted:
            return outbound
        attachments = []
        for attachment in outbound.attachments:
            if attachment in wanted:
                attachment = await self._upload(attachment)
            attachments.append(attachment)
        return replace(outbound, attachments=tuple(attachments))

    async def _upload(self, attachment: Attachment) -> Attachment:
        data = await self.attachments.read(attachment.id)
        if data is None:
            raise DeliveryError(f"attachment {attachment.id} is no longer stored")
        mime = attachment.mime_type
        kind = (
            "image"
            if mime in UPLOAD_IMAGES
            else "audio"
            if mime.startswith("audio/")
            else "document"
        )
        try:
            media_id = await self.graph.upload(
                data, mime_type=mime or "application/octet-stream", name=_upload_name(attachment)
            )
        except GraphError as error:
            outcome = classify(error, pause=self.settings.rate_limit_pause)
            raise (
                outcome if not isinstance(outcome, WindowClosed) else RetryLater(str(error))
            ) from None
        return replace(attachment, kind=kind, ref=media_id)

    async def _after_window(self, delivery: Delivery, last: float | None) -> Mapping[str, Any]:
        """Outside the 24-hour window: the configured template for this kind of reply, or
        park with the reason."""
        events: Sequence[Event] = await self.log.events(
            delivery.conversation_id, after_seq=max(0, delivery.seq - 50), limit=60
        )
        purpose = reply_purpose(events, delivery.seq)
        spec = self.settings.templates.get(purpose)
        closed = (
            "the customer has not written on WhatsApp yet"
            if last is None
            else f"the 24-hour window closed at {_utc(last + self.window.length)}"
        )
        language = choices.language_of(delivery.outbound.text)
        if spec is None:
            raise DeliveryError(
                f"whatsapp: {closed}; no template is configured for a reply of kind "
                f"{purpose!r} (channels.whatsapp.templates.{purpose})"
            )
        code = spec.languages.get(language) or next(iter(spec.languages.values()))
        message = render.template(
            spec.name, code, delivery.outbound.text if spec.with_text else None
        )
        try:
            wamid = await self._send(delivery.address, message)
        except WindowClosed as error:
            raise DeliveryError(f"whatsapp refused the template {spec.name!r}: {error}") from None
        log.info(
            "whatsapp reply sent as a template",
            extra={"delivery_id": delivery.id, "template": spec.name, "purpose": purpose},
        )
        return {"message_ids": [wamid], "to": delivery.address, "template": spec.name}

    async def _send(self, address: str, message: Mapping[str, Any]) -> str:
        number = int(address)
        wait = await self.pacer.reserve(number, max_wait=self.settings.max_queue_wait)
        if wait is None:
            raise RetryLater(
                "queued behind this customer's pacing",
                retry_after=await self.pacer.wait_for(number),
            )
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            return await self.graph.send({"to": address, **message})
        except GraphError as error:
            outcome = classify(error, pause=self.settings.rate_limit_pause)
            if isinstance(outcome, RetryLater) and outcome.retry_after:
                await self.pacer.pause(number, outcome.retry_after)
            raise outcome from None


def _upload_name(attachment: Attachment) -> str:
    """The name an upload carries: a non-ASCII one would travel percent-encoded, so it is
    replaced (the customer sees the real name: a document message names its file)."""
    name = attachment.name
    if name and name.isascii() and name.isprintable() and '"' not in name:
        return name
    return "file" + (mimetypes.guess_extension(attachment.mime_type) or "")


def _utc(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))


__all__ = ["WEBHOOK_PATH", "WhatsAppConnector"]
