"""The leases port: exclusive, fenced ownership of a key across every process.

A conversation's turns run under its lease (`conversation_lock(conversation_id)`), and so do
the offers to one agent (`handoff.capacity`, key ``agent:<id>``). The `Lease` handed over
carries a fencing token: a holder that stalled past its lease cannot commit any more
(`EventLog.commit_turn(fence=...)` raises `LeaseLost`).

Singletons (the hand-off clock, IMAP polling) take a leader lease instead
(`hub.leader.Lease`); both grow their fence with every new holder.
"""

from __future__ import annotations

import abc
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from hub.locks import Lease


class Leases(Protocol):
    """Exclusive ownership with fencing tokens (across processes for shared backends)."""

    @abc.abstractmethod
    def conversation_lock(self, conversation_id: str) -> AbstractAsyncContextManager[Lease]:
        """Exclusive ownership of a conversation's turns (or of any other key, such as
        ``agent:<id>``), with a fencing token to commit under (`commit_turn(fence=...)`)."""


__all__ = ["Lease", "Leases"]
