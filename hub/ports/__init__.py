"""The backend's ports: small interfaces, each with one job and its own contract suite.

=====================  ===============================================  ==================
port                   what                                             contract suite
=====================  ===============================================  ==================
`EventLog`             append, read, handled-turn watermark             tests/hub/test_port_log.py,
                       (which conversation a message continues:         tests/hub/test_port_continuation.py
                       `hub.ports.policy`)
`Outbox`               claim in conversation order, receipt, park,      tests/hub/test_port_outbox.py
                       redrive
`CustomerDirectory`    identities, profile, merge/unmerge, erasure,     tests/hub/test_port_directory.py
                       audit
`Limits`               hit counters, verification attempts              tests/hub/test_port_limits.py
`Leases`               fenced ownership of a conversation (or a key)    tests/hub/test_port_leases.py
=====================  ===============================================  ==================

A consumer is typed against the narrowest port it uses. A backend (SQLite, Redis, Redis
Cluster) implements all of them on one connection, chosen by URL scheme (`hub.stores`);
`Backend` is that whole, and only the composition root (`hub.app`) and the registry hold it.
Accounts and presence (`handoff.console.accounts.AccountStore`) and the hand-off state
(queue and offers: events in the log; capacity: a lease per agent) are described in
docs/architecture.md.
"""

from __future__ import annotations

import abc
from typing import Protocol

from hub.ports.directory import (
    CUSTOMER_MERGED,
    CUSTOMER_UNMERGED,
    CustomerDirectory,
    CustomerMerge,
    Moved,
)
from hub.ports.leases import Lease, Leases
from hub.ports.limits import Limits, RateLimiter
from hub.ports.log import EventLog, Ingested, TurnCommit
from hub.ports.outbox import Delivered, Outbox, Rescheduled
from hub.ports.page import Page


class Records(EventLog, CustomerDirectory, Protocol):
    """The log and the directory read together: what a view across conversations and their
    customers needs (the contact panel, the inbox, console search, the profile)."""


class Backend(EventLog, Outbox, CustomerDirectory, Limits, Leases, Protocol):
    """Every port on one opened connection: what a store URL names. Opened and closed once
    by the composition root; consumers receive it typed as the ports they use."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect, create or migrate the schema (forward only)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections; the backend may be opened again."""


__all__ = [
    "CUSTOMER_MERGED",
    "CUSTOMER_UNMERGED",
    "Backend",
    "CustomerDirectory",
    "CustomerMerge",
    "Delivered",
    "EventLog",
    "Ingested",
    "Lease",
    "Leases",
    "Limits",
    "Moved",
    "Outbox",
    "Page",
    "RateLimiter",
    "Records",
    "Rescheduled",
    "TurnCommit",
]
