"""Typing both ways and mentions, for the workspace.

    POST /console/api/conversations/{id}/typing   {"on": true | false}  the agent types

The agent's typing goes through `AgentActions.typing` to the hub, which asks the customer's
channel to show it (web chat: a `typing` frame; Telegram: `sendChatAction`). The customer's
typing comes from the hub's typing listeners onto the live feed as a hint (ids only), and
the console shows "Customer is typing…". Nothing of either is logged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from handoff.actions import Actor
from handoff.api import ACTIONS, HANDOFF
from handoff.console.accounts import Role
from handoff.console.auth import principal_of, require
from handoff.views import QueueView, TypingView
from hub.errors import InputError
from hub.http import json_response, read_object
from hub.signals import Side, Typing, TypingListener

routes = web.RouteTableDef()


@routes.post("/console/api/conversations/{conversation_id}/typing")
@require(Role.AGENT)
async def agent_typing(request: web.Request) -> web.Response:
    engine = request.app.get(HANDOFF)
    if engine is None:
        raise InputError("the hand-off is not enabled (bot.handoff_path)", status=503)
    principal = principal_of(request)
    actor = Actor(principal.account.id, sees_all=principal.role.allows(Role.SUPERVISOR))
    conversation_id = request.match_info["conversation_id"]
    actions = request.app[ACTIONS]
    actions.ticket(actor, conversation_id)  # 404 before the body is read, as every action
    body = await read_object(request)
    on = body.get("on", True) if isinstance(body, dict) else None
    if not isinstance(on, bool):
        raise InputError("field 'on' must be true or false", status=422)
    sent = await actions.typing(actor, conversation_id, on=on)
    return json_response({"ok": True, "sent": sent})


def customer_typing_to_feed(engine: TypingView) -> TypingListener:
    """A hub typing listener: a customer typing in a handed-off conversation becomes a
    `typing` hint on the live feed (the bot's conversations are nobody's business here)."""

    def publish(signal: Typing) -> None:
        if signal.side is Side.CUSTOMER and signal.conversation_id in engine.queue.tickets:
            engine.feed.publish({"type": "typing", **signal.to_json()})

    return publish


def for_this_console(engine: QueueView, actor: Actor) -> Callable[[dict[str, Any]], bool]:
    """Which feed messages one console wants: typing hints (many, and only of use to whoever
    has the conversation open) for the agent holding the conversation and for supervisors;
    everything else, everyone."""

    def wants(message: dict[str, Any]) -> bool:
        if message.get("type") != "typing" or actor.sees_all:
            return True
        ticket = engine.queue.tickets.get(str(message.get("conversation_id", "")))
        return ticket is not None and ticket.agent_id == actor.agent_id

    return wants


def mention_hint(event: Mapping[str, Any]) -> dict[str, Any]:
    """For a note's feed hint: who it mentions and who wrote it (ids only, never the text),
    so a mentioned agent's console can notify them."""
    data = event.get("data")
    if event.get("type") != "handoff.note" or not isinstance(data, dict):
        return {}
    mentioned = data.get("mentions")
    if not isinstance(mentioned, list) or not mentioned:
        return {}
    return {"mentions": [str(m) for m in mentioned], "by": str(data.get("agent_id", ""))}
