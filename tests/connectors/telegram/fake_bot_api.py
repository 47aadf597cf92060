"""A small fake of Telegram's Bot API: a real aiohttp server on 127.0.0.1 that speaks the
HTTP protocol python-telegram-bot uses (``/bot<token>/<method>``, form fields whose values
are JSON, ``{"ok": …, "result": …}`` answers) and records every call.

It is strict where Telegram is strict, so that tests fail for the reasons production would:
``sendMessage`` refuses texts over 4,096 characters (UTF-16, after entity parsing), HTML that
does not parse, and callback data over 64 bytes; ``getUpdates`` refuses to run while a
webhook is set; a wrong token gets 401. Failures can be scripted per method (429 with
``retry_after``, 403 for a blocked user, 502 …).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-fake-token"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Frontdesk",
    "username": "frontdesk_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
# Form fields that are plain strings; every other value arrives JSON-encoded.
_STRING_FIELDS = {
    "text",
    "parse_mode",
    "url",
    "secret_token",
    "callback_query_id",
    "action",
    "inline_message_id",
}
_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)(\s[^<>]*)?>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Failure:
    status: int
    description: str
    parameters: dict[str, Any] | None = None


class TelegramApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.failure = Failure(status, description, parameters)


def visible_text(text: str) -> str:
    """Telegram-HTML → the text a user sees; raises TelegramApiError like Telegram does."""
    out: list[str] = []
    stack: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "<":
            match = _TAG.match(text, position)
            if not match or match.group(2).lower() not in _TAGS:
                raise TelegramApiError(
                    400, f"Bad Request: can't parse entities: unsupported tag at {position}"
                )
            closing, name = match.group(1), match.group(2).lower()
            if closing:
                if not stack or stack.pop() != name:
                    raise TelegramApiError(
                        400, f"Bad Request: can't parse entities: unmatched end tag {name}"
                    )
            else:
                stack.append(name)
            position = match.end()
        elif char == "&":
            match = _ENTITY.match(text, position)
            if not match:
                raise TelegramApiError(
                    400, f"Bad Request: can't parse entities: bare & at {position}"
                )
            out.append(html.unescape(match.group(0)))
            position = match.end()
        elif char == ">":
            raise TelegramApiError(400, f"Bad Request: can't parse entities: bare > at {position}")
        else:
            out.append(char)
            position += 1
    if stack:
        raise TelegramApiError(400, f"Bad Request: can't parse entities: unclosed <{stack[-1]}>")
    return "".join(out)


class FakeBotApi:
    """Start with `await start()`; point the connector at `base_url` / `base_file_url`."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        # Calls whose answer is ready (what they stored is visible): what `wait_for` counts.
        self.answered: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {}
        self.blocked: set[int] = set()  # chats whose user blocked the bot → 403
        self.failures: dict[str, list[Failure]] = {}
        self.failures_at: dict[tuple[str, int], Failure] = {}
        self.failing_from: dict[str, tuple[int, Failure]] = {}
        self.messages: dict[int, list[dict[str, Any]]] = {}  # chat id → sent messages
        # Files: what users sent (file_id → bytes, served by getFile and /file/bot…) and
        # what the bot sent (chat id → {"method", "name", "data", "caption"}).
        self.user_files: dict[str, bytes] = {}
        self.sent_files: dict[int, list[dict[str, Any]]] = {}
        self.downloads: list[str] = []
        self.held: dict[str, asyncio.Event] = {}  # method → calls wait until it is set
        self.closing = False
        self._changed = asyncio.Condition()
        self._next_message_id = 1000
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.base_file_url = ""

    # ------------------------------------------------------------------ control
    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._download)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        self.base_file_url = f"http://127.0.0.1:{port}/file/bot"

    async def stop(self) -> None:
        # Long polls and held calls a client abandoned answer now, not at their timeout.
        self.closing = True
        for gate in self.held.values():
            gate.set()
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()

    def hold(self, method: str) -> asyncio.Event:
        """Calls of `method` wait (arrived, unanswered) until the returned event is set."""
        return self.held.setdefault(method, asyncio.Event())

    async def in_flight(self, method: str, timeout: float = 30.0) -> Call:
        """Until a call of `method` has arrived and is not yet answered; that call."""

        def waiting() -> list[Call]:
            return [c for c in self.called(method) if all(c is not a for a in self.answered)]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: bool(waiting())), timeout)
        return waiting()[0]

    def fail(self, method: str, status: int, description: str, *, times: int = 1, **params: Any):
        """The next `times` calls of `method` answer this error instead."""
        failure = Failure(status, description, params or None)
        self.failures.setdefault(method, []).extend([failure] * times)

    def fail_call(self, method: str, number: int, status: int, description: str) -> None:
        """Call number `number` (1-based) of `method` answers this error instead."""
        self.failures_at[(method, number)] = Failure(status, description)

    def fail_from(self, method: str, number: int, status: int, description: str) -> None:
        """Call number `number` (1-based) of `method` and every later one answer this error,
        until `recover(method)`: an outage that begins mid-way."""
        self.failing_from[method] = (number, Failure(status, description))

    def recover(self, method: str) -> None:
        self.failing_from.pop(method, None)

    async def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for `getUpdates` (polling mode)."""
        self.updates.append(update)
        await self._notify()

    def called(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> list[Call]:
        """Until `method` was answered at least `count` times, with what those calls stored in
        place (fails the test after `timeout`)."""

        def answered() -> int:
            return sum(1 for call in self.answered if call.method == method)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: answered() >= count), timeout)
        return self.called(method)

    def texts(self, chat_id: int) -> list[str]:
        """What the user of `chat_id` sees, message by message."""
        return [message["visible"] for message in self.messages.get(chat_id, [])]

    # ------------------------------------------------------------------ protocol
    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await self._params(request)
        except ConnectionResetError:
            # The client gave up on the call before its body arrived (a stopping connector
            # abandons what is in flight): as Telegram does, forget it, without an error.
            raise web.HTTPBadRequest() from None
        call = Call(method, params)
        self.calls.append(call)
        await self._notify()
        gate = self.held.get(method)
        if gate is not None:
            await gate.wait()
        try:
            return await self._answer(request, method, params)
        finally:
            self.answered.append(call)
            await self._notify()

    async def _answer(
        self, request: web.Request, method: str, params: dict[str, Any]
    ) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(Failure(401, "Unauthorized"))
        queued = self.failures.get(method)
        if queued:
            return _error(queued.pop(0))
        scripted = self.failures_at.pop((method, len(self.called(method))), None)
        if scripted is not None:
            return _error(scripted)
        down = self.failing_from.get(method)
        if down is not None and len(self.called(method)) >= down[0]:
            return _error(down[1])
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(Failure(404, "Not Found: method not found"))
        try:
            result = await handler(params)
        except TelegramApiError as error:
            return _error(error.failure)
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """Telegram's file server: `getFile`'s `file_path` under the token."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["file_path"].removeprefix("documents/")
        self.downloads.append(file_id)
        data = self.user_files.get(file_id)
        return web.Response(status=404) if data is None else web.Response(body=data)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        form = await request.post() if request.can_read_body else {}
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):  # an uploaded file (sendPhoto, sendDocument)
                params[key] = {"name": value.filename, "data": value.file.read()}
                continue
            text = value if isinstance(value, str) else str(value)
            if key in _STRING_FIELDS:
                params[key] = text
                continue
            try:
                params[key] = json.loads(text)
            except json.JSONDecodeError:
                params[key] = text
        return params

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook:
            raise TelegramApiError(
                409, "Conflict: can't use getUpdates method while webhook is active"
            )
        if params.get("offset") is not None:
            # Confirming an offset forgets everything before it, as Telegram does (and the
            # junk a test slipped in, which has no update_id).
            offset = int(params["offset"])
            self.updates = [
                u for u in self.updates if isinstance(u, dict) and u.get("update_id", 0) >= offset
            ]
        wait = float(params.get("timeout") or 0)
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: bool(self.updates) or self.closing), wait
                )
        return list(self.updates[: int(params.get("limit") or 100)])

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = _chat(params)
        if chat_id in self.blocked:
            raise TelegramApiError(403, "Forbidden: bot was blocked by the user")
        text = str(params.get("text", ""))
        visible = visible_text(text) if params.get("parse_mode") == "HTML" else text
        if not visible.strip():
            raise TelegramApiError(400, "Bad Request: message text is empty")
        if len(visible.encode("utf-16-le")) // 2 > 4096:
            raise TelegramApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        if markup is not None:
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if len(str(button.get("callback_data", "")).encode()) > 64:
                        raise TelegramApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        self._next_message_id += 1
        message = {
            "message_id": self._next_message_id,
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "date": int(time.time()),
            "text": visible,
        }
        if markup is not None:
            message["reply_markup"] = markup
        self.messages.setdefault(chat_id, []).append(
            {"visible": visible, "html": text, "markup": markup, "id": self._next_message_id}
        )
        return message

    async def _api_getFile(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.user_files:
            raise TelegramApiError(400, "Bad Request: invalid file_id")
        size = len(self.user_files[file_id])
        if size > 20 * 1024 * 1024:
            raise TelegramApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": size,
            "file_path": f"documents/{file_id}",
        }

    async def _api_sendPhoto(self, params: dict[str, Any]) -> Any:
        return self._sent_file("sendPhoto", "photo", params)

    async def _api_sendDocument(self, params: dict[str, Any]) -> Any:
        return self._sent_file("sendDocument", "document", params)

    def _sent_file(self, method: str, field_name: str, params: dict[str, Any]) -> Any:
        chat_id = _chat(params)
        if chat_id in self.blocked:
            raise TelegramApiError(403, "Forbidden: bot was blocked by the user")
        upload = params.get(field_name)
        if not isinstance(upload, dict) or not upload.get("data"):
            raise TelegramApiError(400, f"Bad Request: there is no {field_name} in the request")
        self._next_message_id += 1
        self.sent_files.setdefault(chat_id, []).append(
            {
                "method": method,
                "name": upload["name"],
                "data": upload["data"],
                "caption": params.get("caption"),
                "id": self._next_message_id,
            }
        )
        file_object = {"file_id": f"sent{self._next_message_id}", "file_unique_id": "s"}
        message: dict[str, Any] = {
            "message_id": self._next_message_id,
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "date": int(time.time()),
        }
        if field_name == "photo":
            message["photo"] = [{**file_object, "width": 1, "height": 1}]
        else:
            message["document"] = {**file_object, "file_name": upload["name"]}
        return message

    async def _api_sendChatAction(self, params: dict[str, Any]) -> Any:
        _chat(params)
        if params.get("action") not in {"typing", "upload_photo", "record_voice"}:
            raise TelegramApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        if not params.get("callback_query_id"):
            raise TelegramApiError(400, "Bad Request: query is too old or query ID is invalid")
        return True

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        chat_id = _chat(params)
        for message in self.messages.get(chat_id, []):
            if message["id"] == params.get("message_id"):
                message["markup"] = params.get("reply_markup")
                return True
        raise TelegramApiError(400, "Bad Request: message to edit not found")


def _chat(params: dict[str, Any]) -> int:
    chat_id = params.get("chat_id")
    if not isinstance(chat_id, int):
        raise TelegramApiError(400, "Bad Request: chat not found")
    return chat_id


def _error(failure: Failure) -> web.Response:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": failure.status,
        "description": failure.description,
    }
    if failure.parameters:
        body["parameters"] = failure.parameters
    return web.json_response(body, status=failure.status)
