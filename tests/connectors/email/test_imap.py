"""The email channel's IMAP inbound against a real Dovecot on 127.0.0.1 (mail delivered
into it over LMTP): messages are fetched, stored, answered, and only then flagged or
moved; a failure between fetch and store re-fetches; IDLE wakes the poller."""

from __future__ import annotations

import asyncio
import imaplib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.email.imap_in import ImapPoller, ImapSettings
from hub.api import HUB
from hub.app import create_app
from hub.echo import EchoBot
from hub.model import EventType
from tests.connectors.email.dovecot import PASSWORD, USER, Dovecot
from tests.connectors.email.harness import CaptureRelay, config_yaml, fixture, send_mail
from tests.support import hub_config, hub_env


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def mailbox_state(server: Dovecot, mailbox: str = "INBOX") -> dict[str, int]:
    """How many messages `mailbox` holds, and how many of them are unseen."""
    client = imaplib.IMAP4("127.0.0.1", server.imap_port)
    try:
        client.login(USER, PASSWORD)
        client.select(f'"{mailbox}"', readonly=True)
        _, everything = client.uid("SEARCH", None, "ALL")  # type: ignore[arg-type]
        _, unseen = client.uid("SEARCH", None, "UNSEEN")  # type: ignore[arg-type]
        return {"all": len(everything[0].split()), "unseen": len(unseen[0].split())}
    finally:
        client.logout()


def create_folder(server: Dovecot, name: str) -> None:
    client = imaplib.IMAP4("127.0.0.1", server.imap_port)
    try:
        client.login(USER, PASSWORD)
        assert client.create(f'"{name}"')[0] == "OK"
    finally:
        client.logout()


async def deliver(server: Dovecot, name: str) -> None:
    await send_mail(server.lmtp_port, fixture(name), recipients=[USER], lmtp=True)


def settings(server: Dovecot, **overrides: Any) -> ImapSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.imap_port,
        "security": "none",
        "username": USER,
        "password": PASSWORD,
        "poll_interval": 0.2,
    }
    values.update(overrides)
    return ImapSettings(**values)


async def test_imap_mail_is_answered_then_flagged_and_idle_wakes_the_poller(
    dovecot: Dovecot, tmp_path: Path, aiohttp_client: Any
) -> None:
    relay = CaptureRelay()
    await relay.start()
    await deliver(dovecot, "gmail_new.eml")  # waiting before the hub starts
    env = hub_env(tmp_path, FRONTDESK_EMAIL_IMAP_PASSWORD=PASSWORD)
    # A long poll interval: the second mail can only arrive in time through IDLE.
    imap = {
        "host": "127.0.0.1",
        "port": dovecot.imap_port,
        "security": "none",
        "username": USER,
        "poll_interval": 600,
    }
    config = hub_config(
        env, config_yaml(tmp_path, relay_port=relay.port, inbound="imap", imap=imap)
    )
    app = create_app(config, environ=env, bot=EchoBot())
    await aiohttp_client(app)
    try:
        [first] = await relay.wait_for(1)
        assert first["Subject"] == "Re: Order #1042 has not arrived"
        assert await asyncio.to_thread(mailbox_state, dovecot) == {"all": 1, "unseen": 0}

        await deliver(dovecot, "gmail_reply.eml")
        second = (await relay.wait_for(2, timeout=120))[1]
        assert second["To"] == "ana.lima@gmail.com"
        hub = app[HUB]
        conversation = await hub.latest_conversation("email:ana.lima@gmail.com")
        assert conversation is not None
        texts = [
            event.data["text"]
            for event in await hub.events(conversation.id)
            if event.type == EventType.MESSAGE_IN
        ]
        assert len(texts) == 2 and texts[1].startswith('It still shows "in transit"')
    finally:
        await relay.stop()


async def test_a_failure_between_fetch_and_store_refetches(dovecot: Dovecot) -> None:
    await deliver(dovecot, "apple_mail_reply.eml")
    received: list[bytes] = []
    stored = asyncio.Event()

    async def on_message(data: bytes) -> None:
        received.append(data)
        if len(received) == 1:
            raise RuntimeError("the store is down")  # the hub could not store it
        stored.set()

    poller = ImapPoller(settings(dovecot), on_message)
    await poller.start()
    try:
        await asyncio.wait_for(stored.wait(), 60)
    finally:
        await poller.stop()
    assert len(received) == 2 and received[0] == received[1]
    assert b"Via Roma 12" in received[1]
    assert await asyncio.to_thread(mailbox_state, dovecot) == {"all": 1, "unseen": 0}


async def test_stored_mail_moves_to_the_processed_folder(dovecot: Dovecot) -> None:
    await asyncio.to_thread(create_folder, dovecot, "Frontdesk Done")
    await deliver(dovecot, "chinese_gbk.eml")
    await deliver(dovecot, "outlook_reply.eml")
    received: list[bytes] = []
    both = asyncio.Event()

    async def on_message(data: bytes) -> None:
        received.append(data)
        if len(received) == 2:
            both.set()

    poller = ImapPoller(settings(dovecot, processed_folder="Frontdesk Done"), on_message)
    await poller.start()
    try:
        await asyncio.wait_for(both.wait(), 60)
    finally:
        await poller.stop()  # the move of the second message completes before stop returns
    assert await asyncio.to_thread(mailbox_state, dovecot) == {"all": 0, "unseen": 0}
    done = await asyncio.to_thread(mailbox_state, dovecot, "Frontdesk Done")
    assert done["all"] == 2
