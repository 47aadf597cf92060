"""Whether a short message is made of nothing but some phrases: "ok thanks, let me try" (an
instruction acknowledged), "hi, I have a problem" (a question announced).

A `Phrases` has the phrases that mean something (`saying`) and those said around them
without meaning anything more (`around`: courtesy, greetings, particles); a message matches
when it is a sequence of both with at least one of the first. Both sides are normalized
(`hub.text.normalize`), so Traditional, full-width and contracted spellings count the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hub.text import normalize

_MARKS = re.compile(r"[\s,.;:!?，。；：！？、…~～]+")


class Phrases:
    def __init__(self, saying: Iterable[str], around: Iterable[str]) -> None:
        words = [(normalize(p), True) for p in saying] + [(normalize(p), False) for p in around]
        # Longest first: "ok thanks" before "ok", "好的" before "好".
        self._words = sorted(words, key=lambda item: len(item[0]), reverse=True)

    def make(self, text: str) -> bool:
        """Whether `text` is nothing but these phrases, one that says something among them."""
        return bool(self.said(text))

    def said(self, text: str) -> list[str] | None:
        """The phrases that say something, in the order `text` has them (normalized); None
        when `text` is not made of these phrases alone."""
        rest = _MARKS.sub(" ", normalize(text)).strip()
        said: list[str] = []
        while rest:
            for phrase, saying in self._words:
                if rest.startswith(phrase) and _ends_word(rest, len(phrase)):
                    rest = rest[len(phrase) :].lstrip()
                    if saying:
                        said.append(phrase)
                    break
            else:
                return None
        return said


def _ends_word(text: str, end: int) -> bool:
    """A Latin phrase must end at a word boundary ("ok" is not the start of "okdone", "help"
    not of "helpline"); Chinese has none to look for."""
    if end >= len(text) or not text[end - 1].isascii():
        return True
    return not text[end].isascii() or not text[end].isalnum()


__all__ = ["Phrases"]
