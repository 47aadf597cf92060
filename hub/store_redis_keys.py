"""The keys a Redis store script is handed in ``KEYS``, and what this process last saw.

A script should be handed every key it touches (issue 15: a Redis Cluster routes a call by
its keys, and a future layout may spread one call's keys over several slots). Some keys
depend on what the script reads: the customer of a conversation, the conversation a
message continues. For those on the turn path the caller declares its best guess, from
what this process last read (`Recent`), and the script checks it before touching the key:
a wrong or missing guess costs the caller a read or a retry, never an undeclared key.
The layout itself is described in `hub.store_redis_scripts`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["KeyNames", "Recent", "Sender"]

K = TypeVar("K")
V = TypeVar("V")


class KeyNames:
    """Key names under one prefix (``fd:{fd}:``), as the scripts build them."""

    __slots__ = ("prefix",)

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def conversation(self, conversation_id: str) -> list[str]:
        """Its hash and its event list."""
        conv = f"{self.prefix}conv:{conversation_id}"
        return [conv, f"{conv}:events"]

    def lease(self, conversation_id: str) -> list[str]:
        """Its lease lock and the lock's fencing counter."""
        lock = f"{self.prefix}lock:conv:{conversation_id}"
        return [lock, f"{lock}:fence"]

    def customer(self, customer_id: str) -> str:
        return f"{self.prefix}customer:{customer_id}"

    def identity(self, identity: str) -> str:
        """The identity's customer id."""
        return f"{self.prefix}identity:{identity}"

    def dedupe(self, channel: str) -> str:
        """A channel's message ids → the seq each was stored at."""
        return f"{self.prefix}dedupe:{channel}"

    def listing(self, name: str) -> str:
        """A global index: ``customers``, ``conversations``."""
        return f"{self.prefix}{name}"

    def open_conversations(self, customer_id: str, thread_key: str) -> list[str]:
        """The customer's open conversations, and those of them on thread `thread_key`."""
        open_key = f"{self.customer(customer_id)}:open"
        return [open_key, f"{open_key}:{thread_key}"]

    def inbound(self, customer_id: str, thread_key: str) -> list[str]:
        """What a message's customer touches: their record, all their conversations, their
        open ones, those on `thread_key` and those without one (continuation, rule 2)."""
        every = f"{self.customer(customer_id)}:conversations"
        open_key, thread_open = self.open_conversations(customer_id, thread_key)
        return [self.customer(customer_id), every, open_key, thread_open, f"{open_key}:"]

    def outbox(self, conversation_id: str) -> list[str]:
        """The outbox index (heads only), the parked deliveries, the conversation's lane."""
        return [
            f"{self.prefix}outbox",
            f"{self.prefix}dead",
            f"{self.prefix}conv:{conversation_id}:outbox",
        ]

    def delivery(self, delivery_id: str) -> str:
        return f"{self.prefix}delivery:{delivery_id}"

    def by_status(self, status: str) -> str:
        return f"{self.prefix}conversations:{status}"

    def pending(self) -> str:
        return f"{self.prefix}pending"


class Recent(Generic[K, V]):
    """The latest value seen for each of the `size` most recently seen keys (a guess, which
    whoever uses it checks)."""

    __slots__ = ("_items", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.size:
            self._items.popitem(last=False)


@dataclass(frozen=True)
class Sender:
    """What this process last saw of a sender (an identity on a thread key): the keys a
    message of theirs is stored under are declared from it (`RECORD_INBOUND` checks it)."""

    customer: str = ""  # the customer the identity names ('' none yet)
    conversation: str = ""  # the conversation their last message went to
    thread_open: tuple[str, ...] = ()  # the customer's open conversations on the thread key
    plain_open: tuple[str, ...] = ()  # … and those without one (continuation, rule 2)
    gone: str = ""  # a customer the identity names whose record is gone: none

    def conversations(self) -> list[str]:
        """Every conversation the message may go to, the one it last went to first."""
        ids = [self.conversation, *self.thread_open, *self.plain_open]
        return [i for i in dict.fromkeys(ids) if i]
