"""Quality inspection as the console uses it: the sample waiting for review, one
conversation's review form, recording a review, and the scores per agent."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handoff.qa.inspection import (
    Review,
    agreement,
    day_of,
    facts_of,
    prechecks,
    review_event,
    reviews_of,
    sample_reasons,
)
from handoff.qa.settings import QASettings
from handoff.qa.trends import agreement_by_item, start_of, team_of, weekly_scores, weeks_back
from handoff.reports.source import read_conversations
from hub.errors import InputError
from hub.model import Event, NewEvent
from hub.ports import EventLog

Append = Callable[[str, Sequence[NewEvent]], Awaitable[tuple[Event, ...]]]

DAYS = 14
TREND_WEEKS = 8  # the scores over time: this many weeks, this one last


@dataclass(frozen=True, slots=True)
class Transcript:
    conversation_id: str
    channel: str
    agent: str
    lines: list[dict[str, Any]]  # {at, who: customer|agent|bot, text}
    reasons: list[str]
    checks: dict[str, object]
    reviews: list[Review]


class QualityInspection:
    def __init__(
        self,
        store: EventLog,
        settings: QASettings,
        *,
        zone: str,
        clock: Callable[[], float] = time.time,
        teams: Callable[[], Mapping[str, str]] = dict,
        append: Append | None = None,
    ) -> None:
        self.store = store
        # The hub's append (`ConversationLog.append`), which tells the event bus of the
        # review; the store's alone would leave every process to read it back from the log
        # at the conversation's next event (a gap).
        self.append: Append = append or (
            lambda conversation_id, events: store.append_events(
                conversation_id, events, now=self.clock()
            )
        )
        self.settings = settings
        self.zone = zone
        self.clock = clock
        self.teams = teams  # agent id → team, as the agents' profiles say now

    async def overview(self, *, reviewer: str, agent: str | None = None) -> dict[str, Any]:
        """The sample still to review (by `reviewer`), and scores per agent over the days.
        With `agent`, only that agent's own reviewed conversations (what an agent may see)."""
        waiting: list[dict[str, Any]] = []
        reviews: list[Review] = []
        sampled = 0
        now = self.clock()
        since = now - DAYS * 86400
        weeks = weeks_back(now, self.zone, TREND_WEEKS)
        earliest = min(since, start_of(weeks[0], self.zone))
        older: list[Review] = []  # reviewed before the sampling window: the trend only
        async for conversation, events in read_conversations(self.store, since=earliest):
            facts = facts_of(conversation, events)
            done = [r for r in reviews_of(events) if agent is None or r.agent == agent]
            if conversation.created_at < since:
                older.extend(done)
                continue
            reviews.extend(done)
            if agent is not None:
                continue
            reasons = sample_reasons(facts, self.settings)
            if not reasons:
                continue
            sampled += 1
            if any(r.reviewer == reviewer for r in done):
                continue
            assert facts.resolved_at is not None
            waiting.append(
                {
                    "conversation_id": conversation.id,
                    "agent": facts.agent,
                    "channel": facts.channel,
                    "day": day_of(facts.resolved_at, self.zone),
                    "reasons": reasons,
                    "reviews": len(done),
                }
            )
        return {
            "days": DAYS,
            "sampled": sampled,
            "waiting": waiting[:200],
            "agents": self._per_agent(reviews),
            "agreement": agreement(reviews),
            "agreement_items": agreement_by_item(reviews, self.settings.rubric),
            "trend": self._trend([*older, *reviews], weeks),
            "reviews": [
                {
                    "conversation_id": r.conversation_id,
                    "reviewer": r.reviewer,
                    "agent": r.agent,
                    "total": r.total(self.settings.rubric),
                    "scores": dict(r.scores),
                    "comment": r.comment,
                    "day": day_of(r.at, self.zone),
                }
                for r in sorted(reviews, key=lambda r: r.at, reverse=True)[:200]
            ],
        }

    def _trend(self, reviews: list[Review], weeks: list[str]) -> dict[str, Any]:
        """Weekly average scores per agent and per team over the last `TREND_WEEKS`."""
        rubric = self.settings.rubric
        teams = self.teams()
        return {
            "weeks": weeks,
            "agents": weekly_scores(
                reviews, rubric, zone=self.zone, weeks=weeks, group=lambda r: r.agent
            ),
            "teams": weekly_scores(
                reviews, rubric, zone=self.zone, weeks=weeks, group=team_of(teams)
            ),
        }

    def _per_agent(self, reviews: list[Review]) -> list[dict[str, Any]]:
        totals: dict[str, list[float]] = {}
        for review in reviews:
            totals.setdefault(review.agent, []).append(review.total(self.settings.rubric))
        return [
            {"agent": agent, "reviews": len(values), "average": round(sum(values) / len(values), 1)}
            for agent, values in sorted(totals.items())
        ]

    async def transcript(self, conversation_id: str) -> Transcript | None:
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None:
            return None
        events = await self.store.events(conversation_id, limit=2000)
        facts = facts_of(conversation, events)
        lines: list[dict[str, Any]] = []
        agent_turn = False
        for event in events:
            if event.type == "message.in":
                lines.append(
                    {"at": event.at, "who": "customer", "text": event.data.get("text", "")}
                )
            elif event.type == "handoff.agent_message":
                agent_turn = True
            elif event.type == "message.out":
                outbound = event.data.get("outbound") or {}
                text = outbound.get("text", "") if isinstance(outbound, Mapping) else ""
                lines.append(
                    {"at": event.at, "who": "agent" if agent_turn else "bot", "text": text}
                )
                agent_turn = False
        return Transcript(
            conversation_id=conversation.id,
            channel=conversation.channel,
            agent=facts.agent,
            lines=lines,
            reasons=sample_reasons(facts, self.settings),
            checks=prechecks(facts, self.settings),
            reviews=reviews_of(events),
        )

    async def review(
        self, conversation_id: str, *, reviewer: str, body: Mapping[str, object]
    ) -> Review:
        """Record `reviewer`'s scores; only a resolved conversation an agent handled."""
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None:
            raise LookupError(conversation_id)
        facts = facts_of(conversation, await self.store.events(conversation_id, limit=2000))
        if facts.resolved_at is None or not facts.agent:
            raise InputError("only a conversation an agent resolved can be reviewed")
        event = review_event(self.settings.rubric, reviewer=reviewer, agent=facts.agent, body=body)
        (stored,) = await self.append(conversation_id, [event])
        (review,) = reviews_of([stored])
        return review
