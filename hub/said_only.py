"""Whether a short message says nothing but one of some phrases: "cancel please", "算了吧谢谢",
"never mind, I found it" (a phrase that opens the message and is followed by more).

Used where a word or two decides what a customer wants, whatever else the words resemble: a
withdrawal while waiting for a person (`handoff.leaving`) or in the middle of a bot's flow
(`dialogs.withdrawal`). Both sides of the comparison go through `hub.text.normalize`, so
Traditional and full-width spellings and contractions ("i'll") count the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from hub.text import normalize

# Courtesy and particles around the phrase: "cancel please", "算了吧谢谢", "不用了哈".
_COURTESY = re.compile(r"\b(?:please|pls|thanks|thank you|ok|okay)\b|[谢谢哈啊呀吧嗯哦了的]+$")
_PUNCTUATION = re.compile(r"[\s,.;:!?，。；：！？、…~～'\"]+")
_OPENER_END = re.compile(r"[,.;:!?，。；：！？—-]")


def bare(text: str) -> str:
    """A message without courtesy words, particles and punctuation, for a whole-message match."""
    text = _PUNCTUATION.sub(" ", normalize(text)).strip()
    for _ in range(3):  # "算了吧谢谢" → "算了吧" → "算了" is a whole match either way
        stripped = _COURTESY.sub("", text).strip()
        if stripped == text or not stripped:
            break
        text = stripped
    return " ".join(text.split())


@lru_cache(maxsize=64)
def _bare_set(phrases: tuple[str, ...]) -> frozenset[str]:
    return frozenset(bare(phrase) for phrase in phrases)


def says_only(text: str, phrases: Iterable[str]) -> bool:
    """Whether `text` is one of `phrases` (courtesy aside), or opens with one before a mark
    ("never mind, I found it")."""
    wholes = _bare_set(tuple(phrases))
    if bare(text) in wholes:
        return True
    opener = _OPENER_END.split(normalize(text), maxsplit=1)
    return len(opener) == 2 and bool(opener[1].strip()) and bare(opener[0]) in wholes


__all__ = ["bare", "says_only"]
