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
from typing import Generic, TypeVar

__all__ = ["KeyNames", "Recent"]

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

    def open_conversations(self, customer_id: str, thread_key: str) -> list[str]:
        """The customer's open conversations, and those of them on thread `thread_key`."""
        open_key = f"{self.customer(customer_id)}:open"
        return [open_key, f"{open_key}:{thread_key}"]

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
