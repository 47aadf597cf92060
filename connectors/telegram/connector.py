"""The Telegram channel, on python-telegram-bot's `Bot` client.

Inbound, two modes (``channels.telegram.mode``; ``auto`` = webhook when a secret is set):

- **webhook**: Telegram POSTs updates to ``/webhooks/telegram`` on the hub's own server with
  ``X-Telegram-Bot-Api-Secret-Token`` (checked in constant time; wrong or missing → 403).
  ``setWebhook`` registers ``webhook_url`` and the secret at start.
- **polling**: ``deleteWebhook`` then a ``getUpdates`` long-poll loop (development behind NAT).

Either way an update is acknowledged only once `ingest` has stored it: the webhook answers
200 after the store, and polling advances its offset after the store, so a crash redelivers
instead of losing. That is why this connector drives `Bot` itself rather than PTB's
`Application`/`Updater`, whose queue acknowledges before anyone has handled the update.
`Bot.get_updates` also parses a whole batch at once, so one update it cannot parse would
stall polling for ever; `_Bot.raw_updates` fetches the JSON and each update is parsed alone.

The connect and poll loops stop on a flag as well as a cancel, and `stop` waits for them a
bounded time (`hub.periodic.stop_task`): a cancel can be lost on its way through a store or
an HTTP client (swallowed, or turned into an error), and a loop that went on would hang the
hub's shutdown. At stop a long poll in flight is abandoned, an update not yet stored is left
for Telegram to send again, and the offset past those stored is confirmed on the way out.

Outbound: `render` (escaped HTML, split at 4,096, inline keyboards), paced by `Pacer`.
Failures map onto the outbox: 429 → `RetryLater(retry_after)`; 403 (the user blocked the
bot) → `DeliveryError`, parked with the reason; network errors → `RetryLater` with backoff.
If Telegram cannot be reached at start (network, bad token) the connector logs it and keeps
retrying with backoff in the background; the rest of the hub serves meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import random
import re
import time
import warnings
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Self

from aiohttp import web
from telegram import Bot, Message
from telegram.constants import ChatAction, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from connectors.telegram.callbacks import CallbackCache, newest_question, payload_from_events
from connectors.telegram.files import keep_files, send_file
from connectors.telegram.pacing import Pacer
from connectors.telegram.parse import CHANNEL, ButtonPress, Ignored, Malformed, parse_update
from connectors.telegram.render import Part, is_token, render
from hub.abc import ChannelLinks, Connector
from hub.config import Section
from hub.errors import ConfigError, DeliveryError, InputError, RetryLater
from hub.http import error_response, read_json
from hub.leader import Lease as LeaderLease
from hub.logs import redact_secrets
from hub.model import Attachment, Delivery, Event, Inbound, split_question
from hub.periodic import stop_task

log = logging.getLogger("frontdesk.connectors.telegram")

WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TOKEN_ENV = "FRONTDESK_TELEGRAM_TOKEN"
SECRET_ENV = "FRONTDESK_TELEGRAM_SECRET"
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")
_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_BASE_FILE_URL = "https://api.telegram.org/file/bot"
_LOG_SCAN = 200  # events read back to map a button token to its payload
FOLLOWER_CHECK = 1.0  # seconds between a non-polling process's looks at the poll lease
BUTTON_EXPIRED = "This button has expired."
# Shown on a tap on an older copy of a question the bot has asked again since; the chat's
# language is not the connector's business, so both are said.
QUESTION_EXPIRED = "This question has expired. 这个问题已过期。"


@dataclass(frozen=True, slots=True, kw_only=True)
class TelegramSettings:
    """Everything the connector needs; secrets come from the environment."""

    token: str
    secret: str = ""
    mode: str = "polling"  # webhook | polling
    webhook_url: str = ""
    base_url: str = DEFAULT_BASE_URL
    base_file_url: str = DEFAULT_BASE_FILE_URL
    allow_groups: bool = False
    max_per_second: float = 30.0
    per_chat_interval: float = 1.0
    per_group_interval: float = 3.0
    max_queue_wait: float = 5.0  # longer waits go back to the outbox as RetryLater
    poll_timeout: int = 30
    reconnect_delay: float = 1.0
    reconnect_max_delay: float = 300.0
    request_timeout: float = 10.0


class _Bot(Bot):
    """`Bot` plus `raw_updates`: the `getUpdates` result as JSON, one dict per update."""

    async def raw_updates(
        self, *, offset: int | None, wait_seconds: int, read_timeout: float, limit: int = 100
    ) -> list[Any]:
        result = await self._post(
            "getUpdates",
            {
                "offset": offset,
                "timeout": wait_seconds,
                "limit": limit,
                "allowed_updates": list(ALLOWED_UPDATES),
            },
            read_timeout=read_timeout + wait_seconds,
        )
        return result if isinstance(result, list) else []


class TelegramConnector(Connector):
    name = CHANNEL
    supports_buttons = True
    supports_typing = True

    def __init__(self, *, links: ChannelLinks, settings: TelegramSettings) -> None:
        super().__init__(links=links)
        self.settings = settings
        self.pacer = Pacer(
            per_second=settings.max_per_second,
            chat_interval=settings.per_chat_interval,
            group_interval=settings.per_group_interval,
            # One bot's budget, whoever sends: named by the bot id (the token's public half).
            bot=f"{CHANNEL}:{settings.token.partition(':')[0]}",
            # The bot's send budget is the hub's: booked by every process together.
            pacing=links.log.pacing,
        )
        self.callbacks = CallbackCache()
        self._bot: _Bot | None = None
        self._ready = asyncio.Event()
        self._stopping = asyncio.Event()  # the loops' flag: a cancel alone can be lost
        self._runner: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Telegram serves getUpdates to one caller per bot (a second gets 409): with several
        # processes, the one leading for this bot polls.
        self._poll_lease: LeaderLease | None = (
            links.log.leader(f"{CHANNEL}-poll:{settings.token.partition(':')[0]}")
            if settings.mode == "polling"
            else None
        )
        self.polling = False  # this process is the one calling getUpdates (polling mode)
        # Polling: the next update wanted (everything before it is stored), and the offset
        # Telegram was last sent; while they differ, stored updates await confirmation.
        self._offset: int | None = None
        self._offset_sent: int | None = None

    # ------------------------------------------------------------------ configuration
    @classmethod
    def from_config(
        cls, settings: Section, *, links: ChannelLinks, environ: Mapping[str, str]
    ) -> Self:
        token = environ.get(TOKEN_ENV, "").strip()
        secret = environ.get(SECRET_ENV, "").strip()
        # Every Bot API URL carries the token, and HTTP libraries log URLs.
        redact_secrets(token, secret)
        if secret and not _SECRET_SHAPE.match(secret):
            raise ConfigError(
                "must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)",
                path="environment",
                key=SECRET_ENV,
            )
        mode = settings.get_str("mode", "auto", choices=("auto", "webhook", "polling"))
        if mode == "auto":
            mode = "webhook" if secret else "polling"
        if mode == "webhook" and not secret:
            raise settings.error("mode", f"webhook mode needs the {SECRET_ENV} variable")
        webhook_url = settings.get_str("webhook_url", "")
        if webhook_url and not webhook_url.startswith(("https://", "http://")):
            raise settings.error("webhook_url", f"must be an https:// URL (got {webhook_url!r})")
        if mode == "webhook" and token and not webhook_url:
            raise settings.error(
                "webhook_url", f"is required in webhook mode (the public URL of {WEBHOOK_PATH})"
            )
        base_url = settings.get_str("base_url", DEFAULT_BASE_URL)
        base_file_url = settings.get_str("base_file_url", DEFAULT_BASE_FILE_URL)
        for key, url in (("base_url", base_url), ("base_file_url", base_file_url)):
            if not url.startswith(("https://", "http://")):
                raise settings.error(key, f"must be an http(s) URL (got {url!r})")
        connector = cls(
            links=links,
            settings=TelegramSettings(
                token=token,
                secret=secret,
                mode=mode,
                webhook_url=webhook_url,
                base_url=base_url,
                base_file_url=base_file_url,
                allow_groups=settings.get_bool("allow_groups", False),
                max_per_second=settings.get_float("max_per_second", 30.0, minimum=0.1),
                per_chat_interval=settings.get_float("per_chat_interval", 1.0),
                per_group_interval=settings.get_float("per_group_interval", 3.0),
                max_queue_wait=settings.get_float("max_queue_wait", 5.0),
                poll_timeout=settings.get_int("poll_timeout", 30, minimum=0, maximum=50),
                reconnect_delay=settings.get_float("reconnect_delay", 1.0, minimum=0.01),
                reconnect_max_delay=settings.get_float("reconnect_max_delay", 300.0, minimum=0.01),
                request_timeout=settings.get_float("request_timeout", 10.0, minimum=0.1),
            ),
        )
        settings.reject_unknown()
        return connector

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        if self.settings.mode != "webhook":
            return ()
        return [web.post(WEBHOOK_PATH, self.receive)]

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        if not self.settings.token:
            log.warning(f"{TOKEN_ENV} is not set: the telegram channel stays idle")
            return
        timeout = self.settings.request_timeout
        self._bot = _Bot(
            self.settings.token,
            base_url=self.settings.base_url,
            base_file_url=self.settings.base_file_url,
            request=HTTPXRequest(read_timeout=timeout, write_timeout=timeout),
            get_updates_request=HTTPXRequest(read_timeout=timeout, write_timeout=timeout),
        )
        if self._poll_lease is not None:
            await self._poll_lease.start()
        self._stopping.clear()
        self._offset = self._offset_sent = None
        self._runner = asyncio.create_task(self._run(self._bot), name="telegram")

    async def stop(self) -> None:
        # The webhook stays registered: Telegram keeps updates queued while the hub is down.
        self._stopping.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await stop_task(runner, "telegram")
        # Button answers still under way: a stale spinner is cosmetic.
        await asyncio.gather(*(stop_task(task, "telegram-answer") for task in list(self._tasks)))
        if runner is not None and runner.done():  # a loop still going may yet store more
            await self._confirm_offset()
        self._ready.clear()
        self.polling = False
        if self._poll_lease is not None:
            await self._poll_lease.stop()
        if self._bot is not None:
            with contextlib.suppress(Exception):
                await self._bot.shutdown()
            self._bot = None

    async def wait_ready(self) -> None:
        """Until Telegram accepted the token (and the webhook, in webhook mode)."""
        await self._ready.wait()

    async def _run(self, bot: _Bot) -> None:
        delay = self.settings.reconnect_delay
        while not self._stopping.is_set():
            try:
                await bot.initialize()  # getMe: proves the token and the network
                if self.settings.mode == "webhook":
                    await bot.set_webhook(
                        self.settings.webhook_url,
                        secret_token=self.settings.secret,
                        allowed_updates=list(ALLOWED_UPDATES),
                    )
                else:
                    await bot.delete_webhook()  # getUpdates refuses to run while one is set
                log.info(
                    "telegram connected",
                    extra={"bot": bot.username, "mode": self.settings.mode},
                )
                self._ready.set()
                if self.settings.mode == "polling":
                    await self._poll(bot)  # until stopped, or an error to reconnect after
                return
            except Exception as error:
                if self._stopping.is_set():
                    return  # a cancel lost on its way, turned into this error: nothing failed
                _report(error)
            wait = _jitter(delay)
            log.info("telegram: connecting again", extra={"in_seconds": round(wait, 2)})
            await self._pause(wait)
            delay = min(delay * 2, self.settings.reconnect_max_delay)

    async def _poll(self, bot: _Bot) -> None:
        """Long-poll until stopped; an update's offset moves only once it is stored."""
        self._offset = self._offset_sent = None
        delay = self.settings.reconnect_delay
        while not self._stopping.is_set():
            if self._poll_lease is not None and not self._poll_lease.leading:
                # Another process polls; what it confirmed is gone from getUpdates, so a
                # later turn of ours starts from whatever is still unconfirmed.
                self.polling, self._offset = False, None
                await self._pause(FOLLOWER_CHECK)
                continue
            self.polling = True
            try:
                self._offset_sent = self._offset
                batch = await bot.raw_updates(
                    offset=self._offset,
                    wait_seconds=self.settings.poll_timeout,
                    read_timeout=self.settings.request_timeout,
                )
            except InvalidToken:
                raise  # the outer loop reports it and reconnects
            except TelegramError as error:
                if self._stopping.is_set():
                    return  # the long poll abandoned at stop (its cancel may surface so)
                wait = _jitter(delay)
                log.warning(
                    "telegram getUpdates failed",
                    extra={"error": _describe(error), "retry_in": round(wait, 2)},
                )
                await self._pause(wait)
                delay = min(delay * 2, self.settings.reconnect_max_delay)
                continue
            delay = self.settings.reconnect_delay
            if not await self._store(batch, delay):
                return

    async def _store(self, batch: Sequence[Any], delay: float) -> bool:
        """Hand each update to the hub in order, moving the offset past each one stored.
        False when stopped part-way: what is left, Telegram sends again."""
        for item in batch:
            if self._stopping.is_set():
                return False
            update_id = item.get("update_id") if isinstance(item, dict) else None
            try:
                await self.handle_update(item)
            except InputError as error:
                log.warning("telegram update skipped", extra={"reason": error.message})
            except Exception:
                # Not stored: leave the offset where it is so Telegram sends it again.
                if self._stopping.is_set():
                    return False  # a cancel lost on its way, turned into an error
                log.exception("telegram update not stored; fetching it again")
                await self._pause(_jitter(delay))
                return True
            if isinstance(update_id, int) and not isinstance(update_id, bool):
                self._offset = max(self._offset or 0, update_id + 1)
        return True

    async def _pause(self, seconds: float) -> None:
        """Sleep `seconds`, or less when asked to stop meanwhile."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    async def _confirm_offset(self) -> None:
        """At stop, tell Telegram which updates are stored (what the next `getUpdates` would
        have said), so that a restart is not sent them again. Only while this process still
        holds the poll: another caller would break the new poller's long poll (409)."""
        bot, offset = self._bot, self._offset
        if bot is None or not self.polling or offset is None or offset == self._offset_sent:
            return
        if self._poll_lease is not None and not self._poll_lease.leading:
            return
        timeout = self.settings.request_timeout
        try:
            async with asyncio.timeout(timeout):
                await bot.raw_updates(offset=offset, wait_seconds=0, read_timeout=timeout, limit=1)
        except (TelegramError, TimeoutError) as error:
            # Harmless: the stored updates come again and are recognised as duplicates.
            log.info("telegram offset not confirmed at stop", extra={"error": repr(error)})
        else:
            self._offset_sent = offset

    # ------------------------------------------------------------------ inbound
    async def receive(self, request: web.Request) -> web.Response:
        """The webhook: check the secret, store the update, then say 200."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not self.settings.secret or not hmac.compare_digest(
            given, self.settings.secret.encode()
        ):
            log.warning(
                "telegram webhook refused: missing or wrong secret token",
                extra={"remote": request.remote},
            )
            return error_response(403, f"missing or wrong {SECRET_HEADER}")
        data = await read_json(request)  # InputError → 400/413 via the json_errors middleware
        try:
            await self.handle_update(data)
        except InputError:
            raise
        except Exception:
            log.exception("telegram update not stored; Telegram will send it again")
            return error_response(503, "the update could not be stored; retry later")
        return web.json_response({"ok": True})

    async def handle_update(self, data: Any) -> None:
        """Parse one update and hand it to the hub. Raises `InputError` when it is not an
        update at all; records one whose content is unreadable and goes on.

        A button press is always answered (`answerCallbackQuery`), whatever becomes of it,
        so the user's spinner stops."""
        query_id = _query_id(data)
        answered = False
        try:
            parsed = parse_update(
                data, allow_groups=self.settings.allow_groups, received_at=time.time()
            )
            if isinstance(parsed, Ignored):
                log.info(
                    "telegram update ignored",
                    extra={"update_id": parsed.update_id, "reason": parsed.reason},
                )
            elif isinstance(parsed, Malformed):
                log.warning(
                    "telegram update malformed: recorded and skipped",
                    extra={
                        "update_id": parsed.update_id,
                        "chat_id": parsed.chat_id,
                        "reason": parsed.reason,
                    },
                )
                await self.ingest(parsed.notice(received_at=time.time()))
            elif isinstance(parsed, Inbound):
                if self._bot is not None:
                    parsed = await keep_files(self._bot, self.attachments, parsed)
                await self.ingest(parsed)
            else:
                answered = await self._button_pressed(parsed)
        finally:
            if query_id and not answered:
                self._background(self._answer(query_id, text=None))

    async def _button_pressed(self, press: ButtonPress) -> bool:
        """Store the press; True once its answer (and the keyboard's removal) is under way."""
        payload = await self._payload(press)
        if payload is None:
            log.info(
                "telegram button expired",
                extra={"update_id": press.update_id, "chat_id": press.chat_id},
            )
            self._background(self._answer(press.query_id, text=BUTTON_EXPIRED))
            return True
        if await self._superseded(press, payload):
            log.info(
                "telegram button of an earlier question",
                extra={"update_id": press.update_id, "chat_id": press.chat_id},
            )
            self._background(self._answer(press.query_id, text=QUESTION_EXPIRED))
            return True
        await self.ingest(press.inbound(payload))
        # Stored: now stop the button's spinner and take the keyboard away, so a second tap
        # cannot answer the same question twice.
        self._background(self._answer(press.query_id, text=None, keyboard_of=press))
        return True

    async def _payload(self, press: ButtonPress) -> str | None:
        if not is_token(press.data):
            return press.data
        cached = self.callbacks.get(press.data)
        if cached is not None:
            return cached
        return payload_from_events(press.data, await self._recent_events(press))

    async def _superseded(self, press: ButtonPress, payload: str) -> bool:
        """Whether the button belongs to a question asked again (or followed by another)
        since: it would answer the current question with a stale choice."""
        question = split_question(payload)[1]
        if question is None:
            return False
        newest = newest_question(await self._recent_events(press))
        return newest is not None and question < newest

    async def _recent_events(self, press: ButtonPress) -> Sequence[Event]:
        """The last events of the chat's conversation, where its buttons were sent."""
        conversation = await self.log.latest_conversation(press.template.identity)
        if conversation is None:
            return ()
        return await self.log.events(
            conversation.id, after_seq=max(0, conversation.last_seq - _LOG_SCAN), limit=_LOG_SCAN
        )

    async def _answer(
        self, query_id: str, *, text: str | None, keyboard_of: ButtonPress | None = None
    ) -> None:
        bot = self._bot
        if bot is None:
            return
        try:
            await bot.answer_callback_query(query_id, text=text)
            if keyboard_of is not None and keyboard_of.message_id is not None:
                await bot.edit_message_reply_markup(
                    chat_id=keyboard_of.chat_id,
                    message_id=keyboard_of.message_id,
                    reply_markup=None,
                )
        except TelegramError as error:
            # The press is stored; a stale spinner or keyboard is cosmetic.
            log.info("telegram button acknowledgement failed", extra={"error": _describe(error)})

    def _background(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ outbound
    async def typing(
        self, address: str, thread_hint: str, *, on: bool = True, for_turn: bool = True
    ) -> None:
        bot = self._bot
        # Telegram cannot take a chat action back: it lapses after 5 s or at the next message.
        if not on or bot is None or not self._ready.is_set():
            return
        await bot.send_chat_action(chat_id=_chat_id(address), action=ChatAction.TYPING)

    async def deliver(self, delivery: Delivery) -> Mapping[str, Any]:
        if not self.settings.token:
            raise DeliveryError(f"{TOKEN_ENV} is not set")
        bot = self._bot
        if bot is None or not self._ready.is_set():
            raise RetryLater("telegram is not connected yet")
        chat_id = _chat_id(delivery.address)
        rendered = render(delivery.outbound)
        # Stored files follow the text, one message each (their bytes read on every attempt).
        steps: list[Part | Attachment] = [*rendered.parts]
        steps += [a for a in delivery.outbound.attachments if a.id]
        if not steps:
            raise DeliveryError("the reply has no text, buttons or links to send")
        self.callbacks.remember(rendered.callbacks)
        # Parts an earlier attempt (in any process, before a restart too) already sent.
        sent = [int(part) for part in delivery.parts_sent]
        for index, part in enumerate(steps[len(sent) :], start=len(sent) + 1):
            wait = await self.pacer.reserve(chat_id, max_wait=self.settings.max_queue_wait)
            if wait is None:
                raise RetryLater(
                    "queued behind this chat's rate limit",
                    retry_after=await self.pacer.wait_for(chat_id),
                )
            if wait > 0:
                await asyncio.sleep(wait)
            if isinstance(part, Part):
                message = await self._send(bot, chat_id, part.html, part.keyboard)
            else:
                message = await self._guarded(
                    chat_id, send_file(bot, self.attachments, chat_id, part)
                )
            sent.append(message)
            if index < len(steps):
                await self.log.delivery_progress(delivery.id, [str(m) for m in sent])
        return {"message_ids": sent, "chat_id": chat_id}

    async def _send(self, bot: _Bot, chat_id: int, text: str, keyboard: Any) -> int:
        return await self._guarded(
            chat_id,
            bot.send_message(
                chat_id=chat_id, text=text, parse_mode=ParseMode.HTML, reply_markup=keyboard
            ),
        )

    async def _guarded(self, chat_id: int, call: Awaitable[Message]) -> int:
        """Await one send; Telegram's failures as the outbox's retry or park."""
        try:
            message = await call
        except RetryAfter as error:
            seconds = _retry_after(error)
            await self.pacer.pause(chat_id, seconds)
            raise RetryLater("telegram rate limit (429)", retry_after=seconds) from None
        except Forbidden as error:
            # The identity is unreachable until the user writes again; retrying cannot help.
            log.warning(
                "telegram user unreachable (blocked the bot or left the chat)",
                extra={"identity": f"{CHANNEL}:{chat_id}", "error": error.message},
            )
            raise DeliveryError(f"telegram 403, user unreachable: {error.message}") from None
        except ChatMigrated as error:
            raise DeliveryError(f"the group moved to chat {error.new_chat_id}") from None
        except BadRequest as error:
            raise DeliveryError(f"telegram refused the message: {error.message}") from None
        except InvalidToken:
            raise RetryLater(f"telegram rejected the bot token; check {TOKEN_ENV}") from None
        except TelegramError as error:
            raise RetryLater(f"telegram unreachable: {_describe(error)}") from None
        return message.message_id


def _query_id(data: Any) -> str:
    """The id of a button press (callback query), or "" for any other update."""
    query = data.get("callback_query") if isinstance(data, dict) else None
    query_id = query.get("id") if isinstance(query, dict) else None
    return query_id if isinstance(query_id, str) else ""


def _chat_id(address: str) -> int:
    try:
        return int(address)
    except ValueError:
        raise DeliveryError(f"not a telegram chat id: {address!r}") from None


def _retry_after(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns about its int → timedelta migration
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _report(error: Exception) -> None:
    """Why connecting (or polling) failed, said once per attempt."""
    if isinstance(error, InvalidToken):
        log.error(f"telegram rejected the bot token; check {TOKEN_ENV}")
    elif isinstance(error, TelegramError):
        log.warning("telegram unreachable", extra={"error": _describe(error)})
    else:
        log.error("telegram start-up failed", exc_info=error)


def _jitter(delay: float) -> float:
    return random.uniform(delay / 2, delay)


def _describe(error: TelegramError) -> str:
    return f"{type(error).__name__}: {error.message}"


__all__ = ["TelegramConnector", "TelegramSettings"]
