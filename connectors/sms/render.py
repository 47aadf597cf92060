"""`Outbound` → the body of one SMS. Pure functions, no network.

SMS has no buttons: choices become a numbered list ending "Reply 1, 2 or 3" ("请回复 1、2
或 3"), and the connector maps a typed number back to the choice. Links of attachments
follow the text as lines (MMS is not used: it reaches US and Canadian numbers only). The
body is capped at the configured number of segments (`connectors.sms.segments`); a longer
text is cut and ends with "...more in the chat link" ("…更多内容见聊天链接"), followed by
the link when one is configured. The choices are never cut: the text before them is.
"""

from __future__ import annotations

from connectors.choices import language_of, numbered_list
from connectors.sms.segments import fit, segments, smart
from hub.model import Outbound

MORE = {"en": "...more in the chat link", "zh": "…更多内容见聊天链接"}
COLON = {"en": ": ", "zh": "："}


def more_text(language: str, chat_link: str) -> str:
    """What ends a capped body, with the link to read the rest when one is configured."""
    return MORE[language] + (f"{COLON[language]}{chat_link}" if chat_link else "")


def render(outbound: Outbound, *, max_segments: int, chat_link: str = "") -> str:
    """The body to send ("" when the reply has nothing an SMS can carry)."""
    text = outbound.text.strip()
    links = [f"{a.name or a.kind}: {a.url}" for a in outbound.attachments if a.url]
    if links:
        text = "\n\n".join(part for part in (text, "\n".join(links)) if part)
    buttons = outbound.buttons
    language = language_of(" ".join([text, *(b.title for b in buttons)]))
    more = more_text(language, chat_link)
    text = smart(text)
    if not buttons:
        return fit(text, max_segments, smart(more)) if text else ""

    def wrap(question: str) -> str:
        return smart(numbered_list(question, buttons, language))

    if segments(wrap(more)) > max_segments:  # the choices alone are over the cap
        return fit(wrap(text), max_segments, smart(more))
    return fit(text, max_segments, smart(more), wrap)


__all__ = ["MORE", "more_text", "render"]
