"""Custom actions: run one action on a rasa-sdk action server and bring back what it decided.

A flow step ``action: action_check_order`` becomes one POST of the Rasa action-server webhook
request to the configured endpoint (``bot.action_endpoint``)::

    {"next_action": "action_check_order", "sender_id": "...",
     "tracker": {"sender_id", "slots", "latest_message", "events", ...},
     "domain": {}, "version": "3.21.0"}

and its answer ``{"events": [...], "responses": [...]}`` becomes an `ActionOutcome`: slot
updates (``slot`` events) and replies (``responses`` first, then ``bot`` events, the order Rasa
itself uses). Other event types are ignored: the dialog engine owns the flow.

`ActionClient.run` never raises for anything the server or the network does. A timeout, a
refused connection, a non-2xx answer (an action's ``ActionExecutionRejection`` is HTTP 400, an
unknown action 404, a crash 500), invalid JSON or an unexpected shape all give
``ActionOutcome(failed=True, error=...)`` with a short, single-line reason; the engine answers
with its fallback message. A 500 from rasa-sdk echoes the whole request (slots included), so
response bodies are never copied into `error` or the log, only the server's short ``error``
field for statuses that carry one on purpose.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from hub.model import Attachment, Button, Outbound

log = logging.getLogger("frontdesk.dialogs.actions")

__all__ = [
    "RASA_VERSION",
    "ActionClient",
    "ActionOutcome",
    "build_request",
    "describe_failure",
    "parse_response",
]

# The Rasa release whose webhook protocol we speak; rasa-sdk only warns when its own
# major.minor differs, so this is informative rather than a handshake.
RASA_VERSION = "3.21.0"

MAX_ERROR_CHARS = 200
MAX_RESPONSE_BYTES = 1024 * 1024  # an action's answer is a few kB; more is a broken server


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionOutcome:
    """What a custom action decided: slot updates and replies, or why it failed.

    On failure `slots` and `replies` are empty: a half-applied action is worse than none.
    """

    slots: Mapping[str, Any] = field(default_factory=dict)
    replies: tuple[Outbound, ...] = ()
    failed: bool = False
    error: str = ""

    @classmethod
    def failure(cls, error: str) -> ActionOutcome:
        return cls(failed=True, error=_short(error))


class ActionResponseError(ValueError):
    """The server's answer does not have the shape of a rasa-sdk webhook response."""


# ------------------------------------------------------------------------- pure functions


def build_request(
    action: str,
    *,
    sender_id: str,
    slots: Mapping[str, Any],
    latest_message: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    version: str = RASA_VERSION,
) -> dict[str, Any]:
    """The webhook request body for running `action`, as Rasa's own ``RemoteAction`` sends it.

    `latest_message` is Rasa's parse data (``text``, ``intent``, ``entities`` …). ``domain`` is
    always present: recent rasa-sdk answers 449 ("missing domain") without it. Frontdesk has no
    Rasa domain, so it is empty and an action receives ``domain=None``.
    """
    return {
        "next_action": action,
        "sender_id": sender_id,
        "tracker": {
            "sender_id": sender_id,
            "slots": dict(slots),
            "latest_message": dict(latest_message),
            "events": [dict(event) for event in events],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": None,
        },
        "domain": {},
        "version": version,
    }


def parse_response(payload: Any) -> ActionOutcome:
    """A 2xx webhook answer → `ActionOutcome`; `ActionResponseError` if its shape is wrong."""
    if not isinstance(payload, Mapping):
        raise ActionResponseError(f"expected a JSON object, got {_kind(payload)}")
    events = _list(payload, "events")
    responses = _list(payload, "responses")

    replies: list[Outbound] = []
    for index, message in enumerate(responses):
        if not isinstance(message, Mapping):
            raise ActionResponseError(f"responses[{index}] is {_kind(message)}, not an object")
        reply = _reply(message, where=f"responses[{index}]")
        if reply is not None:
            replies.append(reply)

    slots: dict[str, Any] = {}
    for index, event in enumerate(events):
        if not isinstance(event, Mapping):
            raise ActionResponseError(f"events[{index}] is {_kind(event)}, not an object")
        kind = event.get("event")
        if kind == "slot":
            name = event.get("name")
            if not isinstance(name, str) or not name:
                raise ActionResponseError(f"events[{index}] sets a slot without a name")
            slots[name] = event.get("value")
        elif kind == "bot":
            data = event.get("data")
            message = {"text": event.get("text"), **(data if isinstance(data, Mapping) else {})}
            reply = _reply(message, where=f"events[{index}]")
            if reply is not None:
                replies.append(reply)
        else:
            # followup, reminder, restart, active_loop …: the dialog engine owns the flow.
            log.debug("ignoring action event %r", kind)
    return ActionOutcome(slots=slots, replies=tuple(replies))


def describe_failure(status: int, payload: Any) -> str:
    """A short reason for a non-2xx answer, without echoing what the server sent back.

    rasa-sdk answers 400 for a rejected action and 404 for an unknown one, each with a short
    ``error`` message worth showing; 449 when the domain is missing; 500 for a crash, with the
    whole request echoed (``request_body``), so only the status is kept.
    """
    detail = ""
    if isinstance(payload, Mapping) and isinstance(payload.get("error"), str):
        detail = payload["error"]
    if status == 400 and detail:
        return f"action rejected: {detail}"
    if status == 404 and detail:
        return f"unknown action: {detail}"
    if status == 449:
        return "the action server asked for the domain (HTTP 449)"
    return f"the action server answered HTTP {status}"


