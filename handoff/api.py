"""The hand-off API under /api/v1/handoff/ (operator token for now; every action names its
`agent_id` explicitly, so agent accounts with roles can replace the token later), and the
live WebSocket feed at /api/v1/handoff/feed (bearer header; never a token in the URL, where
proxies and logs would keep it).

    GET  queue                                  waiting and assigned tickets, in queue order
    GET  agents · POST agents                   list / add or change an agent (the YAML's fields;
                                                 kept in the console's accounts: see `ROSTER`)
    PUT  agents/{agent_id}/presence             {"presence": "online" | "away" | "offline"}
    GET  conversations/{id}                     ticket, summary (JSON + text), transcript
    POST conversations/{id}/accept              {"agent_id"}  offered to them, or waiting ("Take")
    POST conversations/{id}/attachments         multipart `file` (+ ?agent_id=): a file for a reply
    POST conversations/{id}/reply               {"agent_id", "text", "buttons"?: [{title, payload}],
                                                 "attachments"?: [id]}  (text optional with files)
    GET  attachments/{id}                       a stored file (images inline, others download)
    POST conversations/{id}/note                {"agent_id", "text"}   internal, never sent
    POST conversations/{id}/transfer            {"agent_id", "to_agent" | "to_skill", "note"?}
    POST conversations/{id}/reassign            {"supervisor_id", "to_agent", "note"?}  assigns, or 409
    POST conversations/{id}/join                {"supervisor_id"}  a participant who may reply
    POST conversations/{id}/whisper             {"supervisor_id", "text"}  to the agent only
    POST conversations/{id}/resolve             {"agent_id", "note"?}
    POST conversations/{id}/handback            {"agent_id", "note"?}
    GET  stats                                  SLA alert counts, waiting, pick-up times
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from handoff.actions import Actor, AgentActions
from handoff.feed import stream
from handoff.settings import AgentSpec, agent_spec, raw_section
from handoff.views import SurfaceView
from hub.api import API_TOKEN, operator
from hub.attachments import conversation_files
from hub.attachments_http import attachment_store, serve_stored, upload_response
from hub.errors import ConfigError, InputError
from hub.http import Fields, json_response, read_object, require_bearer
from hub.model import Attachment, Button

# What the routes read of the hand-off (the composition root puts the engine here).
HANDOFF = web.AppKey[SurfaceView]("handoff")
# The one service of agent actions, whichever surface (this API, the console) calls it.
ACTIONS = web.AppKey("handoff_actions", AgentActions)
# Who the agents are is kept in one place, the console's account store; the console (installed
# after the hand-off, and owner of that store) puts here what `POST agents` calls: write the
# account first, then make the engine follow; it returns the agent as the engine now has it,
# and whether the account is new. Without the console there is no store, and the agent lives
# in the running processes only.
PutAgent = Callable[[AgentSpec], Awaitable[tuple[AgentSpec, bool]]]
ROSTER = web.AppKey[PutAgent]("handoff_roster")
PREFIX = "/api/v1/handoff"
MAX_TEXT = 4000
MAX_FILES = 10  # per reply

routes = web.RouteTableDef()


def _engine(request: web.Request) -> SurfaceView:
    return request.app[HANDOFF]


async def _body(request: web.Request) -> Fields:
    return Fields(await read_object(request))


def _actions(request: web.Request) -> AgentActions:
    return request.app[ACTIONS]


async def attachment_field(
    request: web.Request, body: Fields, conversation_id: str
) -> tuple[Attachment, ...]:
    """The optional `attachments` of a reply (both surfaces): ids of files uploaded into
    this conversation first; a 404 names one that is not."""
    ids = body.items("attachments", max_items=MAX_FILES)
    if not ids:
        return ()
    if not all(isinstance(i, str) for i in ids):
        raise InputError("field 'attachments' must be a list of attachment ids", status=422)
    store = attachment_store(request)
    return await conversation_files(store, ids, conversation_id=conversation_id)


def note_field(body: Fields) -> str:
    """The optional `note` of resolve, hand back, transfer and reassign (both surfaces)."""
    return body.text("note", required=False, max_length=MAX_TEXT)


def transfer_fields(body: Fields) -> dict[str, str]:
    """`to_agent` or `to_skill`, and `note`: a transfer's fields on both surfaces."""
    return {
        "to_agent": body.text("to_agent", required=False, max_length=64),
        "to_skill": body.text("to_skill", required=False, max_length=64),
        "note": note_field(body),
    }


