"""Choices on channels with small or no buttons: short titles, numbered lists, long payloads.

Shared by every channel whose buttons are limited (WhatsApp: 3 reply buttons of 20
characters, or a list of 10 rows) or absent (SMS): pure functions, no network.

- `shorten`: a title cut to a provider's limit, at a word boundary for Latin text, with "…".
- `numbered_list` / `chosen`: choices written as "1. …" lines with "Reply 1, 2 or 3"
  (or "请回复 1、2 或 3"), and the customer's typed number mapped back to the choice.
- `payload_token` / `payload_from_events`: a payload too long for the provider's id field
  travels as a hash token and is found again in the conversation's log.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from hub.model import Button, Event, EventType

TOKEN_PREFIX = "fdc:"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NUMBER = re.compile(r"^\s*(?:no\.?|#|第)?\s*(\d{1,2})\s*(?:个|项)?\s*[.)、。]?\s*$", re.I)


def language_of(text: str) -> str:
    """ "zh" when the text has Chinese characters, else "en": the language a channel's own
    words (a list's button label, "Reply 1, 2 or 3") are written in."""
    return "zh" if _CJK.search(text) else "en"


def shorten(title: str, limit: int) -> str:
    """`title` in at most `limit` characters; cut at a space when one is near the end
    (English), anywhere otherwise (Chinese has no spaces), and marked with "…"."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-，。；：") + "…"


def numbered_list(text: str, buttons: Sequence[Button], language: str) -> str:
    """The question with its choices as numbered lines and how to answer."""
    lines = [f"{number}. {button.title}" for number, button in enumerate(buttons, start=1)]
    numbers = [str(number) for number in range(1, len(buttons) + 1)]
    if language == "zh":
        hint = "请回复 " + (
            numbers[0] if len(numbers) == 1 else "、".join(numbers[:-1]) + " 或 " + numbers[-1]
        )
    else:
        hint = "Reply " + (
            numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " or " + numbers[-1]
        )
    return "\n\n".join(part for part in (text.strip(), "\n".join(lines), hint) if part)


def typed_number(text: str) -> int | None:
    """The number a typed answer ("2", "2.", "２", "#2", "第2个") gives, if it is one."""
    match = _NUMBER.match(unicodedata.normalize("NFKC", text))
    return int(match.group(1)) if match else None


def chosen(text: str, buttons: Sequence[Button]) -> Button | None:
    """The choice a typed answer picks, if it is one."""
    number = typed_number(text)
    return buttons[number - 1] if number is not None and 1 <= number <= len(buttons) else None


def last_buttons(events: Iterable[Event]) -> tuple[Button, ...]:
    """The buttons of the newest reply among `events` (empty when it had none)."""
    newest: tuple[Button, ...] = ()
    for event in events:
        if event.type == EventType.MESSAGE_OUT:
            newest = tuple(
                Button(title=str(b["title"]), payload=str(b["payload"])) for b in _buttons(event)
            )
    return newest


def payload_token(payload: str, limit: int) -> str:
    """What travels in a provider's id field: the payload when it fits in `limit` bytes,
    else a stable token derived from its hash."""
    if len(payload.encode("utf-8")) <= limit and not payload.startswith(TOKEN_PREFIX):
        return payload
    digest = hashlib.sha256(payload.encode("utf-8")).digest()[:18]
    return TOKEN_PREFIX + base64.urlsafe_b64encode(digest).decode("ascii")


def is_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX)


def payload_from_events(token: str, events: Iterable[Event]) -> str | None:
    """The payload of the newest button in these events whose token is `token`."""
    for event in reversed(list(events)):
        if event.type != EventType.MESSAGE_OUT:
            continue
        for button in _buttons(event):
            payload = str(button.get("payload", ""))
            if payload and payload_token(payload, 0) == token:
                return payload
    return None


def _buttons(event: Event) -> list[Mapping[str, object]]:
    outbound = event.data.get("outbound")
    buttons = outbound.get("buttons", ()) if isinstance(outbound, Mapping) else ()
    return [
        b
        for b in buttons
        if isinstance(b, Mapping) and isinstance(b.get("payload"), str) and "title" in b
    ]


__all__ = [
    "TOKEN_PREFIX",
    "chosen",
    "is_token",
    "language_of",
    "last_buttons",
    "numbered_list",
    "payload_from_events",
    "payload_token",
    "shorten",
    "typed_number",
]
