"""Operator endpoints for customer identity, profile and privacy (bearer `API_TOKEN`).

    PUT    /api/v1/customers/{external_id}          upsert from a CRM (idempotent)
    GET    /api/v1/customers/{id}/profile           the 360° view with derived facts
    POST   /api/v1/customers/{id}/links             link an identity by hand (audited)
    POST   /api/v1/customers/{id}/merge             merge another customer into this one
    GET    /api/v1/merges/{merge_id}                a merge record
    POST   /api/v1/merges/{merge_id}/undo           unmerge, restoring both records
    GET    /api/v1/customers/{id}/export            everything held (audited)
    DELETE /api/v1/customers/{id}                   erase personal data (audited)
    GET    /api/v1/customers/{id}/contact           the contact panel's view (notes included)
    PATCH  /api/v1/customers/{id}                   name, tags, attributes (each change audited)
    POST   /api/v1/customers/{id}/notes             a note on the customer (audited)
    GET    /api/v1/customers/{id}/conversations     every conversation, `?q=` filters by text

Who acted is taken from the ``X-Frontdesk-Actor`` header (the console sends the agent's
name) and written to the customer's audit trail.
"""

from __future__ import annotations

from aiohttp import web

from hub import profile as profiles
from hub.api import HUB, operator
from hub.contacts import Contacts, parse_change
from hub.errors import InputError
from hub.http import Fields, error_response, json_response, read_object
from hub.identity import IdentityService
from hub.identity_proofs import IdentityError, normalize_identity
from hub.ports import Records
from hub.search import SEARCH

IDENTITY = web.AppKey("identity", IdentityService)

routes = web.RouteTableDef()


def _service(request: web.Request) -> IdentityService:
    service = request.app.get(IDENTITY)
    if service is None:  # not wired: verification codes cannot be sent, the rest works
        hub = request.app[HUB]
        service = IdentityService(hub.store, clock=hub.clock, publish=hub.publish_order.publish)
    return service


def _records(request: web.Request) -> Records:
    """The log and the directory, for the views that read both (profile, contact panel)."""
    return request.app[HUB].store


def _actor(request: web.Request) -> str:
    actor = request.headers.get("X-Frontdesk-Actor", "operator").strip()
    if not actor or len(actor) > 200:
        raise InputError("header 'X-Frontdesk-Actor' must be 1–200 characters")
    return actor


async def _audit(request: web.Request, customer_id: str, action: str, **details: object) -> None:
    service = _service(request)
    entry = {"action": action, "actor": _actor(request), **details}
    await service.store.append_audit(customer_id, entry, now=service.clock())


@routes.put("/api/v1/customers/{external_id}")
@operator
async def upsert_customer(request: web.Request) -> web.Response:
    body = await read_object(request)
    try:
        record = profiles.crm_record({**body, "external_id": request.match_info["external_id"]})
    except ValueError as error:
        raise InputError(str(error), status=422) from None
    service = _service(request)
    done = await profiles.upsert_from_crm(service.store, record, now=service.clock())
    # Conflicts are kept: an identity the CRM vouches for that another record proved is a
    # merge suggestion from verified data on the contact panel (`hub/contacts.py`).
    extra = {"conflicts": list(done.conflicts)} if done.conflicts else {}
    await _audit(request, done.customer.id, "customer.upserted", **extra)
    return json_response(
        {**done.customer.to_json(), "conflicts": list(done.conflicts)},
        status=201 if done.created else 200,
    )


@routes.get("/api/v1/customers/{customer_id}/profile")
@operator
async def get_profile(request: web.Request) -> web.Response:
    service = _service(request)
    found = await profiles.profile(
        _records(request), request.match_info["customer_id"], now=service.clock()
    )
    if found is None:
        return error_response(404, "no such customer")
    return json_response(found)


@routes.post("/api/v1/customers/{customer_id}/links")
@operator
async def link_identity(request: web.Request) -> web.Response:
    fields = Fields(await read_object(request))
    try:
        identity = normalize_identity(fields.text("identity", max_length=300))
    except IdentityError as error:
        raise InputError(f"field 'identity': {error}", status=422) from None
    allow_merge = fields.data.get("merge", False)
    if not isinstance(allow_merge, bool):
        raise InputError("field 'merge' must be true or false", status=422)
    service, customer_id = _service(request), request.match_info["customer_id"]
    if await service.store.get_customer(customer_id) is None:
        return error_response(404, "no such customer")
    owner = await service.store.find_customer(identity)
    if owner is not None and owner.id != customer_id and not allow_merge:
        return error_response(
            409,
            f'{identity} belongs to customer {owner.id}; send "merge": true to merge them',
        )
    result = await service.link(
        customer_id, identity, proof={"kind": "operator", "actor": _actor(request)}
    )
    return json_response(
        {
            "customer_id": result.customer_id,
            "identity": result.identity,
            "merge": result.merge.to_json() if result.merge else None,
        }
    )


