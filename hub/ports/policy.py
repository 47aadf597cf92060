"""Which open conversation an inbound message continues: one pure rule for every backend.

The SQLite backend calls these functions inside its transaction. The Redis backend must
decide inside its `record_inbound` Lua script (a decision taken outside it could be stale
by the time it writes), so there this module is the specification: the script follows
it step by step, and `tests/hub/test_port_continuation.py` runs one table of cases
through this module and through every backend and expects the same answers.

The rule:

1. Of the customer's open conversations on the message's thread (`Inbound.thread_key`:
   "" for channels without threads, ``email:<root message id>`` for an email thread …),
   the one that moved last (ties: the greater id) is continued when the message comes
   from the same channel as its last contact, or when it moved within the continuity
   window (None: always).
2. Otherwise a message that starts a new thread (a new email) continues the customer's
   open conversation *without* a thread that moved last, if it was opened on another
   channel (a linked web chat, Telegram …; the api channel's own threads stay apart from
   its unthreaded messages) and moved within the window.
3. Otherwise a new conversation opens.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: The default continuity window (`identity.continuity_window`): a day.
DAY = 24 * 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenConversation:
    """What the rule looks at in one open conversation of the customer."""

    id: str
    channel: str  # the channel of the last contact
    opened_on: str  # the channel it was opened on
    moved_at: float  # `Conversation.updated_at`: when it last moved


def latest(candidates: Iterable[OpenConversation]) -> OpenConversation | None:
    """The conversation that moved last (after a merge a customer may have two open on
    one thread); ties go to the greater id, so every backend picks the same one."""
    return max(candidates, key=lambda c: (c.moved_at, c.id), default=None)


def within(moved_at: float, *, now: float, window: float | None) -> bool:
    """Whether a conversation that moved at `moved_at` is still recent (None: always)."""
    return window is None or now - moved_at <= window


def continues_thread(
    last_channel: str, moved_at: float, *, channel: str, now: float, window: float | None
) -> bool:
    """Rule 1: the thread's latest open conversation is continued from the same channel
    always, from another channel only within the window."""
    return last_channel == channel or within(moved_at, now=now, window=window)


def continues_across_channels(
    opened_on: str, moved_at: float, *, channel: str, now: float, window: float | None
) -> bool:
    """Rule 2: a new thread continues an unthreaded conversation opened on another
    channel, within the window."""
    return opened_on != channel and within(moved_at, now=now, window=window)


def continued_conversation(
    *,
    channel: str,
    thread_key: str,
    same_thread: Iterable[OpenConversation],
    unthreaded: Iterable[OpenConversation],
    now: float,
    window: float | None,
) -> str | None:
    """The id of the open conversation a message continues, or None: open a new one.

    `same_thread`: the customer's open conversations on the message's `thread_key`;
    `unthreaded`: those on no thread (the same set when `thread_key` is "")."""
    found = latest(same_thread)
    if found is not None and continues_thread(
        found.channel, found.moved_at, channel=channel, now=now, window=window
    ):
        return found.id
    if not thread_key:
        return None
    other = latest(unthreaded)
    if other is not None and continues_across_channels(
        other.opened_on, other.moved_at, channel=channel, now=now, window=window
    ):
        return other.id
    return None


__all__ = [
    "DAY",
    "OpenConversation",
    "continued_conversation",
    "continues_across_channels",
    "continues_thread",
    "latest",
    "within",
]
