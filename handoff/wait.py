"""The wait a queued customer is told: honest, steady and said in round words (pure).

A median of two or three pick-ups is noise: one quick pick-up says "about 1 minute", the next
slow one "about 56 minutes" to the same customer seconds later. So:

* too few recent pick-ups (fewer than `MIN_PICKUPS` in the last `PICKUP_WINDOW` seconds) give
  no number at all; the customer hears their place only (or the operator's `default_wait`);
* the pick-up time per place is a trimmed mean (the fastest and slowest fifth dropped), which
  moves less from one pick-up to the next than a median of a small sample does;
* between two messages to the same ticket at the same place the estimate moves by at most
  `MAX_STEP` either way; a new place is news, and the estimate may follow it;
* it is said in buckets ("a few minutes", "about 10 minutes", "more than an hour"), the way
  help desks phrase it, never as a precise minute count that the next message contradicts;
* a customer who has already waited longer than the estimate is not told a shorter one: they
  hear that it is taking longer than usual.
"""

from __future__ import annotations

from collections.abc import Iterable

MIN_PICKUPS = 5  # fewer recent pick-ups than this say nothing about the wait
PICKUP_WINDOW = 6 * 3600.0  # pick-ups older than this describe another shift
MAX_STEP = 2.0  # the most an estimate may grow or shrink between two messages at one place
TRIM = 0.2  # the share of fastest and of slowest pick-ups left out of the mean

#: (up to seconds, English, Chinese); beyond the last: "more than an hour".
BUCKETS: tuple[tuple[float, str, str], ...] = (
    (3 * 60, "a few minutes", "几分钟"),
    (7.5 * 60, "about 5 minutes", "约 5 分钟"),
    (15 * 60, "about 10 minutes", "约 10 分钟"),
    (25 * 60, "about 20 minutes", "约 20 分钟"),
    (45 * 60, "about 30 minutes", "约半小时"),
    (75 * 60, "about an hour", "约 1 小时"),
)
LONGEST = {"en": "more than an hour", "zh": "超过 1 小时"}


def per_place(pickups: Iterable[tuple[float, float]], now: float) -> float | None:
    """Seconds one place in the queue takes, from `(picked_at, seconds)` pairs; None when
    too few are recent to say."""
    recent = sorted(seconds for picked_at, seconds in pickups if now - picked_at <= PICKUP_WINDOW)
    if len(recent) < MIN_PICKUPS:
        return None
    cut = int(len(recent) * TRIM)
    kept = recent[cut : len(recent) - cut]
    return sum(kept) / len(kept)


def estimate(
    per_place_seconds: float | None,
    *,
    position: int,
    online: int,
    told: float = 0.0,
    told_position: int = 0,
) -> float | None:
    """The expected remaining wait in seconds (None: say the place only). `told` is the
    estimate last given to this ticket at `told_position` (0: none yet)."""
    if per_place_seconds is None:
        return None
    seconds = per_place_seconds * max(1, position) / max(1, online)
    if told > 0 and position == told_position:
        seconds = min(max(seconds, told / MAX_STEP), told * MAX_STEP)
    return seconds


def phrase(seconds: float, lang: str) -> str:
    """The bucket an estimate falls in, in words ("about 10 minutes" / "约 10 分钟")."""
    zh = lang == "zh"
    for limit, en_words, zh_words in BUCKETS:
        if seconds < limit:
            return zh_words if zh else en_words
    return LONGEST["zh" if zh else "en"]


def message_key(seconds: float | None, waited: float) -> str:
    """Which sentence tells the wait: none (`""`), the estimate, or "longer than usual"
    when the customer has already waited longer than the estimate."""
    if seconds is None:
        return ""
    return "wait_longer" if waited > seconds else "wait_estimate"


__all__ = ["BUCKETS", "MIN_PICKUPS", "estimate", "message_key", "per_place", "phrase"]
