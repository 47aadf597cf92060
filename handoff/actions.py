"""The agent actions, written once: the REST hand-off API and the console's workspace are
thin adapters over `AgentActions` (parse → call → render), so the two surfaces cannot drift.

Each method takes the acting agent (`Actor`) and typed arguments, and either returns a typed
result or raises `ActionError`, which carries the HTTP status and a reason in English and
Chinese. The write (`handoff.agent_actions`) re-checks ownership under the conversation's
lock; this layer adds what both surfaces share: who may see which conversation, presence parsing, argument checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from handoff.agent_actions import HandoffActions
from handoff.mentions import mentions
from handoff.queue import Presence, Ticket
from handoff.views import ActingView
from hub.errors import InputError
from hub.model import Attachment, Button, Event

# A reason in Chinese for the engine's refusals, by status: the English message keeps the
# specifics (agent names, the queue's exact refusal), which both surfaces already show.
_ZH_BY_STATUS = {
    400: "请求无效",
    403: "无权执行此操作",
    404: "找不到该会话或客服",
    409: "当前无法执行此操作",
    422: "字段无效",
}
WHISPER = "handoff.whisper"
NOT_FOUND_EN = "no open hand-off for this conversation"
NOT_FOUND_ZH = "该会话没有进行中的人工接待"


class ActionError(InputError):
    """An action refused: `status` is the HTTP status, `message` the English reason (what
    the APIs answer with), `message_zh` the same reason in Chinese."""

    def __init__(self, message: str, message_zh: str, *, status: int) -> None:
        super().__init__(message, status=status)
        self.message_zh = message_zh

    @classmethod
    def from_input(cls, error: InputError) -> ActionError:
        if isinstance(error, ActionError):
            return error
        zh = _ZH_BY_STATUS.get(error.status, "操作失败")
        return cls(error.message, f"{zh}：{error.message}", status=error.status)

    def reason(self, language: str) -> str:
        return self.message_zh if language == "zh" else self.message


@contextmanager
def _refusals() -> Iterator[None]:
    """The engine's refusals (`InputError`), as `ActionError`s."""
    try:
        yield
    except InputError as error:
        raise ActionError.from_input(error) from None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts. `sees_all`: supervisors and the operator token see every open conversation;
    an agent sees the waiting queue and their own, and others' look like no conversation."""

    agent_id: str
    sees_all: bool = True


def may_see(actor: Actor, ticket: Ticket) -> bool:
    """The one visibility rule (actions, the conversation list, search): everything for
    supervisors, else the waiting queue, the actor's own conversations and those a note
    mentioned them in."""
    return (
        actor.sees_all
        or ticket.waiting
        or ticket.agent_id == actor.agent_id
        or actor.agent_id in ticket.mentioned  # mentioned in a note: may read it
    )


def may_read(actor: Actor, customer_id: str, tickets: Iterable[Ticket]) -> bool:
    """Whether `actor` may read this customer's record and every conversation of theirs,
    open, closed or bot-only (never act on them): supervisors always, agents while one of
    the customer's hand-offs is visible to them or joined by them (the contact panel, the
    read-only transcript, search results)."""
    return actor.sees_all or any(
        t.customer_id == customer_id and (may_see(actor, t) or actor.agent_id in t.participants)
        for t in tickets
    )


@dataclass(frozen=True, slots=True)
class Done:
    """An action that changed (or, idempotently, confirmed) the conversation."""

    conversation_id: str


@dataclass(frozen=True, slots=True)
class Accepted(Done):
    """The agent holds the conversation; `details` are its summary, ticket and transcript."""

    details: dict[str, Any]


