"""The read and operator API under /api/v1/ (bearer `FRONTDESK_API_TOKEN`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from hub.errors import InputError
from hub.http import error_response, json_response, require_bearer
from hub.hub import Hub
from hub.model import ConversationStatus

HUB = web.AppKey("hub", Hub)
API_TOKEN = web.AppKey("api_token", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
routes = web.RouteTableDef()


def operator(handler: Handler) -> Handler:
    """Only callers holding the API token get through."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        require_bearer(request, request.app[API_TOKEN], realm="Frontdesk API")
        return await handler(request)

    guarded.__name__ = handler.__name__
    return guarded


def _int_param(request: web.Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"query parameter '{name}' must be a whole number") from None
    if not low <= value <= high:
        raise InputError(f"query parameter '{name}' must be between {low} and {high}")
    return value


def _page(items: list[dict[str, Any]], next_cursor: str | None) -> web.Response:
    return json_response({"items": items, "next_cursor": next_cursor})


@routes.get("/api/v1/conversations")
@operator
async def list_conversations(request: web.Request) -> web.Response:
    status_text = request.query.get("status")
    try:
        status = ConversationStatus(status_text) if status_text else None
    except ValueError:
        allowed = ", ".join(s.value for s in ConversationStatus)
        raise InputError(f"query parameter 'status' must be one of {allowed}") from None
    page = await request.app[HUB].store.list_conversations(
        limit=_int_param(request, "limit", 50, low=1, high=500),
        cursor=request.query.get("cursor"),
        status=status,
    )
    return _page([c.to_json() for c in page.items], page.next_cursor)


@routes.get("/api/v1/conversations/{conversation_id}")
@operator
async def get_conversation(request: web.Request) -> web.Response:
    conversation = await request.app[HUB].store.get_conversation(
        request.match_info["conversation_id"]
    )
    if conversation is None:
        return error_response(404, "no such conversation")
    return json_response(conversation.to_json())


@routes.get("/api/v1/conversations/{conversation_id}/events")
@operator
async def list_events(request: web.Request) -> web.Response:
    store = request.app[HUB].store
    conversation_id = request.match_info["conversation_id"]
    if await store.get_conversation(conversation_id) is None:
        return error_response(404, "no such conversation")
    limit = _int_param(request, "limit", 100, low=1, high=1000)
    after = _int_param(request, "after", 0, low=0, high=2**62)
    events = await store.events(conversation_id, after_seq=after, limit=limit)
    next_cursor = str(events[-1].seq) if len(events) == limit else None
    return _page([e.to_json() for e in events], next_cursor)


@routes.get("/api/v1/customers")
@operator
async def list_customers(request: web.Request) -> web.Response:
    page = await request.app[HUB].store.list_customers(
        limit=_int_param(request, "limit", 50, low=1, high=500), cursor=request.query.get("cursor")
    )
    return _page([c.to_json() for c in page.items], page.next_cursor)


@routes.get("/api/v1/customers/{customer_id}")
@operator
async def get_customer(request: web.Request) -> web.Response:
    customer = await request.app[HUB].store.get_customer(request.match_info["customer_id"])
    if customer is None:
        return error_response(404, "no such customer")
    return json_response(customer.to_json())


@routes.get("/api/v1/deliveries/parked")
@operator
async def parked_deliveries(request: web.Request) -> web.Response:
    page = await request.app[HUB].store.dead_letters(
        limit=_int_param(request, "limit", 50, low=1, high=500), cursor=request.query.get("cursor")
    )
    return _page([d.to_json() for d in page.items], page.next_cursor)


@routes.post("/api/v1/deliveries/{delivery_id}/redrive")
@operator
async def redrive_delivery(request: web.Request) -> web.Response:
    delivery = await request.app[HUB].delivery.redrive(request.match_info["delivery_id"])
    if delivery is None:
        return error_response(404, "no parked delivery with that id")
    return json_response(delivery.to_json())


@routes.post("/api/v1/channels/{channel}/messages")
async def unknown_channel(request: web.Request) -> web.Response:
    # Enabled channels register their own, more specific route before this one.
    return error_response(404, f"unknown or disabled channel {request.match_info['channel']!r}")
