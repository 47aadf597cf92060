"""An `Outbound` → the customer-service messages WeChat takes. Pure, no network.

- Text is split under `MAX_TEXT_BYTES` of UTF-8 (WeChat counts bytes, and a Chinese
  character is three), at a paragraph, line or sentence end when one is near.
- Choices become a ``msgmenu``: the question as ``head_content`` and one clickable line per
  choice. A click comes back as a text message carrying the line's id (``bizmsgmenuid``),
  so the id is the payload's token (`connectors.choices.payload_token`), found again in
  the conversation's log. More than `MAX_MENU_ITEMS` choices: a numbered list instead.
- An image WeChat already knows (a ``media_id`` in `Attachment.ref`) is sent as an image;
  any other attachment with a URL becomes a line of text with the link.
"""

from __future__ import annotations

from typing import Any

from connectors import choices
from hub.model import Outbound

MAX_TEXT_BYTES = 2048
MAX_MENU_ITEMS = 10
MENU_ID_LIMIT = 0  # every id is a token: one shape, however short the payload
_BREAKS = ("\n\n", "\n", "。", "！", "？", ". ", "! ", "? ", "，", ", ", " ")


def render(outbound: Outbound) -> list[dict[str, Any]]:
    """The messages to send, in order (without ``touser``)."""
    text = outbound.text.strip()
    links = [
        f"{a.name or a.kind}: {a.url}"
        for a in outbound.attachments
        if a.url and not (a.kind == "image" and a.ref)
    ]
    text = "\n\n".join(part for part in (text, "\n".join(links)) if part)
    images = [
        {"msgtype": "image", "image": {"media_id": a.ref}}
        for a in outbound.attachments
        if a.kind == "image" and a.ref
    ]
    buttons = outbound.buttons
    if buttons and len(buttons) > MAX_MENU_ITEMS:
        text = choices.numbered_list(text, buttons, choices.language_of(text))
        buttons = ()
    parts = split_text(text)
    messages: list[dict[str, Any]] = []
    if buttons:
        head = parts.pop() if parts else ""
        messages = [_text(part) for part in parts]
        menu = [
            {"id": choices.payload_token(b.payload, MENU_ID_LIMIT), "content": b.title}
            for b in buttons
        ]
        messages.append(
            {
                "msgtype": "msgmenu",
                "msgmenu": {"head_content": head, "list": menu, "tail_content": ""},
            }
        )
    else:
        messages = [_text(part) for part in parts]
    return [*messages, *images]


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """`text` in pieces of at most `limit` UTF-8 bytes, cut at a natural break when one is in
    the second half of a piece."""
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if len(rest.encode("utf-8")) <= limit:
            pieces.append(rest)
            break
        cut = _fit(rest, limit)
        window = rest[:cut]
        for mark in _BREAKS:
            at = window.rfind(mark)
            if at >= cut // 2:
                cut = at + len(mark)
                break
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [piece for piece in pieces if piece]


def _fit(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-8 bytes."""
    size = 0
    for index, char in enumerate(text):
        size += len(char.encode("utf-8"))
        if size > limit:
            return max(1, index)
    return len(text)


def _text(content: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": content}}


__all__ = ["MAX_MENU_ITEMS", "MAX_TEXT_BYTES", "render", "split_text"]
