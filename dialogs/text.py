"""What the bot does to a customer's raw text before reading it: cleaning and language."""

from __future__ import annotations

import re
import unicodedata

#: Longer messages are cut before understanding them; intents live in short utterances.
MAX_TEXT = 2000

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_LATIN = re.compile(r"[A-Za-z]")
_SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """Drop control and format characters (keeping line breaks as spaces), collapse
    whitespace, cut to `MAX_TEXT` characters."""
    kept = []
    for char in text[: MAX_TEXT * 2]:
        category = unicodedata.category(char)
        if char in "\n\r\t":
            kept.append(" ")
        elif category in ("Cc", "Cs", "Co") or (category == "Cf" and char != "\u200d"):
            # \u200d (zero-width joiner) holds emoji sequences together; others are noise.
            continue
        else:
            kept.append(char)
    return _SPACE.sub(" ", "".join(kept)).strip()[:MAX_TEXT]


def detect_language(text: str, *, previous: str, languages: tuple[str, ...]) -> str:
    """`zh` when the message has any CJK character, `en` when it has Latin letters,
    otherwise (digits, emoji, nothing) the language of the conversation so far."""
    if "zh" in languages and _CJK.search(text):
        return "zh"
    if "en" in languages and _LATIN.search(text):
        return "en"
    return previous if previous in languages else languages[0]
