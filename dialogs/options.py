"""Which of the offered options did the customer mean? Free text → a button or a choice.

An ask with buttons (or a `choice` slot) offers options. A customer may tap one, type its
title ("Try another number"), type it slightly wrong ("try anther number", "换个订单号"),
answer a yes/no question in their own words ("开机了", "no still nothing", see
`dialogs.affirm`), or say something that is the intent a button stands for. `choose` tries
these in that order and returns the option's value, or None.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from dialogs.affirm import polarity
from dialogs.folding import fold

#: How close (0–100, rapidfuzz ratio) typed text must be to an option's name.
FUZZY_CUTOFF = 85
_NOISE = re.compile(r"[\s\W_]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    """`value` is what the option fills in (a choice's value, a button's payload);
    `titles` are its button titles in every language, `words` other things a customer may
    type for it."""

    value: str
    titles: tuple[str, ...]
    words: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.titles, *self.words)


def _key(text: str) -> str:
    return _NOISE.sub(" ", fold(text)).strip()


def choose(text: str, options: Sequence[Option], *, intent: str | None = None) -> str | None:
    """The value of the option `text` means, or None when it means none (or several)."""
    if not options:
        return None
    key = _key(text)
    if not key:
        return None
    for option in options:
        if key == _key(option.value) or key in (_key(n) for n in option.names):
            return option.value
    said = polarity(text)
    if said is not None:
        matching = [o for o in options if _polarity_of(o) == said]
        if len(matching) == 1:
            return matching[0].value
    names = {_key(name): option.value for option in options for name in option.names}
    names = {name: value for name, value in names.items() if len(name) >= 2}
    best = process.extractOne(key, list(names), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
    if best is not None:
        return names[best[0]]
    if intent is not None:
        for option in options:
            if option.value == f"/{intent}":
                return option.value
    return None


def _polarity_of(option: Option) -> str | None:
    """An option means yes (or no) when its value and titles all do."""
    found = {polarity(name) for name in (option.value, *option.titles)} - {None}
    return found.pop() if len(found) == 1 else None
