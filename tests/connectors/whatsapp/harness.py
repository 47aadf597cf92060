"""Helpers for the WhatsApp tests: a hub configured against the fake Graph API, signed
webhook posts, and message builders with the shapes of Meta's documented examples
(`fixtures/`)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from connectors.whatsapp.connector import SIGNATURE_HEADER, WEBHOOK_PATH, WhatsAppConnector
from hub.abc import ConversationHandler
from hub.model import Event
from tests.connectors.agent_steps import events_of, wait_for_events
from tests.connectors.hub_app import hub_app
from tests.connectors.telegram.harness import hub_of as hub_of  # re-exported for the tests
from tests.connectors.whatsapp.fake_graph import PHONE_NUMBER_ID, TOKEN, VERSION, FakeGraphApi

FIXTURES = Path(__file__).parent / "fixtures"
APP_SECRET = "whatsapp-app-secret-for-tests"
VERIFY_TOKEN = "verify-me-7f3a"
NUMBER = "16505551234"  # Sheena, the customer of Meta's examples
TEMPLATES = {
    "agent_reply": {"name": "frontdesk_agent_reply", "en": "en", "zh": "zh_CN", "text": True},
    "csat": {"name": "frontdesk_csat", "en": "en", "zh": "zh_CN"},
}


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def env(tmp_path: Path) -> dict[str, str]:
    return {
        "FRONTDESK_STORE_URL": f"sqlite:///{tmp_path}/frontdesk.db",
        "FRONTDESK_API_TOKEN": "test-api-token",
        "FRONTDESK_WHATSAPP_TOKEN": TOKEN,
        "FRONTDESK_WHATSAPP_APP_SECRET": APP_SECRET,
        "FRONTDESK_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
    }


def channel(fake: FakeGraphApi, **settings: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "phone_number_id": PHONE_NUMBER_ID,
        "graph_url": fake.base_url,
        "api_version": VERSION,
        "per_customer_interval": 0,
        "templates": TEMPLATES,
        **settings,
    }


def whatsapp_app(
    tmp_path: Path,
    fake: FakeGraphApi,
    *,
    bot: ConversationHandler,
    handoff: Path | None = None,
    store_url: str = "",
    **settings: Any,
) -> web.Application:
    """The whole hub, on SQLite in `tmp_path` (or `store_url`), with WhatsApp pointed at
    the fake."""
    environ = {**env(tmp_path), **({"FRONTDESK_STORE_URL": store_url} if store_url else {})}
    return hub_app(
        tmp_path,
        channels={"whatsapp": channel(fake, **settings)},
        environ=environ,
        bot=bot,
        handoff=handoff,
    )


def connector_of(app: web.Application) -> WhatsAppConnector:
    connector = hub_of(app).connectors["whatsapp"]
    assert isinstance(connector, WhatsAppConnector)
    return connector


def sign(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {SIGNATURE_HEADER: f"sha256={digest}", "Content-Type": "application/json"}


async def post(
    client: TestClient[web.Request, web.Application],
    payload: Any,
    headers: dict[str, str] | None = None,
) -> int:
    """POST a webhook body signed as Meta does; the status the hub answered."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    response = await client.post(WEBHOOK_PATH, data=body, headers=headers or sign(body))
    return response.status


def webhook(*messages: dict[str, Any], statuses: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    """A webhook body shaped like `fixtures/text_message.json` carrying these items."""
    body = fixture("text_message")
    value = body["entry"][0]["changes"][0]["value"]
    value["messages"] = list(messages)
    if not messages:
        del value["messages"], value["contacts"]
    if statuses:
        value["statuses"] = list(statuses)
    return body


def message(number: int, kind: str, content: Any, *, sender: str = NUMBER) -> dict[str, Any]:
    return {
        "from": sender,
        "id": f"wamid.IN{number:06d}",
        "timestamp": str(int(time.time())),  # the window counts from the customer's message
        "type": kind,
        kind: content,
    }


def text(number: int, body: str, *, sender: str = NUMBER) -> dict[str, Any]:
    return webhook(message(number, "text", {"body": body}, sender=sender))


def reply(number: int, choice: dict[str, str], *, kind: str = "button_reply") -> dict[str, Any]:
    """A tap on a reply button (or a list row, `kind="list_reply"`)."""
    content = {"type": kind, kind: {"id": choice["id"], "title": choice["title"]}}
    item = message(number, "interactive", content)
    item["context"] = {"from": "15550783881", "id": "wamid.OUT"}
    return webhook(item)


def status(wamid: str, state: str, *, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    item = copy.deepcopy(fixture("status_delivered"))
    entry = item["entry"][0]["changes"][0]["value"]["statuses"][0]
    entry.update(id=wamid, status=state)
    if errors:
        entry["errors"] = errors
    return item


async def all_events(app: web.Application, number: str = NUMBER) -> list[Event]:
    return await events_of(app, f"whatsapp:{number}")


async def wait_for_event(app: web.Application, event_type: str, count: int = 1) -> list[Event]:
    """Until the customer's conversation logged `count` events of `event_type`."""
    return await wait_for_events(app, f"whatsapp:{NUMBER}", event_type, count)
