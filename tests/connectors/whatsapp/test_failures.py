"""Graph API refusals through the real delivery path: rate limits and outages are retried,
an undeliverable message is parked, the closed 24-hour window parks a reply that no
template may carry. Media downloads keep to their size limit (`test_media.py`: into the
attachment store)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from connectors.whatsapp.graph import GraphClient, GraphError
from hub.echo import EchoBot
from tests.connectors.whatsapp.fake_graph import (
    PHONE_NUMBER_ID,
    TOKEN,
    VERSION,
    FakeGraphApi,
    graph_error,
)
from tests.connectors.whatsapp.harness import (
    NUMBER,
    all_events,
    connector_of,
    post,
    text,
    wait_for_event,
    whatsapp_app,
)


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, fake: FakeGraphApi) -> Any:
    return await aiohttp_client(whatsapp_app(tmp_path, fake, bot=EchoBot(), rate_limit_pause=0.05))


@pytest.mark.parametrize(
    ("status", "error", "logged"),
    [
        (400, graph_error(130429, "Rate limit hit"), "rate limit"),
        (400, graph_error(131056, "Pair rate limit hit"), "rate limit"),
        (401, graph_error(190, "Error validating access token"), "access token"),
        (500, graph_error(131000, "Something went wrong"), "unavailable"),
        (503, {}, "unavailable"),
    ],
)
async def test_transient_refusals_are_retried_until_delivered(
    client: Any, fake: FakeGraphApi, status: int, error: dict[str, Any], logged: str
) -> None:
    fake.fail("messages", status, error, times=2)
    assert await post(client, text(1, "hello")) == 200
    events = await wait_for_event(client.app, "delivery.delivered")
    failures = [e.data["error"] for e in events if e.type == "delivery.failed"]
    assert len(failures) == 2 and all(logged in f for f in failures)
    assert fake.texts(NUMBER) == ["You said: hello"]
    assert "Bearer" not in " ".join(failures) and TOKEN not in " ".join(failures)


async def test_an_undeliverable_message_is_parked_with_the_reason(
    client: Any, fake: FakeGraphApi
) -> None:
    fake.fail("messages", 400, graph_error(131026, "Message undeliverable"))
    assert await post(client, text(1, "hello")) == 200
    events = await wait_for_event(client.app, "delivery.parked")
    (parked,) = [e for e in events if e.type == "delivery.parked"]
    assert "131026" in parked.data["error"]
    assert len(fake.called("messages")) == 1  # parked at once, never retried


async def test_whatsapp_refusing_free_text_parks_a_reply_no_template_may_carry(
    client: Any, fake: FakeGraphApi
) -> None:
    fake.closed.add(NUMBER)
    assert await post(client, text(1, "hello")) == 200
    events = await wait_for_event(client.app, "delivery.parked")
    (parked,) = [e for e in events if e.type == "delivery.parked"]
    assert "no template is configured" in parked.data["error"]
    assert fake.sent.get(NUMBER) is None


@pytest.mark.parametrize("words", ["hello", "你好"])
async def test_after_24_hours_a_bot_reply_is_parked_visibly_not_sent(
    client: Any, fake: FakeGraphApi, words: str
) -> None:
    connector = connector_of(client.app)
    connector.clock = lambda: time.time() + 25 * 3600
    assert await post(client, text(1, words)) == 200
    events = await wait_for_event(client.app, "delivery.parked")
    (parked,) = [e for e in events if e.type == "delivery.parked"]
    assert "the 24-hour window closed at" in parked.data["error"]
    assert fake.called("messages") == []


async def test_media_over_the_limit_is_refused_before_and_while_downloading(
    fake: FakeGraphApi,
) -> None:
    fake.media["BIG"] = ("video/mp4", b"x" * 5000)
    graph = GraphClient(
        base_url=fake.base_url,
        api_version=VERSION,
        phone_number_id=PHONE_NUMBER_ID,
        token=TOKEN,
        timeout=10,
    )
    try:
        with pytest.raises(GraphError) as refused:
            await graph.media("BIG", max_bytes=4096)
        assert refused.value.status == 413
        assert fake.called("download") == []  # the declared size was enough to say no
        media = await graph.media("BIG", max_bytes=5000)
        assert len(media.data) == 5000 and media.mime_type == "video/mp4"
        with pytest.raises(GraphError):
            await graph.media("missing", max_bytes=5000)
    finally:
        await graph.close()


async def test_one_customers_replies_are_paced_and_others_are_not_held_up(
    aiohttp_client: Any, tmp_path: Path, fake: FakeGraphApi
) -> None:
    # One message per 3 s to a customer; a wait longer than 0.5 s goes back to the outbox.
    app = whatsapp_app(tmp_path, fake, bot=EchoBot(), per_customer_interval=3.0, max_queue_wait=0.5)
    client = await aiohttp_client(app)
    other = "8613800138000"
    assert await post(client, text(1, "hello")) == 200
    assert await post(client, text(2, "你好")) == 200
    assert await post(client, text(3, "hi", sender=other)) == 200
    events = await wait_for_event(app, "delivery.delivered", 2)
    # Both replies arrived, in order; the second waited its turn in the outbox (a throttle,
    # not a failure: it is not counted towards parking).
    assert fake.texts(NUMBER) == ["You said: hello", "You said: 你好"]
    waits = [e.data["error"] for e in events if e.type == "delivery.failed"]
    assert waits and all("pacing" in w for w in waits)
    # The other customer's reply did not queue behind Sheena's.
    assert fake.texts(other) == ["You said: hi"]
    theirs = await all_events(app, other)
    assert not [e for e in theirs if e.type == "delivery.failed"]
