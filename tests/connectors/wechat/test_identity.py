"""WeChat identities: the follower's ``openid`` is the customer (``wechat:<appid>:<openid>``);
their UnionID — the same person across the accounts and apps of one WeChat developer — is
vouched for by WeChat and linked, so a customer the company already knows by that UnionID
(from its CRM, its website's WeChat login …) is the same record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.echo import EchoBot
from tests.connectors.wechat.fake_wechat import FakeWeChatApi
from tests.connectors.wechat.harness import (
    CUSTOMER,
    OPENID,
    all_events,
    hub_of,
    push,
    sees,
    text,
    wechat_app,
)
from tests.support import api_auth

UNIONID = "o6_bmasdasdsad6_2sgVt7hMZOPfL"


async def known_by_the_crm(client: Any) -> str:
    """The company's CRM already has this person, by the UnionID of its website's login."""
    response = await client.put(
        "/api/v1/customers/crm-42",
        json={"identities": [f"wechat-union:{UNIONID}"], "attributes": {"name": "Li Lei"}},
        headers=api_auth(),
    )
    assert response.status == 201, await response.text()
    return str((await response.json())["id"])


@pytest.mark.parametrize(("first", "second"), [("hello", "thanks"), ("你好", "谢谢")])
async def test_the_unionid_is_looked_up_once_and_joins_the_customer_the_crm_knows(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi, first: str, second: str
) -> None:
    fake.followers.add(OPENID)
    fake.unionids[OPENID] = UNIONID
    app = wechat_app(tmp_path, fake, bot=EchoBot(), unionid=True)
    client = await aiohttp_client(app)
    crm_customer = await known_by_the_crm(client)

    assert await push(client, text(1, first)) == (200, "success")
    await sees(fake, first)
    owner = await hub_of(app).store.find_customer(CUSTOMER)
    assert owner is not None and owner.id == crm_customer  # the older record is kept
    assert f"wechat-union:{UNIONID}" in owner.identities and CUSTOMER in owner.identities
    linked = [e.data for e in await all_events(app) if e.type == "identity.linked"]
    assert len(linked) == 1 and linked[0]["identity_kind"] == "wechat-union"
    assert linked[0]["customer_id"] == crm_customer and linked[0]["merge_id"]

    # Known now: neither asked nor linked again.
    assert await push(client, text(2, second)) == (200, "success")
    await sees(fake, second)
    assert len(fake.called("user_info")) == 1
    assert len([e for e in await all_events(app) if e.type == "identity.linked"]) == 1


async def test_a_unionid_in_the_push_is_linked_without_a_lookup(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi
) -> None:
    app = wechat_app(tmp_path, fake, bot=EchoBot())  # lookups off
    client = await aiohttp_client(app)
    crm_customer = await known_by_the_crm(client)
    assert await push(client, text(1, "hi", UnionId=UNIONID)) == (200, "success")
    await sees(fake, "hi")
    owner = await hub_of(app).store.find_customer(CUSTOMER)
    assert owner is not None and owner.id == crm_customer
    assert fake.called("user_info") == []


async def test_without_a_unionid_or_when_the_lookup_fails_nothing_is_joined(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi
) -> None:
    fake.followers.add(OPENID)  # follows, but the account is not bound: no unionid
    app = wechat_app(tmp_path, fake, bot=EchoBot(), unionid=True)
    client = await aiohttp_client(app)
    crm_customer = await known_by_the_crm(client)
    fake.fail("user_info", 500, {})
    assert await push(client, text(1, "还在吗")) == (200, "success")  # stored all the same
    await sees(fake, "还在吗")
    assert await push(client, text(2, "hello?")) == (200, "success")  # asked again: none
    await sees(fake, "hello?")
    assert await push(client, text(3, "anyone?")) == (200, "success")  # remembered: not asked
    await sees(fake, "anyone?")
    assert len(fake.called("user_info")) == 2
    owner = await hub_of(app).store.find_customer(CUSTOMER)
    assert owner is not None and owner.id != crm_customer
    assert not [e for e in await all_events(app) if e.type == "identity.linked"]
