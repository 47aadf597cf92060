"""The agent workspace's JSON API and live socket, on the hand-off engine's Python API.

Agents see the waiting queue and their own conversations; supervisors and operators see
every open one. The routes read the hand-off as `SurfaceView` (`handoff/views.py`); every
action goes through `AgentActions` (whose writes re-check ownership under the conversation's
lock) and so through the hub: the console never talks to a channel.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from handoff.actions import Actor, AgentActions
from handoff.api import (
    ACTIONS,
    HANDOFF,
    MAX_TEXT,
    attachment_field,
    note_field,
    reassign_fields,
    transfer_fields,
)
from handoff.console.accounts import Role
from handoff.console.assist import assist
from handoff.console.auth import (
    PRINCIPAL,
    Principal,
    principal_of,
    require,
    same_origin,
    session_alive,
)
from handoff.console.canned import CannedResponses
from handoff.console.composing import for_this_console, mention_hint
from handoff.console.state import CONSOLE
from handoff.console.views import agent_view, profile, queue_by_skill, ticket_view, timeline
from handoff.feed import stream
from handoff.queue import Ticket
from handoff.views import BoardView, SurfaceView
from hub.errors import InputError
from hub.http import Fields, json_response, read_object

log = logging.getLogger("frontdesk.console.workspace")

routes = web.RouteTableDef()

CONVERSATION = "/console/api/conversations/{conversation_id}"
TIMELINE_LIMIT = 2000


def _engine(request: web.Request) -> SurfaceView:
    engine = request.app.get(HANDOFF)
    if engine is None:
        raise InputError("the hand-off is not enabled (bot.handoff_path)", status=503)
    return engine


def _ticket(request: web.Request) -> Ticket:
    return request.app[ACTIONS].ticket(_actor(request), request.match_info["conversation_id"])


def snapshot(engine: BoardView, principal: Principal, now: float) -> dict[str, Any]:
    """Everything the workspace's lists show, in one read of the in-memory index."""
    me = principal.account.id
    waiting = list(engine.queue.waiting())
    mine = [ticket_view(t, now) for t in engine.queue.tickets.values() if t.agent_id == me]
    agent = engine.queue.agents.get(me)
    data: dict[str, Any] = {
        "now": now,
        "me": {
            **principal.account.public(),
            "agent": agent_view(agent) if agent else None,
        },
        "mine": sorted(mine, key=lambda v: (v["accepted"], v["requested_at"])),
        "queue": [ticket_view(t, now, position=i) for i, t in enumerate(waiting, start=1)],
    }
    if principal.role.allows(Role.SUPERVISOR):
        data["assigned"] = [
            ticket_view(t, now) for t in engine.queue.tickets.values() if t.agent_id
        ]
        data["agents"] = [agent_view(a) for a in engine.queue.agents.values()]
        data["by_skill"] = queue_by_skill(waiting)
        data["alerts"] = dict(engine.counters)
    return data


@routes.get("/console/api/snapshot")
@require(Role.AGENT)
async def get_snapshot(request: web.Request) -> web.Response:
    state = request.app[CONSOLE]
    return json_response(snapshot(_engine(request), principal_of(request), state.clock()))


@routes.get(CONVERSATION)
@require(Role.AGENT)
async def get_conversation(request: web.Request) -> web.Response:
    """Summary, timeline, the customer's profile and the canned responses for this one."""
    state = request.app[CONSOLE]
    engine = _engine(request)
    ticket = _ticket(request)
    details = await engine.details(ticket.conversation_id)
    store = state.hub.store
    conversation = await store.get_conversation(ticket.conversation_id)
    customer = await store.get_customer(ticket.customer_id)
    if conversation is None or customer is None:
        raise InputError("no open hand-off for this conversation", status=404)
    events = await store.events(ticket.conversation_id, limit=TIMELINE_LIMIT)
    events = request.app[ACTIONS].visible_events(_actor(request), events)  # whispers
    principal = principal_of(request)
    values = {
        "customer": {"name": str(customer.attributes.get("name", ""))},
        "agent": {"name": principal.account.name, "id": principal.account.id},
        "conversation": {"channel": conversation.channel, "language": ticket.language},
    }
    canned = CannedResponses(state.settings.canned_path).render(ticket.language, values)
    return json_response(
        {
            "now": state.clock(),
            "ticket": ticket_view(ticket, state.clock()),
            "summary": details["summary"],
            "summary_text": details["summary_text"],
            "timeline": timeline(events, channel=conversation.channel),
            "profile": profile(customer, await store.customer_conversations(customer.id)),
            "canned": [{"name": c.name, "title": c.title, "text": c.text} for c in canned],
            "assist": assist(request, events, canned, ticket.language),
        }
    )


async def _body(request: web.Request) -> Fields:
    return Fields(await read_object(request))


def _done(**extra: object) -> web.Response:
    return json_response({"ok": True, **extra})