def reassign_fields(body: Fields) -> tuple[str, str]:
    """`to_agent` and `note`: a reassign's fields on both surfaces."""
    return body.text("to_agent", max_length=64), note_field(body)


def _ok(**extra: object) -> web.Response:
    return json_response({"ok": True, **extra})


@routes.get(f"{PREFIX}/queue")
@operator
async def get_queue(request: web.Request) -> web.Response:
    engine = _engine(request)
    waiting = [
        {**t.to_json(), "position": i} for i, t in enumerate(engine.queue.waiting(), start=1)
    ]
    assigned = [t.to_json() for t in engine.queue.tickets.values() if not t.waiting]
    return json_response({"waiting": waiting, "assigned": assigned})


@routes.get(f"{PREFIX}/agents")
@operator
async def list_agents(request: web.Request) -> web.Response:
    agents = _engine(request).queue.agents.values()
    return json_response({"items": [a.to_json() for a in agents]})


@routes.post(f"{PREFIX}/agents")
@operator
async def add_agent(request: web.Request) -> web.Response:
    """Add an agent (201), or change one (200: a whole new name and routing profile):
    validated like `handoff.yaml`'s `agents:`, so a bad field is a 422 that names it and
    writes nothing."""
    body = await read_object(request)
    try:
        spec = agent_spec(raw_section(body, key="agent"))
    except ConfigError as error:
        raise InputError(f"{error.key}: {error.message}", status=422) from None
    put = request.app.get(ROSTER)
    if put is None:  # no console, no account store: here and on the running processes only
        created = spec.id not in _engine(request).queue.agents
        _actions(request).writes.add_agent(spec)
    else:
        spec, created = await put(spec)
    agent = _engine(request).queue.agents[spec.id].to_json()
    return json_response(agent, status=201 if created else 200)


@routes.put(f"{PREFIX}/agents/{{agent_id}}/presence")
@operator
async def set_presence(request: web.Request) -> web.Response:
    text = (await _body(request)).text("presence", max_length=20)
    presence = _actions(request).set_presence(Actor(request.match_info["agent_id"]), text)
    return _ok(presence=presence.value)


@routes.get(f"{PREFIX}/conversations/{{conversation_id}}")
@operator
async def get_details(request: web.Request) -> web.Response:
    return json_response(await _engine(request).details(request.match_info["conversation_id"]))


def _id(request: web.Request) -> str:
    return request.match_info["conversation_id"]


@routes.post(f"{PREFIX}/conversations/{{conversation_id}}/accept")
@operator
async def accept(request: web.Request) -> web.Response:
    actor = Actor((await _body(request)).text("agent_id", max_length=64))
    return json_response((await _actions(request).accept(actor, _id(request))).details)


@routes.post(f"{PREFIX}/conversations/{{conversation_id}}/reply")
@operator
async def reply(request: web.Request) -> web.Response:
    body = await _body(request)
    buttons = []
    for index, raw in enumerate(body.items("buttons", max_items=10)):
        button = Fields(raw, what=f"buttons[{index}]")
        buttons.append(
            Button(title=button.text("title", max_length=64), payload=button.text("payload"))
        )
    actor = Actor(body.text("agent_id", max_length=64))
    attachments = await attachment_field(request, body, _id(request))
    text = body.text("text", max_length=MAX_TEXT, required=not attachments)
    await _actions(request).reply(actor, _id(request), text, buttons, attachments)
    return _ok()


