"""Twilio's refusals through the real delivery path: rate limits, bad credentials and
outages are retried, an invalid or unreachable number is parked at once, and the auth
token never reaches an error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from connectors.sms.twilio_api import TwilioClient, TwilioError, classify
from hub.attachments_http import ATTACHMENTS
from hub.echo import EchoBot
from hub.errors import RetryLater
from hub.model import Outbound
from tests.attachment_samples import agent_files, pdf
from tests.connectors.sms.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, twilio_error
from tests.connectors.sms.harness import (
    IDENTITY,
    NUMBER,
    hub_of,
    incoming,
    post,
    sms_app,
    wait_for_event,
)


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, fake: FakeTwilio) -> Any:
    return await aiohttp_client(sms_app(tmp_path, fake, bot=EchoBot(), rate_limit_pause=0.05))


@pytest.mark.parametrize(
    ("status", "error", "logged"),
    [
        (429, twilio_error(20429, "Too Many Requests", 429), "rate limit"),
        (401, twilio_error(20003, "Authenticate", 401), "credentials"),
        (500, twilio_error(20500, "Internal Server Error", 500), "unavailable"),
        (503, {}, "unavailable"),
    ],
)
async def test_transient_refusals_are_retried_until_delivered(
    client: Any, fake: FakeTwilio, status: int, error: dict[str, Any], logged: str
) -> None:
    fake.fail("messages", status, error, times=2)
    assert (await post(client, incoming("hello")))[0] == 200
    events = await wait_for_event(client.app, "delivery.delivered")
    failures = [e.data["error"] for e in events if e.type == "delivery.failed"]
    assert len(failures) == 2 and all(logged in f for f in failures)
    (answer,) = fake.texts(NUMBER)
    assert "hello" in answer
    assert AUTH_TOKEN not in " ".join(failures)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (21211, "The 'To' number is not a valid phone number."),
        (21614, "'To' number is not a valid mobile number"),
        (21408, "Permission to send an SMS has not been enabled for the region"),
    ],
)
async def test_an_invalid_or_unreachable_number_is_parked_with_the_reason(
    client: Any, fake: FakeTwilio, code: int, message: str
) -> None:
    fake.fail("messages", 400, twilio_error(code, message))
    assert (await post(client, incoming("hello")))[0] == 200
    events = await wait_for_event(client.app, "delivery.parked")
    (parked,) = [e for e in events if e.type == "delivery.parked"]
    assert str(code) in parked.data["error"]
    assert len(fake.called("messages")) == 1  # parked at once, never retried


async def test_a_retry_after_header_is_honoured(client: Any, fake: FakeTwilio) -> None:
    async def throttled(request: web.Request) -> web.Response:
        return web.json_response(
            twilio_error(20429, "Too Many Requests", 429), status=429, headers={"Retry-After": "7"}
        )

    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", throttled)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    twilio = TwilioClient(
        base_url=f"http://127.0.0.1:{port}",
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        timeout=5,
    )
    try:
        with pytest.raises(TwilioError) as error:
            await twilio.send({"To": NUMBER, "Body": "hi"})
        assert error.value.retry_after == 7 and error.value.code == 20429
    finally:
        await twilio.close()
        await runner.cleanup()


async def test_an_unreachable_twilio_is_a_network_error(fake: FakeTwilio) -> None:

    twilio = TwilioClient(
        base_url="http://127.0.0.1:9", account_sid="AC" + "0" * 32, auth_token="t", timeout=2
    )
    try:
        with pytest.raises(TwilioError) as error:
            await twilio.send({"To": NUMBER, "Body": "hi"})
    finally:
        await twilio.close()
    assert isinstance(classify(error.value, pause=1), RetryLater)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_an_agents_file_alone_cannot_go_by_sms_and_is_parked(
    client: Any, fake: FakeTwilio, language: str
) -> None:
    words = "hello" if language == "en" else "你好"
    await post(client, incoming(words))
    await wait_for_event(client.app, "delivery.delivered")
    hub = hub_of(client.app)
    conversation = await hub.latest_conversation(IDENTITY)
    assert conversation is not None
    (invoice,) = await agent_files(client.app[ATTACHMENTS], conversation.id, ("发票.pdf", pdf()))
    await hub.send(conversation.id, [Outbound(text="", attachments=(invoice.reference(),))])
    events = await wait_for_event(client.app, "delivery.parked")
    (parked,) = [e for e in events if e.type == "delivery.parked"]
    assert "no text or links" in parked.data["error"]
    assert len(fake.called("messages")) == 1
