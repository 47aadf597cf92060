"""The supervisor's view: the floor (queue per skill, agents, alerts) and the dashboard,
as a server-rendered page with SVG charts, as JSON, and as Prometheus gauges."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from handoff.actions import may_read
from handoff.api import ACTIONS, HANDOFF, MAX_TEXT
from handoff.console.accounts import Role
from handoff.console.auth import principal_of, require
from handoff.console.charts import bar_chart, gauge
from handoff.console.dashboard import (
    RANGES,
    Filters,
    behind,
    collect,
    figures,
    parse_drill,
    parse_filters,
)
from handoff.console.i18n import translator
from handoff.console.render import render
from handoff.console.state import CONSOLE, ConsoleState
from handoff.console.views import ticket_view, timeline
from handoff.console.workspace import CONVERSATION, TIMELINE_LIMIT, _call
from handoff.console.workspace import _actor as actor_of
from handoff.tickets import label
from hub.errors import InputError
from hub.http import Fields, json_response, read_object
from hub.metrics import Metrics
from hub.periodic import Periodic

log = logging.getLogger("frontdesk.console.supervisor")

routes = web.RouteTableDef()

REFRESH_EVERY = 60.0  # seconds between recomputations of the /metrics figures


async def _figures(request: web.Request) -> dict[str, Any]:
    state = request.app[CONSOLE]
    now = state.clock()
    filters = parse_filters(request.query, now)
    return figures(await collect(state.hub.store, since=filters.since), filters)


@routes.get("/console/api/dashboard")
@require(Role.SUPERVISOR)
async def dashboard_json(request: web.Request) -> web.Response:
    """The dashboard's figures; `range` (1h, 24h, 7d, 30d), `channel`, `agent`, `intent`."""
    return json_response(await _figures(request))


@routes.get("/console/api/dashboard/conversations")
@require(Role.SUPERVISOR)
async def dashboard_drill(request: web.Request) -> web.Response:
    """The conversations behind one figure (`figure=handed_off`, `channel:email` …), under
    the same filters as the figures."""
    state = request.app[CONSOLE]
    filters = parse_filters(request.query, state.clock())
    drill = parse_drill(request.query.get("figure", ""))
    facts = await collect(state.hub.store, since=filters.since)
    return json_response({"items": behind(facts, filters, drill), "now": state.clock()})


@routes.get("/console/api/transcripts/{conversation_id}")
@require(Role.AGENT)
async def transcript(request: web.Request) -> web.Response:
    """A conversation to read, never to act on, open, closed or bot-only: the supervisor's
    reader and the workspace's read-only view (a search result that is no open hand-off).
    Supervisors read any; an agent those of a customer whose hand-off they may see (the
    contact panel's rule), whispers only their own. Anything else is a 404."""
    store = request.app[CONSOLE].hub.store
    conversation = await store.get_conversation(request.match_info["conversation_id"])
    engine = request.app.get(HANDOFF)
    actor = actor_of(request)
    tickets = engine.queue.tickets.values() if engine is not None else ()
    if conversation is None or not may_read(actor, conversation.customer_id, tickets):
        raise InputError("no such conversation", status=404)
    events = await store.events(conversation.id, limit=TIMELINE_LIMIT)
    if engine is not None:
        events = request.app[ACTIONS].visible_events(actor, events)
    ticket = engine.queue.tickets.get(conversation.id) if engine is not None else None
    return json_response(
        {
            "now": request.app[CONSOLE].clock(),
            "conversation": {
                "id": conversation.id,
                "customer_id": conversation.customer_id,
                "channel": conversation.channel,
                "status": conversation.status.value,
                "created_at": conversation.created_at,
            },
            "ticket": ticket_view(ticket, request.app[CONSOLE].clock()) if ticket else None,
            "participants": sorted(ticket.participants) if ticket else [],
            # Every hand-off the log holds, open or closed: its ticket number and why.
            "handoffs": [
                {
                    "ticket": label(int(e.data.get("ticket_number") or 0), conversation.id),
                    "priority": str(e.data.get("priority", "")),
                    "reason": str(e.data.get("reason", "")),
                    "at": e.at,
                }
                for e in events
                if e.type == "handoff.requested"
            ],
            "timeline": timeline(events, channel=conversation.channel),
        }
    )


@routes.post(CONVERSATION + "/join")
@require(Role.SUPERVISOR)
async def join(request: web.Request) -> web.Response:
    actions, actor, conversation_id = _call(request)
    await actions.join(actor, conversation_id)
    return json_response({"ok": True})


