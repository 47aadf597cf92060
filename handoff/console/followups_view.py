"""Follow-up call-back tasks in the console: an agent sees their own (a supervisor everyone's)
and records what came of each call; the same `FollowUps.record` the API calls."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from handoff.api import HANDOFF
from handoff.console.accounts import Role
from handoff.console.auth import principal_of, require
from handoff.console.render import render
from hub.errors import InputError

routes = web.RouteTableDef()
MAX_NOTE = 4000


def _page(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    principal = principal_of(request)
    engine = request.app.get(HANDOFF)
    supervisor = principal.account.role.allows(Role.SUPERVISOR)
    tasks = []
    if engine is not None:
        zone = engine.settings.calendar.zone
        for task in engine.followups.tasks("" if supervisor else principal.account.id):
            day = dt.datetime.fromtimestamp(float(task["resolved_at"]), zone).date()
            tasks.append({**task, "resolved_day": day.isoformat()})
    return render(
        request,
        "followups.html",
        language=principal.account.language,
        status=status,
        me=principal.account.public(),
        csrf=principal.session.csrf,
        tasks=tasks,
        error=error,
    )


@routes.get("/console/followups")
@require(Role.AGENT, page=True)
async def followups_page(request: web.Request) -> web.StreamResponse:
    return _page(request)


@routes.post("/console/followups/{conversation_id}")
@require(Role.AGENT, page=True)
async def record_result(request: web.Request) -> web.StreamResponse:
    """The form of one task: the outcome and a note; back to the list when recorded, the
    list with the reason when not (someone recorded it first, an unknown outcome …)."""
    engine = request.app.get(HANDOFF)
    if engine is None:
        raise web.HTTPNotFound(text="no hand-off on this hub")
    principal = principal_of(request)
    form = await request.post()
    outcome, note = str(form.get("outcome", ""))[:20], str(form.get("note", ""))
    conversation_id = request.match_info["conversation_id"]
    task = next(
        (t for t in engine.followups.tasks() if t["conversation_id"] == conversation_id), None
    )
    supervisor = principal.account.role.allows(Role.SUPERVISOR)
    if task is not None and task["agent_id"] != principal.account.id and not supervisor:
        return _page(request, error="this follow-up is another agent's", status=403)
    try:
        if len(note) > MAX_NOTE:
            raise InputError(f"the note must be at most {MAX_NOTE} characters")
        # Recorded as who did it: the agent, or a supervisor who called instead.
        await engine.followups.record(conversation_id, principal.account.id, outcome, note.strip())
    except InputError as error:
        return _page(request, error=error.message, status=error.status)
    raise web.HTTPSeeOther("/console/followups")