@routes.post("/api/v1/customers/{customer_id}/merge")
@operator
async def merge_customers(request: web.Request) -> web.Response:
    fields = Fields(await read_object(request))
    other = fields.text("other", max_length=100)
    reason = fields.text("reason", required=False, max_length=1000)
    service, kept = _service(request), request.match_info["customer_id"]
    if other == kept:
        raise InputError("a customer cannot be merged with itself", status=422)
    try:
        merge = await service.merge(
            kept, other, reason={"kind": "operator", "note": reason}, actor=_actor(request)
        )
    except KeyError as error:
        return error_response(404, f"no such customer {error.args[0]!r}")
    return json_response(merge.to_json())


@routes.get("/api/v1/merges/{merge_id}")
@operator
async def get_merge(request: web.Request) -> web.Response:
    merge = await _service(request).store.get_merge(request.match_info["merge_id"])
    if merge is None:
        return error_response(404, "no such merge")
    return json_response(merge.to_json())


@routes.post("/api/v1/merges/{merge_id}/undo")
@operator
async def undo_merge(request: web.Request) -> web.Response:
    try:
        merge = await _service(request).unmerge(
            request.match_info["merge_id"], actor=_actor(request)
        )
    except ValueError as error:
        return error_response(409, str(error))
    if merge is None:
        return error_response(404, "no such merge")
    return json_response(merge.to_json())


@routes.get("/api/v1/customers/{customer_id}/export")
@operator
async def export_customer(request: web.Request) -> web.Response:
    service, customer_id = _service(request), request.match_info["customer_id"]
    if await service.store.get_customer(customer_id) is None:
        return error_response(404, "no such customer")
    await _audit(request, customer_id, "customer.exported")
    exported = await profiles.export_customer(_records(request), customer_id, now=service.clock())
    return json_response(
        exported, headers={"Content-Disposition": f'attachment; filename="{customer_id}.json"'}
    )


@routes.delete("/api/v1/customers/{customer_id}")
@operator
async def erase_customer(request: web.Request) -> web.Response:
    service, customer_id = _service(request), request.match_info["customer_id"]
    if not await service.store.erase_customer(customer_id, now=service.clock()):
        return error_response(404, "no such customer")
    search = request.app.get(SEARCH)
    if search is not None:  # the search index holds the texts too
        conversations = await service.store.customer_conversations(customer_id)
        await search.forget_customer(customer_id, [c.id for c in conversations])
    await _audit(request, customer_id, "customer.erased")
    return json_response({"id": customer_id, "erased": True})


# ------------------------------------------------------------------ the contact panel's actions
# The same service as the console's contact panel: these routes only parse and render.


@routes.get("/api/v1/customers/{customer_id}/contact")
@operator
async def get_contact(request: web.Request) -> web.Response:
    contacts = Contacts(_records(request))
    contact = await contacts.contact(request.match_info["customer_id"])
    return json_response(contact.to_json())


@routes.patch("/api/v1/customers/{customer_id}")
@operator
async def edit_contact(request: web.Request) -> web.Response:
    change = parse_change(await read_object(request))
    service = _service(request)
    contact = await Contacts(_records(request)).edit(
        request.match_info["customer_id"], change, actor=_actor(request), now=service.clock()
    )
    return json_response(contact.to_json())


@routes.post("/api/v1/customers/{customer_id}/notes")
@operator
async def add_note(request: web.Request) -> web.Response:
    body = await read_object(request)
    service = _service(request)
    note = await Contacts(_records(request)).add_note(
        request.match_info["customer_id"], body.get("text"), actor=_actor(request),
        now=service.clock(),
    )  # fmt: skip
    return json_response(note, status=201)


@routes.get("/api/v1/customers/{customer_id}/conversations")
@operator
async def list_conversations(request: web.Request) -> web.Response:
    contacts = Contacts(_records(request))
    rows = await contacts.conversations(
        request.match_info["customer_id"], request.query.get("q", "")
    )
    return json_response({"items": rows})