@routes.post(f"{PREFIX}/conversations/{{conversation_id}}/attachments")
@operator
async def upload(request: web.Request) -> web.Response:
    """A file for a reply, uploaded as `agent_id` (a query parameter: the body is the file)."""
    agent_id = request.query.get("agent_id", "")
    if not agent_id or len(agent_id) > 64:
        raise InputError(
            "query parameter 'agent_id' is required (at most 64 characters)", status=422
        )
    _actions(request).ticket(Actor(agent_id), _id(request))
    return await upload_response(
        request,
        attachment_store(request),
        uploader=f"agent:{agent_id}",
        conversation_id=_id(request),
    )


@routes.get(f"{PREFIX}/attachments/{{attachment_id}}")
@operator
async def download(request: web.Request) -> web.Response:
    return await serve_stored(attachment_store(request), request.match_info["attachment_id"])


@routes.post(f"{PREFIX}/conversations/{{conversation_id}}/note")
@operator
async def note(request: web.Request) -> web.Response:
    body = await _body(request)
    actor = Actor(body.text("agent_id", max_length=64))
    await _actions(request).note(actor, _id(request), body.text("text", max_length=MAX_TEXT))
    return _ok()


@routes.post(f"{PREFIX}/conversations/{{conversation_id}}/transfer")
@operator
async def transfer(request: web.Request) -> web.Response:
    body = await _body(request)
    await _actions(request).transfer(
        Actor(body.text("agent_id", max_length=64)), _id(request), **transfer_fields(body)
    )
    return _ok()


@routes.post(f"{PREFIX}/conversations/{{conversation_id}}/reassign")
@operator
async def reassign(request: web.Request) -> web.Response:
    body = await _body(request)
    actor = Actor(body.text("supervisor_id", max_length=64))
    await _actions(request).reassign(actor, _id(request), *reassign_fields(body))
    return _ok()


@routes.post(f"{PREFIX}/conversations/{{conversation_id}}/join")
@operator
async def join(request: web.Request) -> web.Response:
    actor = Actor((await _body(request)).text("supervisor_id", max_length=64))
    await _actions(request).join(actor, _id(request))
    return _ok()


@routes.post(f"{PREFIX}/conversations/{{conversation_id}}/whisper")
@operator
async def whisper(request: web.Request) -> web.Response:
    body = await _body(request)
    actor = Actor(body.text("supervisor_id", max_length=64))
    await _actions(request).whisper(actor, _id(request), body.text("text", max_length=MAX_TEXT))
    return _ok()


@routes.post(f"{PREFIX}/conversations/{{conversation_id}}/resolve")
@operator
async def resolve(request: web.Request) -> web.Response:
    body = await _body(request)
    actor = Actor(body.text("agent_id", max_length=64))
    await _actions(request).resolve(actor, _id(request), note_field(body))
    return _ok()


@routes.post(f"{PREFIX}/conversations/{{conversation_id}}/handback")
@operator
async def hand_back(request: web.Request) -> web.Response:
    body = await _body(request)
    actor = Actor(body.text("agent_id", max_length=64))
    await _actions(request).hand_back(actor, _id(request), note_field(body))
    return _ok()


@routes.get(f"{PREFIX}/stats")
@operator
async def stats(request: web.Request) -> web.Response:
    engine = _engine(request)
    return json_response(
        {
            "alerts": dict(engine.counters),
            "waiting": sum(1 for _ in engine.queue.waiting()),
            "assigned": sum(1 for t in engine.queue.tickets.values() if not t.waiting),
            "recent_pickup_seconds": list(engine.queue.pickups),
        }
    )


@routes.get(f"{PREFIX}/feed")
async def feed(request: web.Request) -> web.StreamResponse:
    """Queue and conversation changes as JSON text frames, until either side closes."""
    if "token" in request.query:
        raise InputError("put the token in the Authorization header, not in the URL", status=400)
    require_bearer(request, request.app[API_TOKEN], realm="Frontdesk API")
    engine = _engine(request)
    ws = web.WebSocketResponse(heartbeat=30.0)
    await ws.prepare(request)
    waiting = sum(1 for _ in engine.queue.waiting())
    await stream(ws, engine.feed, hello={"type": "hello", "waiting": waiting})
    return ws
