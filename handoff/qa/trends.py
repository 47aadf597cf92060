"""Quality over time: weighted review scores per week for each agent and each team, and how
far reviewers agree item by item when two of them scored the same conversation.

Pure functions over `Review`s (read from the log by `reviews_of`); the console's quality page
and its JSON call them through `QualityInspection.overview`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

from handoff.qa.inspection import Review
from handoff.qa.settings import RubricItem

NO_TEAM = "—"  # agents whose profile names no team


def week_of(at: float, zone: str) -> str:
    """The Monday (local date) of the week `at` falls in."""
    day = dt.datetime.fromtimestamp(at, ZoneInfo(zone)).date()
    return (day - dt.timedelta(days=day.weekday())).isoformat()


def weeks_back(now: float, zone: str, count: int) -> list[str]:
    """The Mondays of the last `count` weeks, oldest first (this week last)."""
    this = dt.date.fromisoformat(week_of(now, zone))
    return [(this - dt.timedelta(weeks=count - 1 - i)).isoformat() for i in range(count)]


def start_of(week: str, zone: str) -> float:
    """Midnight (local) of the Monday `week`, as epoch seconds."""
    day = dt.date.fromisoformat(week)
    return dt.datetime.combine(day, dt.time(), ZoneInfo(zone)).timestamp()


def weekly_scores(
    reviews: Sequence[Review],
    rubric: Sequence[RubricItem],
    *,
    zone: str,
    weeks: Sequence[str],
    group: Callable[[Review], str],
) -> list[dict[str, object]]:
    """One row per group (an agent, a team): the average score of each week (None without
    reviews that week), the reviews counted, and the average over all the weeks."""
    cells: dict[str, dict[str, list[float]]] = {}
    for review in reviews:
        week = week_of(review.at, zone)
        if week in weeks:
            by_week = cells.setdefault(group(review), {})
            by_week.setdefault(week, []).append(review.total(rubric))
    rows: list[dict[str, object]] = []
    for name in sorted(cells):
        by_week = cells[name]
        every = [score for scores in by_week.values() for score in scores]
        rows.append(
            {
                "name": name,
                "weeks": [_mean(by_week.get(week, [])) for week in weeks],
                "reviews": len(every),
                "average": _mean(every),
            }
        )
    return rows


def team_of(teams: Mapping[str, str]) -> Callable[[Review], str]:
    return lambda review: teams.get(review.agent) or NO_TEAM


def agreement_by_item(
    reviews: Sequence[Review], rubric: Sequence[RubricItem]
) -> list[dict[str, object]]:
    """Per rubric item, over every pair of reviewers of the same conversation (each
    reviewer's latest review): how often they gave the same score, and the mean gap."""
    latest: dict[str, dict[str, Review]] = {}
    for review in sorted(reviews, key=lambda r: r.at):
        latest.setdefault(review.conversation_id, {})[review.reviewer] = review
    rows: list[dict[str, object]] = []
    for item in rubric:
        pairs = same = 0
        gap = 0
        for by_reviewer in latest.values():
            scored = [r.scores[item.key] for r in by_reviewer.values() if item.key in r.scores]
            for i, first in enumerate(scored):
                for second in scored[i + 1 :]:
                    pairs += 1
                    same += first == second
                    gap += abs(first - second)
        rows.append(
            {
                "item": item.key,
                "labels": dict(item.labels),
                "pairs": pairs,
                "exact": round(same / pairs, 3) if pairs else None,
                "mean_difference": round(gap / pairs, 2) if pairs else None,
            }
        )
    return rows


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


__all__ = [
    "NO_TEAM",
    "agreement_by_item",
    "start_of",
    "team_of",
    "week_of",
    "weekly_scores",
    "weeks_back",
]
