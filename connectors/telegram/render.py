"""`Outbound` → Telegram `sendMessage` calls. Pure functions, no network.

- Text is sent with ``parse_mode=HTML`` and escaped whole: whatever the bot repeats from a
  customer (``<b>``, ``_``, ``&``) shows literally and never breaks the message.
- Texts longer than Telegram's 4,096 characters are split on paragraph boundaries, then on
  lines, then on spaces; only a single 4,096-character word is cut. Telegram counts UTF-16
  code units, so an emoji counts twice here too.
- Quick-reply buttons become an inline keyboard on the last part. Callback data is limited
  to 64 bytes: a longer payload (or one that looks like our own token) is replaced by a
  token derived from its hash, and mapped back when the button is pressed.
- Attachments with a URL degrade to a line of text with the link.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from hub.model import Button, Outbound

MAX_TEXT = 4096  # UTF-16 code units, after entity parsing
MAX_CALLBACK_DATA = 64  # bytes
TOKEN_PREFIX = "fd1:"  # marks callback data that stands for a longer payload
ROW_WIDTH = 30  # characters of button titles per keyboard row
ROW_BUTTONS = 3
EMPTY_TEXT = "👇"  # Telegram refuses an empty message; buttons still need a carrier


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    """One `sendMessage`: escaped HTML text and an optional inline keyboard."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    """Everything one reply becomes; `callbacks` maps tokens back to long payloads."""

    parts: tuple[Part, ...]
    callbacks: dict[str, str] = field(default_factory=dict)


def render(outbound: Outbound) -> Rendered:
    """One reply → the messages to send, in order."""
    text = outbound.text.strip()
    links = [
        f"{attachment.name or attachment.kind}: {attachment.url}"
        for attachment in outbound.attachments
        if attachment.url
    ]
    if links:
        text = "\n\n".join(part for part in (text, "\n".join(links)) if part)
    if not text:
        text = EMPTY_TEXT if outbound.buttons else ""
    chunks = split_text(text) if text else []
    keyboard, callbacks = build_keyboard(outbound.buttons)
    parts = [Part(html=escape(chunk)) for chunk in chunks]
    if parts and keyboard is not None:
        parts[-1] = Part(html=parts[-1].html, keyboard=keyboard)
    return Rendered(parts=tuple(parts), callbacks=callbacks)


def escape(text: str) -> str:
    """Plain text → Telegram HTML that displays exactly that text."""
    return html.escape(text, quote=False)


def utf16_len(text: str) -> int:
    """Telegram's idea of a message's length."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split into chunks of at most `limit` UTF-16 units, at the largest natural boundary."""
    if utf16_len(text) <= limit:
        return [text]
    chunks: list[str] = []
    for separator in ("\n\n", "\n", " "):
        if separator in text:
            current = ""
            for piece in text.split(separator):
                candidate = f"{current}{separator}{piece}" if current else piece
                if utf16_len(candidate) <= limit:
                    current = candidate
                    continue
                if current:
                    chunks.append(current)
                if utf16_len(piece) <= limit:
                    current = piece
                else:
                    # This piece alone is too long: split it at the next smaller boundary.
                    *whole, current = split_text(piece, limit)
                    chunks.extend(whole)
            if current:
                chunks.append(current)
            return [chunk for chunk in (c.strip() for c in chunks) if chunk]
    return _hard_split(text, limit)


def _hard_split(text: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        width = utf16_len(char)
        if size + width > limit:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        chunks.append("".join(current))
    return chunks


def callback_data(payload: str) -> str:
    """What travels in the button: the payload itself when it fits, else a stable token."""
    if len(payload.encode("utf-8")) <= MAX_CALLBACK_DATA and not payload.startswith(TOKEN_PREFIX):
        return payload
    digest = hashlib.sha256(payload.encode("utf-8")).digest()[:18]
    return TOKEN_PREFIX + base64.urlsafe_b64encode(digest).decode("ascii")


def is_token(data: str) -> bool:
    return data.startswith(TOKEN_PREFIX)


def build_keyboard(
    buttons: Sequence[Button],
) -> tuple[InlineKeyboardMarkup | None, dict[str, str]]:
    """Buttons → an inline keyboard (short titles share a row) and the token mapping."""
    if not buttons:
        return None, {}
    callbacks: dict[str, str] = {}
    rows: list[list[InlineKeyboardButton]] = []
    row: list[InlineKeyboardButton] = []
    width = 0
    for button in buttons:
        title = button.title.strip() or button.payload[:60] or "…"
        data = callback_data(button.payload)
        if data != button.payload:
            callbacks[data] = button.payload
        if row and (len(row) >= ROW_BUTTONS or width + len(title) > ROW_WIDTH):
            rows.append(row)
            row, width = [], 0
        row.append(InlineKeyboardButton(text=title, callback_data=data))
        width += len(title)
    rows.append(row)
    return InlineKeyboardMarkup(rows), callbacks


__all__ = [
    "MAX_CALLBACK_DATA",
    "MAX_TEXT",
    "Part",
    "Rendered",
    "build_keyboard",
    "callback_data",
    "escape",
    "is_token",
    "render",
    "split_text",
    "utf16_len",
]
