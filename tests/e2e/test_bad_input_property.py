"""Every inbound JSON endpoint, fed what `hypothesis` makes up, on SQLite and on Redis:
a 2xx means it was stored, a 4xx means nothing was written, and never a 5xx.

The endpoints are enumerated from the app's router: a new route that takes a body fails
`test_every_body_route_is_covered` until it is described in `ENDPOINTS` below.

Bodies are of five kinds: shaped like the endpoint's own (each field good or bad: text in
English and Chinese, lone surrogates, NaN, Infinity, 1e400, 2^70 …), any JSON value,
nesting up to 30 000 deep, raw bytes (mostly invalid UTF-8), and surrogates encoded as
UTF-8 bytes (invalid UTF-8 too).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.inbound_rig import AGENT, Rig, strict_loads

EXAMPLES = 12  # per endpoint and store; each is a real HTTP request and a store snapshot
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,  # real I/O on a shared machine: no timing in the verdict
    database=None,  # nothing written into the work tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
BODY_METHODS = {"POST", "PUT", "PATCH"}
SECOND_HELLO = {"type": "error", "code": "bad_frame", "message": "hello was already said"}


@dataclass(frozen=True)
class Raw:
    """A number literal Python cannot hold (1e400) or a non-JSON constant, sent verbatim."""

    literal: str


# ------------------------------------------------------------------ values and bodies

ENGLISH_AND_CHINESE = [
    "hello",
    "I want to talk to a person",
    "my router keeps dropping the connection",
    "你好",
    "我要转人工",
    "路由器一直掉线，订单号 55821",
]
UNICODE = st.characters(codec=None, categories=["Cs", "Lo", "Ll", "Lu", "Nd", "Zs", "Po", "So"])
TEXTS = st.one_of(
    st.sampled_from(ENGLISH_AND_CHINESE),
    st.text(max_size=30),
    st.text(UNICODE, max_size=12),  # lone surrogates included ("Cs")
    st.sampled_from(["你好\ud800", "hello \udc00 there", "\ud83d", "订单\udfff号"]),
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [Raw("1e400"), Raw("-1e400"), Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("9" * 30)]
    ),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXTS)
ANY_JSON: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(TEXTS, children, max_size=4)
    ),
    max_leaves=12,
)


def good_or_bad(*good: Any) -> st.SearchStrategy[Any]:
    """Mostly a value the endpoint accepts, otherwise anything at all."""
    return st.one_of(st.sampled_from(good), st.sampled_from(good), ANY_JSON)


AGENTS = good_or_bad(AGENT, "mei", "tom")
NOTE = good_or_bad("", "checked the cable", "已检查线路")
ATTACHMENT = st.fixed_dictionaries(
    {"kind": good_or_bad("image", "document")},
    optional={
        "name": good_or_bad("router.jpg", "发票.pdf"),
        "mime_type": good_or_bad("image/jpeg"),
        "url": good_or_bad("https://example.com/a.jpg"),
        "size": good_or_bad(1024, 0, 12.0),
    },
)


def update_shape(update_id: Callable[[], int]) -> st.SearchStrategy[Any]:
    """A Telegram update shaped like the recorded fixtures, with good or bad fields."""
    chat = st.fixed_dictionaries(
        {"id": good_or_bad(987654321), "type": good_or_bad("private")},
        optional={"first_name": good_or_bad("Ana", "安娜")},
    )
    sender = st.fixed_dictionaries(
        {
            "id": good_or_bad(987654321),
            "is_bot": good_or_bad(False),
            "first_name": good_or_bad("Ana", "安娜"),
        },
        optional={"language_code": good_or_bad("en", "zh")},
    )
    message = st.fixed_dictionaries(
        {
            "message_id": good_or_bad(41, 42),
            "date": good_or_bad(1795339200),
            "chat": chat,
            "from": sender,
            "text": st.one_of(SAID, TEXTS),
        },
    )
    return st.builds(lambda m: {"update_id": update_id(), "message": m}, message)


@dataclass(frozen=True)
class Endpoint:
    """How to call one route: its credentials, a body it accepts (`base`), what each field
    may be turned into (`fields`), and which text a 2xx must have stored (None: nothing to
    look up, e.g. a hello). `accepted`: Sara holds the conversation before the fuzzing."""

    auth: str
    base: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, st.SearchStrategy[Any]] = field(default_factory=dict)
    stored_text: Callable[[dict[str, Any]], str | None] = lambda body: None
    form: bool = False  # a urlencoded form (the console login), not JSON
    accepted: bool = False


def text_of(name: str) -> Callable[[dict[str, Any]], str | None]:
    def stored(body: dict[str, Any]) -> str | None:
        value = body.get(name)
        return value if isinstance(value, str) and value.strip() else None

    return stored


def webchat_text(body: dict[str, Any]) -> str | None:
    payload = body.get("payload")
    return payload if isinstance(payload, str) and payload else text_of("text")(body)


CONSOLE_ACTION = "/console/api/conversations/{conversation_id}"
HANDOFF_ACTION = "/api/v1/handoff/conversations/{conversation_id}"

UNIQUE_ID = st.uuids().map(str)
SAID = st.sampled_from(ENGLISH_AND_CHINESE)

CONTACT_FIELDS = {
    "name": TEXTS,
    "tags": st.one_of(st.lists(good_or_bad("vip", "贵宾", "two words"), max_size=3), ANY_JSON),
    "attributes": st.one_of(
        st.dictionaries(
            st.sampled_from(["tier", "company", "Bad Key", "城市", "unverified", "name"]), SCALARS
        ),
        ANY_JSON,
    ),
}

ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    # the channels
    ("POST", "/api/v1/channels/api/messages"): Endpoint(
        "channel",
        base={"id": UNIQUE_ID, "sender": st.sampled_from(["bo", "li"]), "text": SAID},
        fields={
            "id": st.one_of(UNIQUE_ID, TEXTS, NUMBERS),
            "sender": good_or_bad("ana", "bo"),
            "text": TEXTS,
            "thread": good_or_bad("", "order-55821"),
            "timestamp": good_or_bad(1795339200, 1795339200.5),
            "attachments": st.one_of(st.lists(ATTACHMENT, max_size=2), ANY_JSON),
            "metadata": good_or_bad({"order": "55821"}, {"订单": "55821"}),
        },
        stored_text=text_of("text"),
    ),
    ("POST", "/api/v1/channels/{channel}/messages"): Endpoint("channel"),
    ("POST", "/webchat/hello"): Endpoint(
        "none",
        fields={
            "token": TEXTS,
            "conversation_id": TEXTS,
            "last_seq": NUMBERS,
            "identity_token": TEXTS,
        },
    ),
    ("POST", "/webchat/messages"): Endpoint(
        "visitor",
        base={"id": UNIQUE_ID, "text": SAID},
        fields={
            "id": st.one_of(UNIQUE_ID, TEXTS, NUMBERS),
            "text": TEXTS,
            "payload": good_or_bad("", "/csat 5"),
            "attachments": ANY_JSON,
        },
        stored_text=webchat_text,
    ),
    # File uploads take multipart only: every JSON or form body is refused (415).
    ("POST", "/webchat/attachments"): Endpoint("visitor", fields={"file": ANY_JSON}),
    ("POST", "/webchat/read"): Endpoint(
        "visitor", base={"seq": 1}, fields={"seq": good_or_bad(0, 1, 3), "conversation_id": TEXTS}
    ),
    ("POST", "/webhooks/telegram"): Endpoint("telegram"),  # bodies: `update_shape`
    # the operator API
    ("PUT", "/api/v1/customers/{external_id}"): Endpoint(
        "operator",
        base={"attributes": {"tier": "gold", "城市": "北京"}, "tags": ["vip"]},
        fields={
            "attributes": st.one_of(
                st.dictionaries(st.sampled_from(["name", "tier", "score", "城市"]), SCALARS),
                ANY_JSON,
            ),
            "tags": st.one_of(st.lists(good_or_bad("vip", "贵宾"), max_size=3), ANY_JSON),
            "identities": st.one_of(
                st.lists(good_or_bad("email:ana@example.com", "phone:+8613800138000")),
                ANY_JSON,
            ),
        },
    ),
    ("POST", "/api/v1/customers/{customer_id}/links"): Endpoint(
        "operator",
        base={"identity": st.sampled_from(["email:ana@example.com", "telegram:42"])},
        fields={"identity": good_or_bad("email:ana@example.com"), "merge": ANY_JSON},
    ),
    ("POST", "/api/v1/customers/{customer_id}/merge"): Endpoint(
        "operator", base={"other": "no-such-customer"}, fields={"other": TEXTS, "reason": NOTE}
    ),
    ("POST", "/api/v1/merges/{merge_id}/undo"): Endpoint("operator"),
    ("POST", "/api/v1/deliveries/{delivery_id}/redrive"): Endpoint("operator"),
    # the hand-off API
    ("POST", "/api/v1/handoff/agents"): Endpoint(
        "operator",
        base={
            "id": UNIQUE_ID.map(lambda u: f"a{u[:8]}"),
            "name": st.sampled_from(["Li", "王芳"]),
            "skills": ["billing"],
            "languages": ["en", "zh"],
            "capacity": 2,
        },
        fields={
            "id": good_or_bad("li", "wang"),
            "name": good_or_bad("Li", "王芳"),
            "skills": st.one_of(st.lists(good_or_bad("hardware", "billing"), max_size=2), ANY_JSON),
            "languages": st.one_of(st.lists(good_or_bad("en", "zh"), max_size=2), ANY_JSON),
            "capacity": good_or_bad(1, 3),
        },
    ),
    ("PUT", "/api/v1/handoff/agents/{agent_id}/presence"): Endpoint(
        "operator",
        base={"presence": st.sampled_from(["online", "away"])},
        fields={"presence": good_or_bad("online", "away", "offline")},
    ),
    ("POST", f"{HANDOFF_ACTION}/accept"): Endpoint(
        "operator", base={"agent_id": AGENT}, fields={"agent_id": AGENTS}
    ),
    ("POST", f"{HANDOFF_ACTION}/reply"): Endpoint(
        "operator",
        base={"agent_id": AGENT, "text": SAID},
        fields={"agent_id": AGENTS, "text": TEXTS, "buttons": ANY_JSON, "attachments": ANY_JSON},
        stored_text=text_of("text"),
        accepted=True,
    ),
    ("POST", f"{HANDOFF_ACTION}/attachments"): Endpoint(
        "operator", fields={"file": ANY_JSON}, accepted=True
    ),
    ("POST", f"{HANDOFF_ACTION}/note"): Endpoint(
        "operator",
        base={"agent_id": AGENT, "text": SAID},
        fields={"agent_id": AGENTS, "text": TEXTS},
        stored_text=text_of("text"),
        accepted=True,
    ),
    ("POST", f"{HANDOFF_ACTION}/transfer"): Endpoint(
        "operator",
        base={"agent_id": AGENT, "to_agent": "mei"},
        fields={"agent_id": AGENTS, "to_agent": AGENTS, "to_skill": good_or_bad("billing")},
        accepted=True,
    ),
    ("POST", f"{HANDOFF_ACTION}/reassign"): Endpoint(
        "operator",
        base={"supervisor_id": AGENT, "to_agent": "mei"},
        fields={"supervisor_id": AGENTS, "to_agent": AGENTS, "note": NOTE},
        accepted=True,
    ),
    ("POST", f"{HANDOFF_ACTION}/resolve"): Endpoint(
        "operator",
        base={"agent_id": AGENT},
        fields={"agent_id": AGENTS, "note": NOTE},
        accepted=True,
    ),
    ("POST", f"{HANDOFF_ACTION}/handback"): Endpoint(
        "operator",
        base={"agent_id": AGENT},
        fields={"agent_id": AGENTS, "note": NOTE},
        accepted=True,
    ),
    # the console (an API token, so no CSRF) and its login form
    ("POST", f"{CONSOLE_ACTION}/accept"): Endpoint("console"),
    ("POST", f"{CONSOLE_ACTION}/reply"): Endpoint(
        "console",
        base={"text": SAID},
        fields={"text": TEXTS, "buttons": ANY_JSON, "attachments": ANY_JSON},
        stored_text=text_of("text"),
        accepted=True,
    ),
    ("POST", f"{CONSOLE_ACTION}/attachments"): Endpoint(
        "console", fields={"file": ANY_JSON}, accepted=True
    ),
    ("POST", f"{CONSOLE_ACTION}/note"): Endpoint(
        "console",
        base={"text": SAID},
        fields={"text": TEXTS},
        stored_text=text_of("text"),
        accepted=True,
    ),
    ("POST", f"{CONSOLE_ACTION}/transfer"): Endpoint(
        "console",
        base={"to_agent": "mei"},
        fields={"to_agent": AGENTS, "to_skill": good_or_bad("billing"), "note": NOTE},
        accepted=True,
    ),
    ("POST", f"{CONSOLE_ACTION}/reassign"): Endpoint(
        "console",
        base={"to_agent": "mei"},
        fields={"to_agent": AGENTS, "note": NOTE},
        accepted=True,
    ),
    ("POST", f"{CONSOLE_ACTION}/resolve"): Endpoint(
        "console", fields={"note": NOTE}, accepted=True
    ),
    ("POST", f"{CONSOLE_ACTION}/handback"): Endpoint(
        "console", fields={"note": NOTE}, accepted=True
    ),
    # Typing is a signal, never stored: a 2xx writes nothing either.
    ("POST", f"{CONSOLE_ACTION}/typing"): Endpoint(
        "console", base={"on": True}, fields={"on": good_or_bad(True, False)}, accepted=True
    ),
    # Only a resolved conversation can be reviewed: the held one gets 422s, never a 5xx.
    ("POST", "/console/api/qa/{conversation_id}/review"): Endpoint(
        "console",
        base={"scores": {"greeting": 4, "accuracy": 4, "empathy": 4, "resolution": 4, "policy": 4}},
        fields={"scores": ANY_JSON, "comment": TEXTS},
        accepted=True,
    ),
    ("POST", "/console/api/me/language"): Endpoint(
        "console",
        base={"language": st.sampled_from(["en", "zh"])},
        fields={"language": good_or_bad("en", "zh")},
    ),
    ("POST", "/console/api/presence"): Endpoint(
        "console",
        base={"presence": st.sampled_from(["online", "away"])},
        fields={"presence": good_or_bad("online", "away", "offline")},
    ),
    ("PUT", "/console/api/agents/{agent_id}"): Endpoint(
        "console",
        base={"skills": ["hardware"], "languages": ["en", "zh"], "capacity": 3, "team": "售后"},
        fields={
            "skills": st.one_of(st.lists(good_or_bad("hardware", "billing"), max_size=2), ANY_JSON),
            "languages": st.one_of(st.lists(good_or_bad("en", "zh"), max_size=2), ANY_JSON),
            "capacity": good_or_bad(1, 3, 3.0),
            "team": good_or_bad("support", "售后"),
        },
    ),
    # the contact panel (the same service behind the console and the operator API) and the
    # supervisor's join and whisper
    **{
        ("PATCH", path): Endpoint(auth, base={"tags": ["vip"]}, fields=CONTACT_FIELDS)
        for auth, path in (
            ("operator", "/api/v1/customers/{customer_id}"),
            ("console", "/console/api/customers/{customer_id}"),
        )
    },
    **{
        ("POST", path): Endpoint(auth, base={"text": SAID}, fields={"text": TEXTS})
        for auth, path in (
            ("operator", "/api/v1/customers/{customer_id}/notes"),
            ("console", "/console/api/customers/{customer_id}/notes"),
        )
    },
    ("POST", f"{HANDOFF_ACTION}/join"): Endpoint(
        "operator", base={"supervisor_id": AGENT}, fields={"supervisor_id": AGENTS}, accepted=True
    ),
    ("POST", f"{HANDOFF_ACTION}/whisper"): Endpoint(
        "operator",
        base={"supervisor_id": AGENT, "text": SAID},
        fields={"supervisor_id": AGENTS, "text": TEXTS},
        stored_text=text_of("text"),
        accepted=True,
    ),
    ("POST", f"{CONSOLE_ACTION}/join"): Endpoint("console", accepted=True),
    ("POST", f"{CONSOLE_ACTION}/whisper"): Endpoint(
        "console",
        base={"text": SAID},
        fields={"text": TEXTS},
        stored_text=text_of("text"),
        accepted=True,
    ),
    ("POST", "/console/login"): Endpoint("none", form=True),
    # A follow-up's outcome: the conversation has no follow-up task, so only refusals (never a
    # 5xx) can come back, from the operator API and the console's form alike.
    ("POST", "/api/v1/handoff/followups/{conversation_id}"): Endpoint(
        "operator",
        base={"agent_id": AGENT, "outcome": "solved"},
        fields={
            "agent_id": AGENTS,
            "outcome": good_or_bad("solved", "unsolved", "unreachable"),
            "note": NOTE,
        },
    ),
    ("POST", "/console/followups/{conversation_id}"): Endpoint(
        "console", base={"outcome": "solved"}, form=True
    ),
    ("POST", "/console/logout"): Endpoint("console"),
}


def encode(value: Any) -> bytes:
    """JSON as a careless client writes it: NaN and Infinity allowed, `Raw` literals verbatim,
    lone surrogates as `\\ud800` escapes (ensure_ascii), which is valid JSON syntax."""
    raws: list[str] = []

    def swap(item: Any) -> Any:
        if isinstance(item, Raw):
            raws.append(item.literal)
            return f"\x00raw{len(raws) - 1}\x00"
        if isinstance(item, dict):
            return {k: swap(v) for k, v in item.items()}
        if isinstance(item, list):
            return [swap(v) for v in item]
        return item

    text = json.dumps(swap(value), allow_nan=True)
    for index, literal in enumerate(raws):
        text = text.replace(f'"\\u0000raw{index}\\u0000"', literal)
    return text.encode("ascii")


def deep(depth: int, opener: str) -> bytes:
    if opener == "[":
        return ("[" * depth + "]" * depth).encode()
    return ('{"a":' * depth + "1" + "}" * depth).encode()


def shaped_like(endpoint: Endpoint) -> st.SearchStrategy[dict[str, Any]]:
    """The endpoint's good body with up to two fields changed and maybe one left out."""
    base = st.fixed_dictionaries(
        {
            name: value if isinstance(value, st.SearchStrategy) else st.just(value)
            for name, value in endpoint.base.items()
        }
    )
    if not endpoint.fields:
        return base
    names = sorted(endpoint.fields)
    change = st.sampled_from(names).flatmap(
        lambda name: endpoint.fields[name].map(lambda value: (name, value))
    )

    def build(body: dict[str, Any], changes: list[tuple[str, Any]], drop: list[str]) -> Any:
        body = {**body, **dict(changes)}
        for name in drop:
            body.pop(name, None)
        return body

    return st.builds(
        build, base, st.lists(change, max_size=2), st.lists(st.sampled_from(names), max_size=1)
    )


