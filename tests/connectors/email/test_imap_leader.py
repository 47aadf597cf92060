"""Two hub processes on one Redis store (one server, and a three-master cluster), both
configured to poll the same IMAP mailbox (a real Dovecot): one polls at a time, each mail
is answered once, and when the polling process stops the other takes over."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from connectors.email.connector import EmailConnector
from hub.api import HUB
from hub.app import create_app
from hub.echo import EchoBot
from tests.connectors.email.dovecot import PASSWORD, USER, Dovecot
from tests.connectors.email.harness import CaptureRelay, config_yaml, fixture, send_mail
from tests.support import hub_config, hub_env

# The first mail and the one that arrives after the polling process stopped, per language.
MAILS = {
    "en": ("gmail_new.eml", "gmail_reply.eml"),
    "zh": ("chinese_gbk.eml", "outlook_zh_gbk_name.eml"),
}


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def until(check: Callable[[], bool | Awaitable[bool]], what: str) -> None:
    async with asyncio.timeout(60):  # generous: a lease changes hands within its ttl
        while True:
            found = check()
            if found if isinstance(found, bool) else await found:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(what)  # pragma: no cover - the timeout raises first


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_one_process_polls_the_mailbox_and_another_takes_over(
    dovecot: Dovecot, tmp_path: Path, shared_store_url: str, language: str
) -> None:
    first, later = MAILS[language]
    relay = CaptureRelay()
    await relay.start()
    imap = {
        "host": "127.0.0.1",
        "port": dovecot.imap_port,
        "security": "none",
        "username": USER,
        "poll_interval": 0.3,
        "idle": "false",
    }
    servers: list[TestServer] = []
    try:
        for n in range(2):
            directory = tmp_path / f"process{n}"
            directory.mkdir()
            env = hub_env(
                directory,
                FRONTDESK_EMAIL_IMAP_PASSWORD=PASSWORD,
                FRONTDESK_STORE_URL=shared_store_url,
            )
            path = config_yaml(directory, relay_port=relay.port, inbound="imap", imap=imap)
            app = create_app(hub_config(env, path), environ=env, bot=EchoBot())
            server = TestServer(app, host="127.0.0.1")
            await server.start_server()
            servers.append(server)
        connectors = [server.app[HUB].connectors["email"] for server in servers]
        assert all(isinstance(c, EmailConnector) and c.poller for c in connectors)
        pollers = [c.poller for c in connectors if isinstance(c, EmailConnector) and c.poller]

        await send_mail(dovecot.lmtp_port, fixture(first), recipients=[USER], lmtp=True)
        await relay.wait_for(1)
        leading = [poller.leading() for poller in pollers]
        assert leading.count(True) == 1, leading
        leader = leading.index(True)
        follower = pollers[1 - leader]
        assert not follower.connected.is_set()  # it never opened a session of its own

        await servers[leader].close()  # the polling process stops (and lets its lease go)
        await send_mail(dovecot.lmtp_port, fixture(later), recipients=[USER], lmtp=True)
        await until(follower.leading, "the other process taking over the mailbox")
        replies = await relay.wait_for(2, timeout=60)
        assert [m["Subject"].startswith("Re: ") for m in replies] == [True, True]
    finally:
        for server in servers:
            await server.close()
        await relay.stop()
