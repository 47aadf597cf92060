"""An SMS ``From`` proves nothing by itself, so a number is linked only by a code round trip:
a customer on another channel asks for ``/link +1…``, the code goes to that number by SMS,
and typing it back proves the phone. A ``/link`` typed in an SMS is not acted on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from hub.echo import EchoBot
from tests.connectors.sms.fake_twilio import FakeTwilio
from tests.connectors.sms.harness import (
    IDENTITY,
    NUMBER,
    all_events,
    hub_of,
    incoming,
    post,
    sms_app,
)
from tests.support import channel_auth

URL = "/api/v1/channels/api/messages"


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, fake: FakeTwilio) -> Any:
    app = sms_app(tmp_path, fake, bot=EchoBot(), channels={"api": {"enabled": True}})
    return await aiohttp_client(app)


async def say_on_api(client: Any, number: int, text: str) -> None:
    body = {"id": f"m{number}", "sender": "shop-user-7", "text": text}
    response = await client.post(URL, json=body, headers=channel_auth())
    assert response.status in (200, 202), await response.text()


@pytest.mark.parametrize(("language", "said"), [("en", "code"), ("zh", "验证码")])
async def test_a_phone_is_linked_by_a_code_sent_by_sms(
    client: Any, fake: FakeTwilio, language: str, said: str
) -> None:
    await say_on_api(client, 1, "hello" if language == "en" else "你好")
    store = hub_of(client.app).store
    customer = await store.find_customer("api:shop-user-7")
    assert customer is not None  # whose profile says which language they read
    await store.update_customer(customer.id, attributes={"language": language}, now=1.0)
    await say_on_api(client, 3, f"/link {NUMBER}")
    (sms,) = await fake.wait_for("messages")
    assert sms.body["To"] == NUMBER and said in sms.body["Body"]
    code = re.search(r"\b(\d{6})\b", sms.body["Body"])
    assert code is not None
    await say_on_api(client, 2, code.group(1))
    customer = await store.find_customer("api:shop-user-7")
    assert customer is not None and f"phone:{NUMBER}" in customer.identities
    # The SMS sender's own record is untouched: the number typed on SMS is still a claim.
    assert await hub_of(client.app).store.find_customer(IDENTITY) is None


async def test_a_link_typed_in_an_sms_is_not_acted_on(client: Any, fake: FakeTwilio) -> None:
    assert (await post(client, incoming("/link ana@example.com")))[0] == 200
    events = await all_events(client.app)
    assert [e.data["reason"] for e in events if e.type == "identity.refused"] == [
        "sender-not-verified"
    ]
    assert not fake.called("messages")
