"""Complaint hotspots: where complaints and hand-offs come from, week on week.

A conversation counts when it was handed to a person or its hand-off reason or intent is a
complaint. For each week (Monday to Sunday in the team's time zone) the report lists the top
reasons (the hand-off's reason, else its intent) and the top words of what the customers
wrote in those conversations up to the hand-off, each with its count the week before — so
"refund" rising from 4 to 19 stands out — and the conversations behind every figure, for the
drill-down.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handoff.reports.unanswered import surface_words
from hub.model import Conversation, Event
from hub.terms import split_terms

TOP = 10
COMPLAINT = "complaint"


@dataclass(frozen=True, slots=True)
class Case:
    """One handed-off or complaint conversation, as the report needs it."""

    conversation_id: str
    at: float  # when the hand-off was asked for
    reason: str
    intent: str
    words: tuple[str, ...]  # distinct words of the customer's lines


@dataclass(slots=True)
class Week:
    start: str  # the Monday, ISO date
    cases: list[Case] = field(default_factory=list)

    def reasons(self) -> Counter[str]:
        return Counter(case.reason for case in self.cases)

    def words(self) -> Counter[str]:
        return Counter(word for case in self.cases for word in case.words)


def case_of(conversation: Conversation, events: Sequence[Event]) -> Case | None:
    """The case of a conversation, or None when it was neither handed off nor a complaint."""
    requested: Event | None = None
    intent = ""
    lines: list[str] = []
    for event in events:
        # The words are what the customer said up to the hand-off: after it come "status" /
        # "进度" and what they tell the agent, which say nothing about why they complained.
        if event.type == "message.in" and requested is None:
            lines.append(str(event.data.get("text") or ""))
        elif event.type == "bot.turn" and event.data.get("intent"):
            intent = intent or str(event.data["intent"])
        elif event.type == "handoff.requested" and requested is None:
            requested = event
    if requested is None and intent != COMPLAINT:
        return None
    data = requested.data if requested is not None else {}
    reason = str(data.get("reason") or data.get("intent") or intent or "other")
    spoken = [line for line in lines if not line.startswith("/")]
    stems = sorted({stem for line in spoken for stem in split_terms(line)[0]})
    words = set(surface_words(stems, spoken))
    return Case(
        conversation_id=conversation.id,
        at=requested.at if requested is not None else conversation.created_at,
        reason=reason,
        intent=str(data.get("intent") or intent),
        words=tuple(sorted(words)),
    )


def weeks(cases: Iterable[Case], zone: str) -> list[Week]:
    """The cases by week, newest week first (weeks with no case are left out)."""
    tz = ZoneInfo(zone)
    by_start: dict[str, Week] = {}
    for case in cases:
        local = datetime.fromtimestamp(case.at, tz)
        monday = (local - timedelta(days=local.weekday())).date().isoformat()
        by_start.setdefault(monday, Week(monday)).cases.append(case)
    return [by_start[key] for key in sorted(by_start, reverse=True)]


def hotspots(cases: Iterable[Case], zone: str, *, limit_weeks: int = 8) -> list[dict[str, Any]]:
    """Per week: the top reasons and words, each with last week's count and the drill-down."""
    ordered = weeks(cases, zone)
    report: list[dict[str, Any]] = []
    for index, week in enumerate(ordered[:limit_weeks]):
        previous = ordered[index + 1] if index + 1 < len(ordered) else Week("")
        reasons, before = week.reasons(), previous.reasons()
        words, words_before = week.words(), previous.words()
        report.append(
            {
                "week": week.start,
                "cases": len(week.cases),
                "cases_before": len(previous.cases),
                "reasons": [
                    {
                        "reason": reason,
                        "count": count,
                        "before": before.get(reason, 0),
                        "conversations": [
                            c.conversation_id for c in week.cases if c.reason == reason
                        ][:50],
                    }
                    for reason, count in reasons.most_common(TOP)
                ],
                "words": [
                    {"word": word, "count": count, "before": words_before.get(word, 0)}
                    for word, count in words.most_common(TOP)
                ],
            }
        )
    return report
