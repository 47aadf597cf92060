"""A bounded memo of a pure function's results, for work that customers repeat.

Customers ask the same few questions in the same words ("what are your opening hours"), and
what the bot derives from a line of text (its normal form, its intent) depends on that text
and on nothing that changes while the bot is loaded. `Memo` keeps the latest results, so a
repeated line costs a dictionary look-up instead of the work:

```python
memo: Memo[str, Prediction] = Memo(maxsize=1024)
prediction = memo.get(normalized, classify)   # classify(normalized) only the first time
```

Unlike `functools.lru_cache` it is an object of its own that holds no reference to the owner
of the function, so a memo kept by an immutable model dies with the model (no cycle for the
collector to find), and every model has its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["Memo"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """The results of a pure function for its `maxsize` most recently used keys.

    Safe to share between threads: a key missed by two threads at once is computed by both
    (the function is pure, so either result is the result) and kept once. Values must be
    immutable, since every caller of a key gets the same object.
    """

    __slots__ = ("_items", "_lock", "hits", "maxsize", "misses")

    def __init__(self, *, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, not {maxsize}")
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, compute: Callable[[K], V]) -> V:
        """`compute(key)`, from the memo when it holds the key."""
        with self._lock:
            try:
                value = self._items[key]
            except KeyError:
                pass
            else:
                self._items.move_to_end(key)
                self.hits += 1
                return value
            self.misses += 1
        # Outside the lock: a slow computation must not hold up the look-ups of others.
        value = compute(key)
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            if len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)