@routes.post(CONVERSATION + "/whisper")
@require(Role.SUPERVISOR)
async def whisper(request: web.Request) -> web.Response:
    actions, actor, conversation_id = _call(request)
    actions.ticket(actor, conversation_id)  # 404 before the body is read, as always
    text = Fields(await read_object(request)).text("text", max_length=MAX_TEXT)
    await actions.whisper(actor, conversation_id, text)
    return json_response({"ok": True})


@routes.get("/console/supervisor")
@require(Role.SUPERVISOR, page=True)
async def supervisor_page(request: web.Request) -> web.StreamResponse:
    principal = principal_of(request)
    t = translator(principal.account.language)
    data = await _figures(request)
    t_first, t_resolve = data["first_response"], data["resolution"]
    # "(none)" stays the filter's key; only the bar's label is translated.
    intents = [
        (t("chart.no_intent") if k == "(none)" else k, v) for k, v in data["by_intent"].items()
    ]
    charts = [
        bar_chart(t("chart.by_channel"), list(data["by_channel"].items())),
        bar_chart(t("chart.top_intents"), intents),
        _times_chart(t_first, t_resolve, t),
    ]
    gauges = [
        gauge(t("gauge.containment"), data["containment_rate"]),
        gauge(t("gauge.handoff_rate"), data["handoff_rate"]),
        gauge(t("gauge.sla"), data["sla_attainment"]),
        gauge(t("gauge.csat"), data["csat"]["satisfied"]),
    ]
    return render(
        request,
        "supervisor.html",
        language=principal.account.language,
        me=principal.account.public(),
        csrf=principal.session.csrf,
        data=data,
        charts=charts,
        gauges=gauges,
        ranges=list(RANGES),
    )


def _times_chart(first: dict[str, Any], resolve: dict[str, Any], t: Callable[[str], str]) -> Any:
    """Medians and p90s in seconds, or in minutes once any is two minutes or more."""
    values = [
        (t(key), value)
        for key, value in (
            ("chart.first_median", first["median"]),
            ("chart.first_p90", first["p90"]),
            ("chart.resolve_median", resolve["median"]),
            ("chart.resolve_p90", resolve["p90"]),
        )
        if value is not None
    ]
    title = t("chart.times")
    if any(value >= 120 for _, value in values):
        return bar_chart(title, [(k, v / 60) for k, v in values], unit=" " + t("unit.min"))
    return bar_chart(title, values, unit=" " + t("unit.s"))


class MetricsFigures:
    """The last 24 hours' figures, recomputed in the background and read by `/metrics`."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def register(self, metrics: Metrics) -> None:
        def read(*path: str) -> Callable[[], float]:
            def value() -> float:
                node: Any = self.data
                for key in path:
                    node = node.get(key) if isinstance(node, dict) else None
                return float(node) if isinstance(node, int | float) else float("nan")

            return value

        prefix = "frontdesk_console_"
        metrics.gauge(
            prefix + "conversations_24h", "Conversations, last 24 h", read("conversations")
        )
        metrics.gauge(
            prefix + "containment_rate", "Bot containment, last 24 h", read("containment_rate")
        )
        metrics.gauge(prefix + "handoff_rate", "Hand-off rate, last 24 h", read("handoff_rate"))
        metrics.gauge(
            prefix + "first_response_median_seconds",
            "First response median",
            read("first_response", "median"),
        )
        metrics.gauge(
            prefix + "first_response_p90_seconds",
            "First response p90",
            read("first_response", "p90"),
        )
        metrics.gauge(
            prefix + "resolution_median_seconds", "Resolution median", read("resolution", "median")
        )
        metrics.gauge(
            prefix + "resolution_p90_seconds", "Resolution p90", read("resolution", "p90")
        )
        metrics.gauge(
            prefix + "csat_average", "CSAT average (1-5), last 24 h", read("csat", "average")
        )
        metrics.gauge(prefix + "nps", "NPS (-100..100), last 24 h", read("nps", "score"))
        metrics.gauge(
            prefix + "sla_attainment", "Hand-offs without an SLA breach", read("sla_attainment")
        )

    async def refresh(self, state: ConsoleState) -> None:
        now = state.clock()
        since = now - 86400.0
        self.data = figures(await collect(state.hub.store, since=since), Filters(since=since))

    async def run(self, state: ConsoleState) -> AsyncIterator[None]:
        """A cleanup context body: refresh now and then, until the app stops."""

        # Stops on a flag as well as a cancel (see hub.periodic): a refresh reading Redis may
        # swallow the cancel, and the app's shutdown must not wait for it for ever.
        refreshing = Periodic("console figures", lambda: self.refresh(state), REFRESH_EVERY)
        refreshing.start()
        yield
        await refreshing.stop()
