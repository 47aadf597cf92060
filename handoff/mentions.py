"""Mentions in internal notes: `@mei` calls agent `mei` into a conversation.

Only ids of agents the hand-off knows count (an e-mail address or a stray `@` is not a
mention), each once, in the order written, and never the note's own author.
"""

from __future__ import annotations

import re
from collections.abc import Container

# An agent id after "@", not glued to a word before it (so "ana@example.com" is no mention).
_MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9][A-Za-z0-9_.-]{0,63})")


def mentions(text: str, agents: Container[str], *, author: str = "") -> tuple[str, ...]:
    """The known agents `text` mentions, in order, each once, without `author`."""
    found: dict[str, None] = {}
    for match in _MENTION.finditer(text):
        name = match.group(1).rstrip(".-")  # "@mei." at the end of a sentence
        for candidate in (name, name.lower()):
            if candidate in agents and candidate != author:
                found.setdefault(candidate, None)
                break
    return tuple(found)
