"""Supervisors edit who an agent is from the console: `PUT /console/api/agents/{id}` with the
routing profile (skills, languages, capacity, team). The account store is written first and
the engine follows at once; roles stay with operators (`frontdesk agents set --role`).
Bad input is a 422 that names the field and writes nothing."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from aiohttp import web

from handoff.api import ACTIONS
from handoff.console.accounts import LANGUAGES, AgentProfile, Role, update
from handoff.console.auth import principal_of, require
from handoff.console.roster import follow
from handoff.console.state import CONSOLE
from hub.errors import InputError
from hub.http import Fields, json_response, read_object

log = logging.getLogger("frontdesk.console.profiles")

routes = web.RouteTableDef()

SKILL = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_SKILLS = 20


def profile_from(body: Fields) -> AgentProfile:
    """The profile a request body describes (every field required: the form sends them all)."""
    skills = body.items("skills", max_items=MAX_SKILLS)
    if not all(isinstance(s, str) and SKILL.match(s) for s in skills):
        raise InputError(
            "field 'skills' must be a list of names of 1-40 letters, digits, '-' or '_'",
            status=422,
        )
    languages = body.items("languages", max_items=len(LANGUAGES))
    if not languages or not all(isinstance(x, str) and x in LANGUAGES for x in languages):
        raise InputError(
            f"field 'languages' must list one or more of {', '.join(LANGUAGES)}", status=422
        )
    capacity = body.number("capacity", default=0.0)  # a float: int has no is_integer() on 3.11
    if not capacity.is_integer() or not 1 <= capacity <= 100:
        raise InputError("field 'capacity' must be a whole number from 1 to 100", status=422)
    return AgentProfile(
        skills=tuple(sorted(set(skills))),
        languages=tuple(sorted(set(languages))),
        capacity=int(capacity),
        team=body.text("team", required=False, max_length=80).strip(),
    )


@routes.put("/console/api/agents/{agent_id}")
@require(Role.SUPERVISOR)
async def edit_agent(request: web.Request) -> web.Response:
    state = request.app[CONSOLE]
    profile = profile_from(Fields(await read_object(request)))
    account = await update(
        state.accounts,
        request.match_info["agent_id"],
        lambda account: replace(account, agent=profile, updated_at=state.clock()),
    )
    if account is None:
        raise InputError("no such agent", status=404)
    follow(request.app.get(ACTIONS), account)
    log.info(
        "agent profile changed",
        extra={"agent_id": account.id, "by": principal_of(request).account.id},
    )
    return json_response({"ok": True, "agent": profile.to_json()})
