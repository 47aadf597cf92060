"""The one entry point of the reports: the console pages, the JSON API and the CSV downloads
all call `Reports`, so the three never compute a figure two ways."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from handoff.reports import followups as followup_report
from handoff.reports import hotspots as hotspot_report
from handoff.reports import staffing
from handoff.reports.export import csv_lines
from handoff.reports.source import ConversationReader, read_conversations
from handoff.reports.unanswered import group_lines, unanswered_lines, yaml_stub
from hub.errors import InputError

MAX_DAYS = 90
#: Each report's range when none is asked for (console, API, CLI and the scheduled email).
DEFAULT_DAYS = {"hotspots": 28, "unanswered": 7, "volume": 56, "followups": 28}
DEFAULT_HANDLE_SECONDS = 600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffingTarget:
    """The service level the staffing plan aims at: `level` of chats answered in `seconds`."""

    level: float = 0.8
    seconds: float = 60.0


def days_from(query: dict[str, str] | None, default: int) -> int:
    """`days` from query parameters, bounded: a clear error for anything else."""
    raw = (query or {}).get("days", "") or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        raise InputError(f"query parameter 'days' must be a whole number from 1 to {MAX_DAYS}")
    return int(raw)


class Reports:
    """Hotspots, unanswered questions, volume and staffing from one store's log."""

    def __init__(
        self,
        store: ConversationReader,
        *,
        zone: str,
        concurrency: Callable[[], int] = lambda: 1,
        target: StaffingTarget | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.zone = zone
        self.concurrency = concurrency
        self.target = target or StaffingTarget()
        self.clock = clock

    async def hotspots(self, days: int = 28) -> dict[str, object]:
        cases = []
        async for conversation, events in read_conversations(self.store, since=self._since(days)):
            case = hotspot_report.case_of(conversation, events)
            if case is not None:
                cases.append(case)
        return {"days": days, "zone": self.zone, "weeks": hotspot_report.hotspots(cases, self.zone)}

    async def unanswered(self, days: int = 7) -> dict[str, object]:
        lines = []
        async for conversation, events in read_conversations(self.store, since=self._since(days)):
            lines.extend(unanswered_lines(conversation, events))
        groups = group_lines(lines)
        return {
            "days": days,
            "lines": len(lines),
            "groups": [dict(group.to_json(), yaml=yaml_stub(group)) for group in groups[:100]],
        }

    async def volume(self, days: int = 56) -> dict[str, object]:
        now = self.clock()
        end = now - now % 3600  # the current hour is not over: forecast from it
        start = end - days * 86400
        arrivals: list[float] = []
        handle_times: list[float] = []
        async for conversation, events in read_conversations(self.store, since=start):
            if conversation.created_at < end:
                arrivals.append(conversation.created_at)
            handle_times.extend(_handle_times(events))
        history = staffing.hourly_counts(arrivals, start=start, hours=days * 24)
        forecast = staffing.forecast(history, start=end)
        handle = statistics.median(handle_times) if handle_times else DEFAULT_HANDLE_SECONDS
        concurrency = max(1, self.concurrency())
        return {
            "days": days,
            "zone": self.zone,
            "conversations": len(arrivals),
            "heatmap": staffing.heatmap(arrivals, self.zone),
            "forecast": {
                "method": forecast.method,
                "history_hours": forecast.history_hours,
                "backtest_mae": _round(forecast.backtest_mae),
                "backtest_wape": _round(forecast.backtest_wape),
            },
            "handle_seconds": round(handle, 1),
            "concurrency": concurrency,
            "target": {"level": self.target.level, "seconds": self.target.seconds},
            "plan": staffing.staffing_plan(
                forecast.hourly,
                start=end,
                zone=self.zone,
                handle_seconds=handle,
                concurrency=concurrency,
                target_level=self.target.level,
                target_seconds=self.target.seconds,
            ),
        }

    async def followups(self, days: int = 28) -> dict[str, object]:
        """Follow-ups made in the range (of conversations resolved in it or a little
        before: the longest rule waits days), per week, and the open call-back tasks."""
        since = self._since(days)
        made = []
        async for conversation, events in read_conversations(self.store, since=since - 14 * 86400):
            followup = followup_report.followup_of(conversation, events)
            if followup is not None and followup.at >= since:
                made.append(followup)
        return {
            "days": days,
            "zone": self.zone,
            "followups": len(made),
            "weeks": followup_report.weekly(made, self.zone),
            "open_tasks": followup_report.open_tasks(made)[:200],
        }

    def _since(self, days: int) -> float:
        return self.clock() - days * 86400


def _handle_times(events: Sequence[object]) -> Iterator[float]:
    """Seconds from an agent taking a conversation to resolving it."""
    accepted: float | None = None
    for event in events:
        kind = getattr(event, "type", "")
        at = float(getattr(event, "at", 0.0))
        if kind == "handoff.accepted":
            accepted = at
        elif kind == "handoff.resolved" and accepted is not None:
            yield max(1.0, at - accepted)
            accepted = None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# ---------------------------------------------------------------- CSV


def hotspots_csv(report: dict[str, object]) -> Iterator[str]:
    weeks = report["weeks"]
    assert isinstance(weeks, list)
    rows = (
        (week["week"], reason["reason"], reason["count"], reason["before"])
        for week in weeks
        for reason in week["reasons"]
    )
    return csv_lines(("week", "reason", "count", "previous_week"), rows)


def unanswered_csv(report: dict[str, object]) -> Iterator[str]:
    groups = report["groups"]
    assert isinstance(groups, list)
    rows = (
        (g["lang"], g["count"], g["suggested_intent"], " | ".join(g["examples"])) for g in groups
    )
    return csv_lines(("lang", "count", "suggested_intent", "examples"), rows)


def volume_csv(report: dict[str, object]) -> Iterator[str]:
    plan = report["plan"]
    assert isinstance(plan, list)
    return csv_lines(
        ("hour", "expected_conversations", "agents_needed"),
        ((row["at"], row["expected"], row["agents"]) for row in plan),
    )


def followups_csv(report: dict[str, object]) -> Iterator[str]:
    weeks = report["weeks"]
    assert isinstance(weeks, list)
    columns = followup_report.COLUMNS
    return csv_lines(
        ("week", *columns, "solved_share"),
        ((w["week"], *(w[c] for c in columns), w["solved_share"]) for w in weeks),
    )


CSV = {
    "hotspots": hotspots_csv,
    "unanswered": unanswered_csv,
    "volume": volume_csv,
    "followups": followups_csv,
}
