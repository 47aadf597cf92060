"""The customer's "status" / "进度" command: where is my ticket? Answered on any channel,
whoever owns the conversation, in the customer's language.

One state machine tells the truth, read from the queue index at the moment of asking:

    queued   waiting, nobody holds it  → place and expected wait (handoff/wait.py: none while
                                         history is thin; or, with nobody online, that it
                                         is recorded and when the team is back)
    offered  an agent was offered it   → still waiting, someone is about to pick it up
    assigned an agent accepted it      → the agent's display name
    resolved no open ticket            → the last one's number and when, with its zone

Tickets are named by their short number (``#1042``), never by internal ids, and times carry
their time zone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handoff.queue import Ticket
from handoff.sentiment import language_of
from handoff.tickets import label
from handoff.wait import estimate, message_key, phrase
from hub.abc import Turn
from hub.model import ConversationStatus, Outbound

if TYPE_CHECKING:
    from handoff.views import StatusView

OPEN = (ConversationStatus.QUEUED, ConversationStatus.ASSIGNED)


def state_of(ticket: Ticket) -> str:
    """``queued``, ``offered`` or ``assigned``: what the customer may be told of a ticket."""
    if not ticket.agent_id:
        return "queued"
    return "assigned" if ticket.accepted else "offered"


class StatusReporter:
    def __init__(self, engine: StatusView) -> None:
        self.engine = engine

    def is_command(self, text: str) -> bool:
        return text.strip().casefold().rstrip("?？!！.。") in self.engine.settings.status_commands

    @staticmethod
    def language(text: str, ticket: Ticket | None) -> str:
        """Chinese when the message is; else the hand-off's language ("ok", "cancel" and
        button payloads say little about it)."""
        lang = language_of(text)
        return ticket.language if ticket is not None and lang == "en" else lang

    def expected_wait(self, position: int, ticket: Ticket | None = None) -> float | None:
        """Seconds the customer at `position` may still wait, steadied against what this
        ticket was last told; None when the history is too thin and no `default_wait` is
        configured (the customer then hears their place only)."""
        queue = self.engine.queue
        per_place = queue.per_place_wait(self.engine.clock())
        if per_place is None and self.engine.settings.routing.default_wait > 0:
            per_place = self.engine.settings.routing.default_wait
        told = ticket.told_wait if ticket is not None else 0.0
        told_position = ticket.told_position if ticket is not None else 0
        return estimate(
            per_place,
            position=position,
            online=queue.online(),
            told=told,
            told_position=told_position,
        )

    def wait_text(self, seconds: float | None, lang: str, *, waited: float = 0.0) -> str:
        """The sentence that tells the wait ("The expected wait is about 10 minutes." /
        "预计等待约 10 分钟。"), that it is longer than usual, or "" (place only)."""
        key = message_key(seconds, waited)
        if seconds is None or not key:
            return ""
        return self.engine.texts.text(key, lang, wait=phrase(seconds, lang))

    def open_now(self) -> bool:
        """Whether these are opening hours: nobody online then is not "closed until …"."""
        calendar = self.engine.settings.calendar
        return calendar.always_open or calendar.is_open(self.engine.clock())

    def offline_key(self, kind: str) -> str:
        """`queued` or `status` → the message for nobody online: `…_offline` out of hours
        (closed, back at a named time), `…_unattended` in opening hours, where "when we are
        back" and "上班后" would be wrong and the hours would say "nobody is online" twice."""
        return f"{kind}_unattended" if self.open_now() else f"{kind}_offline"

    def away_text(self, lang: str) -> str:
        """Why nobody answers now: closed until a named time (with its zone), or simply
        nobody online during opening hours (for operators' own `…_offline` texts)."""
        calendar = self.engine.settings.calendar
        now = self.engine.clock()
        if self.open_now():
            return "nobody is online right now" if lang == "en" else "暂无客服在线"
        when = calendar.local_time(calendar.next_open(now))
        return f"back at {when}" if lang == "en" else f"{when} 恢复服务"

    async def reply(self, turn: Turn) -> Outbound:
        engine = self.engine
        conversation = turn.conversation
        ticket = engine.queue.tickets.get(conversation.id)
        lang = self.language(turn.inbound.text, ticket)
        texts = engine.texts
        if ticket is not None and conversation.status in OPEN:
            number = label(ticket.number, conversation.id)
            state = state_of(ticket)
            if state == "assigned":
                name = engine.queue.agents[ticket.agent_id].spec.name
                return texts.say("status_assigned", lang, ticket=number, agent=name)
            if state == "offered":
                return texts.say("status_offered", lang, ticket=number)
            if not engine.queue.anyone_online():
                key = self.offline_key("status")
                return texts.say(key, lang, ticket=number, hours=self.away_text(lang))
            position = engine.queue.position(conversation.id)
            seconds = self.expected_wait(position, ticket)
            # Remembered (in memory only) so the next message to this ticket cannot jump.
            if seconds is not None:
                ticket.told_wait, ticket.told_position = seconds, position
            waited = engine.clock() - ticket.requested_at
            return texts.say(
                "status_queued",
                lang,
                ticket=number,
                position=position,
                wait=self.wait_text(seconds, lang, waited=waited),
            )
        last = engine.history.last_resolved(turn.customer.id)
        if last is None:
            return texts.say("status_none", lang)
        date = engine.settings.calendar.local_time(last.resolved_at)
        return texts.say(
            "status_resolved", lang, ticket=label(last.number, last.conversation_id), date=date
        )
