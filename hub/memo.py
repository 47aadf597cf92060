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

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["Memo", "TextMemo"]

#: Texts up to this many characters have their readings kept (`TextMemo`): the lines
#: customers repeat are short, and a long text would make the memo's size unpredictable.
TEXT_MEMO_LENGTH = 256
#: How many texts a `TextMemo` keeps: with their results, a few hundred kilobytes for the
#: usual short lines, a few megabytes at most if every one were as long as kept texts go.
TEXT_MEMO_SIZE = 2048

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


class TextMemo(Generic[V]):
    """A pure function of a text, its results for the `size` most recently read texts of at
    most `longest` characters kept: for a module's rules, which every turn applies to its
    message, several of them to the same text (its normal form, its sentences, its frame),
    and for the index's tokens of the bot's answers, which repeat.

    Built on `functools.lru_cache`, whose look-up in C costs less than reading a short
    line again, where `Memo`'s lock would not. A longer text is read every time: long texts
    rarely repeat, and the memo's size stays bounded whatever customers send. The function
    must not belong to an object that should die (the cache holds it): a module-level
    function."""

    __slots__ = ("_compute", "_kept", "_longest")

    def __init__(
        self,
        compute: Callable[[str], V],
        *,
        longest: int = TEXT_MEMO_LENGTH,
        size: int = TEXT_MEMO_SIZE,
    ) -> None:
        self._compute = compute
        self._longest = longest
        self._kept = functools.lru_cache(maxsize=size)(compute)

    def __call__(self, text: str) -> V:
        if len(text) <= self._longest:
            return self._kept(text)
        return self._compute(text)

    def cache_info(self) -> Any:
        """`functools.lru_cache`'s hits, misses and size (for the tests)."""
        return self._kept.cache_info()
