"""`Outbound` → WhatsApp Cloud API message objects. Pure functions, no network.

Each object is what goes after ``"to"`` in a ``POST /{phone_number_id}/messages`` body:

- text: ``{"type": "text", "text": {"body", "preview_url": false}}``, split at 4,096
  characters on paragraph, line, then word boundaries;
- 1–3 choices: an interactive **reply-button** message (body ≤ 1,024 characters, titles
  ≤ 20, ids ≤ 256 bytes); earlier parts of a long text go first as plain text;
- 4–10 choices: an interactive **list** message (one section of ≤ 10 rows; row titles
  ≤ 24 characters, the full title as the row's description when it had to be shortened);
- more than 10: the choices as a numbered list in the text ("Reply 1, 2 or 3"), which the
  connector maps back when the customer types a number;
- attachments with a URL: image/document/audio/video messages by link, others as a line;
  an agent's stored file, once uploaded (its media id in ``ref``), by id.

Titles are shortened at a word boundary (English) or anywhere (Chinese) with "…"; a
payload too long for an id travels as a token (`connectors.choices.payload_token`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.choices import language_of, numbered_list, payload_token, shorten
from connectors.telegram.render import split_text
from hub.model import Attachment, Button, Outbound

MAX_TEXT = 4096
MAX_BUTTON_BODY = 1024
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_ID = 200
MAX_ROW_DESCRIPTION = 72
MAX_TEMPLATE_PARAMETER = 1000
MEDIA_KINDS = ("image", "document", "audio", "video")
LIST_BUTTON = {"en": "Choose", "zh": "选择"}
EMPTY_QUESTION = {"en": "Please choose:", "zh": "请选择："}

Message = dict[str, Any]


def render(outbound: Outbound) -> list[Message]:
    """One reply → the messages to send, in order."""
    text = outbound.text.strip()
    media = [a for a in outbound.attachments if (a.url or a.ref) and a.kind in MEDIA_KINDS]
    links = [
        f"{a.name or a.kind}: {a.url}" for a in outbound.attachments if a.url and a not in media
    ]
    if links:
        text = "\n\n".join(part for part in (text, "\n".join(links)) if part)
    buttons = outbound.buttons
    language = language_of(" ".join([text, *(b.title for b in buttons)]))
    messages: list[Message]
    if not buttons:
        messages = [_text(chunk) for chunk in split_text(text, MAX_TEXT)] if text else []
    elif len(buttons) > MAX_ROWS:
        messages = [_text(c) for c in split_text(numbered_list(text, buttons, language), MAX_TEXT)]
    else:
        limit = MAX_BUTTON_BODY if len(buttons) <= MAX_BUTTONS else MAX_TEXT
        chunks = split_text(text, limit) if text else [EMPTY_QUESTION[language]]
        messages = [_text(chunk) for chunk in chunks[:-1]]
        if len(buttons) <= MAX_BUTTONS:
            messages.append(_reply_buttons(chunks[-1], buttons))
        else:
            messages.append(_list(chunks[-1], buttons, language))
    return messages + [_media(item) for item in media]


def numbered(outbound: Outbound) -> bool:
    """Whether this reply's choices go as a numbered list (typed numbers answer it)."""
    return len(outbound.buttons) > MAX_ROWS


def template(name: str, language: str, text: str | None) -> Message:
    """A template message; `text` (when the template takes one) fills its body's {{1}}.

    WhatsApp refuses parameters with new lines, tabs or runs of spaces, so the text is
    written on one line (paragraphs joined with " · ") and shortened to fit."""
    body: Message = {"name": name, "language": {"code": language}}
    if text is not None:
        flat = " · ".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
        parameter = shorten(flat or "-", MAX_TEMPLATE_PARAMETER)
        body["components"] = [{"type": "body", "parameters": [{"type": "text", "text": parameter}]}]
    return {"type": "template", "template": body}


def _text(body: str) -> Message:
    return {"type": "text", "text": {"preview_url": False, "body": body}}


def _reply_buttons(body: str, buttons: Sequence[Button]) -> Message:
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {
                        "type": "reply",
                        "reply": {
                            "id": payload_token(button.payload, MAX_BUTTON_ID),
                            "title": shorten(button.title or button.payload, MAX_BUTTON_TITLE),
                        },
                    }
                    for button in buttons
                ]
            },
        },
    }


def _list(body: str, buttons: Sequence[Button], language: str) -> Message:
    rows = []
    for button in buttons:
        full = " ".join((button.title or button.payload).split())
        row: dict[str, str] = {
            "id": payload_token(button.payload, MAX_ROW_ID),
            "title": shorten(full, MAX_ROW_TITLE),
        }
        if row["title"] != full:
            row["description"] = shorten(full, MAX_ROW_DESCRIPTION)
        rows.append(row)
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {"button": LIST_BUTTON[language], "sections": [{"rows": rows}]},
        },
    }


def _media(attachment: Attachment) -> Message:
    # By link, or by the media id an agent's stored file was uploaded as.
    content = {"link": attachment.url} if attachment.url else {"id": attachment.ref}
    if attachment.kind == "document" and attachment.name:
        content["filename"] = attachment.name
    return {"type": attachment.kind, attachment.kind: content}


__all__ = ["MAX_BUTTON_TITLE", "MAX_ROWS", "MAX_TEXT", "numbered", "render", "template"]
