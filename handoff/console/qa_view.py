"""Quality inspection in the console: the sample to review and the scores (supervisors), one
conversation's transcript beside the rubric, and an agent's own reviews."""

from __future__ import annotations

from aiohttp import web

from handoff.api import HANDOFF
from handoff.console.accounts import Role
from handoff.console.auth import principal_of, require
from handoff.console.charts import line_chart
from handoff.console.i18n import translator
from handoff.console.render import render
from handoff.console.state import CONSOLE
from handoff.qa.service import QualityInspection
from handoff.qa.settings import load_qa_settings
from hub.errors import InputError
from hub.http import json_response, read_object

routes = web.RouteTableDef()
QA = web.AppKey("qa", QualityInspection)


def install_qa(app: web.Application) -> None:
    """Read the rules once at start (a bad file stops the hub with its file:line)."""
    state = app[CONSOLE]
    if not state.settings.qa_path:
        return
    settings = load_qa_settings(state.settings.qa_path)
    engine = app.get(HANDOFF)
    zone = engine.settings.calendar.timezone if engine is not None else "UTC"

    def teams() -> dict[str, str]:  # as the agents' profiles say now (a team may change)
        agents = engine.queue.agents.values() if engine is not None else ()
        return {agent.spec.id: agent.spec.team for agent in agents}

    app[QA] = QualityInspection(
        state.hub.store,
        settings,
        zone=zone,
        clock=state.clock,
        teams=teams,
        append=state.hub.append,
    )
    app.router.add_routes(routes)


def _qa(request: web.Request) -> QualityInspection:
    return request.app[QA]


def _is_supervisor(request: web.Request) -> bool:
    return principal_of(request).account.role.allows(Role.SUPERVISOR)


@routes.get("/console/api/qa")
@require(Role.AGENT)
async def qa_json(request: web.Request) -> web.Response:
    """Supervisors: the sample waiting and the scores. Agents: their own reviews only."""
    me = principal_of(request).account.id
    agent = None if _is_supervisor(request) else me
    return json_response(await _qa(request).overview(reviewer=me, agent=agent))


@routes.get("/console/qa")
@require(Role.AGENT, page=True)
async def qa_page(request: web.Request) -> web.StreamResponse:
    principal = principal_of(request)
    supervisor = _is_supervisor(request)
    overview = await _qa(request).overview(
        reviewer=principal.account.id, agent=None if supervisor else principal.account.id
    )
    t = translator(principal.account.language)
    charts = {
        row["name"]: line_chart(f"{t('qa.team')} {row['name']}", [w or 0.0 for w in row["weeks"]])
        for row in overview["trend"]["teams"]
    }
    return render(
        request,
        "qa.html",
        language=principal.account.language,
        me=principal.account.public(),
        csrf=principal.session.csrf,
        overview=overview,
        supervisor=supervisor,
        team_charts=charts,
    )


@routes.get("/console/qa/{conversation_id}")
@require(Role.SUPERVISOR, page=True)
async def qa_review_page(request: web.Request) -> web.StreamResponse:
    principal = principal_of(request)
    qa = _qa(request)
    transcript = await qa.transcript(request.match_info["conversation_id"])
    if transcript is None:
        raise web.HTTPNotFound(text="no such conversation")
    return render(
        request,
        "qa_review.html",
        language=principal.account.language,
        me=principal.account.public(),
        csrf=principal.session.csrf,
        transcript=transcript,
        rubric=qa.settings.rubric,
        mine=next((r for r in transcript.reviews if r.reviewer == principal.account.id), None),
    )


@routes.post("/console/api/qa/{conversation_id}/review")
@require(Role.SUPERVISOR)
async def qa_review(request: web.Request) -> web.Response:
    """Record the reviewer's scores (`{"scores": {"greeting": 4, …}, "comment": "…"}`)."""
    principal = principal_of(request)
    try:
        review = await _qa(request).review(
            request.match_info["conversation_id"],
            reviewer=principal.account.id,
            body=await read_object(request),
        )
    except LookupError:
        raise web.HTTPNotFound(text="no such conversation") from None
    except InputError as error:
        return json_response({"error": {"status": 422, "message": str(error)}}, status=422)
    return json_response(
        {
            "review": {
                "scores": dict(review.scores),
                "total": review.total(_qa(request).settings.rubric),
            }
        }
    )
