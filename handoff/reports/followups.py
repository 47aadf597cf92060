"""Follow-up results (回访) per week: how many were asked or given to an agent, and what came
of them — solved, not solved (reopened), opted out, unreachable, no answer — read from the
`followup.*` events of each resolved conversation (see `handoff.followups`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hub.model import Conversation, Event

#: The columns of a week, in the order the page and the CSV show them.
COLUMNS = (
    "sent", "tasks", "skipped", "solved", "unsolved", "opted_out", "unreachable", "no_answer",
    "waiting",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class FollowUp:
    """One resolved conversation's follow-up: how it was made and how it ended."""

    conversation_id: str
    at: float  # when it was made (or skipped)
    how: str  # sent | tasks | skipped
    outcome: str  # solved | unsolved | opted_out | unreachable | no_answer | waiting | skipped
    rule: str
    agent: str


def followup_of(conversation: Conversation, events: Sequence[Event]) -> FollowUp | None:
    """The conversation's follow-up, or None when it had none."""
    started: Event | None = None
    outcome = ""
    for event in events:
        if event.type in ("followup.sent", "followup.task", "followup.skipped"):
            started = event
        elif event.type == "followup.answered":
            outcome = str(event.data.get("outcome", ""))
        elif event.type == "followup.expired":
            outcome = "no_answer"
    if started is None:
        return None
    how = {"followup.sent": "sent", "followup.task": "tasks"}.get(started.type, "skipped")
    return FollowUp(
        conversation_id=conversation.id,
        at=started.at,
        how=how,
        outcome="skipped" if how == "skipped" else outcome or "waiting",
        rule=str(started.data.get("rule", "")),
        agent=str(started.data.get("agent_id", "")),
    )


def week_of(at: float, zone: str) -> str:
    """The Monday (local date) of the week `at` falls in."""
    day = dt.datetime.fromtimestamp(at, ZoneInfo(zone)).date()
    return (day - dt.timedelta(days=day.weekday())).isoformat()


def weekly(followups: Iterable[FollowUp], zone: str) -> list[dict[str, object]]:
    """Newest week first: each column's count, and the share solved of those answered."""
    weeks: dict[str, dict[str, int]] = {}
    for item in followups:
        counts = weeks.setdefault(week_of(item.at, zone), dict.fromkeys(COLUMNS, 0))
        counts[item.how] += 1
        if item.outcome != "skipped":
            counts[item.outcome] = counts.get(item.outcome, 0) + 1
    rows: list[dict[str, object]] = []
    for week in sorted(weeks, reverse=True):
        counts = weeks[week]
        answered = counts["solved"] + counts["unsolved"]
        rows.append(
            {
                "week": week,
                **counts,
                "solved_share": round(counts["solved"] / answered, 3) if answered else None,
            }
        )
    return rows


def open_tasks(followups: Iterable[FollowUp]) -> list[dict[str, object]]:
    """Call-back tasks no agent has recorded a result for yet, oldest first."""
    waiting = sorted(
        (f for f in followups if f.how == "tasks" and f.outcome == "waiting"), key=lambda f: f.at
    )
    return [
        {"conversation_id": f.conversation_id, "agent": f.agent, "rule": f.rule, "since": f.at}
        for f in waiting
    ]


__all__ = ["COLUMNS", "FollowUp", "followup_of", "open_tasks", "week_of", "weekly"]