def _list(payload: Mapping[str, Any], key: str) -> list[Any]:
    value = payload.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ActionResponseError(f"{key!r} is {_kind(value)}, not a list")
    return value


def _reply(message: Mapping[str, Any], *, where: str) -> Outbound | None:
    """One rasa-sdk message (``dispatcher.utter_message``) → `Outbound`, or None if empty."""
    text = message.get("text")
    if text is not None and not isinstance(text, str):
        raise ActionResponseError(f"{where}.text is {_kind(text)}, not a string")
    buttons = tuple(
        _button(b, where=f"{where}.buttons[{i}]") for i, b in enumerate(_buttons(message, where))
    )
    attachments: tuple[Attachment, ...] = ()
    image = message.get("image")
    if isinstance(image, str) and image:
        attachments = (Attachment(kind="image", url=image),)
    if not text and not buttons and not attachments:
        if message.get("response"):
            # `utter_message(response="utter_x")` names a Rasa domain response; Frontdesk has
            # no domain to render it from, so the action must send text.
            log.warning(
                "%s names response %r, which Frontdesk cannot render", where, message["response"]
            )
        return None
    return Outbound(text=text or "", buttons=buttons, attachments=attachments)


def _buttons(message: Mapping[str, Any], where: str) -> list[Any]:
    value = message.get("buttons")
    if value is None:
        return []
    if not isinstance(value, list):
        raise ActionResponseError(f"{where}.buttons is {_kind(value)}, not a list")
    return value


def _button(value: Any, *, where: str) -> Button:
    if not isinstance(value, Mapping):
        raise ActionResponseError(f"{where} is {_kind(value)}, not an object")
    title, payload = value.get("title"), value.get("payload")
    if not isinstance(title, str) or not title:
        raise ActionResponseError(f"{where} has no title")
    if not isinstance(payload, str | int | float) or isinstance(payload, bool):
        raise ActionResponseError(f"{where} has no payload")
    return Button(title=title, payload=str(payload))


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 1] + "…"


# ------------------------------------------------------------------------------ the client


class ActionClient:
    """Runs custom actions on one rasa-sdk action server (its ``/webhook`` URL).

    One HTTP session per client, opened on first use (inside the running loop) and closed
    by `close()`. Safe to share between concurrent conversations.
    """

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the action endpoint must be an http(s) URL, not {url!r}")
        if timeout <= 0:
            raise ValueError("the action timeout must be positive")
        self.url = url
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def run(
        self,
        action: str,
        *,
        sender_id: str,
        slots: Mapping[str, Any],
        latest_message: Mapping[str, Any],
        events: Sequence[Mapping[str, Any]],
    ) -> ActionOutcome:
        """Run `action` for `sender_id`; never raises (see the module's docstring)."""
        try:
            body = json.dumps(
                build_request(
                    action,
                    sender_id=sender_id,
                    slots=slots,
                    latest_message=latest_message,
                    events=events,
                ),
                default=str,  # a date or Decimal in a slot must not sink the call
            )
        except (TypeError, ValueError, RecursionError) as error:
            return self._failed(action, sender_id, f"cannot encode the request: {error}")
        try:
            status, raw = await self._post(body)
        except TimeoutError:
            return self._failed(action, sender_id, f"timed out after {self.timeout:g}s")
        except aiohttp.ClientConnectorError as error:
            return self._failed(action, sender_id, f"cannot connect: {error.os_error}")
        except (aiohttp.ClientError, OSError) as error:
            return self._failed(action, sender_id, f"request failed: {type(error).__name__}")
        except ActionResponseError as error:
            return self._failed(action, sender_id, str(error))

        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            payload = _INVALID
        if not 200 <= status < 300:
            return self._failed(action, sender_id, describe_failure(status, payload))
        if payload is _INVALID:
            return self._failed(action, sender_id, f"invalid JSON in the answer (HTTP {status})")
        try:
            outcome = parse_response(payload)
        except ActionResponseError as error:
            return self._failed(action, sender_id, f"unexpected answer: {error}")
        log.info(
            "action %s ran for %s: %d slot(s), %d reply(ies)",
            action,
            sender_id,
            len(outcome.slots),
            len(outcome.replies),
        )
        return outcome

    async def _post(self, body: str) -> tuple[int, bytes]:
        async with self._client().post(
            self.url, data=body, headers={"Content-Type": "application/json"}
        ) as response:
            chunks: list[bytes] = []
            size = 0
            while chunk := await response.content.read(64 * 1024):
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise ActionResponseError(f"answer larger than {MAX_RESPONSE_BYTES} bytes")
                chunks.append(chunk)
            return response.status, b"".join(chunks)

    def _failed(self, action: str, sender_id: str, error: str) -> ActionOutcome:
        outcome = ActionOutcome.failure(error)
        log.warning("action %s failed for %s: %s", action, sender_id, outcome.error)
        return outcome

    async def close(self) -> None:
        """Close the HTTP session (a later `run` opens a new one)."""
        if self._session is not None:
            await self._session.close()
            self._session = None


_INVALID = object()  # json.loads failed (distinct from a JSON null)
