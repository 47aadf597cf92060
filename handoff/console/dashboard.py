"""The supervisor's figures, computed from the conversation log.

    by channel · bot containment (no human needed) · hand-off rate · first response and
    resolution times (median, p90) · CSAT · NPS · SLA attainment

`facts_of()` reads one conversation's events into a few facts; `figures()` adds them up
under the filters. Both are pure; `collect()` does the reading, bounded by `limit`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hub.errors import InputError
from hub.model import Conversation, Event
from hub.ports import EventLog

RANGES = {"1h": 3600.0, "24h": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0}
MAX_FILTER = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class Filters:
    range: str = "24h"
    since: float = 0.0
    channel: str = ""
    agent: str = ""
    intent: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "range": self.range,
            "since": self.since,
            "channel": self.channel,
            "agent": self.agent,
            "intent": self.intent,
        }


def parse_filters(query: Mapping[str, str], now: float) -> Filters:
    """Filters from query parameters, or an InputError naming the bad one."""
    span = query.get("range", "24h") or "24h"
    if span not in RANGES:
        raise InputError(f"query parameter 'range' must be one of {', '.join(RANGES)}")
    values = {}
    for name in ("channel", "agent", "intent"):
        value = query.get(name, "").strip()
        if len(value) > MAX_FILTER:
            raise InputError(f"query parameter '{name}' is longer than {MAX_FILTER} characters")
        values[name] = value
    return Filters(range=span, since=now - RANGES[span], **values)


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """What the dashboard needs to know about one conversation."""

    conversation_id: str
    channel: str
    created_at: float
    intent: str = ""
    handed_off: bool = False
    agent: str = ""
    first_response: float | None = None  # hand-off requested → an agent's first message
    resolution: float | None = None  # hand-off requested → resolved by an agent
    csat: int | None = None
    nps: int | None = None
    sla_breached: bool = False


def facts_of(conversation: Conversation, events: Sequence[Event]) -> Facts:
    intent = agent = ""
    requested: float | None = None
    first_response = resolution = None
    csat = nps = None
    breached = False
    for event in events:
        data = event.data
        match event.type:
            case "bot.turn" if data.get("intent"):
                intent = str(data["intent"])
            case "handoff.requested":
                requested = requested if requested is not None else event.at
                intent = intent or str(data.get("intent") or "")
            case "handoff.accepted" | "handoff.offered" if data.get("agent_id"):
                agent = str(data["agent_id"])
            case "handoff.agent_message" if requested is not None and first_response is None:
                first_response = max(0.0, event.at - requested)
            case "handoff.resolved" if requested is not None:
                resolution = max(0.0, event.at - requested)
                agent = str(data.get("agent_id") or agent)
            case "csat.answered":
                csat = int(data.get("score", 0))
            case "nps.answered":
                nps = int(data.get("score", 0))
            case "sla.breached":
                breached = True
    return Facts(
        conversation_id=conversation.id,
        channel=conversation.channel,
        created_at=conversation.created_at,
        intent=intent,
        handed_off=requested is not None,
        agent=agent,
        first_response=first_response,
        resolution=resolution,
        csat=csat,
        nps=nps,
        sla_breached=breached,
    )


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (0 < share ≤ 1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def chosen_by(all_facts: Sequence[Facts], filters: Filters) -> list[Facts]:
    return [
        f
        for f in all_facts
        if f.created_at >= filters.since
        and (not filters.channel or f.channel == filters.channel)
        and (not filters.agent or f.agent == filters.agent)
        and (not filters.intent or f.intent == filters.intent)
    ]


# The conversations behind each figure a supervisor can click ("channel:…" and "intent:…"
# name one bar of those charts).
DRILLS: dict[str, Callable[[Facts], bool]] = {
    "conversations": lambda f: True,
    "contained": lambda f: not f.handed_off,
    "handed_off": lambda f: f.handed_off,
    "first_response": lambda f: f.first_response is not None,
    "resolution": lambda f: f.resolution is not None,
    "csat": lambda f: f.csat is not None,
    "nps": lambda f: f.nps is not None,
    "sla_breached": lambda f: f.handed_off and f.sla_breached,
}
MAX_DRILL = 500


def parse_drill(value: str) -> Callable[[Facts], bool]:
    """The predicate a `figure` query parameter names, or an InputError listing them."""
    kind, sep, name = value.partition(":")
    if sep and kind == "channel" and 0 < len(name) <= MAX_FILTER:
        return lambda f: f.channel == name
    if sep and kind == "intent" and 0 < len(name) <= MAX_FILTER:
        return lambda f: (f.intent or "(none)") == name
    if not sep and value in DRILLS:
        return DRILLS[value]
    known = ", ".join([*DRILLS, "channel:NAME", "intent:NAME"])
    raise InputError(f"query parameter 'figure' must be one of {known}")


def behind(
    all_facts: Sequence[Facts], filters: Filters, drill: Callable[[Facts], bool]
) -> list[dict[str, Any]]:
    """The conversations a figure counts, newest first (at most `MAX_DRILL`)."""
    rows = sorted(
        (f for f in chosen_by(all_facts, filters) if drill(f)),
        key=lambda f: f.created_at,
        reverse=True,
    )
    return [
        {
            "conversation_id": f.conversation_id,
            "channel": f.channel,
            "created_at": f.created_at,
            "intent": f.intent,
            "agent": f.agent,
            "handed_off": f.handed_off,
            "sla_breached": f.sla_breached,
            "csat": f.csat,
        }
        for f in rows[:MAX_DRILL]
    ]


def figures(all_facts: Sequence[Facts], filters: Filters) -> dict[str, Any]:
    chosen = chosen_by(all_facts, filters)
    total = len(chosen)
    handed = [f for f in chosen if f.handed_off]
    first = [f.first_response for f in handed if f.first_response is not None]
    resolved = [f.resolution for f in handed if f.resolution is not None]
    csat = [f.csat for f in chosen if f.csat is not None]
    nps = [f.nps for f in chosen if f.nps is not None]
    return {
        "filters": filters.to_json(),
        "conversations": total,
        "by_channel": dict(sorted(Counter(f.channel for f in chosen).items())),
        "by_intent": dict(Counter(f.intent or "(none)" for f in chosen).most_common(10)),
        "handed_off": len(handed),
        "contained": total - len(handed),
        "sla_breached": sum(1 for f in handed if f.sla_breached),
        "containment_rate": _ratio(total - len(handed), total),
        "handoff_rate": _ratio(len(handed), total),
        "first_response": {"median": percentile(first, 0.5), "p90": percentile(first, 0.9)},
        "resolution": {"median": percentile(resolved, 0.5), "p90": percentile(resolved, 0.9)},
        "csat": {
            "answers": len(csat),
            "average": round(sum(csat) / len(csat), 2) if csat else None,
            "satisfied": _ratio(sum(1 for s in csat if s >= 4), len(csat)),
        },
        "nps": {
            "answers": len(nps),
            "score": round(
                100 * (sum(1 for s in nps if s >= 9) - sum(1 for s in nps if s <= 6)) / len(nps)
            )
            if nps
            else None,
        },
        "sla_attainment": _ratio(sum(1 for f in handed if not f.sla_breached), len(handed)),
        "choices": {
            "channels": sorted({f.channel for f in all_facts}),
            "agents": sorted({f.agent for f in all_facts if f.agent}),
            "intents": sorted({f.intent for f in all_facts if f.intent})[:50],
        },
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def collect(store: EventLog, *, since: float, limit: int = 2000) -> list[Facts]:
    """Facts of the newest conversations created since `since` (at most `limit`)."""
    result: list[Facts] = []
    cursor: str | None = None
    while len(result) < limit:
        page = await store.list_conversations(limit=min(200, limit - len(result)), cursor=cursor)
        for conversation in page.items:
            if conversation.created_at < since:
                return result
            events = await store.events(conversation.id, limit=2000)
            result.append(facts_of(conversation, events))
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return result
