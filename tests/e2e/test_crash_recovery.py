"""No message is lost: SIGKILL the real server mid-load, restart it, and account for everything.

The test plays a backend that posts a stream of messages through the api channel with a
few concurrent senders. Midway the hub process is killed with SIGKILL. Messages that were
in flight (no 2xx seen) are re-posted after the restart, as any backend would do. Then:

- every message that got a 2xx is stored exactly once (as a `message.in` event);
- every stored message is answered, and every answer reaches the callback receiver at
  least once (the receiver drops duplicates by the delivery id, as documented).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.support import API_TOKEN, CHANNEL_TOKEN, REPO, CallbackReceiver

MESSAGES_PER_SENDER = 60
SENDERS = 6
KILL_AFTER_ACKS = 120
START_WITHIN = 90.0  # seconds for `hub serve` to answer /healthz


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HubProcess:
    """`python -m hub serve` in its own process group, on a config written for the test."""

    def __init__(self, tmp_path: Path, store_url: str, callback_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = tmp_path / "frontdesk.yaml"
        self.config.write_text(
            f"""
server: {{host: 127.0.0.1, port: {self.port}}}
store: {{url: "{store_url}"}}
delivery: {{max_attempts: 50, base_delay: 0.05, max_delay: 0.5, lease: 1.0, poll_interval: 0.1}}
logging: {{level: WARNING, format: json}}
bot: {{kind: echo}}
channels:
  api: {{callback_url: "{callback_url}"}}
""",
            encoding="utf-8",
        )
        self.log = tmp_path / "hub.log"
        self.env = {
            **os.environ,
            "FRONTDESK_API_TOKEN": API_TOKEN,
            "FRONTDESK_API_CHANNEL_TOKEN": CHANNEL_TOKEN,
        }
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hub", "serve", "--config", str(self.config)],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # A bound on liveness, not a speed check: a loaded machine can take many seconds to
        # import and open the store. A hub that never answers is killed, not left running.
        deadline = time.monotonic() + START_WITHIN
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                try:
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if self.process.poll() is not None:
                    raise AssertionError(f"hub exited:\n{self.log.read_text()}")
                await asyncio.sleep(0.05)
        self.kill()
        raise AssertionError(f"hub did not start:\n{self.log.read_text()}")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            # Waited for off the event loop: the callback receiver this loop serves must
            # still take the replies the hub sends on its way out.
            try:
                await asyncio.to_thread(self.process.wait, 20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(params=["sqlite", "redis", "redis-cluster"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/frontdesk.db"
    elif request.param == "redis":
        yield request.getfixturevalue("redis_url")
    else:
        yield request.getfixturevalue("redis_cluster_url")


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


async def test_sigkill_mid_load_loses_nothing(
    tmp_path: Path, store_url: str, receiver: CallbackReceiver
) -> None:
    hub = HubProcess(tmp_path, store_url, receiver.url)
    await hub.start()
    acked: set[str] = set()
    killed = asyncio.Event()
    headers = {"Authorization": f"Bearer {CHANNEL_TOKEN}"}

    async def sender(session: aiohttp.ClientSession, name: str) -> list[str]:
        unacked = []
        for n in range(MESSAGES_PER_SENDER):
            message_id = f"{name}-{n}"
            if killed.is_set():
                unacked.append(message_id)
                continue
            body = {"id": message_id, "sender": name, "text": message_id}
            try:
                async with session.post(
                    f"{hub.url}/api/v1/channels/api/messages", json=body, headers=headers
                ) as response:
                    if response.status in (200, 202):
                        acked.add(message_id)
                    else:
                        unacked.append(message_id)
            except aiohttp.ClientError:
                unacked.append(message_id)
            if len(acked) >= KILL_AFTER_ACKS and not killed.is_set():
                killed.set()
                hub.kill()
        return unacked

    try:
        async with aiohttp.ClientSession() as session:
            results = await asyncio.gather(*(sender(session, f"s{i}") for i in range(SENDERS)))
            assert killed.is_set()
            acked_before_kill = set(acked)

            await hub.start()
            for message_id in sorted(m for unacked in results for m in unacked):
                name = message_id.split("-")[0]
                body = {"id": message_id, "sender": name, "text": message_id}
                async with session.post(
                    f"{hub.url}/api/v1/channels/api/messages", json=body, headers=headers
                ) as response:
                    assert response.status in (200, 202), await response.text()
                    acked.add(message_id)

            everything = {f"s{i}-{n}" for i in range(SENDERS) for n in range(MESSAGES_PER_SENDER)}
            assert acked == everything
            await _wait_for_replies(receiver, everything)

            stored = await _stored_inbound_ids(session, hub.url)
        # Stored exactly once: no acknowledged message lost, none duplicated.
        counts = Counter(stored)
        assert set(counts) == everything
        assert max(counts.values()) == 1
        assert acked_before_kill <= set(counts)
        # Every reply delivered (at least once; duplicates carry the same delivery id).
        by_delivery = {r["delivery_id"]: r["text"] for r in receiver.received}
        assert sorted(t.removeprefix("You said: ") for t in by_delivery.values()) == sorted(
            everything
        )
    finally:
        await hub.stop()


async def _wait_for_replies(receiver: CallbackReceiver, expected: set[str]) -> None:
    for _ in range(600):
        answered = {r["text"].removeprefix("You said: ") for r in receiver.received}
        if answered >= expected:
            return
        await asyncio.sleep(0.1)
    missing = expected - {r["text"].removeprefix("You said: ") for r in receiver.received}
    raise AssertionError(f"{len(missing)} replies never arrived, e.g. {sorted(missing)[:5]}")


async def _stored_inbound_ids(session: aiohttp.ClientSession, url: str) -> list[str]:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    ids: list[str] = []
    cursor = ""
    while True:
        query = f"?limit=100&cursor={cursor}" if cursor else "?limit=100"
        async with session.get(f"{url}/api/v1/conversations{query}", headers=headers) as response:
            page = await response.json()
        for conversation in page["items"]:
            after = 0
            while True:
                async with session.get(
                    f"{url}/api/v1/conversations/{conversation['id']}/events?after={after}&limit=1000",
                    headers=headers,
                ) as response:
                    events = (await response.json())["items"]
                ids += [e["data"]["message_id"] for e in events if e["type"] == "message.in"]
                if len(events) < 1000:
                    break
                after = events[-1]["seq"]
        if not page["next_cursor"]:
            return ids
        cursor = page["next_cursor"]
