"""Follow-ups (回访): some time after a resolution, ask the customer whether the problem stays
solved — or give the agent who resolved it a call-back task — and record what came of it.

Everything is an event in the resolved conversation's log, so the state survives restarts
and every process reads the same facts:

    followup.sent      the question went out (on the customer's channel, in their language)
    followup.task      a call-back task for the resolving agent
    followup.answered  {"outcome": solved | unsolved | opted_out | unreachable, "by": …}
    followup.expired   nobody answered within `answer_within_days`
    followup.skipped   {"why": opted_out | came_back | erased}: a rule matched, nothing sent

Which conversations are due is read from the hand-off's `History` (kept current by the bus on
every process); only the leader acts on it (`HandoffEngine.tick`). Each of its actions, and
an agent's result of a call-back task, is written by `hub.send(..., when=...)`, which re-reads
the conversation's log under its lock: if another process (a former leader) already wrote a
follow-up event, nothing is written or sent twice.

The customer's answer is different: it arrives as a turn in another conversation, so it is
*returned* with that turn (`TurnResult.elsewhere`) and committed with it, in one store
write, once the question was found still open in the log. A "no" is turned into a hand-off
by `Escalation`, back to the agent who resolved it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from handoff.followup_settings import FollowUpRule, FollowUpSettings
from handoff.history import Past
from handoff.messages import FOLLOWUP_PAYLOAD, followup_question
from handoff.tickets import label
from hub.abc import Elsewhere, Turn, TurnResult
from hub.errors import InputError
from hub.model import Conversation, EventType, NewEvent

if TYPE_CHECKING:
    from handoff.views import FollowUpView

log = logging.getLogger("frontdesk.followups")

#: The follow-up events after which an answer or a result is still awaited.
OPEN = frozenset({"followup.sent", "followup.task"})
OUTCOMES = ("solved", "unsolved", "unreachable")

# Answers typed instead of pressing a button: whole short replies, then phrases (a "no"
# phrase is looked for first: "not solved" contains "solved", "没有解决" contains "解决").
_WHOLE = {
    "yes": {"yes", "y", "yep", "yeah", "ok", "是", "是的", "好了", "好的", "嗯", "对"},
    "no": {"no", "n", "nope", "否", "不", "没有", "没", "不是"},
    "stop": {"stop", "unsubscribe", "退订"},
}
_PHRASES = {
    "stop": ("don't ask", "do not ask", "stop asking", "不要再回访", "别再问", "不要再问"),
    "no": (
        "not solved", "not fixed", "still broken", "still not", "doesn't work", "does not work",
        "没有解决", "没解决", "还没", "还是不行", "不行", "又坏", "仍然",
    ),
    "yes": (
        "solved", "all good", "works now", "fixed",
        "已解决", "解决了", "没问题", "可以了", "好了", "正常了",
    ),
}  # fmt: skip
_PUNCTUATION = re.compile(r"[\s.,!?;:。，！？；：~～]+")


def classify(text: str, words: dict[str, dict[str, tuple[str, ...]]] | None = None) -> str:
    """ "yes", "no", "stop", or "" when `text` does not answer the question."""
    raw = text.strip()
    if raw.startswith(FOLLOWUP_PAYLOAD):
        kind = raw.removeprefix(FOLLOWUP_PAYLOAD).strip().casefold()
        return kind if kind in ("yes", "no", "stop") else ""
    folded = raw.casefold()
    whole = _PUNCTUATION.sub(" ", folded).strip()
    for kind in ("stop", "no", "yes"):
        extra = [w for ws in (words or {}).get(kind, {}).values() for w in ws]
        if whole in _WHOLE[kind] or any(w and w in folded for w in extra):
            return kind
    for kind in ("stop", "no", "yes"):
        if any(phrase in folded for phrase in _PHRASES[kind]):
            return kind
    return ""


class FollowUps:
    """Due follow-ups (run by the leader), answers, and agents' call-back tasks."""

    def __init__(self, engine: FollowUpView) -> None:
        self.engine = engine

    @property
    def settings(self) -> FollowUpSettings:
        return self.engine.settings.followups

    # ------------------------------------------------------------------ rules
    def rule_for(self, past: Past) -> FollowUpRule | None:
        """The first rule whose conditions the resolved conversation meets now."""
        for rule in self.settings.rules:
            if rule.complaint is not None and past.complaint != rule.complaint:
                continue
            if rule.csat_at_most and (past.csat is None or past.csat > rule.csat_at_most):
                continue
            if rule.priorities and past.priority not in rule.priorities:
                continue
            if rule.intents and not rule.intents & past.intents:
                continue
            return rule
        return None

    def due_at(self, past: Past, rule: FollowUpRule) -> float:
        """`after` the resolution, moved into business hours when the rule says so."""
        due = past.resolved_at + rule.after
        return self.engine.settings.calendar.next_open(due) if rule.business_hours else due

    # ------------------------------------------------------------------ the leader's job
    async def run(self, now: float) -> int:
        """Make every follow-up that is due, expire unanswered ones; returns how many events
        were written. Called on the leader only."""
        if not self.settings.enabled:
            return 0
        written = 0
        for past in self.engine.history.resolved():
            try:
                written += await self._run_one(past, now)
            except Exception:
                log.exception("follow-up failed", extra={"conversation_id": past.conversation_id})
        return written

    async def _run_one(self, past: Past, now: float) -> int:
        if past.followup == "sent" and now - past.followup_at >= self.settings.answer_within:
            return await self._write(past, NewEvent(type="followup.expired", data={}), closing=True)
        if past.followup or not past.agent_id:
            return 0  # made already, or resolved without an agent: nothing to follow up
        rule = self.rule_for(past)
        if rule is None:
            return 0
        due = self.due_at(past, rule)
        # A follow-up left far behind (the hub was down for days) is not sent late.
        if due > now or now - due > self.settings.give_up_after:
            return 0
        data: dict[str, Any] = {"rule": rule.name, "due": due}
        why = await self._skip_reason(past)
        if why:
            skipped = NewEvent(type="followup.skipped", data={**data, "why": why})
            return await self._write(past, skipped)
        if rule.action == "task":
            data["agent_id"] = past.agent_id
            return await self._write(past, NewEvent(type="followup.task", data=data))
        lang = past.language if past.language in ("en", "zh") else "en"
        zone = self.engine.settings.calendar.zone
        question = followup_question(
            self.engine.texts,
            lang,
            ticket=label(past.number, past.conversation_id),
            date=dt.datetime.fromtimestamp(past.resolved_at, zone).date().isoformat(),
        )
        data["language"] = lang
        return await self._write(
            past, NewEvent(type="followup.sent", data=data), replies=(question,)
        )

    async def _skip_reason(self, past: Past) -> str:
        customer = await self.engine.hub.store.get_customer(past.customer_id)
        if customer is None or "erased_at" in customer.attributes:
            return "erased"  # their data is gone: so is any way, or right, to ask them
        if {t.casefold() for t in customer.tags} & self.settings.opt_out_tags:
            return "opted_out"
        # The customer wrote again and was handed off since: that conversation is the
        # follow-up, a question about the old one would only confuse.
        for other in self.engine.history.of_customer(past.customer_id):
            if other.handed_off and other.started > past.resolved_at:
                return "came_back"
        return ""

    async def _write(
        self, past: Past, event: NewEvent, *, closing: bool = False, replies: tuple[Any, ...] = ()
    ) -> int:
        """Write `event` (and send `replies`) if the log, re-read under the conversation's
        lock, still allows it: no follow-up yet — or, `closing`, an open question or task."""
        try:
            written = await self.engine.hub.send(
                past.conversation_id,
                replies,
                events=(event,),
                when=self._allows(past.conversation_id, closing=closing),
            )
        except KeyError:  # the conversation is gone from the store: nothing to follow up
            past.followup = "gone"
            return 0
        if not written:
            await self.engine.catch_up(past.conversation_id)  # learn what the other wrote
        return int(written)

    def _allows(
        self, conversation_id: str, *, closing: bool
    ) -> Callable[[Conversation], Awaitable[bool]]:
        async def check(conversation: Conversation) -> bool:
            last = await self._last_followup(conversation_id)
            return last in OPEN if closing else not last

        return check

    async def _last_followup(self, conversation_id: str) -> str:
        """The type of the conversation's last follow-up event, read from its log ("" when
        it has none, or is gone)."""
        last = ""
        async for event in self.engine.hub.store.iter_events(conversation_id):
            if event.type.startswith("followup."):
                last = event.type
        return last

    # ------------------------------------------------------------------ answers
    def awaiting(self, customer_id: str, now: float) -> Past | None:
        """The customer's most recent follow-up question still waiting for an answer."""
        open_ones = [
            p
            for p in self.engine.history.of_customer(customer_id)
            if p.followup == "sent" and now - p.followup_at < self.settings.answer_within
        ]
        return max(open_ones, key=lambda p: p.followup_at) if open_ones else None

    def classify(self, text: str) -> str:
        return classify(text, {k: dict(v) for k, v in self.settings.words.items()})

    async def answer(self, turn: Turn, past: Past, kind: str) -> TurnResult | None:
        """The reply to the customer's answer — thanks for "yes", the opt-out (tagging the
        customer) for "stop", nothing for "no" (the caller reopens a hand-off) — with the
        answer for the followed-up conversation, committed with the turn
        (`TurnResult.elsewhere`). None when the log shows the question closed meanwhile
        (expired on the leader): the message is then an ordinary one."""
        if await self._last_followup(past.conversation_id) not in OPEN:
            await self.engine.catch_up(past.conversation_id)  # learn what closed it
            return None
        outcome = {"yes": "solved", "no": "unsolved", "stop": "opted_out"}[kind]
        data = {
            "outcome": outcome,
            "by": "customer",
            "in": turn.conversation.id,
            "answer_to": turn.message_key,
        }
        answered = NewEvent(type="followup.answered", data=data)
        elsewhere = Elsewhere(conversation_id=past.conversation_id, events=(answered,))
        return replace(self.reply(outcome, past), elsewhere=(elsewhere,))

    def reply(self, outcome: str, past: Past) -> TurnResult:
        """What the customer is told once their answer (`outcome`) is recorded: thanks for
        "solved", the opt-out (tagging the customer) for "opted_out", nothing for
        "unsolved" (the caller reopens a hand-off)."""
        lang = past.language or "en"
        texts = self.engine.texts
        if outcome == "unsolved":
            return TurnResult()
        if outcome == "solved":
            return TurnResult(replies=(texts.say("followup_thanks", lang),))
        tag = min(self.settings.opt_out_tags) if self.settings.opt_out_tags else "no_followup"
        return TurnResult(
            replies=(texts.say("followup_stopped", lang),),
            events=(NewEvent(type=EventType.CUSTOMER_TAGGED, data={"tag": tag}),),
        )

    # ------------------------------------------------------------------ agents' tasks
    def tasks(self, agent_id: str = "") -> list[dict[str, Any]]:
        """Open call-back tasks (of one agent, or everyone's), oldest first."""
        pasts = sorted(
            (p for p in self.engine.history.resolved() if p.followup == "task"),
            key=lambda p: p.followup_at,
        )
        return [
            {
                "conversation_id": p.conversation_id,
                "ticket": label(p.number, p.conversation_id),
                "agent_id": p.agent_id,
                "customer_id": p.customer_id,
                "language": p.language,
                "resolved_at": p.resolved_at,
                "since": p.followup_at,
                "csat": p.csat,
                "complaint": p.complaint,
            }
            for p in pasts
            if not agent_id or p.agent_id == agent_id
        ]

    async def record(self, conversation_id: str, agent_id: str, outcome: str, note: str) -> None:
        """An agent's result of a call-back task; 404 without an open task, 409 when it
        was recorded meanwhile."""
        self.engine.agent(agent_id)
        if outcome not in OUTCOMES:
            raise InputError(f"field 'outcome' must be one of {', '.join(OUTCOMES)}")
        past = self.engine.history.past(conversation_id)
        if past is None or past.followup != "task":
            raise InputError("no open follow-up task for this conversation", status=404)
        data = {"outcome": outcome, "by": agent_id, "note": note}
        event = NewEvent(type="followup.answered", data=data)
        if not await self._write(past, event, closing=True):
            raise InputError("this follow-up was recorded already", status=409)


__all__ = ["FollowUps", "classify"]