def _actor(request: web.Request) -> Actor:
    """The signed-in account acts; supervisors and operators see every open conversation."""
    principal = principal_of(request)
    return Actor(principal.account.id, sees_all=principal.role.allows(Role.SUPERVISOR))


def _call(request: web.Request) -> tuple[AgentActions, Actor, str]:
    _engine(request)  # a 503 without the hand-off
    return request.app[ACTIONS], _actor(request), request.match_info["conversation_id"]


@routes.post(CONVERSATION + "/accept")
@require(Role.AGENT)
async def accept(request: web.Request) -> web.Response:
    actions, actor, conversation_id = _call(request)
    await actions.accept(actor, conversation_id)
    return _done()


@routes.post(CONVERSATION + "/reply")
@require(Role.AGENT)
async def reply(request: web.Request) -> web.Response:
    actions, actor, conversation_id = _call(request)
    actions.ticket(actor, conversation_id)  # 404 before the body is read, as always
    body = await _body(request)
    # Files are uploaded first (console/files.py); a reply with files may have no text.
    attachments = await attachment_field(request, body, conversation_id)
    text = body.text("text", max_length=MAX_TEXT, required=not attachments)
    await actions.reply(actor, conversation_id, text, attachments=attachments)
    return _done()


@routes.post(CONVERSATION + "/note")
@require(Role.AGENT)
async def note(request: web.Request) -> web.Response:
    actions, actor, conversation_id = _call(request)
    actions.ticket(actor, conversation_id)
    text = (await _body(request)).text("text", max_length=MAX_TEXT)
    await actions.note(actor, conversation_id, text)
    return _done()


@routes.post(CONVERSATION + "/transfer")
@require(Role.AGENT)
async def transfer(request: web.Request) -> web.Response:
    actions, actor, conversation_id = _call(request)
    actions.ticket(actor, conversation_id)
    fields = transfer_fields(await _body(request))
    await actions.transfer(actor, conversation_id, **fields)
    return _done()


@routes.post(CONVERSATION + "/resolve")
@require(Role.AGENT)
async def resolve(request: web.Request) -> web.Response:
    actions, actor, conversation_id = _call(request)
    actions.ticket(actor, conversation_id)
    await actions.resolve(actor, conversation_id, note_field(await _body(request)))
    return _done()


@routes.post(CONVERSATION + "/handback")
@require(Role.AGENT)
async def hand_back(request: web.Request) -> web.Response:
    actions, actor, conversation_id = _call(request)
    actions.ticket(actor, conversation_id)
    await actions.hand_back(actor, conversation_id, note_field(await _body(request)))
    return _done()


@routes.post(CONVERSATION + "/reassign")
@require(Role.SUPERVISOR)
async def reassign(request: web.Request) -> web.Response:
    actions, actor, conversation_id = _call(request)
    actions.ticket(actor, conversation_id)
    fields = reassign_fields(await _body(request))
    await actions.reassign(actor, conversation_id, *fields)
    return _done()


@routes.post("/console/api/presence")
@require(Role.AGENT)
async def set_presence(request: web.Request) -> web.Response:
    _engine(request)  # a 503 without the hand-off
    value = (await _body(request)).text("presence", max_length=16)
    presence = request.app[ACTIONS].set_presence(_actor(request), value)
    return _done(presence=presence.value)


@routes.get("/console/ws")
@require(Role.AGENT)
async def live(request: web.Request) -> web.StreamResponse:
    """The hand-off feed, for this browser. Messages are hints to refresh; what an agent
    may see is always read again through the guarded JSON routes."""
    if not same_origin(request):
        raise InputError("cross-site WebSocket refused", status=403)
    engine = _engine(request)
    state = request.app[CONSOLE]
    session_key = request[PRINCIPAL].session.key

    async def still_signed_in() -> bool:
        # Logging out, an expired session or a disabled account ends the live feed too.
        return await session_alive(state, session_key)

    ws = web.WebSocketResponse(heartbeat=30.0)
    await ws.prepare(request)
    await stream(
        ws,
        engine.feed,
        hello={"type": "hello"},
        shape=_hint,
        wants=for_this_console(engine, _actor(request)),
        still_allowed=still_signed_in,
        recheck=state.settings.socket_recheck,
    )
    return ws


def _hint(message: dict[str, Any]) -> dict[str, Any]:
    """Only ids and kinds leave through the socket: no message text, no customer data."""
    hint: dict[str, Any] = {"type": message.get("type", "")}
    for key in ("change", "conversation_id", "agent_id", "alert", "kind", "presence", "side", "on"):
        if key in message:
            hint[key] = message[key]
    event = message.get("event")
    if isinstance(event, dict):
        hint["conversation_id"] = event.get("conversation_id", "")
        hint["event"] = event.get("type", "")
        hint.update(mention_hint(event))
    ticket = message.get("ticket")
    if isinstance(ticket, dict):
        hint["assigned_to"] = ticket.get("agent_id", "")
    return hint
