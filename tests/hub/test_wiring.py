"""Wiring by construction: the hub's owners are built with the hub, once, and stay; every
channel is whole once constructed."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.email.connector import EmailConnector
from connectors.registry import BUILTIN
from connectors.telegram.connector import TelegramConnector
from connectors.webchat.connector import WebchatConnector
from connectors.wechat.connector import WeChatConnector
from connectors.whatsapp.connector import WhatsAppConnector
from hub.abc import Connector, ConversationHandler, Owners, Turn, TurnResult
from hub.api import HUB
from hub.attachments_http import ATTACHMENTS
from hub.customers_api import IDENTITY
from hub.hub import Hub
from hub.store_sqlite import SQLiteStore
from tests.connectors.hub_app import hub_app


class Quiet(ConversationHandler):
    async def handle(self, turn: Turn) -> TurnResult:
        return TurnResult()


def test_owners_are_built_with_the_hub_and_fixed(tmp_path: Path) -> None:
    seen: list[Hub] = []
    bot, humans = Quiet(), Quiet()

    def owners(hub: Hub) -> Owners:
        # What the hand-off needs of the hub is there when it is built.
        assert hub.bus is not None and hub.store is not None and hub.metrics is not None
        seen.append(hub)
        return Owners(bot=bot, humans=humans)

    hub = Hub(store=SQLiteStore(tmp_path / "w.db"), owners=owners)
    assert seen == [hub]
    assert (hub.bot, hub.humans) == (bot, humans)
    with pytest.raises(AttributeError):
        hub.bot = Quiet()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        hub.humans = Quiet()  # type: ignore[misc]


def test_a_hub_takes_its_owners_one_way(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "w.db")
    built = Owners(bot=Quiet())
    with pytest.raises(ValueError):
        Hub(store=store)
    with pytest.raises(ValueError):
        Hub(store=store, bot=Quiet(), owners=lambda hub: built)
    with pytest.raises(ValueError):
        Hub(store=store, humans=Quiet(), owners=lambda hub: built)
    hub = Hub(store=store, bot=built.bot)
    assert (hub.bot, hub.humans) == (built.bot, None)


def every_channel(tmp_path: Path) -> dict[str, dict[str, object]]:
    """Each built-in channel, enabled with the least configuration it starts with."""
    return {
        "api": {},
        "webchat": {"secret_file": str(tmp_path / "webchat.secret")},
        "telegram": {"mode": "polling"},
        "email": {"address": "support@shop.example", "inbound": "imap",
                  "imap": {"host": "127.0.0.1", "username": "support"},
                  "relay": {"host": "127.0.0.1"}},
        "sms": {"enabled": True},
        "whatsapp": {"enabled": True},
        "wechat": {"enabled": True},
    }  # fmt: skip


def test_every_channel_is_whole_once_constructed(tmp_path: Path) -> None:
    """`create_app` hands each channel what it needs through its constructor: the hub as
    its log, the app's attachment store, the identity check, and the hub's shared limits,
    send slots and key-value port inside its parts. Nothing is attached afterwards."""
    environ = {"FRONTDESK_STORE_URL": f"sqlite:///{tmp_path}/hub.db", "FRONTDESK_LOG_FORMAT": "text",
               "FRONTDESK_TELEGRAM_TOKEN": "424242:wiring-test-token",
               "FRONTDESK_EMAIL_IMAP_PASSWORD": "wiring-test-imap-password"}  # fmt: skip
    app = hub_app(tmp_path, channels=every_channel(tmp_path), environ=environ, bot=Quiet())
    hub = app[HUB]
    assert sorted(hub.connectors) == sorted(BUILTIN)
    for connector in hub.connectors.values():
        assert connector.log is hub, connector.name
        assert connector.ingest == hub.ingest, connector.name
        assert connector.attachments is app[ATTACHMENTS], connector.name
        assert connector.identity_tokens == app[IDENTITY].accept_widget_token, connector.name
    assert not hasattr(Connector, "attach")
    webchat = hub.connectors["webchat"]
    assert isinstance(webchat, WebchatConnector)
    assert webchat.sessions.limiter is hub.limiter and webchat.addresses.limiter is hub.limiter
    telegram, whatsapp = hub.connectors["telegram"], hub.connectors["whatsapp"]
    assert isinstance(telegram, TelegramConnector) and isinstance(whatsapp, WhatsAppConnector)
    assert telegram.pacer.pacing is hub.pacing and whatsapp.pacer.pacing is hub.pacing
    wechat = hub.connectors["wechat"]
    assert isinstance(wechat, WeChatConnector) and wechat.api.kv is hub.kv
    email = hub.connectors["email"]
    assert isinstance(email, EmailConnector) and email.rate_limit.limiter is hub.limiter
