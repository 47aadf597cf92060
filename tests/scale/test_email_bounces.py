"""A bounce is filed in the customer's conversation whichever process receives it: the
return path one process signed is checked by another (no secret configured: the store
keeps the one made for the deployment)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.connectors.email.harness import (
    SUPPORT,
    CaptureRelay,
    bounce_of,
    plain_text,
    send_mail,
)
from tests.scale.clients import Operator, eventually
from tests.scale.processes import HubGroup, free_port, group_config
from tests.support import CallbackReceiver

CUSTOMER = "ana.lima@example.net"
TEXTS = {"en": "My parcel has not arrived", "zh": "我的包裹还没有到"}


def _mail(text: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Ana Lima <{CUSTOMER}>"
    mail["To"] = SUPPORT
    mail["Subject"] = text
    mail["Message-ID"] = "<first.1@example.net>"
    mail.set_content(text)
    return mail.as_bytes()


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_bounce_reaching_any_process_is_filed_with_the_customer(
    tmp_path: Path,
    scale_store_url: str,
    receiver: CallbackReceiver,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
) -> None:
    monkeypatch.delenv("FRONTDESK_EMAIL_VERP_SECRET", raising=False)
    relay = CaptureRelay()
    await relay.start()
    config = group_config(tmp_path, scale_store_url, receiver.url)
    config["channels"]["email"] = {
        "address": SUPPORT,
        "inbound": "smtp",
        "sender_auth": "off",
        "relay": {"host": "127.0.0.1", "port": relay.port, "security": "none"},
    }
    ports = [free_port() for _ in range(3)]

    def own_smtp_port(n: int, shared: Mapping[str, Any]) -> Mapping[str, Any]:
        mine = copy.deepcopy(dict(shared))
        mine["channels"]["email"]["smtp_in"] = {"host": "127.0.0.1", "port": ports[n]}
        return mine

    group = HubGroup(tmp_path, config, count=3, each=own_smtp_port)
    try:
        await group.start()
        await send_mail(ports[0], _mail(TEXTS[lang]), sender=CUSTOMER)
        [reply] = await relay.wait_for(1, timeout=60.0)
        assert TEXTS[lang] in plain_text(reply)
        return_path = relay.envelopes[0][0]
        # The relay sends its bounce to the return path; the mail exchanger may hand it to
        # any process. Each of the three gets one (told apart by their Message-Ids).
        bounce = bounce_of(reply, failed=CUSTOMER)
        for n, port in enumerate(ports):
            own = bounce.replace(b"Message-Id: <2026", f"Message-Id: <{n}026".encode())
            await send_mail(port, own, sender="", recipients=[return_path])

        async with aiohttp.ClientSession() as session:
            operator = Operator(session, group[1])
            logs: dict[str, list[dict[str, Any]]] = {}

            async def all_stored() -> bool:
                found = await operator.call("GET", "/api/v1/conversations?limit=50")
                logs.clear()
                for c in found["items"]:
                    logs[c["id"]] = await operator.events(c["id"])
                return sum(len(_bounces(events)) for events in logs.values()) == 3

            await eventually(all_stored, "three bounces stored")
            [customers] = [i for i, events in logs.items() if _said(events) == [TEXTS[lang]]]
            filed = {i: _bounces(events) for i, events in logs.items() if _bounces(events)}
            assert filed == {customers: ["verp"] * 3}, filed
    finally:
        await group.stop()
        await relay.stop()


def _bounces(events: list[dict[str, Any]]) -> list[str]:
    """How each bounce in a conversation was matched ("verp", or "unmatched")."""
    return [str(e["data"]["raw"].get("bounce")) for e in events if e["type"] == "message.noticed"]


def _said(events: list[dict[str, Any]]) -> list[str]:
    return [str(e["data"].get("text", "")).strip() for e in events if e["type"] == "message.in"]
