"""The WeChat Official Account channel (微信公众号).

Inbound: WeChat POSTs each message to ``/webhooks/wechat?signature=…&timestamp=…&nonce=…``
(plus ``encrypt_type=aes&msg_signature=…`` in safe mode). The signature is checked before
anything is parsed (wrong or missing → 403, nothing stored); the body is parsed with
defusedxml (`connectors.wechat.envelope`), decrypted in safe mode, stored through
`ingest`, and only then answered ``success``. WeChat resends a message it got no answer
for within 5 seconds, up to three times: the store drops the copies by ``MsgId`` (events:
``FromUserName`` + ``CreateTime``). The ``GET`` on the same path answers the admin
console's server verification (``echostr``).

Outbound: never a passive reply (it must come within those 5 seconds, before the bot has
thought); always the customer-service message API, which WeChat accepts only within 48
hours of the customer's last message (and for at most a few messages per message). The
window is read from the conversation's log (`connectors.service_window`): outside it the
reply is parked with the reason, and WeChat's own verdict (45015, 45047) parks it too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Self

from aiohttp import web

from connectors import choices
from connectors.history import recent_events
from connectors.media import Fetched, MediaUnavailable, keep_media
from connectors.service_window import ServiceWindow
from connectors.wechat import envelope, render
from connectors.wechat.api import TOKEN_ERRORS, WeChatApi, WeChatError
from connectors.wechat.parse import CHANNEL, Ignored, openid_of, parse_message
from connectors.wechat.settings import (
    APP_SECRET_ENV,
    TOKEN_ENV,
    WeChatSettings,
    read_settings,
)
from hub.abc import ChannelLinks, Connector
from hub.attachments import too_large
from hub.config import Section
from hub.errors import DeliveryError, InputError, RetryLater
from hub.http import error_response
from hub.identity import VOUCHED
from hub.logs import redact_secrets
from hub.model import Attachment, Delivery, Event, Inbound, InboundKind, Outbound

log = logging.getLogger("frontdesk.connectors.wechat")

WEBHOOK_PATH = "/webhooks/wechat"
WINDOW_HOURS = 48
# Photos go into the attachment store (voice and video stay references); WeChat's own limit
# on an image is 10 MB.
KEPT_KINDS = {"image": "photo.jpg"}
MEDIA_LIMIT = 10 * 1024 * 1024
MEDIA_SECONDS = 3.0  # of the 5 WeChat waits for "success"
# An agent's images go as image messages (WeChat takes JPEG, PNG and GIF); its temporary
# media live three days, a little less is remembered.
UPLOADS = frozenset({"image/jpeg", "image/png", "image/gif"})
UPLOAD_TTL = 2.5 * 24 * 3600
# A follower's UnionID (`settings.unionid`) is asked for once and remembered this long; the
# lookup gets this much of the 5 seconds (the photo's download has MEDIA_SECONDS).
UNIONID_TTL = 30 * 24 * 3600.0
UNIONID_SECONDS = 1.0
NO_UNIONID = "-"  # remembered too: a follower without one is not asked about every message
# WeChat's verdicts that no retry can change, with what they mean for the operator.
_PARK = {
    45015: "the 48-hour window has closed (45015: response out of time limit)",
    45047: "too many messages since the customer's last one (45047)",
    43004: "the customer no longer follows the account (43004)",
    40003: "not a follower of this account (40003: invalid openid)",
    40007: "WeChat does not know the image (40007: invalid media_id)",
    45002: "the message is too long for WeChat (45002)",
}
# Quotas: come back later rather than park.
_RATE_LIMITS = frozenset({45009, 45011, -1})  # daily quota, minute quota, "system busy"


class WeChatConnector(Connector):
    name = CHANNEL
    supports_buttons = True

    def __init__(
        self,
        *,
        links: ChannelLinks,
        settings: WeChatSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(links=links)
        self.settings = settings
        self.clock = clock
        self.window = ServiceWindow(channel=CHANNEL, length=WINDOW_HOURS * 3600.0)
        self.api = WeChatApi(
            base_url=settings.api_url,
            app_id=settings.app_id,
            app_secret=settings.app_secret,
            timeout=settings.request_timeout,
            # The access token is shared by every process on the store (the composition
            # root owns the key-value port and closes it).
            kv=links.log.kv,
        )

    @classmethod
    def from_config(
        cls, settings: Section, *, links: ChannelLinks, environ: Mapping[str, str]
    ) -> Self:
        read = read_settings(settings, environ)
        # The secret rides in the token URL's query, and HTTP libraries log URLs.
        redact_secrets(*(s for s in (read.app_secret, read.token) if s))
        return cls(links=links, settings=read)

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return [web.get(WEBHOOK_PATH, self.verify), web.post(WEBHOOK_PATH, self.receive)]

    async def start(self) -> None:
        if not self.settings.configured:
            log.warning(
                f"{APP_SECRET_ENV}, {TOKEN_ENV} or channels.wechat.app_id is not set: "
                "the wechat channel stays idle"
            )

    async def stop(self) -> None:
        await self.api.close()

    # ------------------------------------------------------------------ inbound
    def _signed(self, request: web.Request) -> bool:
        query = request.query
        token = self.settings.token
        return bool(token) and envelope.signed(
            query.get("signature", ""), token, query.get("timestamp", ""), query.get("nonce", "")
        )

    async def verify(self, request: web.Request) -> web.Response:
        """The admin console's server check: echo ``echostr`` when the signature holds."""
        if not self._signed(request):
            log.warning("wechat verification refused", extra={"remote": request.remote})
            return error_response(403, "missing or wrong signature")
        echo = request.query.get("echostr", "")
        if not echo or len(echo) > 128 or not echo.isascii() or not echo.isalnum():
            return error_response(400, "echostr must be 1-128 letters or digits")
        return web.Response(text=echo, content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        """The push: check the signature, open the message, store it, then ``success``."""
        if not self._signed(request):
            log.warning("wechat push refused: wrong signature", extra={"remote": request.remote})
            return error_response(403, "missing or wrong signature")
        body = await self._body(request)
        fields = self._open(request, envelope.parse_xml(body))
        if fields is None:
            return error_response(403, "missing or wrong msg_signature")
        parsed = parse_message(fields, app_id=self.settings.app_id)
        if isinstance(parsed, Ignored):
            log.info("wechat push ignored", extra={"reason": parsed.reason})
            return web.Response(text="success", content_type="text/plain")
        try:
            await self.ingest(await self._resolved(parsed))
        except Exception:
            # No "success": WeChat sends the message again.
            log.exception("wechat message not stored; WeChat will send it again")
            return error_response(503, "the message could not be stored; retry later")
        return web.Response(text="success", content_type="text/plain")

    async def _body(self, request: web.Request) -> bytes:
        limit = self.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise InputError(f"body is larger than the limit of {limit} bytes", status=413)
        body = await request.read()  # the server's own cap applies while reading
        if len(body) > limit:
            raise InputError(f"body is larger than the limit of {limit} bytes", status=413)
        if not body:
            raise InputError("the body is empty")
        return body

    def _open(self, request: web.Request, outer: Mapping[str, str]) -> Mapping[str, str] | None:
        """The message's fields, decrypted in safe mode; None when ``msg_signature`` is wrong."""
        encrypted = outer.get("Encrypt", "")
        if not self.settings.safe_mode:
            if encrypted or request.query.get("encrypt_type") == "aes":
                raise InputError(
                    f"an encrypted message, but safe mode is not configured ({TOKEN_ENV} set, "
                    "FRONTDESK_WECHAT_AES_KEY not)"
                )
            return outer
        if not encrypted:
            # Safe mode means every message is encrypted; a plaintext one is not WeChat's.
            raise InputError("safe mode is on: the message must be encrypted")
        query = request.query
        if not envelope.signed(
            query.get("msg_signature", ""),
            self.settings.token,
            query.get("timestamp", ""),
            query.get("nonce", ""),
            encrypted,
        ):
            log.warning(
                "wechat push refused: wrong msg_signature", extra={"remote": request.remote}
            )
            return None
        plaintext = envelope.decrypt(
            encrypted, key=self.settings.aes_key, app_id=self.settings.app_id
        )
        return envelope.parse_xml(plaintext, what="decrypted message")

    async def _resolved(self, inbound: Inbound) -> Inbound:
        """A click on a msgmenu line (or a number typed at a numbered list) becomes the
        chosen button's payload; a photo is fetched into the attachment store; the
        sender's UnionID, when known, is vouched for (linked by the hub's identity gate)."""
        inbound = await self._with_unionid(inbound)
        menu_id = inbound.raw.get("menu_id")
        if isinstance(menu_id, str) and choices.is_token(menu_id):
            payload = choices.payload_from_events(menu_id, await self._recent(inbound))
            if payload is not None:
                inbound = replace(inbound, text=payload)
        elif choices.typed_number(inbound.text) is not None:
            buttons = choices.last_buttons(await self._recent(inbound))
            picked = choices.chosen(inbound.text, buttons)
            if picked is not None and len(buttons) > render.MAX_MENU_ITEMS:
                typed = {**inbound.raw, "typed": inbound.text}
                inbound = replace(inbound, text=picked.payload, raw=typed)
        return await keep_media(
            self.attachments, inbound, self._fetch, names=KEPT_KINDS, max_bytes=MEDIA_LIMIT
        )

    async def _with_unionid(self, inbound: Inbound) -> Inbound:
        """`inbound` vouching for ``wechat-union:<unionid>``: from the push when WeChat put it
        there, else (with `settings.unionid`) from the follower's profile."""
        unionid = inbound.raw.get("unionid")
        if not unionid and self.settings.unionid and inbound.kind == InboundKind.MESSAGE:
            unionid = await self._unionid(openid_of(inbound.sender))
        if not isinstance(unionid, str) or not unionid:
            return inbound
        raw = {**inbound.raw, "unionid": unionid, VOUCHED: f"wechat-union:{unionid}"}
        return replace(inbound, raw=raw)

    async def _unionid(self, openid: str) -> str | None:
        """The follower's UnionID through ``/cgi-bin/user/info``, remembered in the shared
        store. A lookup that fails or is slow is skipped (asked again next message): the
        message is stored either way."""
        key = f"wechat:unionid:{self.settings.app_id}:{openid}"
        known = await self.api.kv.get(key)
        if known is not None:
            return None if known == NO_UNIONID else known
        try:
            async with asyncio.timeout(UNIONID_SECONDS):
                info = await self.api.user_info(openid)
        except (TimeoutError, WeChatError) as error:
            log.warning("wechat unionid not looked up", extra={"reason": str(error)[:200]})
            return None
        unionid = info.get("unionid")
        found = unionid if isinstance(unionid, str) and 0 < len(unionid) <= 128 else None
        await self.api.kv.put(key, found or NO_UNIONID, ttl=UNIONID_TTL)
        return found

    async def _fetch(self, media_id: str, max_bytes: int) -> Fetched:
        """A photo's bytes through the media API. Any failure leaves it a reference (its
        ``PicUrl`` stays): WeChat wants ``success`` within 5 seconds, so a download gets
        `MEDIA_SECONDS` of them and is never a reason to make WeChat send the push again."""
        try:
            async with asyncio.timeout(MEDIA_SECONDS):
                data, kind = await self.api.media(media_id, max_bytes=max_bytes)
        except TimeoutError:
            raise MediaUnavailable(f"wechat media not fetched within {MEDIA_SECONDS} s") from None
        except WeChatError as error:
            if error.status == 413:
                raise too_large(max_bytes) from None
            raise MediaUnavailable(f"wechat would not hand the media over ({error})") from None
        return Fetched(data=data, mime_type=kind)

    async def _recent(self, inbound: Inbound) -> Sequence[Event]:
        return await recent_events(self.log, inbound.identity)

    # ------------------------------------------------------------------ outbound
    async def deliver(self, delivery: Delivery) -> Mapping[str, Any]:
        if not self.settings.configured:
            raise DeliveryError(f"{APP_SECRET_ENV} or {TOKEN_ENV} is not set")
        last = await self.window.last_before(self.log, delivery)
        if not self.window.is_open(last, self.clock()):
            closed = (
                "the customer has not written on WeChat yet"
                if last is None
                else f"the 48-hour window closed at {_utc(last + self.window.length)}"
            )
            raise DeliveryError(
                f"wechat: {closed}; WeChat takes customer-service messages only within "
                "48 hours of the customer's last message"
            )
        messages = render.render(await self._with_uploads(delivery.outbound))
        if not messages:
            raise DeliveryError("the reply has no text, buttons or images to send")
        openid = openid_of(delivery.address)
        sent = list(delivery.parts_sent)
        for index in range(len(sent), len(messages)):
            await self._send({"touser": openid, **messages[index]})
            sent.append(str(index))
            if index + 1 < len(messages):
                await self.log.delivery_progress(delivery.id, sent)
        return {"parts": len(messages), "to": openid}

    async def _with_uploads(self, outbound: Outbound) -> Outbound:
        """An agent's stored images as media WeChat holds (`Attachment.ref` = a temporary
        ``media_id``), uploaded once and remembered for `UPLOAD_TTL` (WeChat keeps them three
        days), so a retried reply never uploads twice."""
        wanted = [a for a in outbound.attachments if a.id and not a.ref and a.mime_type in UPLOADS]
        if not wanted:
            return outbound
        attachments = []
        for attachment in outbound.attachments:
            if attachment in wanted:
                attachment = replace(attachment, kind="image", ref=await self._upload(attachment))
            attachments.append(attachment)
        return replace(outbound, attachments=tuple(attachments))

    async def _upload(self, attachment: Attachment) -> str:
        key = f"wechat:media:{self.settings.app_id}:{attachment.id}"
        known = await self.api.kv.get(key)
        if known:
            return known
        data = await self.attachments.read(attachment.id)
        if data is None:
            raise DeliveryError(f"attachment {attachment.id} is no longer stored")
        try:
            media_id = await self.api.upload_image(
                data, name=_upload_name(attachment), mime_type=attachment.mime_type
            )
        except WeChatError as error:
            raise self._outcome(error) from None
        await self.api.kv.put(key, media_id, ttl=UPLOAD_TTL)
        return media_id

    async def _send(self, message: dict[str, Any]) -> None:
        try:
            await self.api.send(message)
        except WeChatError as error:
            raise self._outcome(error) from None

    def _outcome(self, error: WeChatError) -> RetryLater | DeliveryError:
        """WeChat's answer → the outbox's verb: park what cannot change, retry the rest."""
        if error.token:
            # A wrong AppSecret or a server missing from the IP whitelist (40125, 40164):
            # fixable in the console, so the reply waits rather than being parked at once.
            return RetryLater(
                f"wechat: no access_token ({error}); check {APP_SECRET_ENV}, "
                "channels.wechat.app_id and the console's IP whitelist"
            )
        if error.code in _PARK:
            return DeliveryError(f"wechat: {_PARK[error.code]}: {error.message}")
        if error.code in _RATE_LIMITS:
            return RetryLater(
                f"wechat rate limit ({error})", retry_after=self.settings.rate_limit_pause
            )
        if error.code in TOKEN_ERRORS:
            return RetryLater(f"wechat refused a fresh access token too ({error})")
        if error.status != 200 or error.code == 0:
            return RetryLater(f"wechat unreachable ({error})")
        return DeliveryError(f"wechat refused the message ({error})")


def _upload_name(attachment: Attachment) -> str:
    """The file name an upload carries: WeChat reads only its extension, and a non-ASCII
    name would travel percent-encoded, so such a name is replaced."""
    name = attachment.name
    if name.isascii() and name.isprintable() and "." in name and '"' not in name:
        return name
    return "image." + attachment.mime_type.partition("/")[2].replace("jpeg", "jpg")


def _utc(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))


__all__ = ["WEBHOOK_PATH", "WeChatConnector"]
