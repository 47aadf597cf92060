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

from hub.memo import TextMemo
from hub.text import normalize

_MARKS = re.compile(r"[\s,.;:!?，。；：！？、…~～]+")


class Phrases:
    def __init__(self, saying: Iterable[str], around: Iterable[str]) -> None:
        words = [(normalize(p), True) for p in saying] + [(normalize(p), False) for p in around]
        # Longest first: "ok thanks" before "ok", "好的" before "好"; by first character, so
        # a position tries the few phrases that can start there (every turn asks, on the
        # hot path: 90-180 µs a message when every phrase was tried at every position).
        self._by_first: dict[str, list[tuple[str, bool]]] = {}
        for phrase, says in sorted(words, key=lambda item: len(item[0]), reverse=True):
            if phrase:
                self._by_first.setdefault(phrase[0], []).append((phrase, says))

    def make(self, text: str) -> bool:
        """Whether `text` is nothing but these phrases, one that says something among them."""
        return bool(self.said(text))

    def said(self, text: str) -> tuple[str, ...] | None:
        """The phrases that say something, in the order `text` has them (normalized); None
        when `text` is not made of these phrases alone (most messages: at their first word)."""
        rest = _plain(text)
        said: list[str] = []
        while rest:
            for phrase, saying in self._by_first.get(rest[0], ()):
                if rest.startswith(phrase) and _ends_word(rest, len(phrase)):
                    rest = rest[len(phrase) :].lstrip()
                    if saying:
                        said.append(phrase)
                    break
            else:
                return None
        return tuple(said)


def _plain_form(text: str) -> str:
    return _MARKS.sub(" ", normalize(text)).strip()


# One normal form per message for every `Phrases` that reads it (a turn asks several).
_plain = TextMemo(_plain_form)


def _ends_word(text: str, end: int) -> bool:
    """A Latin phrase must end at a word boundary ("ok" is not the start of "okdone", "help"
    not of "helpline"); Chinese has none to look for."""
    if end >= len(text) or not text[end - 1].isascii():
        return True
    return not text[end].isascii() or not text[end].isalnum()


__all__ = ["Phrases"]
