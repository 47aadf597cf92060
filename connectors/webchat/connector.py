"""The web chat channel: WebSocket and long-polling endpoints, the widget and a demo page.

Routes:
    GET  /webchat/ws          WebSocket (protocol in docs/webchat-protocol.md)
    POST /webchat/hello       long-polling fallback: token in, token + state out
    GET  /webchat/poll        ... frames after a (conversation, seq), waiting for new ones
    POST /webchat/messages    ... send one message (same ack / slow_down frames)
    POST /webchat/read        ... tell the visitor's other tabs what was read
    POST /webchat/attachments upload a file (multipart, visitor token); a message names it
    GET  /webchat/attachments/{id}  a file, by a link signed for the visitor (files.py)
    GET  /webchat/widget.js   the embeddable widget (one <script> tag)
    GET  /webchat/widget.css
    GET  /                    a demo shop page with the widget (`demo_page: true`)

Delivery semantics: the conversation log is the visitor's mailbox. A reply is pushed live
to every open tab as soon as it is appended (`on_events`, in log order, on every process),
and a tab that was closed or disconnected reads what it missed from the log when it comes
back. So a reply is delivered once its turn is committed: it never enters the outbox
(`replies_read_from_log`), and there is nothing to retry or park. `deliver()` is kept for
replies an earlier release queued: it reports how many tabs are connected
(``stored_for_pickup`` when none).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import secrets
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from connectors.webchat import files, protocol, tokens
from connectors.webchat.idle import IdleWatch
from connectors.webchat.limits import AddressLimits, AddressPolicy
from connectors.webchat.protocol import JSON, CustomerTyping, Hello, Read, SendMessage
from connectors.webchat.secret import default_path, kept_secret
from connectors.webchat.sessions import Listener, PollListener, Sessions, SocketListener
from hub.abc import ChannelLinks, Connector
from hub.attachments_http import download_response, serve_thumbnail, upload_response
from hub.config import Section
from hub.edge import client_address
from hub.errors import InputError
from hub.http import error_response, json_response, read_object
from hub.kv import shared_secret
from hub.model import Attachment, Conversation, Delivery, Event

log = logging.getLogger("frontdesk.connectors.webchat")

STATIC = Path(__file__).parent / "static"
SECRET_ENV = "FRONTDESK_WEBCHAT_SECRET"
SHARED_SECRET = "webchat"  # its name in the store's key-value port, when not configured
REPLAY_PAGE = 200

# WebSocket close codes (4000-4999 are the application's own).
CLOSE_IDLE = 4000
CLOSE_BAD_FRAME = 4400
CLOSE_BAD_TOKEN = 4401
CLOSE_TOO_MANY = 4429
CLOSE_GOING_AWAY = 1001

_SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
_DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


class WebchatConnector(Connector):
    name = "webchat"
    supports_buttons = True
    supports_typing = True
    typing_per_process = True  # a typing frame reaches only the sockets of this process
    observes_events = True
    # A turn's typing is held from the customer message's event (`on_events`): a timer per
    # message rather than a task per turn, on whichever process has the visitor's tabs.
    shows_turn_typing = True
    # The log is the visitor's mailbox: a committed reply needs no outbox (module docstring).
    replies_read_from_log = True

    def __init__(
        self,
        *,
        links: ChannelLinks,
        secret: bytes,
        allowed_origins: Sequence[str] = (),
        max_frame_bytes: int = 16_384,
        max_text_length: int = 4_000,
        rate_per_second: float = 1.0,
        rate_burst: int = 8,
        ping_interval: float = 25.0,
        hello_timeout: float = 10.0,
        idle_timeout: float = 1800.0,
        poll_wait: float = 25.0,
        max_tabs: int = 10,
        max_pending: int = 256,
        replay_limit: int = 2_000,
        typing_grace: float = 0.25,
        demo_page: bool = True,
        per_address: AddressPolicy | None = None,
        secret_shared: bool = False,
    ) -> None:
        super().__init__(links=links)
        self.secret = secret
        # A secret not configured is only offered to the store, which keeps one for every
        # process (`start`): a visitor's token must be good on whichever process they reach.
        self.secret_shared = secret_shared
        self.allowed_origins = frozenset(o.rstrip("/") for o in allowed_origins)
        self.max_frame_bytes = max_frame_bytes
        self.max_text_length = max_text_length
        self.ping_interval = ping_interval
        self.hello_timeout = hello_timeout
        self.idle_timeout = idle_timeout
        self.poll_wait = poll_wait
        self.max_pending = max_pending
        self.replay_limit = replay_limit
        self.typing_grace = typing_grace
        self.demo_page = demo_page
        # Message and new-visitor buckets are the hub's: shared by every process.
        self.sessions = Sessions(
            rate=rate_per_second, burst=rate_burst, max_per_visitor=max_tabs,
            limiter=links.log.limiter,
        )  # fmt: skip
        self.addresses = AddressLimits(
            per_address or AddressPolicy(), limiter=links.log.limiter, prefix=self.name
        )
        self._sockets: set[web.WebSocketResponse] = set()
        self._static: dict[str, bytes] = {}

    @classmethod
    def from_config(
        cls, settings: Section, *, links: ChannelLinks, environ: Mapping[str, str]
    ) -> Self:
        secret = environ.get(SECRET_ENV, "").encode()
        path = settings.get_str("secret_file", "") or str(default_path(environ))
        shared = not secret
        if shared:
            # The store keeps the secret for every process and machine (`start`); the one in
            # the data directory, generated once, is what a store that has none yet gets
            # (so visitors of a release that signed with the file are still known).
            try:
                secret = kept_secret(Path(path))
            except ValueError as error:
                raise settings.error("secret_file", f"cannot keep the secret: {error}") from None
            except OSError as error:
                # An unwritable data directory is the store's to report (it fails next).
                log.warning(
                    "cannot keep the web chat secret in %s (%s): the store keeps one",
                    path,
                    error.strerror or error,
                )
                secret = secrets.token_hex(32).encode()
        origins = settings.get_list("allowed_origins", [])
        for origin in origins:
            if not isinstance(origin, str) or not (
                origin == "*" or origin.startswith(("http://", "https://"))
            ):
                raise settings.error(
                    "allowed_origins", f"entries must be http(s)://host[:port] or '*' ({origin!r})"
                )
        connector = cls(
            links=links,
            secret=secret,
            secret_shared=shared,
            allowed_origins=origins,
            max_frame_bytes=settings.get_int("max_frame_bytes", 16_384, minimum=1024),
            max_text_length=settings.get_int("max_text_length", 4_000, minimum=1),
            rate_per_second=settings.get_float("rate_per_second", 1.0, minimum=0.01),
            rate_burst=settings.get_int("rate_burst", 8, minimum=1, maximum=10_000),
            ping_interval=settings.get_float("ping_interval", 25.0, minimum=1.0),
            hello_timeout=settings.get_float("hello_timeout", 10.0, minimum=0.1),
            idle_timeout=settings.get_float("idle_timeout", 1800.0, minimum=1.0),
            poll_wait=settings.get_float("poll_wait", 25.0, minimum=0.0),
            max_tabs=settings.get_int("max_tabs", 10, minimum=1, maximum=1000),
            replay_limit=settings.get_int("replay_limit", 2_000, minimum=1),
            typing_grace=settings.get_float("typing_grace", 0.25, minimum=0.0),
            demo_page=settings.get_bool("demo_page", True),
            per_address=AddressPolicy(
                max_connections=settings.get_int(
                    "max_connections_per_address", 50, minimum=1, maximum=1_000_000
                ),
                new_visitors_per_minute=settings.get_int(
                    "new_visitors_per_minute_per_address", 30, minimum=1, maximum=1_000_000
                ),
                messages_per_second=settings.get_float(
                    "messages_per_second_per_address", 5.0, minimum=0.01
                ),
                message_burst=settings.get_int(
                    "message_burst_per_address", 20, minimum=1, maximum=1_000_000
                ),
            ),
        )
        settings.reject_unknown()
        return connector

    # ------------------------------------------------------------------ wiring
    def routes(self) -> Sequence[web.AbstractRouteDef]:
        routes = [
            web.get("/webchat/ws", self.websocket),
            web.post("/webchat/hello", self.poll_hello),
            web.get("/webchat/poll", self.poll),
            web.post("/webchat/messages", self.poll_send),
            web.post("/webchat/read", self.poll_read),
            web.post(files.DOWNLOAD_PATH, self.upload),
            web.get(files.DOWNLOAD_PATH + "/{attachment_id}", self.download),
            web.options(
                "/webchat/{endpoint:(hello|poll|messages|read|attachments)}", self.preflight
            ),
            web.get("/webchat/widget.js", self.static("widget.js", "text/javascript")),
            web.get("/webchat/widget.css", self.static("widget.css", "text/css")),
        ]
        if self.demo_page:
            routes.append(web.get("/", self.static("demo.html", "text/html", csp=_DEMO_CSP)))
        return routes

    async def start(self) -> None:
        if self.secret_shared:  # before the first visitor: the app serves after start-up
            offer = self.secret.decode("ascii")
            self.secret = await shared_secret(self.log.kv, SHARED_SECRET, offer=offer)
        for name in ("widget.js", "widget.css", "demo.html"):
            self._static[name] = (STATIC / name).read_bytes()

    async def hang_up(self) -> None:
        # Without it a restart waits for the visitors' sockets (until a heartbeat fails).
        await self.disconnect_all(code=CLOSE_GOING_AWAY, reason="server shutting down")

    async def stop(self) -> None:
        await self.disconnect_all(code=CLOSE_GOING_AWAY, reason="server shutting down")

    async def disconnect_all(self, *, code: int = CLOSE_GOING_AWAY, reason: str = "") -> int:
        """Close every open socket (shutdown; tests of resume). Clients reconnect and resume."""
        sockets = list(self._sockets)
        for listener in self.sessions.all_listeners():
            if isinstance(listener, SocketListener):
                listener.close(code, reason)
            elif isinstance(listener, PollListener):
                listener.woken.set()
        for ws in sockets:
            with contextlib.suppress(Exception):
                await ws.close(code=code, message=reason.encode())
        return len(sockets)

    # ------------------------------------------------------------------ hub callbacks
    def on_events(self, events: Sequence[Event]) -> None:
        for event in events:
            data = event.data
            asks = data.get("channel") == self.name and event.type == "message.in"
            if asks:
                visitor: str | None = str(data.get("sender", ""))
                self.sessions.follow(str(visitor), event.conversation_id)
            else:
                visitor = self.sessions.visitor_of(event.conversation_id)
            if not visitor:
                continue
            if event.type in ("message.in", "message.out"):
                self.sessions.seen(event.conversation_id, unanswered=event.type == "message.in")
            frame = protocol.event_frame(event, channel=self.name)
            if frame is not None:
                self.sessions.publish(visitor, files.with_links(frame, self.secret, visitor))
            if asks:  # its turn is on its way: "typing" unless the reply beats the grace
                self.sessions.publish_typing(visitor, protocol.typing(), grace=self.typing_grace)

    async def typing(
        self, address: str, thread_hint: str, *, on: bool = True, for_turn: bool = True
    ) -> None:
        if not self.sessions.listeners(address):
            return
        # Held for `typing_grace` (an agent's too): a reply within it takes its place.
        frame, grace = protocol.typing(on=on), self.typing_grace
        if not for_turn:  # an agent typing (or stopping)
            self.sessions.publish_typing(address, frame, grace=grace)
            return
        # The hub starts this alongside the turn; a fast bot may already have answered,
        # and a late "typing…" after the reply would linger. Only show it while a customer
        # message is still waiting for its turn. The live feed usually says so already
        # (a reply seen since, or another process's turn, leave it to the log).
        if self.sessions.unanswered(self.sessions.conversation_of(address)):
            self.sessions.publish_typing(address, frame, grace=grace)
            return
        conversation = await self.log.latest_conversation(f"{self.name}:{address}")
        if conversation is None:
            return
        waiting = await self.log.events(conversation.id, after_seq=conversation.handled_seq)
        if any(event.type == "message.in" for event in waiting):
            self.sessions.publish_typing(address, frame, grace=grace)

    def customer_typing(self, visitor: str, on: bool) -> None:
        """The visitor types in their current conversation: an ephemeral signal to the hub
        (rate-limited there); nothing when they have no conversation yet."""
        conversation_id = self.sessions.conversation_of(visitor)
        if conversation_id:
            self.log.customer_typing(conversation_id, on=on)

    async def deliver(self, delivery: Delivery) -> Mapping[str, Any]:
        # The reply's frame went out with its `message.out` event (`on_events`, which the
        # hub's event bus calls in log order on every process): pushing it again from
        # here could put it ahead of an event of another process still on its way, and
        # the tab would then skip that one. Delivery only says who had it open.
        tabs = 0
        if self.sessions.visitor_of(delivery.conversation_id) == delivery.address:
            tabs = len(self.sessions.listeners(delivery.address))
        return {"tabs": tabs, "stored_for_pickup": tabs == 0}

    # ------------------------------------------------------------------ shared steps
    async def identify(self, token: str, address: str) -> tuple[str, str]:
        """(visitor, token): a new visitor for no token; `TokenError` for a forged one,
        `TooMany` when `address` has had too many new visitors lately."""
        if not token:
            wait = await self.addresses.new_visitor(address)
            if wait > 0:
                log.info("webchat new visitors limited", extra={"remote": address})
                raise TooMany(
                    "too_many_visitors",
                    "too many new chats from this network; try again shortly",
                    retry_after=wait,
                )
            visitor = tokens.new_visitor()
            return visitor, tokens.issue(self.secret, visitor)
        return tokens.verify(self.secret, token), token

    async def current(self, listener: Listener) -> Conversation | None:
        """The visitor's current conversation, from now on routed to them live.

        Call it after registering the listener, and read the log only after it: then
        nothing appended meanwhile falls between the read and the live feed.
        """
        conversation = await self.log.latest_conversation(f"{self.name}:{listener.visitor}")
        if conversation is not None:
            self.sessions.follow(listener.visitor, conversation.id)
        return conversation

    async def replay(
        self, listener: Listener, current: str, conversation_id: str, after: int
    ) -> None:
        """Pass on what the listener missed from the log, in order. A client that last saw
        another conversation (the one before a resolution) gets the current one whole."""
        if not current:
            return
        after = after if conversation_id == current else 0
        listener.conversation_id, listener.high_seq = current, after
        replayed = 0
        while replayed < self.replay_limit:
            page = await self.log.events(current, after_seq=after, limit=REPLAY_PAGE)
            for event in page:
                frame = protocol.event_frame(event, channel=self.name)
                if frame is not None:
                    listener.replay(files.with_links(frame, self.secret, listener.visitor))
            replayed += len(page)
            if len(page) < REPLAY_PAGE:
                break
            after = page[-1].seq

    async def accept(self, visitor: str, message: SendMessage, address: str) -> tuple[JSON, int]:
        """Rate-limit, then store one customer message; the frame to answer and its status."""
        wait = await self.sessions.take(visitor) or await self.addresses.message(address)
        if wait > 0:
            log.info(
                "webchat rate limit",
                extra={"visitor": visitor, "remote": address, "retry_after": wait},
            )
            return protocol.slow_down(message.id, retry_after=wait), 429
        attached: tuple[Attachment, ...] = ()
        if message.attachments:
            try:
                attached = await files.owned(
                    self.attachments, f"{self.name}:{visitor}", message.attachments
                )
            except InputError as problem:
                return protocol.error("bad_attachment", problem.message, message_id=message.id), 404
        inbound = protocol.to_inbound(
            self.name, visitor, message, received_at=time.time(), attachments=attached
        )
        receipt = await self.ingest(inbound)
        self.sessions.follow(visitor, receipt.conversation_id)
        frame = protocol.ack(
            message.id,
            conversation_id=receipt.conversation_id,
            seq=receipt.seq,
            duplicate=receipt.duplicate,
        )
        return frame, 200 if receipt.duplicate else 202

    def origin_allowed(self, request: web.Request) -> bool:
        """Browsers always send Origin; a page on another site may only connect if listed."""
        origin = request.headers.get("Origin")
        if origin is None or "*" in self.allowed_origins:
            return True
        return origin.rstrip("/") in self.allowed_origins or urlsplit(origin).netloc == request.host

    # ------------------------------------------------------------------ WebSocket
    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if not self.origin_allowed(request):
            log.warning("webchat origin refused", extra={"origin": request.headers.get("Origin")})
            return error_response(403, "this origin may not open the web chat socket")
        ws = web.WebSocketResponse(
            heartbeat=self.ping_interval, max_msg_size=self.max_frame_bytes, compress=False
        )
        address = client_address(request)
        if not self.addresses.connect(address):
            log.info("webchat connections limited", extra={"remote": address})
            await ws.prepare(request)  # refused in the protocol, so the widget can say why
            await _refuse(
                ws, CLOSE_TOO_MANY, "too_many_connections", "too many open chats from this network"
            )
            return ws
        try:
            await ws.prepare(request)
            self._sockets.add(ws)
            await self._serve_socket(ws, address)
        finally:
            self._sockets.discard(ws)
            self.addresses.disconnect(address)
        return ws

    async def _serve_socket(self, ws: web.WebSocketResponse, address: str) -> None:
        try:
            first = await ws.receive(timeout=self.hello_timeout)
        except TimeoutError:
            await _refuse(ws, CLOSE_IDLE, "no_hello", f"say hello within {self.hello_timeout:g}s")
            return
        if first.type != WSMsgType.TEXT:
            await ws.close()
            return
        try:
            hello = protocol.parse_hello(_expect_type(protocol.decode(first.data), "hello"))
            visitor, token = await self.identify(hello.token, address)
        except InputError as problem:
            await _refuse(ws, CLOSE_BAD_FRAME, "bad_frame", problem.message)
            return
        except TooMany as limited:
            await _refuse(ws, CLOSE_TOO_MANY, limited.code, limited.message)
            return
        except tokens.TokenError as problem:
            await _refuse(ws, CLOSE_BAD_TOKEN, "bad_token", str(problem))
            return
        write = functools.partial(_write, ws, batch=hello.batch)
        listener = SocketListener(visitor, max_pending=self.max_pending, write=write)
        if not self.sessions.add(listener):
            await _refuse(ws, CLOSE_TOO_MANY, "too_many_tabs", "too many open chat windows")
            return
        refusal = await self._link_identity(visitor, hello.identity_token)
        if refusal:
            listener.offer(protocol.error("bad_identity", refusal))
        try:
            await self._resume(listener, token, hello)
            await self._read(ws, listener, address)
        finally:
            self.sessions.remove(listener)
            listener.close(1000, "")
            await listener.written()

    async def _resume(self, listener: SocketListener, token: str, hello: Hello) -> None:
        listener.begin_sync()
        conversation = await self.current(listener)
        current = conversation.id if conversation else ""
        listener.offer(
            protocol.welcome(
                token=token,
                visitor=listener.visitor,
                conversation_id=current,
                status=conversation.status.value if conversation else "",
            )
        )
        await self.replay(listener, current, hello.conversation_id, hello.last_seq)
        listener.offer(protocol.synced(current, listener.high_seq))
        listener.end_sync()

    async def _read(
        self, ws: web.WebSocketResponse, listener: SocketListener, address: str
    ) -> None:
        # Too long silent: the writer closes the socket, which ends the `receive` below.
        idle = IdleWatch(self.idle_timeout, lambda: listener.close(CLOSE_IDLE, "idle"))
        try:
            while not ws.closed and not listener.close_code:
                message = await ws.receive()
                idle.heard()
                if message.type == WSMsgType.TEXT:
                    await self._handle(listener, message.data, address)
                elif message.type == WSMsgType.ERROR:
                    log.info("webchat socket error", extra={"error": repr(ws.exception())})
                    return
                elif message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                    return
                else:
                    error = protocol.error("bad_frame", "only JSON text frames are accepted")
                    listener.offer(error)
        finally:
            idle.stop()

    async def _handle(self, listener: SocketListener, text: str, address: str) -> None:
        try:
            frame = protocol.parse_client_frame(
                protocol.decode(text), max_text_length=self.max_text_length
            )
        except InputError as problem:
            listener.offer(protocol.error("bad_frame", problem.message))
            return
        if isinstance(frame, SendMessage):
            answer, _ = await self.accept(listener.visitor, frame, address)
            listener.offer(answer)
        elif isinstance(frame, Read):
            read = protocol.read(listener.conversation_id, frame.seq)
            self.sessions.publish(listener.visitor, read)
        elif isinstance(frame, CustomerTyping):
            self.customer_typing(listener.visitor, frame.on)
        else:
            listener.offer(protocol.error("bad_frame", "hello was already said"))

    # ------------------------------------------------------------------ long-polling
    def _visitor(self, request: web.Request) -> str:
        if not self.origin_allowed(request):
            raise InputError("this origin may not use the web chat", status=403)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InputError("missing 'Authorization: Bearer <visitor token>'", status=401)
        try:
            return tokens.verify(self.secret, token.strip())
        except tokens.TokenError as problem:
            raise InputError(str(problem), status=401) from None

    async def _link_identity(self, visitor: str, identity_token: str) -> str:
        """Hand a signed identity token to the hub's identity service; "" when accepted
        (or when there is none), else why it was refused."""
        if not identity_token or self.identity_tokens is None:
            return ""
        try:
            await self.identity_tokens(f"{self.name}:{visitor}", identity_token)
        except ValueError as problem:  # the identity service's refusals
            return str(problem) or "identity token refused"
        return ""

    async def poll_hello(self, request: web.Request) -> web.Response:
        if not self.origin_allowed(request):
            raise InputError("this origin may not use the web chat", status=403)
        body = await read_object(request) if request.body_exists else {}
        try:
            hello = protocol.parse_hello(body)
            visitor, token = await self.identify(hello.token, client_address(request))
        except tokens.TokenError as problem:
            raise InputError(str(problem), status=401) from None
        except TooMany as limited:
            return self._cors(request, limited.response())
        refusal = await self._link_identity(visitor, hello.identity_token)
        if refusal:
            raise InputError(refusal, status=401)
        conversation = await self.log.latest_conversation(f"{self.name}:{visitor}")
        frame = protocol.welcome(
            token=token,
            visitor=visitor,
            conversation_id=conversation.id if conversation else "",
            status=conversation.status.value if conversation else "",
        )
        return self._cors(request, json_response(frame))

    async def poll(self, request: web.Request) -> web.Response:
        visitor = self._visitor(request)
        conversation_id = request.query.get("conversation_id", "")
        after = _query_int(request, "after", 0, high=2**62)
        wait = min(float(_query_int(request, "wait", int(self.poll_wait), high=60)), self.poll_wait)
        address = client_address(request)
        if not self.addresses.connect(address):
            limited = TooMany("too_many_connections", "too many open chats from this network")
            return self._cors(request, limited.response())
        listener = PollListener(visitor)
        if not self.sessions.add(listener):
            self.addresses.disconnect(address)
            raise InputError("too many open chat windows for this visitor", status=429)
        try:
            conversation = await self.current(listener)
            current = conversation.id if conversation else ""
            await self.replay(listener, current, conversation_id, after)
            if not listener.frames and wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(listener.woken.wait(), timeout=wait)
                conversation = await self.current(listener)
                latest = conversation.id if conversation else ""
                await self.replay(listener, latest, current, listener.high_seq)
                current = latest
        finally:
            self.sessions.remove(listener)
            self.addresses.disconnect(address)
        body = {
            "conversation_id": current or None,
            "seq": listener.high_seq,
            "frames": listener.frames + listener.ephemeral,
        }
        return self._cors(request, json_response(body))

    async def poll_send(self, request: web.Request) -> web.Response:
        visitor = self._visitor(request)
        body = await read_object(request)
        message = protocol.parse_message(body, max_text_length=self.max_text_length)
        frame, status = await self.accept(visitor, message, client_address(request))
        headers = {"Retry-After": str(max(1, round(frame["retry_after"])))} if status == 429 else {}
        return self._cors(request, json_response(frame, status=status, headers=headers))

    async def poll_read(self, request: web.Request) -> web.Response:
        visitor = self._visitor(request)
        body = await read_object(request)
        read = protocol.parse_client_frame({**body, "type": "read"}, max_text_length=0)
        conversation_id = str(body.get("conversation_id", ""))
        if isinstance(read, Read):
            self.sessions.publish(visitor, protocol.read(conversation_id, read.seq))
        return self._cors(request, web.Response(status=204))

    # ------------------------------------------------------------------ files
    async def upload(self, request: web.Request) -> web.Response:
        """Store one file for the visitor; a message frame then refers to its id. Limited
        like messages (per visitor and per address), refused in both languages."""
        visitor = self._visitor(request)
        address = client_address(request)
        wait = await self.sessions.take(visitor) or await self.addresses.message(address)
        if wait > 0:
            limited = TooMany("slow_down", "too many uploads; try again shortly", retry_after=wait)
            return self._cors(request, limited.response())
        response = await upload_response(
            request, self.attachments, uploader=f"{self.name}:{visitor}"
        )
        return self._cors(request, response)

    async def download(self, request: web.Request) -> web.Response:
        """A file for the visitor a signed link (or a bearer token) names; else 404."""
        attachment_id = request.match_info["attachment_id"]
        visitor = files.signed_visitor(self.secret, request, attachment_id)
        if not visitor:
            if "Authorization" not in request.headers:
                raise files.NOT_FOUND
            visitor = self._visitor(request)
        identity = f"{self.name}:{visitor}"

        async def current() -> Conversation | None:
            return await self.log.latest_conversation(identity) if self.log else None

        stored, data = await files.readable(self.attachments, attachment_id, identity, current)
        if request.query.get("size") == "thumbnail":
            return await serve_thumbnail(self.attachments, attachment_id)
        return download_response(stored, data)

    async def preflight(self, request: web.Request) -> web.Response:
        if not self.origin_allowed(request):
            return error_response(403, "this origin may not use the web chat")
        response = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
        return self._cors(request, response)

    def _cors(self, request: web.Request, response: web.Response) -> web.Response:
        origin = request.headers.get("Origin")
        if origin and self.origin_allowed(request):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    # ------------------------------------------------------------------ static files
    def static(self, name: str, content_type: str, *, csp: str = "") -> Any:
        async def serve(request: web.Request) -> web.Response:
            body = self._static.get(name)
            if body is None:  # not started (a bare app in a test): read it now
                body = self._static[name] = (STATIC / name).read_bytes()
            headers = dict(_SECURITY_HEADERS)
            if csp:
                headers["Content-Security-Policy"] = csp
            return web.Response(
                body=body, content_type=content_type, charset="utf-8", headers=headers
            )

        return serve


class TooMany(Exception):
    """A per-address limit said no: `code` for the widget, seconds to wait if known."""

    def __init__(self, code: str, message: str, *, retry_after: float = 5.0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def response(self) -> web.Response:
        return web.json_response(
            protocol.error(self.code, self.message),
            status=429,
            headers={"Retry-After": str(max(1, math.ceil(self.retry_after)))},
        )


async def _write(ws: web.WebSocketResponse, listener: SocketListener, *, batch: bool) -> bool:
    """The one writer of a socket: frames leave in the order they were queued. It runs
    while the tab has frames queued (`SocketListener` starts it) and returns once there are
    none: True, or False when the socket is done with (closed after the stop marker, or
    broken: the reader sees it close and cleans up).

    It takes every frame queued by the time it runs (a turn's acknowledgement and echo are
    queued together; under load, more), drops a "typing" a reply right behind it makes
    pointless, and — for a client that reads them (`batch`) — sends them as one `frames`
    message: each send is a system call, the largest part of what a frame costs.

    It never waits for what follows a frame: a "typing" has waited out its grace before it
    is queued (`Sessions.publish_typing`), so a fast reply starts this writer once, not twice.
    """
    queue = listener.queue
    while pending := queue.take_nowait():
        stop = pending[-1] is None  # nothing is queued after the stop marker
        texts = [
            protocol.encode(frame)
            for frame in protocol.without_stale_typing([f for f in pending if f is not None])
        ]
        try:
            if batch and len(texts) > 1:
                await ws.send_str(protocol.frames(texts))
            else:
                for text in texts:
                    await ws.send_str(text)
        except (ConnectionError, RuntimeError):
            return False
        if stop:
            with contextlib.suppress(Exception):
                await ws.close(code=listener.close_code, message=listener.close_reason.encode())
            return False
    return True


async def _refuse(ws: web.WebSocketResponse, code: int, error: str, message: str) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_str(protocol.encode(protocol.error(error, message)))
    await ws.close(code=code, message=message.encode()[:120])


def _expect_type(data: Any, kind: str) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("type") != kind:
        raise InputError(f"the first frame must be {{'type': '{kind}', ...}}")
    return data


def _query_int(request: web.Request, name: str, default: int, *, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) > high:
        raise InputError(f"query parameter '{name}' must be a whole number from 0 to {high}")
    return int(raw)


__all__ = ["WebchatConnector"]
