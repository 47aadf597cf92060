"""`Escalation`: wraps the bot and decides, turn by turn, when a person should take over.

On every bot-owned turn it answers the status command itself, takes CSAT/NPS answers and
comments after a resolution, reopens a ticket on a reply soon after resolution; otherwise it
lets the bot answer, scores the message's sentiment, evaluates the triggers on the bot's
`bot.turn` event and the conversation's history, and — when one fires, or a flow asked for
a hand-off — returns the hand-off instead: status QUEUED and one `handoff.requested` event
with the reasons, priority, SLA deadlines and the structured summary, and tells the customer
their place in the queue and the expected wait (or how to leave a message out of hours).

Writes into another conversation. A CSAT or NPS score, a comment and a follow-up answer
belong to the conversation that asked for them, not to the one the customer writes in, and
a reopened ticket closes the pending question of the one it reopens. `Escalation` writes
none of them: it returns them with the turn (`TurnResult.elsewhere`), and the hub commits
them in the turn's own store write. So they are recorded exactly when the turn is: a turn
whose commit is lost (a crash, the lease lost mid-turn) recorded nothing and runs again
from the start, and a committed one is never run again. Beyond that:

- the answer names the message it came from (``answer_to``: `Turn.message_key`), and a
  turn that finds its message already recorded as an answer (`History.answered_by`)
  replies as before and returns nothing to record: never an answer counted twice (a score
  read again as the next question's answer);
- a follow-up answer is returned only while the log shows the question open;
- the ticket number (`handoff.tickets.next_number`) a lost turn drew stays unused: the
  numbers have a gap, never a duplicate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from handoff import sentiment
from handoff.history import Past, turn_intents
from handoff.messages import LEAVE_PAYLOAD
from handoff.summary import summarize
from handoff.tickets import label, next_number
from handoff.triggers import (
    ANSWERED_AS,
    Signals,
    answered,
    find_words,
    fired,
    is_fallback,
    priority_for,
)
from hub.abc import ConversationHandler, Elsewhere, Turn, TurnResult
from hub.model import ConversationStatus, Event, NewEvent, Outbound

if TYPE_CHECKING:
    from handoff.views import EscalationView

HISTORY_EVENTS = 400  # how far back a turn looks in its own conversation
_SCORE = re.compile(r"^\s*/?(?:csat|nps)?\s*(\d{1,2})(?!\d)\s*[.,;:!-]?\s*(.*)$", re.S | re.I)


class Escalation(ConversationHandler):
    """The bot, plus the judgement of when to hand off."""

    def __init__(self, bot: ConversationHandler, engine: EscalationView) -> None:
        self.bot = bot
        self.engine = engine

    async def start(self) -> None:
        await self.bot.start()

    async def stop(self) -> None:
        await self.bot.stop()

    async def handle(self, turn: Turn) -> TurnResult:
        engine = self.engine
        # The customer history read below is derived from the log: first let it see every
        # event any process appended before this turn (a CSAT asked on another process …).
        await engine.hub.bus.settled()
        if engine.status.is_command(turn.inbound.text):
            return TurnResult(replies=(await engine.status.reply(turn),))
        if turn.inbound.text.strip() == LEAVE_PAYLOAD:
            # An old "Back to the bot" button, pressed after the hand-off ended: the bot has
            # the conversation already; say so rather than misread the payload as a question.
            past = engine.history.past(turn.conversation.id)
            lang = past.language if past is not None and past.language else self._language(turn)
            return TurnResult(replies=(engine.texts.say("not_queued", lang),))
        recorded = engine.history.answered_by(turn.customer.id, turn.message_key)
        if recorded is not None:
            return await self._answered_again(turn, recorded)
        followed_up = engine.followups.awaiting(turn.customer.id, turn.now)
        if followed_up is not None and followed_up.conversation_id != turn.conversation.id:
            answered = await self._followup_answer(turn, followed_up)
            if answered is not None:
                return answered
        first_turn = engine.history.fresh(turn.conversation.id)
        last = engine.history.last_resolved(turn.customer.id)
        reopen: Past | None = None
        if last is not None and last.conversation_id != turn.conversation.id:
            feedback = await self._feedback(turn, last)
            if feedback is not None:
                engine.history.note_turn(
                    turn.customer.id, turn.conversation.id, "", turn.now, bot=False
                )
                return feedback
            if first_turn and turn.now - last.resolved_at <= engine.settings.feedback.reopen_window:
                reopen = last
        result = await self.bot.handle(turn)
        return await self._judge(turn, result, reopen)

    # ------------------------------------------------------------------ feedback
    async def _answered_again(self, turn: Turn, past: Past) -> TurnResult:
        """This very message was already recorded as an answer on `past`, by an earlier run
        of this turn whose own commit was then lost (a crash, a lease lost mid-turn): the
        turn runs again and must answer as that run did, writing nothing twice."""
        self.engine.history.note_turn(
            turn.customer.id, turn.conversation.id, "", turn.now, bot=False
        )
        recorded = past.answered_as
        if recorded.startswith("followup."):
            outcome = recorded.removeprefix("followup.")
            if outcome == "unsolved":
                return await self._followup_hand_off(turn, past, TurnResult())
            return self.engine.followups.reply(outcome, past)
        lang = past.language or self._language(turn)
        return TurnResult(replies=(self._thanks(recorded, lang),))

    def _thanks(self, recorded: str, lang: str) -> Outbound:
        """The reply to a recorded score or comment: the NPS question after the CSAT score
        when NPS is asked too, else thanks."""
        texts = self.engine.texts
        if recorded == "csat.comment":
            return texts.say("comment_thanks", lang)
        if recorded == "csat.answered" and self.engine.settings.feedback.nps:
            return texts.scale("nps", lang, 0, 10)
        return texts.say("feedback_thanks", lang)

    async def _feedback(self, turn: Turn, last: Past) -> TurnResult | None:
        """A CSAT/NPS score or a comment about the last resolved conversation, if it is one."""
        settings = self.engine.settings.feedback
        stage = last.feedback_stage
        if not stage or turn.now - last.feedback_at > max(settings.comment_window, 3600.0):
            return None
        lang = last.language or self._language(turn)
        if stage == "comment":
            if turn.now - last.feedback_at > settings.comment_window:
                return None
            comment = _answer(turn, last, "csat.comment", {"text": turn.inbound.text[:2000]})
            return TurnResult(replies=(self._thanks("csat.comment", lang),), elsewhere=(comment,))
        high = 5 if stage == "csat" else 10
        low = 1 if stage == "csat" else 0
        match = _SCORE.match(turn.inbound.text)
        if match is None or not low <= int(match.group(1)) <= high:
            return None
        data: dict[str, Any] = {"score": int(match.group(1)), "scale": [low, high]}
        if match.group(2).strip():
            data["comment"] = match.group(2).strip()[:2000]
        score = _answer(turn, last, f"{stage}.answered", data)
        return TurnResult(replies=(self._thanks(f"{stage}.answered", lang),), elsewhere=(score,))

    async def _followup_answer(self, turn: Turn, past: Past) -> TurnResult | None:
        """The answer to a follow-up question: thanks for "yes", the opt-out for "stop", and
        for "no" a hand-off back to the agent who resolved it, with the old conversation as
        context. None when the message does not answer it."""
        engine = self.engine
        kind = engine.followups.classify(turn.inbound.text)
        result = await engine.followups.answer(turn, past, kind) if kind else None
        if result is None:
            return None
        engine.history.note_turn(turn.customer.id, turn.conversation.id, "", turn.now, bot=False)
        if kind != "no":
            return result
        return await self._followup_hand_off(turn, past, result)

    async def _followup_hand_off(self, turn: Turn, past: Past, result: TurnResult) -> TurnResult:
        """A follow-up answered "not solved": a hand-off back to the agent who resolved it,
        with the old conversation as context."""
        history = await self._history(turn)
        answer = {"lang": past.language, "handled_as": "followup"}
        signals = self._signals(turn, result, answer, history)
        score = signals.scores[-1]
        scored = NewEvent(
            type="sentiment.scored",
            data={"message_seq": turn.event.seq, "score": score, "label": sentiment.label(score)},
        )
        return await self._hand_off(
            turn,
            [*history, turn.event],
            ["followup_unsolved"],
            scored,
            result=result,
            signals=signals,
            prefer=past,
        )

    # ------------------------------------------------------------------ triggers
    async def _judge(self, turn: Turn, result: TurnResult, reopen: Past | None) -> TurnResult:
        engine = self.engine
        history = await self._history(turn)
        bot_turn = next((e.data for e in result.events if e.type == "bot.turn"), {})
        engine.history.note_turn(
            turn.customer.id,
            turn.conversation.id,
            str(bot_turn.get("intent") or ""),
            turn.now,
            also=turn_intents(bot_turn),
        )
        signals = self._signals(turn, result, bot_turn, history)
        score = signals.scores[-1]
        scored = NewEvent(
            type="sentiment.scored",
            data={"message_seq": turn.event.seq, "score": score, "label": sentiment.label(score)},
        )
        reasons = (
            fired(engine.settings.triggers, signals)
            if result.status != ConversationStatus.QUEUED or signals.flow_request
            else []
        )
        reopen = self._reopens(reopen, signals.intent, score, reasons)
        if reopen is not None:
            reasons.insert(0, "reopened")
            if reopen.feedback_stage:  # its pending question closes with this turn
                closed = NewEvent(type="feedback.closed", data={"why": "new message"})
                closing = Elsewhere(conversation_id=reopen.conversation_id, events=(closed,))
                result = replace(result, elsewhere=(*result.elsewhere, closing))
        if not reasons:
            return _with_event(result, scored)
        return await self._hand_off(
            turn,
            [*history, turn.event],
            reasons,
            scored,
            result=result,
            signals=signals,
            prefer=reopen,
        )

    def _signals(
        self,
        turn: Turn,
        result: TurnResult,
        bot_turn: Mapping[str, Any],
        history: Sequence[Event],
    ) -> Signals:
        """What this turn tells the triggers, read from the bot's `bot.turn` event (its
        intent and confidence: never a second guess of the NLU) and the history."""
        engine = self.engine
        settings = engine.settings.triggers
        intent = str(bot_turn.get("intent") or "")
        flow_request = next((e.data for e in result.events if e.type == "handoff.requested"), None)
        text = turn.inbound.text
        fallback = bool(bot_turn) and is_fallback(bot_turn)
        return Signals(
            text=text,
            language=self._language(turn, bot_turn),
            intent=intent,
            confidence=_confidence(bot_turn),
            answered=flow_request is None
            and answered(bot_turn, human_intents=settings.human_intents),
            fallback=fallback,
            fallbacks=_consecutive_fallbacks(history, fallback),
            scores=[*self._scores(history), sentiment.score(text)],
            tags=frozenset(t.casefold() for t in turn.customer.tags),
            repeat_of=engine.history.repeat_of(
                turn.customer.id,
                turn.conversation.id,
                intent,
                now=turn.now,
                days=settings.repeat_days,
                ignore=settings.repeat_ignore | settings.human_intents,
            ),
            flow_request=flow_request,
            matched_words={
                "complaint": find_words(text, settings.complaint_words),
                "urgent": find_words(text, settings.urgent_words),
            },
        )

    def _reopens(
        self, reopen: Past | None, intent: str, score: float, reasons: Sequence[str]
    ) -> Past | None:
        """A reply soon after resolution reopens, unless it only thanks or says goodbye."""
        if reopen is None or intent in self.engine.settings.triggers.repeat_ignore:
            return None
        if sentiment.label(score) != "positive" or reasons:
            return reopen
        return None

    async def _hand_off(
        self,
        turn: Turn,
        history: Sequence[Event],
        reasons: list[str],
        scored: NewEvent,
        *,
        result: TurnResult,
        signals: Signals,
        prefer: Past | None = None,
    ) -> TurnResult:
        """The hand-off result: QUEUED, one `handoff.requested`, and what the customer is told."""
        engine = self.engine
        now = turn.now
        flow_request: Mapping[str, Any] = signals.flow_request or {}
        lang = signals.language
        facts = engine.history.facts(turn.customer.id, now, exclude=turn.conversation.id)
        priority = self._priority(reasons, signals, facts.complaints_90d)
        intent = signals.intent or str(flow_request.get("intent") or "")
        deadlines = self._deadlines(now, priority)
        # Out of hours with someone online is an ordinary queue: the agent may take it.
        offline = not engine.queue.anyone_online()
        number = await next_number(engine.hub.store)
        ticket = label(number, turn.conversation.id)
        position = engine.queue.place_for(
            (priority, deadlines["pickup_due"], now, turn.conversation.id)
        )
        summary = summarize(
            events=history,
            customer=turn.customer,
            facts=facts,
            channel=turn.conversation.channel,
            requested_at=now,
            now=now,
            reasons=reasons,
            tried=flow_request.get("tried") or _tried_from_state(result),
        )
        wait = None if offline else engine.status.expected_wait(position)
        data = {
            **{k: v for k, v in flow_request.items() if k not in ("priority", "skill")},
            "reasons": reasons,
            "reason": flow_request.get("reason") or reasons[0],  # a flow's own reason stays
            "flow_reason": flow_request.get("reason", ""),
            "intent": intent,
            "skill": self._skill(reasons, intent, flow_request, signals.tags),
            "language": lang,
            "priority": f"P{priority}",
            "priority_number": priority,
            "customer_id": turn.customer.id,
            "channel": turn.conversation.channel,
            "sla": deadlines,
            "offline": offline,
            "ticket_number": number,
            "position": 0 if offline else position,
            "wait_seconds": wait or 0.0,  # what the customer is told: the next may not jump
            "summary": summary,
        }
        if prefer is not None:
            data["previous_conversation"] = prefer.conversation_id
            data["prefer_agent"] = prefer.agent_id
        told = self._told(
            lang,
            offline=offline,
            position=position,
            wait=wait,
            reopened=prefer is not None,
            ticket=ticket,
        )
        # The flow's own words first ("I'm sorry about your experience"), then the place in
        # the queue, as one message. The bot's stock hand-off line ("someone will be with you
        # shortly") gives way to it: beside "nobody is online" it would be untrue.
        replies = list(result.replies) if flow_request else []
        if replies and flow_request.get("own_words") is False:
            replies[-1] = told
        elif replies:
            last = replies[-1]
            replies[-1] = replace(
                last, text=f"{last.text}\n{told.text}", buttons=(*last.buttons, *told.buttons)
            )
        else:
            replies.append(told)
        events = [e for e in result.events if e.type != "handoff.requested"]
        events += [scored, NewEvent(type="handoff.requested", data=data)]
        return TurnResult(
            replies=tuple(replies),
            events=tuple(events),
            state=result.state,
            status=ConversationStatus.QUEUED,
            priority=priority,
            elsewhere=result.elsewhere,
        )

    def _priority(self, reasons: Sequence[str], signals: Signals, complaints_90d: int) -> int:
        config = self.engine.settings
        flow_request = signals.flow_request or {}
        return priority_for(
            config.rules,
            default=config.default_priority,
            reasons=reasons,
            tags=signals.tags,
            score=signals.scores[-1],
            complaints_90d=complaints_90d + ("complaint_words" in reasons),
            flow_priority=flow_request.get("priority"),
            intent=signals.intent or str(flow_request.get("intent") or ""),
            confidence=signals.confidence,
        )

    def _deadlines(self, now: float, priority: int) -> dict[str, float]:
        """SLA deadlines, counted in business time."""
        calendar, sla = self.engine.settings.calendar, self.engine.settings.sla
        pickup, resolve = sla.pickup[priority], sla.resolve[priority]
        return {
            "pickup_due": calendar.add(now, pickup),
            "pickup_warn": calendar.add(now, pickup * sla.warn_at),
            "resolve_due": calendar.add(now, resolve),
            "resolve_warn": calendar.add(now, resolve * sla.warn_at),
        }

    def _told(
        self,
        lang: str,
        *,
        offline: bool,
        position: int,
        wait: float | None,
        reopened: bool,
        ticket: str,
    ) -> Outbound:
        """What the customer hears: their place and wait, or how to leave a message out of
        hours, or that their ticket is reopened; with the ticket's number and the way back
        to the bot."""
        texts = self.engine.texts
        if offline:
            hours = _hours_text(self.engine, lang)
            key = self.engine.status.offline_key("queued")
            told = texts.say(key, lang, hours=hours, ticket=ticket)
        elif reopened:
            told = texts.say("reopened", lang, ticket=ticket)
        else:
            said = self.engine.status.wait_text(wait, lang)
            told = texts.say("queued", lang, position=position, wait=said, ticket=ticket)
        if not self.engine.settings.leave.button:
            return told
        return replace(told, buttons=(texts.leave_button(lang),))

    def _skill(
        self, reasons: Sequence[str], intent: str, flow: Mapping[str, Any], tags: frozenset[str]
    ) -> str:
        routing = self.engine.settings.routing
        if flow.get("skill"):
            return str(flow["skill"])
        for reason in reasons:
            if reason in routing.reason_skills:
                return routing.reason_skills[reason]
        return routing.intent_skills.get(intent, "")

    # ------------------------------------------------------------------ context
    async def _history(self, turn: Turn) -> list[Event]:
        after = max(0, turn.event.seq - HISTORY_EVENTS)
        events = await self.engine.hub.store.events(
            turn.conversation.id, after_seq=after, limit=HISTORY_EVENTS
        )
        return [e for e in events if e.seq < turn.event.seq]

    @staticmethod
    def _scores(history: Sequence[Event]) -> list[float]:
        scored = {
            int(e.data.get("message_seq", 0)): float(e.data.get("score", 0.0))
            for e in history
            if e.type == "sentiment.scored"
        }
        return [
            scored.get(e.seq, sentiment.score(str(e.data.get("text", ""))))
            for e in history
            if e.type == "message.in"
        ]

    @staticmethod
    def _language(
        turn: Turn, bot_turn: Mapping[str, Any] | None = None, *, default: str = ""
    ) -> str:
        for candidate in (
            (bot_turn or {}).get("lang"),
            turn.customer.attributes.get("language"),
            default,
        ):
            if candidate in ("en", "zh"):
                return str(candidate)
        return sentiment.language_of(turn.inbound.text)


def _consecutive_fallbacks(history: Sequence[Event], this_turn: bool) -> int:
    if not this_turn:
        return 0
    count = 1
    for event in reversed(history):
        if event.type == "bot.turn":
            if not is_fallback(event.data):
                break
            count += 1
        elif event.type == "handoff.requested":
            break
    return count


def _confidence(turn: Mapping[str, Any]) -> float:
    """The bot's confidence in the intent it acted on this turn; 1.0 when it classified
    nothing new (an answer inside a flow that then hands off: the flow is established)."""
    if str(turn.get("handled_as", "")) not in ANSWERED_AS:
        return 1.0
    value = turn.get("confidence", 0.0)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _tried_from_state(result: TurnResult | None) -> list[Any]:
    # The dialog engine keeps what a flow tried in its state; any bot may do the same.
    state = result.state if result is not None and result.state is not None else {}
    tried = state.get("tried", [])
    return [t for t in tried if isinstance(t, Mapping)] if isinstance(tried, list) else []


def _with_event(result: TurnResult, event: NewEvent) -> TurnResult:
    return replace(result, events=(*result.events, event))


def _answer(turn: Turn, past: Past, kind: str, data: Mapping[str, Any]) -> Elsewhere:
    """The customer's answer, for the conversation that asked (committed with this turn),
    naming this message (`History.answered_by` finds it)."""
    answer = NewEvent(type=kind, data={**data, "answer_to": turn.message_key})
    return Elsewhere(conversation_id=past.conversation_id, events=(answer,))


def _hours_text(engine: EscalationView, lang: str) -> str:
    return engine.status.away_text(lang)
