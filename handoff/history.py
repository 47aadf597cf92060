"""What each customer's recent conversations say: intents, hand-offs, complaints, CSAT.

Feeds the repeat-contact trigger, the "≥ 2 complaints in 90 days" priority rule, the
summary's "who" part and the feedback questions after resolution. Derived from the log like
the queue: rebuilt at start from recent conversations, then kept current by the listener.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from handoff.summary import CustomerFacts
from hub.model import Event

WINDOW_90D = 90 * 86400.0
COMPLAINT_REASONS = frozenset({"complaint_words"})


@dataclass(slots=True, kw_only=True)
class Past:
    """One conversation of a customer, as far as the hand-off cares."""

    conversation_id: str
    customer_id: str
    started: float
    intents: set[str] = field(default_factory=set)
    handed_off: bool = False
    complaint: bool = False
    agent_id: str = ""
    language: str = ""
    number: int = 0  # the ticket number (#1042)
    resolved_at: float = 0.0
    csat: int | None = None
    nps: int | None = None
    bot_turns: int = 0  # turns the bot answered (feedback answers are not counted)
    feedback_stage: str = ""  # "csat", "nps", "comment" or "" (nothing asked)
    feedback_at: float = 0.0
    priority: int = 0  # of the hand-off (1 = P1); 0 when never handed off
    followup: str = ""  # "", or the last follow-up event's kind: sent, task, answered …
    followup_at: float = 0.0
    # The customer message (`Turn.message_key`) whose answer was last recorded here, and
    # what it was recorded as ("csat.answered", "nps.answered", "csat.comment",
    # "followup.unsolved" …): a turn run again after its commit was lost finds its answer
    # already written.
    answered_by: str = ""
    answered_as: str = ""


def turn_intents(turn: Mapping[str, Any]) -> list[str]:
    """The intents a `bot.turn` event's data says the bot answered: its `intent`, and each
    of its `questions` when the message asked several (the dialog engine's
    `dialogs.questions`)."""
    found = [str(turn["intent"])] if turn.get("intent") else []
    questions = turn.get("questions")
    for question in questions if isinstance(questions, list) else ():
        intent = question.get("intent") if isinstance(question, Mapping) else None
        if intent and str(intent) not in found:
            found.append(str(intent))
    return found


class History:
    def __init__(self, *, nps: bool = False) -> None:
        self.nps = nps
        self._pasts: dict[str, Past] = {}
        self._by_customer: dict[str, list[str]] = {}

    def fresh(self, conversation_id: str) -> bool:
        """No bot turn and no hand-off yet (feedback answers aside)."""
        past = self._pasts.get(conversation_id)
        return past is None or not (past.bot_turns or past.handed_off)

    def past(self, conversation_id: str) -> Past | None:
        return self._pasts.get(conversation_id)

    def _get(self, customer_id: str, conversation_id: str, at: float) -> Past:
        past = self._pasts.get(conversation_id)
        if past is None:
            past = self._pasts[conversation_id] = Past(
                conversation_id=conversation_id, customer_id=customer_id, started=at
            )
            self._by_customer.setdefault(customer_id, []).append(conversation_id)
        return past

    def note_turn(
        self,
        customer_id: str,
        conversation_id: str,
        intent: str,
        at: float,
        *,
        bot: bool = True,
        also: Iterable[str] = (),
    ) -> None:
        """A turn of the conversation; `also`: more intents it answered (`turn_intents`)."""
        past = self._get(customer_id, conversation_id, at)
        past.bot_turns += bot
        past.intents.update(i for i in (intent, *also) if i)

    def apply(self, event: Event, customer_id: str = "") -> None:
        """Fold one event in; `customer_id` is needed only for a conversation not yet seen."""
        data = event.data
        past = self._pasts.get(event.conversation_id)
        if past is None:
            customer_id = customer_id or str(data.get("customer_id", ""))
            if not customer_id:
                return
            past = self._get(customer_id, event.conversation_id, event.at)
        match event.type:
            case "bot.turn":
                past.intents.update(turn_intents(data))
            case "handoff.requested":
                past.handed_off = True
                past.language = str(data.get("language", past.language))
                past.number = int(data.get("ticket_number", past.number))
                past.priority = int(data.get("priority_number", past.priority) or 0)
                reasons = set(data.get("reasons", ()))
                past.complaint = past.complaint or bool(
                    reasons & COMPLAINT_REASONS or data.get("skill") == "complaints"
                )
                if data.get("intent"):
                    past.intents.add(str(data["intent"]))
            case "handoff.withdrawn":
                past.handed_off = False  # the customer went back to the bot before anyone came
            case "handoff.offered" | "handoff.accepted":
                past.agent_id = str(data.get("agent_id", past.agent_id))
            case "handoff.resolved":
                past.resolved_at = event.at
                past.agent_id = str(data.get("agent_id", past.agent_id))
            case "csat.asked":
                past.feedback_stage, past.feedback_at = "csat", event.at
            case "csat.answered":
                _answered(past, event, event.type)
                past.csat = int(data["score"])
                past.feedback_stage = "nps" if self.nps else "comment"
                past.feedback_at = event.at
            case "nps.answered":
                _answered(past, event, event.type)
                past.nps = int(data["score"])
                past.feedback_stage, past.feedback_at = "comment", event.at
            case "csat.comment" | "feedback.closed":
                _answered(past, event, event.type)
                past.feedback_stage = ""
            case "handoff.priority_changed":
                past.priority = int(data.get("to", past.priority) or past.priority)
            case kind if kind.startswith("followup."):
                past.followup, past.followup_at = kind.removeprefix("followup."), event.at
                _answered(past, event, f"followup.{data.get('outcome', '')}")

    def _recent(self, customer_id: str, now: float, window: float) -> list[Past]:
        pasts = (self._pasts[c] for c in self._by_customer.get(customer_id, ()))
        return [p for p in pasts if now - p.started <= window]

    def facts(self, customer_id: str, now: float, *, exclude: str = "") -> CustomerFacts:
        recent = [
            p for p in self._recent(customer_id, now, WINDOW_90D) if p.conversation_id != exclude
        ]
        rated = [p for p in recent if p.csat is not None]
        return CustomerFacts(
            conversations_90d=len(recent),
            complaints_90d=sum(1 for p in recent if p.complaint),
            last_csat=max(rated, key=lambda p: p.resolved_at).csat if rated else None,
        )

    def repeat_of(
        self,
        customer_id: str,
        conversation_id: str,
        intent: str,
        *,
        now: float,
        days: float,
        ignore: frozenset[str],
    ) -> str:
        """An earlier conversation about `intent` within `days`, or ""."""
        if not intent or intent in ignore:
            return ""
        for past in self._recent(customer_id, now, days * 86400.0):
            if past.conversation_id != conversation_id and intent in past.intents:
                return past.conversation_id
        return ""

    def answered_by(self, customer_id: str, message: str) -> Past | None:
        """The customer's conversation where `message` (`Turn.message_key`) was recorded as the
        answer to a question asked there (a score, a comment, a follow-up), or None."""
        return next((p for p in self.of_customer(customer_id) if p.answered_by == message), None)

    def last_resolved(self, customer_id: str) -> Past | None:
        resolved = [
            self._pasts[c]
            for c in self._by_customer.get(customer_id, ())
            if self._pasts[c].resolved_at
        ]
        return max(resolved, key=lambda p: p.resolved_at) if resolved else None

    def resolved(self) -> list[Past]:
        """Every resolved conversation still remembered (follow-ups look through them)."""
        return [p for p in self._pasts.values() if p.resolved_at]

    def of_customer(self, customer_id: str) -> list[Past]:
        return [self._pasts[c] for c in self._by_customer.get(customer_id, ())]

    def complaints(self, customer_id: str, now: float) -> int:
        return self.facts(customer_id, now).complaints_90d

    def forget_before(self, cutoff: float) -> None:
        """Drop conversations older than `cutoff` (keeps memory bounded)."""
        for conversation_id in [c for c, p in self._pasts.items() if p.started < cutoff]:
            past = self._pasts.pop(conversation_id)
            ids = self._by_customer.get(past.customer_id, [])
            if conversation_id in ids:
                ids.remove(conversation_id)
            if not ids:
                self._by_customer.pop(past.customer_id, None)


def _answered(past: Past, event: Event, recorded_as: str) -> None:
    message = event.data.get("answer_to")
    if isinstance(message, str) and message:
        past.answered_by, past.answered_as = message, recorded_as
