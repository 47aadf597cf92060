"""Short human ticket numbers (``#1042``): what customers and agents say, instead of ids.

A number is drawn once, when a hand-off opens, and written into its `handoff.requested`
event, so the log explains it and every process reads the same one. The counter is the
store's atomic hit counter (one key, one window that never rolls over), which both backends
share across processes.
"""

from __future__ import annotations

from hub.ports import Limits

FIRST = 1000  # the first ticket is #1001: a number that reads like a ticket, not a count
_KEY = "handoff:ticket-number"
_WINDOW = 1e11  # seconds: one window for millennia
# The counter's window starts far in the future, so no sweep of expired rate-limit windows
# (which drops windows older than *now* minus their own length) ever reaches it.
_AT = 4e11


async def next_number(store: Limits) -> int:
    """A new ticket number, unique across processes."""
    return FIRST + await store.count_hit(_KEY, window=_WINDOW, now=_AT)


def label(number: int, conversation_id: str) -> str:
    """``#1042``; a hand-off logged before numbers existed gets a short form of its id."""
    return f"#{number}" if number else f"#{conversation_id[-6:].upper()}"
