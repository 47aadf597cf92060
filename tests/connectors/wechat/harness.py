"""Helpers for the WeChat tests: a hub configured against the fake WeChat API, pushes
signed (and, in safe mode, encrypted) exactly as WeChat's servers send them, and the XML
shapes of WeChat's documented examples."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from connectors.wechat.connector import WEBHOOK_PATH, WeChatConnector
from connectors.wechat.envelope import aes_key, encrypt, sign
from hub.abc import ConversationHandler
from hub.model import Event
from tests.connectors.agent_steps import events_of, wait_for_events
from tests.connectors.hub_app import hub_app
from tests.connectors.telegram.harness import hub_of as hub_of  # re-exported for the tests
from tests.connectors.wechat.fake_wechat import APP_ID, APP_SECRET, FakeWeChatApi

TOKEN = "frontdeskWeChatToken42"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as the console makes
ACCOUNT = "gh_0123456789ab"  # the account's original id (ToUserName)
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"  # the customer of WeChat's examples
CUSTOMER = f"wechat:{APP_ID}:{OPENID}"


def env(tmp_path: Path, *, safe: bool = False) -> dict[str, str]:
    environ = {
        "FRONTDESK_STORE_URL": f"sqlite:///{tmp_path}/frontdesk.db",
        "FRONTDESK_API_TOKEN": "test-api-token",
        "FRONTDESK_WECHAT_APP_SECRET": APP_SECRET,
        "FRONTDESK_WECHAT_TOKEN": TOKEN,
    }
    if safe:
        environ["FRONTDESK_WECHAT_AES_KEY"] = AES_KEY
    return environ


def wechat_app(
    tmp_path: Path,
    fake: FakeWeChatApi,
    *,
    bot: ConversationHandler,
    handoff: Path | None = None,
    safe: bool = False,
    store_url: str = "",
    **settings: Any,
) -> web.Application:
    """The whole hub, on SQLite in `tmp_path` (or `store_url`), with WeChat pointed at the
    fake."""
    environ = {
        **env(tmp_path, safe=safe),
        **({"FRONTDESK_STORE_URL": store_url} if store_url else {}),
    }
    wechat = {"enabled": True, "app_id": APP_ID, "api_url": fake.base_url, **settings}
    return hub_app(tmp_path, channels={"wechat": wechat}, environ=environ, bot=bot, handoff=handoff)


def connector_of(app: web.Application) -> WeChatConnector:
    connector = hub_of(app).connectors["wechat"]
    assert isinstance(connector, WeChatConnector)
    return connector


def xml(fields: dict[str, Any]) -> str:
    """A push's XML: text fields in CDATA, numbers bare, as WeChat writes them."""
    lines = [
        f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}><![CDATA[{v}]]></{k}>"
        for k, v in fields.items()
    ]
    return "<xml>" + "".join(lines) + "</xml>"


def message(msg_id: int, kind: str, **content: Any) -> dict[str, Any]:
    return {
        "ToUserName": ACCOUNT,
        "FromUserName": content.pop("openid", OPENID),
        "CreateTime": content.pop("created", int(time.time())),
        "MsgType": kind,
        **content,
        "MsgId": msg_id,
    }


def text(msg_id: int, content: str, **extra: Any) -> dict[str, Any]:
    return message(msg_id, "text", Content=content, **extra)


def menu_click(msg_id: int, item: dict[str, str]) -> dict[str, Any]:
    """A tap on a msgmenu line: WeChat sends its content as text with the line's id."""
    return text(msg_id, item["content"], bizmsgmenuid=item["id"])


def event(name: str, key: str = "", *, created: int | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ToUserName": ACCOUNT,
        "FromUserName": OPENID,
        "CreateTime": created or int(time.time()),
        "MsgType": "event",
        "Event": name,
    }
    if key:
        fields["EventKey"] = key
    return fields


def signed_query(
    *, token: str = TOKEN, timestamp: str = "", nonce: str = "1320562134"
) -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    return {
        "signature": sign(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": OPENID,
    }


def sealed(
    plaintext: str, query: dict[str, str], *, key: str = AES_KEY
) -> tuple[str, dict[str, str]]:
    """Safe mode: the encrypted envelope and the query with ``msg_signature``."""
    encrypted = encrypt(plaintext, key=aes_key(key), app_id=APP_ID)
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    signature = sign(TOKEN, query["timestamp"], query["nonce"], encrypted)
    return body, {**query, "encrypt_type": "aes", "msg_signature": signature}


async def push(
    client: TestClient[web.Request, web.Application],
    fields: dict[str, Any] | str | bytes,
    *,
    safe: bool = False,
    query: dict[str, str] | None = None,
) -> tuple[int, str]:
    """POST one push as WeChat does; the status and body the hub answered."""
    body: str | bytes = fields if isinstance(fields, str | bytes) else xml(fields)
    query = query or signed_query()
    if safe:
        assert isinstance(body, str)
        body, query = sealed(body, query)
    response = await client.post(
        WEBHOOK_PATH, params=query, data=body, headers={"Content-Type": "text/xml"}
    )
    return response.status, await response.text()


async def all_events(app: web.Application) -> list[Event]:
    return await events_of(app, CUSTOMER)


async def wait_for_event(app: web.Application, event_type: str, count: int = 1) -> list[Event]:
    """Until the customer's conversation logged `count` events of `event_type`."""
    return await wait_for_events(app, CUSTOMER, event_type, count)


async def sees(fake: FakeWeChatApi, fragment: str, openid: str = OPENID) -> dict[str, Any]:
    """The newest message to the customer showing `fragment`, once it has arrived."""
    for _ in range(3000):
        for index in range(len(fake.sent.get(openid, [])) - 1, -1, -1):
            if fragment in fake.texts(openid)[index]:
                return fake.sent[openid][index]
        await asyncio.sleep(0.01)
    raise AssertionError(f"{fragment!r} never shown; saw {fake.texts(openid)}")
