"""Mentions in internal notes: `@mei` calls agent `mei` into a conversation.

Only ids of agents the hand-off knows count (an e-mail address or a stray `@` is not a
mention), each once, in the order written, and never the note's own author.
"""

from __future__ import annotations

import re
from collections.abc import Container

# An agent id after "@", not glued to a Latin word before it (so "ana@example.com" is no
# mention); Chinese runs straight into it ("请@mei看一下") and ends it.
_MENTION = re.compile(r"(?<![A-Za-z0-9_.@])@([A-Za-z0-9][A-Za-z0-9_.-]{0,63})")


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
