"""Business hours: a weekly timetable and holidays in one time zone.

SLA clocks only run while the business is open: `add(start, seconds)` finds the moment
`seconds` of open time after `start`, `elapsed(start, end)` counts the open time between.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HORIZON_DAYS = 400  # no deadline lies further ahead than this many calendar days


@dataclass(frozen=True, slots=True, kw_only=True)
class BusinessCalendar:
    """Weekly open intervals (minutes from midnight, local time) and closed dates.

    An empty `hours` mapping means always open (24/7).
    """

    timezone: str = "UTC"
    hours: Mapping[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    holidays: frozenset[dt.date] = frozenset()

    @property
    def always_open(self) -> bool:
        return not self.hours

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _intervals(self, after: float) -> Iterator[tuple[float, float]]:
        """Open intervals (epoch seconds) that end after `after`, in order."""
        zone = self.zone
        day = dt.datetime.fromtimestamp(after, zone).date()
        for offset in range(_HORIZON_DAYS):
            date = day + dt.timedelta(days=offset)
            if date in self.holidays:
                continue
            for start_min, end_min in self.hours.get(date.weekday(), ()):
                midnight = dt.datetime.combine(date, dt.time(), zone)
                start = (midnight + dt.timedelta(minutes=start_min)).timestamp()
                end = (midnight + dt.timedelta(minutes=end_min)).timestamp()
                if end > after:
                    yield max(start, after), end

    def is_open(self, at: float) -> bool:
        if self.always_open:
            return True
        first = next(self._intervals(at), None)
        return first is not None and first[0] <= at

    def add(self, start: float, seconds: float) -> float:
        """The moment when `seconds` of business time have passed since `start`."""
        if self.always_open:
            return start + seconds
        left = seconds
        for begin, end in self._intervals(start):
            if end - begin >= left:
                return begin + left
            left -= end - begin
        return start + seconds + _HORIZON_DAYS * 86400.0  # a timetable with no open hours

    def elapsed(self, start: float, end: float) -> float:
        """Business seconds between `start` and `end`."""
        if end <= start:
            return 0.0
        if self.always_open:
            return end - start
        total = 0.0
        for begin, stop in self._intervals(start):
            if begin >= end:
                break
            total += min(stop, end) - begin
        return total

    def next_open(self, at: float) -> float:
        """`at` itself when open, else when the business opens next."""
        if self.always_open:
            return at
        first = next(self._intervals(at), None)
        return first[0] if first else at

    def local_time(self, at: float) -> str:
        """``2026-11-30 09:00 (Asia/Shanghai, UTC+08:00)``: a time a customer anywhere
        can read, because the zone is named."""
        local = dt.datetime.fromtimestamp(at, self.zone)
        offset = local.strftime("%z")
        return f"{local:%Y-%m-%d %H:%M} ({self.timezone}, UTC{offset[:3]}:{offset[3:]})"


def parse_interval(text: str) -> tuple[int, int]:
    """``"09:00-18:00"`` → minutes (540, 1080); raises ValueError with the reason."""
    try:
        start_text, end_text = text.split("-")
        start, end = _minutes(start_text), _minutes(end_text)
    except ValueError:
        raise ValueError(f"{text!r} is not a time range like 09:00-18:00") from None
    if not 0 <= start < end <= 24 * 60:
        raise ValueError(f"{text!r} must start before it ends, within one day")
    return start, end


def _minutes(text: str) -> int:
    hours, minutes = text.strip().split(":")
    return int(hours) * 60 + int(minutes)


def weekly(hours: Mapping[str, Sequence[str]]) -> dict[int, tuple[tuple[int, int], ...]]:
    """``{"mon": ["09:00-18:00"], …}`` → weekday index → intervals."""
    return {
        DAYS.index(day): tuple(sorted(parse_interval(text) for text in ranges))
        for day, ranges in hours.items()
    }
