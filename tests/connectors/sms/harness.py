"""Helpers for the SMS tests: a hub configured against the fake Twilio, and webhook posts
signed as Twilio signs them (`RequestValidator.compute_signature` over the public URL the
hub is configured with, which is not the loopback address the test client uses: a proxy
stands between Twilio and the hub)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient
from twilio.request_validator import RequestValidator

from connectors.sms.connector import SIGNATURE_HEADER, STATUS_PATH, WEBHOOK_PATH, SmsConnector
from hub.abc import ConversationHandler
from hub.model import Event
from tests.connectors.agent_steps import events_of, wait_for_events
from tests.connectors.hub_app import hub_app
from tests.connectors.sms.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.connectors.telegram.harness import hub_of as hub_of  # re-exported for the tests

PUBLIC_URL = "https://support.example.com"
NUMBER = "+15558675310"
IDENTITY = f"unverified:sms:{NUMBER}"
_SIDS = itertools.count(1)


def env(tmp_path: Path) -> dict[str, str]:
    return {
        "FRONTDESK_STORE_URL": f"sqlite:///{tmp_path}/frontdesk.db",
        "FRONTDESK_API_TOKEN": "test-api-token",
        "FRONTDESK_API_CHANNEL_TOKEN": "test-channel-token",
        "FRONTDESK_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "FRONTDESK_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    }


def channel(fake: FakeTwilio, **settings: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "from_number": FROM_NUMBER,
        "public_url": PUBLIC_URL,
        "api_url": fake.base_url,
        **settings,
    }


def sms_app(
    tmp_path: Path,
    fake: FakeTwilio,
    *,
    bot: ConversationHandler,
    handoff: Path | None = None,
    channels: dict[str, Any] | None = None,
    **settings: Any,
) -> web.Application:
    """The whole hub, on SQLite in `tmp_path`, with SMS pointed at the fake (and any other
    `channels`)."""
    return hub_app(
        tmp_path,
        channels={"sms": channel(fake, **settings), **(channels or {})},
        environ=env(tmp_path),
        bot=bot,
        handoff=handoff,
    )


def connector_of(app: web.Application) -> SmsConnector:
    connector = hub_of(app).connectors["sms"]
    assert isinstance(connector, SmsConnector)
    return connector


def message_sid() -> str:
    return f"SM{next(_SIDS):032x}"


def incoming(body: str, *, sender: str = NUMBER, sid: str = "", **extra: str) -> dict[str, str]:
    """The fields of an incoming SMS, as Twilio's documentation shows them."""
    sid = sid or message_sid()
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": body,
        "FromCountry": "US",
        "To": FROM_NUMBER,
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
        **extra,
    }


def status_fields(sid: str, state: str, *, to: str = NUMBER, error: str = "") -> dict[str, str]:
    fields = {
        "SmsSid": sid,
        "SmsStatus": state,
        "MessageStatus": state,
        "To": to,
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": FROM_NUMBER,
        "ApiVersion": "2010-04-01",
    }
    if error:
        fields["ErrorCode"] = error
    return fields


def signature(path: str, fields: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(f"{PUBLIC_URL}{path}", fields))


async def post(
    client: TestClient[web.Request, web.Application],
    fields: dict[str, str] | bytes,
    *,
    path: str = WEBHOOK_PATH,
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    """POST a webhook signed as Twilio does; the status and body the hub answered."""
    if isinstance(fields, bytes):
        body = fields
    else:
        body = urlencode(fields).encode()
        headers = headers if headers is not None else {SIGNATURE_HEADER: signature(path, fields)}
    sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    response = await client.post(path, data=body, headers=sent)
    return response.status, await response.text()


async def status(
    client: TestClient[web.Request, web.Application], sid: str, state: str, **kw: str
) -> int:
    code, _ = await post(client, status_fields(sid, state, **kw), path=STATUS_PATH)
    return code


async def all_events(app: web.Application, identity: str = IDENTITY) -> list[Event]:
    return await events_of(app, identity)


async def wait_for_event(app: web.Application, event_type: str, count: int = 1) -> list[Event]:
    """Until the customer's conversation logged `count` events of `event_type`."""
    return await wait_for_events(app, IDENTITY, event_type, count)