def bodies(endpoint: Endpoint, rig: Rig) -> st.SearchStrategy[tuple[bytes, Any]]:
    """(the bytes sent, the value they encode — or None when they are not JSON)."""
    if endpoint.form:
        return st.tuples(
            st.one_of(
                st.binary(max_size=64),
                st.sampled_from(
                    [b"username=%ff%fe&password=x", b"username=\xff\xfe&password=\xed\xa0\x80"]
                ),
            ),
            st.none(),
        )
    if endpoint.auth == "telegram":
        shaped = update_shape(rig.next_update_id)
    else:
        shaped = shaped_like(endpoint)
    as_json = st.one_of(shaped, shaped, ANY_JSON).map(lambda value: (encode(value), value))
    return st.one_of(
        as_json,
        as_json,
        # as deep as fits under the 64 KiB body limit, so only the reader can refuse it
        st.sampled_from([(33, "["), (1000, "{"), (30_000, "["), (10_000, "{")]).map(
            lambda spec: (deep(*spec), None)
        ),
        st.tuples(st.binary(max_size=64), st.none()),
        st.sampled_from(
            [b'{"text": "\xed\xa0\x80"}', b'{"text": "\xe4\xbd\xa0\xed\xb0\x80"}', b""]
        ).map(lambda raw: (raw, None)),
    )


