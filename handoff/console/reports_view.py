"""The reports in the console: one page per report for supervisors, the same figures as JSON
(`/console/api/reports/{name}`) and as CSV (`?format=csv`), all from `handoff.reports.service`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from handoff.api import HANDOFF
from handoff.console.accounts import Role
from handoff.console.auth import principal_of, require
from handoff.console.charts import heatmap_chart, line_chart
from handoff.console.i18n import translator
from handoff.console.render import render
from handoff.console.state import CONSOLE
from handoff.reports.service import CSV, DEFAULT_DAYS, Reports, days_from
from hub.errors import InputError
from hub.http import json_response

routes = web.RouteTableDef()

Report = Callable[[Reports, int], Awaitable[dict[str, object]]]
REPORTS: dict[str, Report] = {
    "hotspots": Reports.hotspots,
    "unanswered": Reports.unanswered,
    "volume": Reports.volume,
    "followups": Reports.followups,
}


def reports_of(request: web.Request) -> Reports:
    """The report service over this hub's store, in the team's time zone and agent capacity."""
    state = request.app[CONSOLE]
    engine = request.app.get(HANDOFF)
    zone = engine.settings.calendar.timezone if engine is not None else "UTC"
    agents = engine.settings.agents if engine is not None else ()

    def concurrency() -> int:
        capacities = [agent.capacity for agent in agents]
        return round(sum(capacities) / len(capacities)) if capacities else 1

    return Reports(state.hub.store, zone=zone, concurrency=concurrency, clock=state.clock)


async def compute(request: web.Request, name: str) -> tuple[dict[str, object], int]:
    if name not in REPORTS:
        raise web.HTTPNotFound(text=f"no report {name!r} (reports: {', '.join(REPORTS)})")
    try:
        days = days_from(dict(request.query), DEFAULT_DAYS[name])
    except InputError as error:
        raise web.HTTPBadRequest(text=str(error)) from error
    return await REPORTS[name](reports_of(request), days), days


@routes.get("/console/api/reports/{name}")
@require(Role.SUPERVISOR)
async def report_json(request: web.Request) -> web.StreamResponse:
    """A report as JSON, or as a streamed CSV download with `format=csv`."""
    name = request.match_info["name"]
    report, days = await compute(request, name)
    if request.query.get("format", "json") != "csv":
        return json_response(report)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="frontdesk-{name}-{days}d.csv"',
        }
    )
    await response.prepare(request)
    for line in CSV[name](report):
        await response.write(line.encode("utf-8"))
    await response.write_eof()
    return response


@routes.get("/console/reports/{name}")
@require(Role.SUPERVISOR, page=True)
async def report_page(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    report, days = await compute(request, name)
    principal = principal_of(request)
    language = principal.account.language
    context: dict[str, Any] = {
        "me": principal.account.public(),
        "csrf": principal.session.csrf,
        "report": report,
        "days": days,
        "report_name": name,
        "names": list(REPORTS),
    }
    if name == "volume":
        t = translator(language)
        days_of_week = [t(f"day.{d}") for d in range(7)]
        plan: list[dict[str, Any]] = report["plan"]  # type: ignore[assignment]
        grid: list[list[int]] = report["heatmap"]  # type: ignore[assignment]
        context["heatmap"] = heatmap_chart(t("report.heatmap"), grid, days_of_week)
        context["forecast_chart"] = line_chart(
            t("report.forecast"), [float(row["expected"]) for row in plan]
        )
    return render(request, f"report_{name}.html", language=language, **context)


@routes.get("/console/reports")
@require(Role.SUPERVISOR, page=True)
async def reports_index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/reports/hotspots")
