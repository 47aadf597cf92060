"""One page of a listing, the value every port that lists things returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    """One page of a listing; `next_cursor` is None on the last page."""

    items: Sequence[Any] = field(default_factory=tuple)
    next_cursor: str | None = None


__all__ = ["Page"]