def path_of(template: str, rig: Rig) -> str:
    return template.format(
        conversation_id=rig.conversation_id,
        customer_id=rig.customer_id,
        external_id="crm-7",
        agent_id=AGENT,
        merge_id="no-such-merge",
        delivery_id="no-such-delivery",
        channel="no-such-channel",
    )


# ------------------------------------------------------------------ the rig on its own loop


@pytest.fixture(params=["sqlite", "redis"])
def looped(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[asyncio.AbstractEventLoop, Rig]]:
    """The rig on a loop of its own: hypothesis calls a plain function per example, which
    runs one request to completion on this loop (the hub keeps running in between)."""
    url = (
        f"sqlite:///{tmp_path}/frontdesk.db"
        if request.param == "sqlite"
        else request.getfixturevalue("redis_url")
    )
    loop = asyncio.new_event_loop()
    rig = Rig(tmp_path, url)
    loop.run_until_complete(rig.start())
    try:
        yield loop, rig
    finally:
        loop.run_until_complete(rig.stop())
        loop.close()


def body_routes(app: web.Application) -> set[tuple[str, str]]:
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method in BODY_METHODS and route.resource is not None
    }


class Verdicts:
    """What the examples showed, for one summary assertion per endpoint."""

    def __init__(self) -> None:
        self.statuses: dict[int, int] = {}

    def add(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


async def exercise(
    rig: Rig, method: str, template: str, endpoint: Endpoint, sent: bytes, value: Any
) -> int:
    before = await rig.snapshot()
    content_type = "application/x-www-form-urlencoded" if endpoint.form else "application/json"
    response = await rig.http.request(
        method,
        path_of(template, rig),
        data=sent,
        headers={**rig.headers(endpoint.auth), "Content-Type": content_type},
        allow_redirects=False,
    )
    text = await response.text()
    where = f"{method} {template} with {sent[:200]!r}"
    assert response.status < 500, f"{where} → {response.status} {text[:300]}"
    payload = strict_loads(text) if response.content_type == "application/json" else None
    if response.status >= 400 or response.status in (302, 303):
        assert await rig.snapshot() == before, f"{where} → {response.status} but wrote"
        return response.status
    await rig.settle()
    duplicate = isinstance(payload, dict) and payload.get("duplicate") is True
    wanted = endpoint.stored_text(value) if isinstance(value, dict) else None
    if wanted is not None and not duplicate:
        texts = await rig.stored_texts()
        assert any(wanted in stored for stored in texts), f"{where} → {response.status}, not stored"
    return response.status


# ------------------------------------------------------------------ the tests


def test_every_body_route_is_covered(looped: tuple[asyncio.AbstractEventLoop, Rig]) -> None:
    _, rig = looped
    routes = body_routes(rig.app)
    missing = sorted(routes - set(ENDPOINTS))
    assert missing == [], f"describe these routes in ENDPOINTS: {missing}"
    stale = sorted(set(ENDPOINTS) - routes)
    assert stale == [], f"these ENDPOINTS are no longer routes: {stale}"


@pytest.mark.parametrize("key", sorted(ENDPOINTS), ids=lambda key: f"{key[0]} {key[1]}")
def test_2xx_stored_4xx_nothing_written_never_5xx(
    looped: tuple[asyncio.AbstractEventLoop, Rig], key: tuple[str, str]
) -> None:
    loop, rig = looped
    method, template = key
    endpoint = ENDPOINTS[key]
    verdicts = Verdicts()
    if endpoint.accepted:
        loop.run_until_complete(rig.take_conversation())

    @SETTINGS
    @given(body=bodies(endpoint, rig))
    def check(body: tuple[bytes, Any]) -> None:
        sent, value = body
        verdicts.add(
            loop.run_until_complete(exercise(rig, method, template, endpoint, sent, value))
        )

    check()
    loop.run_until_complete(strict_reads(rig))
    assert all(status < 500 for status in verdicts.statuses), verdicts.statuses


async def strict_reads(rig: Rig) -> None:
    """After the fuzzing, every read endpoint still serves strict JSON."""
    operator = rig.headers("operator")
    for path in (
        "/api/v1/conversations",
        f"/api/v1/conversations/{rig.conversation_id}/events?limit=1000",
        "/api/v1/customers",
        f"/api/v1/customers/{rig.customer_id}",
        f"/api/v1/customers/{rig.customer_id}/profile",
        f"/api/v1/customers/{rig.customer_id}/export",
        "/api/v1/handoff/queue",
    ):
        response = await rig.http.get(path, headers=operator)
        assert response.status == 200, (path, await response.text())
        strict_loads(await response.text())


def test_webchat_socket_frames(looped: tuple[asyncio.AbstractEventLoop, Rig]) -> None:
    """The same rules for WebSocket frames: a bad frame is answered with an error frame
    and writes nothing; the socket stays open; a message that is acked is stored."""
    loop, rig = looped
    shaped = st.fixed_dictionaries(
        {"type": st.sampled_from(["message", "read", "hello"]) | ANY_JSON},
        optional=ENDPOINTS[("POST", "/webchat/messages")].fields
        | ENDPOINTS[("POST", "/webchat/read")].fields,
    )
    frames = st.one_of(
        shaped.map(encode),
        ANY_JSON.map(encode),
        # as deep as fits in a frame (max_frame_bytes: 16 KiB; larger closes with 1009)
        st.sampled_from([deep(8000, "["), deep(2000, "{"), deep(33, "[")]),
    )

    async def connect() -> Any:
        ws = await rig.http.ws_connect("/webchat/ws")
        await ws.send_str(json.dumps({"type": "hello", "token": rig.visitor_token}))
        while (await ws.receive_json(timeout=10))["type"] != "synced":
            pass
        return ws

    ws = loop.run_until_complete(connect())

    async def exchange(frame: bytes) -> None:
        before = await rig.settle()
        await ws.send_str(frame.decode("ascii"))
        # A second hello always answers one known error: everything before it is the
        # answer to `frame` (a read frame has none), with no clock involved.
        await ws.send_str(json.dumps({"type": "hello"}))
        answers = []
        while True:
            message = await ws.receive(timeout=10)
            assert message.type == WSMsgType.TEXT, f"{frame[:200]!r} closed the socket: {message}"
            answer = strict_loads(message.data)
            if answer == SECOND_HELLO:
                break
            answers.append(answer)
        kinds = {answer["type"] for answer in answers}
        acked = [a for a in answers if a["type"] == "ack" and not a["duplicate"]]
        if acked:
            await rig.settle()
            wanted = webchat_text(json.loads(frame))
            assert wanted is not None
            assert any(wanted in text for text in await rig.stored_texts())
        elif "error" in kinds or "slow_down" in kinds:
            assert await rig.snapshot() == before, f"{frame[:200]!r} refused but wrote"

    @SETTINGS
    @given(frame=frames)
    def check(frame: bytes) -> None:
        loop.run_until_complete(exchange(frame))

    try:
        check()
    finally:
        loop.run_until_complete(ws.close())
