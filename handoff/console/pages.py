"""The console's pages and its account endpoints (the workspace itself lives in `workspace.py`)."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from handoff.console.accounts import LANGUAGES, Role, update
from handoff.console.auth import principal_of, require
from handoff.console.render import render
from handoff.console.state import CONSOLE
from hub.errors import InputError
from hub.http import Fields, json_response, read_object

routes = web.RouteTableDef()


@routes.get("/console")
async def bare(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently("/console/")


@routes.get("/console/")
@require(Role.AGENT, page=True)
async def workspace(request: web.Request) -> web.StreamResponse:
    principal = principal_of(request)
    return render(
        request,
        "workspace.html",
        language=principal.account.language,
        me=principal.account.public(),
        csrf=principal.session.csrf,
    )


@routes.get("/console/api/me")
@require(Role.AGENT)
async def me(request: web.Request) -> web.Response:
    principal = principal_of(request)
    return json_response({"account": principal.account.public()})


@routes.post("/console/api/me/language")
@require(Role.AGENT)
async def set_language(request: web.Request) -> web.Response:
    """Switch the console's language for this account (`{"language": "zh"}`)."""
    state = request.app[CONSOLE]
    principal = principal_of(request)
    language = Fields(await read_object(request)).text("language", max_length=8)
    if language not in LANGUAGES:
        return json_response(
            {"error": {"status": 422, "message": f"field 'language' must be one of {LANGUAGES}"}},
            status=422,
        )
    account = await update(
        state.accounts,
        principal.account.id,
        lambda account: replace(account, language=language, updated_at=state.clock()),
    )
    if account is None:
        raise InputError("this account no longer exists", status=404)
    return json_response({"account": account.public()})


@routes.get("/console/api/accounts")
@require(Role.OPERATOR)
async def accounts(request: web.Request) -> web.Response:
    """Every account without its hash (operators manage them with `frontdesk agents`)."""
    listed = await request.app[CONSOLE].accounts.all()
    return json_response({"items": [a.public() for a in listed]})
