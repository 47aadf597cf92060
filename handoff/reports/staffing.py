"""Volume, forecast and staffing: how many conversations arrive when, how many will, and how
many agents that takes.

- `heatmap`: incoming conversations by weekday × hour, in the team's time zone.
- `forecast`: the next 7 days by hour with Holt-Winters (additive trend and a weekly season of
  168 hours, `statsmodels`), and a back-test beside it — the same model fitted without the
  last week and scored on that week (MAE, and WAPE, the absolute error as a share of the
  volume, which stays meaningful on hours with no conversations at all).
- `agents_needed`: Erlang C. An agent who works `concurrency` chats at once counts as that
  many servers (the usual approximation for chat); the answer is the fewest agents for which
  the probability of being answered within `target_seconds` reaches the target service level.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]

HOURS_PER_WEEK = 168
FORECAST_METHODS = ("holt-winters", "weekly average")
MAX_AGENTS = 1000


def heatmap(arrivals: Sequence[float], zone: str) -> list[list[int]]:
    """7 × 24 counts: `[weekday][hour]`, Monday first, in the time zone `zone`."""
    tz = ZoneInfo(zone)
    grid = [[0] * 24 for _ in range(7)]
    for at in arrivals:
        moment = datetime.fromtimestamp(at, tz)
        grid[moment.weekday()][moment.hour] += 1
    return grid


def hourly_counts(arrivals: Sequence[float], *, start: float, hours: int) -> list[int]:
    """Arrivals per hour from `start` (an hour boundary) for `hours` hours."""
    counts = [0] * hours
    for at in arrivals:
        slot = int((at - start) // 3600)
        if 0 <= slot < hours:
            counts[slot] += 1
    return counts


@dataclass(frozen=True, slots=True)
class Forecast:
    start: float  # the first forecast hour (epoch seconds, an hour boundary)
    hourly: tuple[float, ...]  # expected conversations per hour, ≥ 0
    backtest_mae: float | None  # mean absolute error per hour on the held-back last week
    backtest_wape: float | None  # that error as a share of the week's volume
    history_hours: int
    method: str  # "holt-winters" or "weekly average" when history is short


def forecast(history: Sequence[int], *, start: float, horizon: int = HOURS_PER_WEEK) -> Forecast:
    """The next `horizon` hours after an hourly `history` that ends just before `start`.

    Holt-Winters needs two full weeks to learn a weekly season, three to be back-tested
    against one; with less, the forecast is the average of each hour of the week seen so far
    (and says so).
    """
    series = np.asarray(history, dtype=float)
    if series.size >= 2 * HOURS_PER_WEEK:
        predicted = _holt_winters(series, horizon)
        mae = wape = None
        if series.size >= 3 * HOURS_PER_WEEK:
            train, held = series[:-HOURS_PER_WEEK], series[-HOURS_PER_WEEK:]
            guess = _holt_winters(train, HOURS_PER_WEEK)
            mae = float(np.mean(np.abs(guess - held)))
            wape = float(np.sum(np.abs(guess - held)) / max(float(np.sum(held)), 1.0))
        return Forecast(start, tuple(predicted), mae, wape, int(series.size), "holt-winters")
    return Forecast(
        start,
        tuple(_weekly_average(series, horizon)),
        None,
        None,
        int(series.size),
        "weekly average",
    )


def _holt_winters(series: Floats, horizon: int) -> Floats:
    from statsmodels.tsa.holtwinters import (  # type: ignore[import-untyped, unused-ignore]
        ExponentialSmoothing,
    )

    with warnings.catch_warnings():
        # Hourly counts have many zeros and statsmodels warns about its optimiser's
        # convergence on flat stretches; the back-test is what says whether it is good.
        warnings.simplefilter("ignore")
        model = ExponentialSmoothing(
            series,
            trend="add",
            damped_trend=True,
            seasonal="add",
            seasonal_periods=HOURS_PER_WEEK,
            initialization_method="estimated",
        ).fit()
        predicted: Floats = np.asarray(model.forecast(horizon), dtype=float)
    return np.clip(predicted, 0.0, None)


def _weekly_average(series: Floats, horizon: int) -> Floats:
    if series.size == 0:
        return np.zeros(horizon)
    sums = np.zeros(HOURS_PER_WEEK)
    seen = np.zeros(HOURS_PER_WEEK)
    offset = -series.size % HOURS_PER_WEEK  # so that the forecast's first hour lines up
    for index, value in enumerate(series):
        slot = (index + offset) % HOURS_PER_WEEK
        sums[slot] += value
        seen[slot] += 1
    average = np.divide(sums, seen, out=np.full(HOURS_PER_WEEK, series.mean()), where=seen > 0)
    return np.array([average[h % HOURS_PER_WEEK] for h in range(horizon)])


def erlang_c(servers: int, load: float) -> float:
    """The probability that a new contact waits, with `servers` servers and `load` Erlangs."""
    if servers <= 0:
        return 1.0
    if load <= 0:
        return 0.0
    if load >= servers:
        return 1.0
    # The Erlang B recursion is stable for large server counts; C follows from B.
    blocking = 1.0
    for n in range(1, servers + 1):
        blocking = load * blocking / (n + load * blocking)
    return servers * blocking / (servers - load * (1 - blocking))


def service_level(servers: int, load: float, handle_seconds: float, target_seconds: float) -> float:
    """The share of contacts answered within `target_seconds`."""
    if load <= 0:
        return 1.0
    if load >= servers:
        return 0.0
    waiting = erlang_c(servers, load)
    return 1.0 - waiting * math.exp(-(servers - load) * target_seconds / handle_seconds)


def agents_needed(
    per_hour: float,
    *,
    handle_seconds: float,
    target_level: float = 0.8,
    target_seconds: float = 60.0,
    concurrency: int = 1,
) -> int:
    """The fewest agents that answer `target_level` of contacts within `target_seconds`."""
    if per_hour <= 0:
        return 0
    load = per_hour * handle_seconds / 3600.0  # Erlangs: chats in progress on average
    for agents in range(1, MAX_AGENTS + 1):
        if service_level(agents * concurrency, load, handle_seconds, target_seconds) >= (
            target_level
        ):
            return agents
    return MAX_AGENTS


def staffing_plan(
    expected: Sequence[float],
    *,
    start: float,
    zone: str,
    handle_seconds: float,
    concurrency: int,
    target_level: float = 0.8,
    target_seconds: float = 60.0,
) -> list[dict[str, object]]:
    """One row per forecast hour: its local time, the expected conversations, agents needed."""
    tz = ZoneInfo(zone)
    first = datetime.fromtimestamp(start, UTC)
    return [
        {
            "at": (first + timedelta(hours=h)).astimezone(tz).isoformat(timespec="minutes"),
            "expected": round(float(value), 2),
            "agents": agents_needed(
                float(value),
                handle_seconds=handle_seconds,
                target_level=target_level,
                target_seconds=target_seconds,
                concurrency=concurrency,
            ),
        }
        for h, value in enumerate(expected)
    ]
