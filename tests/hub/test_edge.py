"""The server's edge through real sockets: slow headers and slow bodies time out, and the
client address is read from X-Forwarded-For only behind a configured proxy."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from hub.app import create_app
from hub.config import load_config
from hub.echo import EchoBot
from hub.edge import forwarded_client, handler_options, parse_networks
from tests.support import CHANNEL_TOKEN, hub_env

# Generous bounds for a busy machine; the timeouts under test are far shorter.
PATIENCE = 20.0

CONFIG = """\
server:
  keepalive_timeout: 1
  body_timeout: 0.5
bot:
  kind: echo
channels:
  api: {}
console:
  enabled: false
"""


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[str, int]]:
    """The hub as `frontdesk serve` runs it, on a free loopback port."""
    path = tmp_path / "frontdesk.yaml"
    path.write_text(CONFIG)
    config = load_config(path, hub_env(tmp_path))
    app = create_app(config, environ=hub_env(tmp_path), bot=EchoBot())
    options = handler_options(
        keepalive_timeout=config.server.keepalive_timeout, body_timeout=config.server.body_timeout
    )
    runner = web.AppRunner(app, **options)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield host, port
    finally:
        await runner.cleanup()


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (bounded)."""
    received = b""
    async with asyncio.timeout(PATIENCE):
        while chunk := await reader.read(4096):
            received += chunk
    return received


def message_head(body: bytes, extra: str = "") -> bytes:
    """The request line and headers of an api channel message carrying `body`."""
    return (
        "POST /api/v1/channels/api/messages HTTP/1.1\r\nHost: x\r\n"
        f"{extra}Authorization: Bearer {CHANNEL_TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()


async def assert_nothing_stored(server: tuple[str, int]) -> None:
    """The hub lists no conversation: nothing of a cut-off request was stored."""
    reader, writer = await asyncio.open_connection(*server)
    writer.write(
        b"GET /api/v1/conversations HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: Bearer test-api-token\r\n\r\n"
    )
    listed = await read_until_closed(reader)
    assert listed.startswith(b"HTTP/1.1 200") and b'"items": []' in listed
    writer.close()


async def test_slow_headers_are_cut_off(server: tuple[str, int]) -> None:
    reader, writer = await asyncio.open_connection(*server)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    for n in range(3):  # a header trickles in, never finished
        writer.write(f"X-Slow-{n}: a".encode())
        await writer.drain()
        await asyncio.sleep(0.2)
    assert await read_until_closed(reader) == b""  # closed without an answer
    writer.close()


async def test_an_idle_connection_is_closed(server: tuple[str, int]) -> None:
    reader, writer = await asyncio.open_connection(*server)
    assert await read_until_closed(reader) == b""
    writer.close()


async def test_a_slow_body_times_out_with_408_and_stores_nothing(server: tuple[str, int]) -> None:
    reader, writer = await asyncio.open_connection(*server)
    body = b'{"id": "1", "sender": "a", "text": "\xe4\xbd\xa0\xe5\xa5\xbd hello"}'
    writer.write(message_head(body) + body[:10])  # then nothing more
    await writer.drain()
    answer = await read_until_closed(reader)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"did not arrive within 0.5 seconds" in answer
    writer.close()

    await assert_nothing_stored(server)


async def test_a_client_gone_before_its_body_arrived_is_no_error(
    server: tuple[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    """A tab closed mid-upload: nothing stored, nothing logged as an error (it is routine)."""
    caplog.set_level(logging.INFO)
    _, writer = await asyncio.open_connection(*server)
    body = json.dumps({"id": "2", "sender": "b", "text": "订单 where is my order"}).encode()
    writer.write(message_head(body) + body[:12])
    await writer.drain()
    await asyncio.sleep(0.05)  # the server is waiting for the rest of the body
    writer.transport.abort()  # gone, without a FIN's courtesy

    async with asyncio.timeout(PATIENCE):
        while not [r for r in caplog.records if r.getMessage() == "client went away"]:
            await asyncio.sleep(0.02)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []

    await assert_nothing_stored(server)


def test_a_body_left_unread_is_read_no_longer_than_a_body_may_take() -> None:
    # After a 408 aiohttp reads and drops the rest of the body before it closes: a client
    # too slow for `body_timeout` must not keep its connection for aiohttp's 10 s more.
    assert handler_options(keepalive_timeout=1, body_timeout=0.5)["lingering_time"] == 0.5
    assert handler_options(keepalive_timeout=75, body_timeout=30)["lingering_time"] == 10.0


@pytest.mark.parametrize("text", ["hello, a body in two pieces", "你好，分两段到达的消息"])
async def test_a_body_split_across_packets_is_read_in_time(
    server: tuple[str, int], text: str
) -> None:
    # The edge reads a body that came whole with its headers at once, and one still on
    # its way under `body_timeout`: this is the second path, finishing well in time.
    reader, writer = await asyncio.open_connection(*server)
    body = json.dumps({"id": "split-1", "sender": "split", "text": text}).encode()
    writer.write(message_head(body, "Connection: close\r\n") + body[:10])
    await writer.drain()
    await asyncio.sleep(0.1)  # the rest arrives later, but inside the 0.5 s bound
    writer.write(body[10:])
    await writer.drain()
    answer = await read_until_closed(reader)
    assert answer.startswith(b"HTTP/1.1 202"), answer[:200]
    assert b'"duplicate": false' in answer
    writer.close()


PROXIES = parse_networks(["127.0.0.1", "10.0.0.0/8"])


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        ("127.0.0.1", "203.0.113.7", "203.0.113.7"),  # one trusted hop
        ("127.0.0.1", "203.0.113.7, 10.1.2.3", "203.0.113.7"),  # two trusted hops
        ("127.0.0.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # a spoofed left entry
        ("127.0.0.1", "", "127.0.0.1"),  # a trusted peer without the header
        ("127.0.0.1", "nonsense, 203.0.113.7", "203.0.113.7"),
        ("127.0.0.1", "10.0.0.5, nonsense", "127.0.0.1"),  # malformed: stop at the proxy
        ("192.0.2.9", "203.0.113.7", "192.0.2.9"),  # an untrusted peer cannot claim one
    ],
)
def test_forwarded_client(peer: str, header: str, client: str) -> None:
    assert forwarded_client(peer, header, PROXIES) == client


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert forwarded_client("127.0.0.1", "203.0.113.7", ()) == "127.0.0.1"


def test_trusted_proxies_are_checked_in_the_config(tmp_path: Path) -> None:
    from hub.errors import ConfigError

    path = tmp_path / "frontdesk.yaml"
    path.write_text("server:\n  trusted_proxies: [127.0.0.1, not-an-ip]\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path, {})
    assert "server.trusted_proxies" in raised.value.located()
    assert "not-an-ip" in raised.value.message
