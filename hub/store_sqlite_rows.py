"""Decoded rows of the embedded store, kept for as long as their stored text is unchanged.

A turn reads the same conversation row three or four times (to store the message, to run
the turn, to commit it, to record the receipt) and its customer twice; decoding the JSON
and building the model object each time cost more than reading the row. `DecodedRows`
keeps the object last decoded from (or encoded to) each row, together with the exact text
it came from, and hands it out again only when the row still holds that text.

The row itself is always read: the text comparison is what makes this safe. Whatever wrote
the row (this store, a migration, an erasure, a second process that opened the same file
by mistake), a different text is decoded afresh, so the cache can never serve a state the
file no longer holds. The objects are frozen; the mappings inside them (a conversation's
`state`, a customer's `attributes`) are copied on the way in by `from_json`, and no reader
changes them in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from hub import jsonio

T = TypeVar("T")

# Enough for every conversation a busy process has in flight, small enough to be no
# concern for memory (a conversation's object and text are well under a kilobyte).
DEFAULT_SIZE = 1024


class LazyJSON(Mapping[str, Any]):
    """An event's data left as its stored text until something reads it.

    A turn reads back every event since its conversation's last turn, and the runner only
    looks into the customer messages among them (the previous reply and its receipt are
    counted and passed over): their JSON is decoded only if a reader asks. Equal to the
    decoded mapping, and `dict(lazy)` gives it."""

    __slots__ = ("_data", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._data: dict[str, Any] | None = None

    def _decoded(self) -> dict[str, Any]:
        if self._data is None:
            self._data = dict(jsonio.stored(self._text))
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __repr__(self) -> str:
        return repr(self._decoded())


class DecodedRows(Generic[T]):
    """`decode(jsonio.stored(text))` for a row's text, memoised per row key."""

    def __init__(self, decode: Callable[[Mapping[str, Any]], T], *, size: int = DEFAULT_SIZE):
        self._decode = decode
        self._size = size
        self._rows: dict[str, tuple[str, T]] = {}
        self.hits = 0  # counters for the tests and the benches
        self.misses = 0

    def decode(self, key: str, text: str) -> T:
        """The object the row `key` holding `text` stands for."""
        kept = self._rows.get(key)
        if kept is not None and kept[0] == text:
            self.hits += 1
            return kept[1]
        self.misses += 1
        value = self._decode(jsonio.stored(text))
        self.keep(key, text, value)
        return value

    def keep(self, key: str, text: str, value: T) -> None:
        """Remember that the row `key` now holds `text`, the encoding of `value` (a write)."""
        rows = self._rows
        rows.pop(key, None)  # re-inserted last: the oldest entries are dropped first
        rows[key] = (text, value)
        if len(rows) > self._size:
            del rows[next(iter(rows))]

    def kept(self, key: str) -> T | None:
        """The object last written or read for the row `key`, if still remembered."""
        kept = self._rows.get(key)
        return kept[1] if kept is not None else None

    def clear(self) -> None:
        """Forget every row (after an erasure: no erased text stays in memory)."""
        self._rows.clear()
