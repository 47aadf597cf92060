"""The contact panel's JSON routes: a thin adapter over `hub.contacts.Contacts` (the same
service as the operators' `/api/v1/customers/…`), plus who may see which customer.

    GET   /console/api/customers/{id}/contact                  the panel
    PATCH /console/api/customers/{id}                          name, tags, attributes (audited)
    POST  /console/api/customers/{id}/notes                    a note on the customer
    GET   /console/api/customers/{id}/conversations?q=         every conversation, filtered
    GET   /console/api/customers/{id}/conversations/{conv}     a read-only transcript

An agent sees the customers of the conversations they may open (the waiting queue, their
own, the ones they joined); supervisors and operators see every customer. Anyone else's
customer answers 404, as a conversation does.
"""

from __future__ import annotations

from aiohttp import web

from handoff.actions import may_read
from handoff.api import ACTIONS, HANDOFF
from handoff.console.accounts import Role
from handoff.console.auth import principal_of, require
from handoff.console.state import CONSOLE
from handoff.console.views import timeline
from handoff.console.workspace import _actor as actor_of
from hub.contacts import Contacts, parse_change
from hub.errors import InputError
from hub.http import json_response, read_object

routes = web.RouteTableDef()

CUSTOMER = "/console/api/customers/{customer_id}"


def _contacts(request: web.Request) -> tuple[Contacts, str]:
    """The service and the customer id the signed-in person may see (or a 404)."""
    customer_id = request.match_info["customer_id"]
    engine = request.app.get(HANDOFF)
    tickets = engine.queue.tickets.values() if engine is not None else ()
    if not may_read(actor_of(request), customer_id, tickets):
        raise InputError("no such customer", status=404)
    return Contacts(request.app[CONSOLE].hub.store), customer_id


def _who(request: web.Request) -> str:
    return principal_of(request).account.id


@routes.get(CUSTOMER + "/contact")
@require(Role.AGENT)
async def get_contact(request: web.Request) -> web.Response:
    contacts, customer_id = _contacts(request)
    return json_response((await contacts.contact(customer_id)).to_json())


@routes.patch(CUSTOMER)
@require(Role.AGENT)
async def edit_contact(request: web.Request) -> web.Response:
    contacts, customer_id = _contacts(request)
    change = parse_change(await read_object(request))
    clock = request.app[CONSOLE].clock
    contact = await contacts.edit(customer_id, change, actor=_who(request), now=clock())
    return json_response(contact.to_json())


@routes.post(CUSTOMER + "/notes")
@require(Role.AGENT)
async def add_note(request: web.Request) -> web.Response:
    contacts, customer_id = _contacts(request)
    body = await read_object(request)
    clock = request.app[CONSOLE].clock
    note = await contacts.add_note(customer_id, body.get("text"), actor=_who(request), now=clock())
    return json_response(note, status=201)


@routes.get(CUSTOMER + "/conversations")
@require(Role.AGENT)
async def list_conversations(request: web.Request) -> web.Response:
    contacts, customer_id = _contacts(request)
    rows = await contacts.conversations(customer_id, request.query.get("q", ""))
    return json_response({"items": rows})


@routes.get(CUSTOMER + "/conversations/{conversation_id}")
@require(Role.AGENT)
async def get_transcript(request: web.Request) -> web.Response:
    """One earlier conversation to read (never to act on), whispers only for their agent."""
    contacts, customer_id = _contacts(request)
    conversation, events = await contacts.transcript(
        customer_id, request.match_info["conversation_id"]
    )
    engine = request.app.get(HANDOFF)
    if engine is not None:
        events = request.app[ACTIONS].visible_events(actor_of(request), events)
    return json_response(
        {
            "conversation": {
                "id": conversation.id,
                "channel": conversation.channel,
                "status": conversation.status.value,
                "created_at": conversation.created_at,
            },
            "timeline": timeline(events, channel=conversation.channel),
        }
    )
