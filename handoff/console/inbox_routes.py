"""The console's conversation list and search, as JSON (read by `static/inbox.js`).

    GET /console/api/conversations?tab=mine|queue|all&status=&channel=&priority=&skill=
        &team=&language=&agent=&limit=&cursor=
    GET /console/api/search?q=…&cursor=…

Both are thin adapters over one service each (`handoff.inbox.Inbox`,
`handoff.search.ConversationSearch`); the rows say only what the signed-in person may see.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handoff.console.accounts import Role
from handoff.console.auth import require
from handoff.console.state import CONSOLE
from handoff.console.views import ticket_view
from handoff.console.workspace import _actor, _engine
from handoff.inbox import DEFAULT_PAGE, MAX_PAGE, Filters, Inbox, Row
from handoff.search import PAGE, ConversationSearch
from hub.errors import InputError
from hub.http import json_response
from hub.search import SEARCH, NoSearch

routes = web.RouteTableDef()

LIST_PARAMS = frozenset({"tab", "limit", "cursor", *Filters.__dataclass_fields__})
SEARCH_PARAMS = frozenset({"q", "cursor", "limit"})


def _params(request: web.Request, allowed: frozenset[str]) -> dict[str, str]:
    unknown = sorted(set(request.query) - allowed)
    if unknown:
        raise InputError(f"unknown parameter {unknown[0]!r}", status=400)
    if any(len(request.query.getall(k)) > 1 for k in request.query):
        raise InputError("each parameter may be given once", status=400)
    return dict(request.query)


def _limit(params: dict[str, str], default: int, most: int) -> int:
    raw = params.get("limit", "")
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise InputError(f"'limit' must be a whole number from 1 to {most}", status=400)
    return int(raw)


def row_view(row: Row, now: float) -> dict[str, Any]:
    return {
        **ticket_view(row.ticket, now),
        "status": row.status,
        "intent": row.ticket.intent,
        "customer": {"name": row.customer_name, "identity": row.customer_identity},
        "preview": row.preview,
        "preview_from": row.preview_from,
        "unread": row.unread,
        "agent_name": row.agent_name,
        "team": row.team,
    }


@routes.get("/console/api/conversations")
@require(Role.AGENT)
async def conversation_list(request: web.Request) -> web.Response:
    state = request.app[CONSOLE]
    params = _params(request, LIST_PARAMS)
    inbox = Inbox(_engine(request), state.hub.store)
    page = await inbox.page(
        _actor(request),
        params.get("tab", "mine") or "mine",
        Filters.parse(params),
        limit=_limit(params, DEFAULT_PAGE, MAX_PAGE),
        cursor=params.get("cursor") or None,
    )
    now = state.clock()
    return json_response(
        {
            "now": now,
            "rows": [row_view(r, now) for r in page.rows],
            "total": page.total,
            "counts": dict(page.counts),
            "next_cursor": page.next_cursor,
        }
    )


@routes.get("/console/api/search")
@require(Role.AGENT)
async def search(request: web.Request) -> web.Response:
    state = request.app[CONSOLE]
    params = _params(request, SEARCH_PARAMS)
    service = ConversationSearch(
        request.app.get(SEARCH) or NoSearch(), _engine(request), state.hub.store
    )
    found = await service.search(
        _actor(request),
        params.get("q", ""),
        limit=_limit(params, PAGE, 50),
        cursor=params.get("cursor") or None,
    )
    return json_response(
        {
            "now": state.clock(),
            "query": found.query,
            "messages": list(found.messages),
            "customers": list(found.customers),
            "next_cursor": found.next_cursor,
        }
    )