class AgentActions:
    """Every agent action, one method each: who may act (`Actor`), then the write
    (`HandoffActions`). Built once, with the hand-off (`handoff.install`)."""

    def __init__(self, engine: ActingView, writes: HandoffActions) -> None:
        self.engine = engine
        self.writes = writes

    def ticket(self, actor: Actor, conversation_id: str) -> Ticket:
        """The open ticket `actor` may see, or a 404 (not-found and not-yours look the same:
        ids of others' conversations are not confirmed)."""
        ticket = self.engine.queue.tickets.get(conversation_id)
        if ticket is None or not may_see(actor, ticket):
            raise ActionError(NOT_FOUND_EN, NOT_FOUND_ZH, status=404)
        return ticket

    async def accept(self, actor: Actor, conversation_id: str) -> Accepted:
        """Accept an offer, or take a waiting conversation from the queue ("Take")."""
        self.ticket(actor, conversation_id)
        with _refusals():
            details = await self.writes.accept(conversation_id, actor.agent_id)
        return Accepted(conversation_id, details)

    async def reply(
        self,
        actor: Actor,
        conversation_id: str,
        text: str,
        buttons: Sequence[Button] = (),
        attachments: Sequence[Attachment] = (),
    ) -> Done:
        """`attachments` are references to files already stored for this conversation."""
        self.ticket(actor, conversation_id)
        with _refusals():
            await self.writes.reply(conversation_id, actor.agent_id, text, buttons, attachments)
        return Done(conversation_id)

    async def note(self, actor: Actor, conversation_id: str, text: str) -> Done:
        """An internal note: logged for the team, never sent to the customer. Agents it
        mentions (`@mei`) are recorded with it: their consoles notify them, and they may
        open the conversation to read it."""
        self.ticket(actor, conversation_id)
        mentioned = mentions(text, self.engine.queue.agents, author=actor.agent_id)
        with _refusals():
            await self.writes.note(conversation_id, actor.agent_id, text, mentions=mentioned)
        return Done(conversation_id)

    async def typing(self, actor: Actor, conversation_id: str, *, on: bool = True) -> bool:
        """The agent holding the conversation is typing a reply (`on`) or stopped: the
        customer's channel shows it if it can. Ephemeral and rate-limited (`hub.signals`);
        from anyone else (a supervisor reading along) it is ignored. Returns whether a
        signal went out."""
        ticket = self.ticket(actor, conversation_id)
        if ticket.agent_id != actor.agent_id or not ticket.accepted:
            return False
        return await self.engine.hub.agent_typing(conversation_id, on=on)

    async def transfer(
        self,
        actor: Actor,
        conversation_id: str,
        *,
        to_agent: str = "",
        to_skill: str = "",
        note: str = "",
    ) -> Done:
        """Back to the queue, for one agent or one skill (exactly one of the two)."""
        self.ticket(actor, conversation_id)
        if bool(to_agent) == bool(to_skill):
            raise ActionError(
                "give exactly one of 'to_agent' or 'to_skill'",
                "请只填写 'to_agent' 或 'to_skill' 其中之一",
                status=400,
            )
        with _refusals():
            await self.writes.transfer(
                conversation_id, actor.agent_id, to_agent=to_agent, to_skill=to_skill, note=note
            )
        return Done(conversation_id)

    async def reassign(
        self, actor: Actor, conversation_id: str, to_agent: str, note: str = ""
    ) -> Done:
        """A supervisor gives the conversation to `to_agent`: assigned at once, or a 409."""
        self.ticket(actor, conversation_id)
        with _refusals():
            await self.writes.reassign(conversation_id, actor.agent_id, to_agent, note)
        return Done(conversation_id)

    async def join(self, actor: Actor, conversation_id: str) -> Done:
        """A supervisor joins an assigned conversation: a participant who may reply."""
        self.ticket(actor, conversation_id)
        with _refusals():
            await self.writes.join(conversation_id, actor.agent_id)
        return Done(conversation_id)

    async def whisper(self, actor: Actor, conversation_id: str, text: str) -> Done:
        """A supervisor's note for the conversation's agent only; never sent to the customer."""
        self.ticket(actor, conversation_id)
        with _refusals():
            await self.writes.whisper(conversation_id, actor.agent_id, text)
        return Done(conversation_id)

    def visible_events(self, actor: Actor, events: Sequence[Event]) -> list[Event]:
        """The events `actor` may read: a whisper only by the agent it is meant for and by
        those who see every conversation (supervisors, the operator token)."""
        return [
            e
            for e in events
            if e.type != WHISPER or actor.sees_all or e.data.get("to_agent") == actor.agent_id
        ]

    async def resolve(self, actor: Actor, conversation_id: str, note: str = "") -> Done:
        self.ticket(actor, conversation_id)
        with _refusals():
            await self.writes.resolve(conversation_id, actor.agent_id, note)
        return Done(conversation_id)

    async def hand_back(self, actor: Actor, conversation_id: str, note: str = "") -> Done:
        """The bot resumes the conversation."""
        self.ticket(actor, conversation_id)
        with _refusals():
            await self.writes.hand_back(conversation_id, actor.agent_id, note)
        return Done(conversation_id)

    def set_presence(self, actor: Actor, value: str) -> Presence:
        """`value` is "online", "away" or "offline"; a 422 names the allowed ones."""
        try:
            presence = Presence(value)
        except ValueError:
            allowed = ", ".join(p.value for p in Presence)
            raise ActionError(
                f"field 'presence' must be one of {allowed}",
                f"字段 'presence' 必须是以下之一：{allowed}",
                status=422,
            ) from None
        with _refusals():
            self.writes.set_presence(actor.agent_id, presence)
        return presence
