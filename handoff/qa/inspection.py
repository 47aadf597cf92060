"""Which conversations are inspected and why, what the log already says about them, and
what reviewers scored.

Everything here is pure over one conversation's events:

- `facts_of` reads what inspection needs (agent, resolution day, complaint, CSAT, SLA breach,
  the agent's messages and silences, the customer's closing mood);
- `sample_reasons` applies the sampling rules. The percentage rule is deterministic and
  auditable: a conversation is in the sample when the SHA-256 of its id, read as a number in
  [0, 1), falls under the percentage — the same conversation is always in or always out,
  every process and every rerun agree, and nobody can steer it;
- `prechecks` pre-fills the review from the log;
- reviews are `qa.reviewed` events in the conversation's own log (`review_event`), read back
  by `reviews_of`; `agreement` compares reviewers who scored the same conversation.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from handoff import sentiment
from handoff.qa.settings import QASettings, RubricItem
from hub.errors import InputError
from hub.model import Conversation, Event, NewEvent

REVIEWED = "qa.reviewed"
MAX_COMMENT = 2000
SCORES = range(0, 6)  # 0–5 per rubric item
# A first agent message that greets: the words support teams use in both languages.
_GREETING = re.compile(
    r"\b(?:hi|hello|hey|good (?:morning|afternoon|evening)|thanks? for (?:waiting|contacting))\b"
    r"|您好|你好|感谢您的耐心|久等了|很高兴为您服务|我是",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Facts:
    conversation_id: str
    channel: str
    agent: str = ""
    resolved_at: float | None = None
    complaint: bool = False
    csat: int | None = None
    sla_breached: bool = False
    agent_messages: list[tuple[float, str]] = field(default_factory=list)
    customer_messages: list[tuple[float, str]] = field(default_factory=list)


def facts_of(conversation: Conversation, events: Sequence[Event]) -> Facts:
    facts = Facts(conversation.id, conversation.channel)
    agent_turn = False
    for event in events:
        data = event.data
        match event.type:
            case "message.in":
                facts.customer_messages.append((event.at, str(data.get("text") or "")))
            case "handoff.agent_message":
                agent_turn = True  # the next message.out is this agent's words
                facts.agent = str(data.get("agent_id") or facts.agent)
            case "message.out" if agent_turn:
                outbound = data.get("outbound") or {}
                text = outbound.get("text", "") if isinstance(outbound, Mapping) else ""
                facts.agent_messages.append((event.at, str(text)))
                agent_turn = False
            case "handoff.requested":
                reasons = [data.get("reason"), data.get("intent"), *(data.get("reasons") or [])]
                facts.complaint = facts.complaint or "complaint" in reasons
            case "handoff.accepted" | "handoff.assigned" if data.get("agent_id"):
                facts.agent = str(data["agent_id"])
            case "handoff.resolved":
                facts.resolved_at = event.at
                facts.agent = str(data.get("agent_id") or facts.agent)
            case "csat.answered":
                facts.csat = int(data.get("score", 0))
            case "sla.breached":
                facts.sla_breached = True
    return facts


def sample_share(conversation_id: str) -> float:
    """Where a conversation falls in [0, 1): the same for everyone, always."""
    digest = hashlib.sha256(conversation_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def sample_reasons(facts: Facts, settings: QASettings) -> list[str]:
    """Why a resolved conversation is in the sample (empty: it is not)."""
    if facts.resolved_at is None or not facts.agent:
        return []
    rules = settings.sampling
    reasons = []
    if sample_share(facts.conversation_id) * 100 < rules.percent_per_agent_per_day:
        reasons.append("percent")
    if rules.complaints and facts.complaint:
        reasons.append("complaint")
    if rules.csat_at_most and facts.csat is not None and facts.csat <= rules.csat_at_most:
        reasons.append("low_csat")
    if rules.sla_breaches and facts.sla_breached:
        reasons.append("sla_breached")
    return reasons


def prechecks(facts: Facts, settings: QASettings) -> dict[str, object]:
    """What the log already says, for the reviewer to confirm: each check with its finding."""
    greeted = bool(facts.agent_messages) and bool(_GREETING.search(facts.agent_messages[0][1]))
    silences = _silences(facts, settings.silence_minutes * 60)
    closing = [
        text for _, text in facts.customer_messages[-3:] if text and not text.startswith("/")
    ]
    mood = sentiment.mood([sentiment.score(text) for text in closing]).label if closing else ""
    return {
        "no_greeting": not greeted,
        "long_silences": silences,
        "negative_at_end": mood == "negative",
        "sla_breached": facts.sla_breached,
        "low_csat": facts.csat is not None and facts.csat <= settings.sampling.csat_at_most,
    }


def _silences(facts: Facts, limit: float) -> int:
    """Customer messages an agent took longer than `limit` seconds to answer."""
    answers = sorted(at for at, _ in facts.agent_messages)
    if not answers:
        return 0
    count = 0
    for at, _ in facts.customer_messages:
        if at < answers[0]:
            continue  # before the agent joined: the queue, not the agent
        reply = next((a for a in answers if a >= at), None)
        if reply is not None and reply - at > limit:
            count += 1
    return count


def day_of(at: float, zone: str) -> str:
    return datetime.fromtimestamp(at, ZoneInfo(zone)).date().isoformat()


# ---------------------------------------------------------------- reviews


@dataclass(frozen=True, slots=True)
class Review:
    conversation_id: str
    reviewer: str
    agent: str
    scores: Mapping[str, int]
    comment: str
    at: float

    def total(self, rubric: Sequence[RubricItem]) -> float:
        """The weighted score as a percentage of the best possible."""
        weights = {item.key: item.weight for item in rubric}
        best = sum(5 * weights[k] for k in self.scores if k in weights)
        got = sum(score * weights[k] for k, score in self.scores.items() if k in weights)
        return round(100 * got / best, 1) if best else 0.0


def review_event(
    rubric: Sequence[RubricItem], *, reviewer: str, agent: str, body: Mapping[str, object]
) -> NewEvent:
    """A checked `qa.reviewed` event from a reviewer's form: every rubric item scored 0–5,
    a comment of at most 2,000 characters; `InputError` names what is wrong."""
    raw = body.get("scores")
    if not isinstance(raw, Mapping):
        raise InputError("field 'scores' must map each rubric item to a score from 0 to 5")
    scores: dict[str, int] = {}
    for item in rubric:
        value = raw.get(item.key)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value not in SCORES:
            raise InputError(f"score '{item.key}' must be a whole number from 0 to 5")
        scores[item.key] = value
    unknown = set(raw) - {item.key for item in rubric}
    if unknown:
        raise InputError(f"unknown rubric item(s): {', '.join(sorted(map(str, unknown)))}")
    comment = body.get("comment", "")
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise InputError(f"field 'comment' must be text of at most {MAX_COMMENT} characters")
    return NewEvent(
        type=REVIEWED,
        data={"reviewer": reviewer, "agent": agent, "scores": scores, "comment": comment.strip()},
    )


def reviews_of(events: Sequence[Event]) -> list[Review]:
    return [
        Review(
            conversation_id=e.conversation_id,
            reviewer=str(e.data.get("reviewer", "")),
            agent=str(e.data.get("agent", "")),
            scores={str(k): int(v) for k, v in dict(e.data.get("scores") or {}).items()},
            comment=str(e.data.get("comment", "")),
            at=e.at,
        )
        for e in events
        if e.type == REVIEWED
    ]


def agreement(reviews: Sequence[Review]) -> dict[str, object]:
    """Between reviewers who scored the same conversation: how often their item scores were
    equal, and their mean absolute difference (0–5) — the usual first look at consistency."""
    by_conversation: dict[str, list[Review]] = {}
    for review in reviews:
        by_conversation.setdefault(review.conversation_id, []).append(review)
    equal = total = 0
    difference = 0.0
    for scored in by_conversation.values():
        latest = {r.reviewer: r for r in sorted(scored, key=lambda r: r.at)}  # one per reviewer
        reviewers = list(latest.values())
        for i, first in enumerate(reviewers):
            for second in reviewers[i + 1 :]:
                for key in set(first.scores) & set(second.scores):
                    total += 1
                    equal += first.scores[key] == second.scores[key]
                    difference += abs(first.scores[key] - second.scores[key])
    return {
        "pairs": total,
        "exact": round(equal / total, 3) if total else None,
        "mean_difference": round(difference / total, 2) if total else None,
    }
