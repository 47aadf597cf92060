"""The customer's "status" / "进度" command: where is my ticket? Answered on any channel,
whoever owns the conversation, in the customer's language."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from handoff.messages import wait_text
from handoff.sentiment import language_of
from hub.abc import Turn
from hub.model import ConversationStatus, Outbound

if TYPE_CHECKING:
    from handoff.engine import HandoffEngine
    from handoff.queue import Ticket


class StatusReporter:
    def __init__(self, engine: HandoffEngine) -> None:
        self.engine = engine

    def is_command(self, text: str) -> bool:
        return text.strip().casefold().rstrip("?？!！.。") in self.engine.settings.status_commands

    @staticmethod
    def language(text: str, ticket: Ticket | None) -> str:
        """Chinese when the message is; else the hand-off's language ("ok", "cancel" and
        button payloads say little about it)."""
        lang = language_of(text)
        return ticket.language if ticket is not None and lang == "en" else lang

    def wait_text(self, position: int, lang: str) -> str:
        default = self.engine.settings.routing.default_wait
        return wait_text(self.engine.queue.expected_wait(position, default), lang)

    async def reply(self, turn: Turn) -> Outbound:
        engine = self.engine
        conversation = turn.conversation
        ticket = engine.queue.tickets.get(conversation.id)
        lang = self.language(turn.inbound.text, ticket)
        texts = engine.texts
        if ticket is not None and conversation.status in (
            ConversationStatus.QUEUED,
            ConversationStatus.ASSIGNED,
        ):
            if ticket.agent_id:
                name = engine.queue.agents[ticket.agent_id].spec.name
                return texts.say("status_assigned", lang, ticket=conversation.id, agent=name)
            if ticket.offline:
                return texts.say("status_offline", lang, ticket=conversation.id)
            position = engine.queue.position(conversation.id)
            return texts.say(
                "status_queued",
                lang,
                ticket=conversation.id,
                position=position,
                wait=self.wait_text(position, lang),
            )
        last = engine.history.last_resolved(turn.customer.id)
        if last is None:
            return texts.say("status_none", lang)
        zone = engine.settings.calendar.zone
        date = dt.datetime.fromtimestamp(last.resolved_at, zone).strftime("%Y-%m-%d %H:%M")
        return texts.say("status_resolved", lang, ticket=last.conversation_id, date=date)
