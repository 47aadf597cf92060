"""Follow-up call-back tasks over the hand-off API (operator token, like the rest of it):

    GET  /api/v1/handoff/followups?agent_id=      open tasks (one agent's, or everyone's)
    POST /api/v1/handoff/followups/{conversation_id}
         {"agent_id", "outcome": "solved" | "unsolved" | "unreachable", "note"?}

The console's follow-ups page calls the same `FollowUps` service.
"""

from __future__ import annotations

from aiohttp import web

from handoff.api import HANDOFF, MAX_TEXT, PREFIX
from hub.api import operator
from hub.http import Fields, json_response, read_object

routes = web.RouteTableDef()


@routes.get(f"{PREFIX}/followups")
@operator
async def list_tasks(request: web.Request) -> web.Response:
    agent_id = request.query.get("agent_id", "")[:64]
    return json_response({"items": request.app[HANDOFF].followups.tasks(agent_id)})


@routes.post(f"{PREFIX}/followups/{{conversation_id}}")
@operator
async def record_result(request: web.Request) -> web.Response:
    body = Fields(await read_object(request))
    agent_id = body.text("agent_id", max_length=64)
    outcome = body.text("outcome", max_length=20)
    note = body.text("note", required=False, max_length=MAX_TEXT)
    conversation_id = request.match_info["conversation_id"]
    await request.app[HANDOFF].followups.record(conversation_id, agent_id, outcome, note)
    return json_response({"ok": True, "outcome": outcome})
