"""Each bad input the tracker listed, on SQLite and on real Redis: a precise 4xx that writes
nothing (never a 500), and nothing non-finite ever reaches a strict JSON reader."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.model import Attachment, Inbound
from tests.e2e.inbound_rig import Rig, strict_loads
from tests.e2e.test_bad_input_property import ENDPOINTS, deep, path_of


@pytest.fixture(params=["sqlite", "redis"])
async def rig(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Rig]:
    url = (
        f"sqlite:///{tmp_path}/frontdesk.db"
        if request.param == "sqlite"
        else request.getfixturevalue("redis_url")
    )
    rig = Rig(tmp_path, url)
    await rig.start()
    try:
        yield rig
    finally:
        await rig.stop()


async def refused(
    rig: Rig, method: str, path: str, body: bytes, *, auth: str, status: int
) -> dict[str, Any]:
    """Send `body`; it must be answered `status` with a JSON error and write nothing."""
    before = await rig.settle()
    response = await rig.http.request(
        method,
        path,
        data=body,
        headers={**rig.headers(auth), "Content-Type": "application/json"},
    )
    text = await response.text()
    assert response.status == status, text
    assert await rig.snapshot() == before
    error: dict[str, Any] = strict_loads(text)["error"]
    assert error["status"] == status
    return error


def api_message(**fields: Any) -> dict[str, Any]:
    return {"id": "m-1", "sender": "bo", "text": "hello", **fields}


JSON_ENDPOINTS = sorted(key for key, endpoint in ENDPOINTS.items() if not endpoint.form)


# ------------------------------------------------------------------ nesting


async def test_json_nested_30000_deep_is_a_400_on_every_json_endpoint(rig: Rig) -> None:
    body = deep(30_000, "[")
    assert len(body) < 65_536  # fits under the body limit: only the reader can refuse it
    answers = {}
    for method, template in JSON_ENDPOINTS:
        before = await rig.settle()
        response = await rig.http.request(
            method,
            path_of(template, rig),
            data=body,
            headers={
                **rig.headers(ENDPOINTS[method, template].auth),
                "Content-Type": "application/json",
            },
        )
        text = await response.text()
        answers[f"{method} {template}"] = (response.status, text)
        assert await rig.snapshot() == before, template
    assert [k for k, (status, _) in answers.items() if status >= 500] == []
    # Routes that read no body answer before the reader is involved (404, 401 …).
    readers = {k: text for k, (status, text) in answers.items() if status == 400}
    assert len(readers) >= 25, answers
    assert all("nested deeper than 32 levels" in text for text in readers.values()), readers


async def test_webchat_hello_nested_deep_without_credentials(rig: Rig) -> None:
    error = await refused(rig, "POST", "/webchat/hello", deep(10_000, "{"), auth="none", status=400)
    assert error["message"] == "body is nested deeper than 32 levels"


# ------------------------------------------------------------------ lone surrogates


@pytest.mark.parametrize("text", ["hello \\ud800 there", "你好\\ud800", "订单\\udc00号"])
async def test_lone_surrogate_in_a_message_is_a_400(rig: Rig, text: str) -> None:
    body = json.dumps(api_message()).replace('"hello"', f'"{text}"').encode()
    error = await refused(
        rig, "POST", "/api/v1/channels/api/messages", body, auth="channel", status=400
    )
    assert "lone UTF-16 surrogate in $.text" in error["message"]
    visitor = json.dumps({"id": "w-1", "text": "x"}).replace('"x"', f'"{text}"').encode()
    error = await refused(rig, "POST", "/webchat/messages", visitor, auth="visitor", status=400)
    assert "lone UTF-16 surrogate in $.text" in error["message"]


async def test_lone_surrogate_in_a_customer_attribute_is_a_400(rig: Rig) -> None:
    body = b'{"attributes": {"city": "\\u5317\\u4eac\\udfff"}}'
    error = await refused(rig, "PUT", "/api/v1/customers/crm-9", body, auth="operator", status=400)
    assert "$.attributes.city" in error["message"]


@pytest.mark.parametrize(
    ("text", "stored"),
    [("Subject \udcff line", "Subject \ufffd line"), ("你好\ud800世界", "你好\ufffd世界")],
)
async def test_a_connector_s_lone_surrogate_is_stored_as_a_replacement(
    rig: Rig, text: str, stored: str
) -> None:
    """Text that reaches the hub without JSON (a mail header decoded with surrogateescape)
    is made valid at the `Inbound` edge: both stores can hold it, readers get U+FFFD."""
    receipt = await rig.hub.ingest(
        Inbound(
            channel="api",
            sender="mail\udcffer",
            message_id="eml-1",
            text=text,
            attachments=(Attachment(kind="document", name="发票\ud800.pdf", size=10),),
            raw={"subject": text, "headers": [text]},
        )
    )
    response = await rig.http.get(
        f"/api/v1/conversations/{receipt.conversation_id}/events", headers=rig.headers("operator")
    )
    assert response.status == 200
    events = strict_loads(await response.text())["items"]
    data = next(e["data"] for e in events if e["type"] == "message.in")
    assert data["text"] == stored
    assert data["sender"] == "mail\ufffder"
    assert data["raw"] == {"subject": stored, "headers": [stored]}
    assert data["attachments"][0]["name"] == "发票\ufffd.pdf"


# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize("size", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_attachment_size_that_is_not_a_finite_number_is_a_400(rig: Rig, size: str) -> None:
    body = json.dumps(
        api_message(attachments=[{"kind": "image", "url": "https://x/a.jpg", "size": 0}])
    ).replace('"size": 0', f'"size": {size}')
    error = await refused(
        rig, "POST", "/api/v1/channels/api/messages", body.encode(), auth="channel", status=400
    )
    assert size.lstrip("-") in error["message"]


@pytest.mark.parametrize("size", [-1, 1.5, 2**63])
async def test_attachment_size_out_of_range_is_a_422(rig: Rig, size: int | float) -> None:
    body = api_message(text="图片", attachments=[{"kind": "image", "size": size}])
    error = await refused(
        rig,
        "POST",
        "/api/v1/channels/api/messages",
        json.dumps(body).encode(),
        auth="channel",
        status=400 if size == 2**63 else 422,
    )
    assert "size" in error["message"] or "out of range" in error["message"]


def test_an_impossible_attachment_size_from_a_channel_is_dropped() -> None:
    for size in (float("nan"), float("inf"), -1, 2.5):
        assert Attachment(kind="document", size=size).size is None  # type: ignore[arg-type]
    assert Attachment(kind="document", size=12.0).size == 12  # type: ignore[arg-type]


async def test_timestamp_1e400_is_a_400(rig: Rig) -> None:
    body = json.dumps(api_message(timestamp=0)).replace('"timestamp": 0', '"timestamp": 1e400')
    error = await refused(
        rig, "POST", "/api/v1/channels/api/messages", body.encode(), auth="channel", status=400
    )
    assert error["message"] == "body has the number 1e400, which is out of range"


@pytest.mark.parametrize("timestamp", [1e300, -5])
async def test_timestamp_beyond_any_date_is_a_422(rig: Rig, timestamp: float) -> None:
    body = json.dumps(api_message(text="你好", timestamp=timestamp)).encode()
    error = await refused(
        rig, "POST", "/api/v1/channels/api/messages", body, auth="channel", status=422
    )
    assert error["message"] == ("field 'timestamp' must be a finite number from 0 to 253402300799")


# ------------------------------------------------------------------ shapes and encodings


@pytest.mark.parametrize("body", [b"[1, 2]", b'"read"', b"null", b"7"])
async def test_non_object_body_to_webchat_read_is_a_422(rig: Rig, body: bytes) -> None:
    error = await refused(rig, "POST", "/webchat/read", body, auth="visitor", status=422)
    assert error["message"].startswith("body must be a JSON object, not")


@pytest.mark.parametrize(
    "form", [b"username=\xff\xfe&password=x", b"username=sara&password=\xe4\xbd\xa0\xed\xa0\x80"]
)
async def test_invalid_utf8_in_the_console_login_form_is_a_400(rig: Rig, form: bytes) -> None:
    before = await rig.settle()
    response = await rig.http.post(
        "/console/login",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
    )
    text = await response.text()
    assert response.status == 400, text
    assert strict_loads(text)["error"]["message"].startswith("form is not valid UTF-8")
    assert await rig.snapshot() == before


# ------------------------------------------------------------------ customer attributes


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
async def test_customer_attribute_nan_or_infinity_is_refused(rig: Rig, value: str) -> None:
    body = f'{{"attributes": {{"score": {value}, "城市": "北京"}}}}'.encode()
    error = await refused(rig, "PUT", "/api/v1/customers/crm-9", body, auth="operator", status=400)
    assert value in error["message"]


async def test_reads_of_events_customer_and_export_stay_strict_json(rig: Rig) -> None:
    """A finite attribute goes in; every read a strict client makes parses."""
    operator = rig.headers("operator")
    response = await rig.http.put(
        "/api/v1/customers/crm-9",
        json={"attributes": {"score": 4.5, "city": "Beijing", "城市": "北京"}},
        headers=operator,
    )
    assert response.status == 201, await response.text()
    customer_id = (await response.json())["id"]
    for path in (
        f"/api/v1/conversations/{rig.conversation_id}/events",
        f"/api/v1/customers/{customer_id}",
        f"/api/v1/customers/{customer_id}/profile",
        f"/api/v1/customers/{customer_id}/export",
        f"/api/v1/customers/{rig.customer_id}/export",
    ):
        response = await rig.http.get(path, headers=operator)
        assert response.status == 200
        strict_loads(await response.text())
