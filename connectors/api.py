"""The generic `api` channel: any backend posts messages in, replies go to a signed webhook.

Inbound:  POST /api/v1/channels/api/messages
          Authorization: Bearer $FRONTDESK_API_CHANNEL_TOKEN
          {"id": "<sender's message id>", "sender": "<sender id>", "text": "...",
           "thread": "<optional thread hint>", "timestamp": <optional unix seconds>,
           "attachments": [{"kind": "image", "url": "...", "name": "...", ...}],
           "metadata": {...}}
          → 202 {"conversation_id", "customer_id", "seq", "duplicate": false}
          → 200 {..., "duplicate": true} when that id was already accepted

Outbound: POST <callback_url> with the JSON body of `render_delivery` and headers
          X-Frontdesk-Delivery: <delivery id>            (idempotency key)
          X-Frontdesk-Signature: t=<unix ts>,v1=<hex HMAC-SHA256 of "<t>.<body>">
          with $FRONTDESK_API_CHANNEL_SECRET (or the channel token when unset).
          2xx = delivered; 408/429/5xx/network = retried; other 4xx = parked.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any, Self

import aiohttp
from aiohttp import web

from hub import jsonio
from hub.abc import ChannelLinks, Connector
from hub.config import Section
from hub.errors import DeliveryError, RetryLater
from hub.http import Fields, json_response, read_json, require_bearer
from hub.model import Attachment, Delivery, Inbound

log = logging.getLogger("frontdesk.connectors.api")

SIGNATURE_HEADER = "X-Frontdesk-Signature"
DELIVERY_HEADER = "X-Frontdesk-Delivery"
MAX_ID_LENGTH = 200
MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z: the last second a datetime can show


def parse_message(body: Any, *, received_at: float, max_text_length: int) -> Inbound:
    """A posted JSON body → `Inbound`, or an `InputError` naming the offending field."""
    fields = Fields(body)
    attachments = []
    for index, item in enumerate(fields.items("attachments")):
        attachment = Fields(item, what=f"attachments[{index}]")
        attachments.append(
            Attachment(
                kind=attachment.text("kind", max_length=40),
                name=attachment.text("name", required=False, max_length=255),
                mime_type=attachment.text("mime_type", required=False, max_length=255),
                url=attachment.text("url", required=False, max_length=2048),
                size=attachment.whole("size") or None,
            )
        )
    text = fields.text("text", required=not attachments, max_length=max_text_length)
    metadata = fields.mapping("metadata")
    return Inbound(
        channel=ApiConnector.name,
        sender=fields.text("sender", max_length=MAX_ID_LENGTH),
        message_id=fields.text("id", max_length=MAX_ID_LENGTH),
        text=text,
        attachments=tuple(attachments),
        thread_hint=fields.text("thread", required=False, max_length=MAX_ID_LENGTH),
        timestamp=fields.number("timestamp", default=received_at, low=0, high=MAX_TIMESTAMP),
        raw={"metadata": metadata} if metadata else {},
    )


def render_delivery(delivery: Delivery) -> dict[str, Any]:
    """`Delivery` → the JSON body posted to the callback URL."""
    return {
        "delivery_id": delivery.id,
        "conversation_id": delivery.conversation_id,
        "seq": delivery.seq,
        "recipient": delivery.address,
        "thread": delivery.thread_hint,
        **delivery.outbound.to_json(),
    }


def sign(secret: str, body: bytes, *, timestamp: int) -> str:
    """The signature header value; receivers recompute it over `"<t>.<body>"`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, body: bytes, header: str, *, now: float, tolerance: float = 300) -> bool:
    """Check a signature header (for receivers written in Python, and for our tests)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp=timestamp)
    return hmac.compare_digest(expected, header)


class ApiConnector(Connector):
    name = "api"
    supports_buttons = True  # buttons travel as data; the receiving backend renders them

    def __init__(
        self,
        *,
        links: ChannelLinks,
        token: str,
        secret: str,
        callback_url: str,
        max_text_length: int = 10_000,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(links=links)
        self.token = token
        self.secret = secret or token
        self.callback_url = callback_url
        self.max_text_length = max_text_length
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_config(
        cls, settings: Section, *, links: ChannelLinks, environ: Mapping[str, str]
    ) -> Self:
        callback_url = settings.get_str("callback_url", "")
        if callback_url and not callback_url.startswith(("http://", "https://")):
            raise settings.error(
                "callback_url", f"must be an http:// or https:// URL (got {callback_url!r})"
            )
        connector = cls(
            links=links,
            token=environ.get("FRONTDESK_API_CHANNEL_TOKEN", ""),
            secret=environ.get("FRONTDESK_API_CHANNEL_SECRET", ""),
            callback_url=callback_url,
            max_text_length=settings.get_int(
                "max_text_length", 10_000, minimum=1, maximum=1_000_000
            ),
            timeout=settings.get_float("timeout", 10.0, minimum=0.1),
        )
        settings.reject_unknown()
        return connector

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return [web.post("/api/v1/channels/api/messages", self.receive)]

    async def start(self) -> None:
        if not self.token:
            log.warning(
                "FRONTDESK_API_CHANNEL_TOKEN is not set: the api channel refuses every message"
            )
        if not self.callback_url:
            log.warning("channels.api.callback_url is not set: api replies will be parked")
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def receive(self, request: web.Request) -> web.Response:
        require_bearer(request, self.token, realm="api channel")
        inbound = parse_message(
            await read_json(request), received_at=time.time(), max_text_length=self.max_text_length
        )
        receipt = await self.ingest(inbound)
        return json_response(
            {
                "conversation_id": receipt.conversation_id,
                "customer_id": receipt.customer_id,
                "seq": receipt.seq,
                "duplicate": receipt.duplicate,
            },
            status=200 if receipt.duplicate else 202,
        )

    async def deliver(self, delivery: Delivery) -> Mapping[str, Any]:
        if not self.callback_url:
            raise DeliveryError("channels.api.callback_url is not configured")
        if self._session is None:
            raise RetryLater("api channel is not started")
        body = jsonio.dumps(render_delivery(delivery)).encode()
        headers = {
            "Content-Type": "application/json",
            DELIVERY_HEADER: delivery.id,
            SIGNATURE_HEADER: sign(self.secret, body, timestamp=int(time.time())),
        }
        try:
            async with self._session.post(
                self.callback_url, data=body, headers=headers
            ) as response:
                status = response.status
                retry_after = response.headers.get("Retry-After")
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RetryLater(f"callback unreachable: {type(error).__name__}: {error}") from None
        if 200 <= status < 300:
            return {"status": status}
        if status in (408, 425, 429) or status >= 500:
            raise RetryLater(f"callback answered {status}", retry_after=_seconds(retry_after))
        raise DeliveryError(f"callback answered {status}")


def _seconds(header: str | None) -> float | None:
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:
        return None


__all__ = ["ApiConnector", "parse_message", "render_delivery", "sign", "verify"]
