"""Real hub processes for the scale-out tests: `python -m hub serve` N times on free loopback
ports, all on one store URL (a real redis-server the harness started; a Redis Cluster URL
works the same way once the store speaks it).

`HubGroup` writes one config per process (same store, same hand-off file, same web chat
secret: a visitor token minted by one process is good on every other), starts them in
parallel and waits for `/healthz`. Helpers talk to a process only through HTTP and
WebSockets, as a load balancer would send a client to any of them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from tests.support import API_TOKEN, CHANNEL_TOKEN, REPO

WEBCHAT_SECRET = "scale-test-webchat-secret"
START_TIMEOUT = 120.0  # three interpreters importing everything on a loaded 2-core machine

# Only the bus can carry changes between processes in these tests: the periodic resync
# of the hand-off queue (the old way other processes' changes arrived) is an hour away.
HANDOFF: dict[str, Any] = {
    "triggers": {
        "human_request": {"phrases": {"en": ["talk to a person"], "zh": ["转人工"]}},
    },
    "calendar": {"timezone": "Asia/Shanghai", "hours": {}},
    "routing": {
        "accept_timeout": 0,  # offers are accepted at once: capacity counts them at once
        "resync_interval": 3600,
        "tick_interval": 0.5,
        "update_interval": 3600,
        "default_wait": 120,
    },
    "agents": [
        {"id": "ana", "name": "Ana", "languages": ["en", "zh"], "capacity": 2},
        {"id": "bo", "name": "Bo", "languages": ["en", "zh"], "capacity": 3},
    ],
    "feedback": {"csat": True, "nps": False, "comment_window": 600, "reopen_window": 3600},
    "status_commands": ["status", "进度"],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def api_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_TOKEN}"}


class HubProcess:
    """One `python -m hub serve` in its own process group."""

    def __init__(
        self, directory: Path, name: str, config: Mapping[str, Any], *, args: Sequence[str] = ()
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.args = list(args)  # more `serve` options (`--workers 3` …)
        self.settings = dict(config)
        self.config = directory / "frontdesk.yaml"
        self._use_port(free_port())
        self.log = directory / "hub.log"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "FRONTDESK_API_TOKEN": API_TOKEN,
            "FRONTDESK_API_CHANNEL_TOKEN": CHANNEL_TOKEN,
            "FRONTDESK_WEBCHAT_SECRET": WEBCHAT_SECRET,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def _use_port(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        body = {**self.settings, "server": {"host": "127.0.0.1", "port": port}}
        self.config.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")

    def spawn(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hub", "serve", "--config", str(self.config), *self.args],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def ready(self, session: aiohttp.ClientSession) -> None:
        """Wait for `/healthz` (fails with the process's log if it died or never answered)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        rebinds = 0
        while loop.time() < deadline:
            assert self.process is not None
            if self.process.poll() is not None and rebinds < 3 and _lost_port(self.log):
                # Another program took the free port between probing and binding it.
                rebinds += 1
                self._use_port(free_port())
                self.spawn()
                continue
            assert self.process.poll() is None, f"{self.name} died:\n{self.log.read_text()}"
            try:
                async with session.get(f"{self.url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} did not start:\n{self.log.read_text()}")

    async def stop(self) -> None:
        self.terminate()
        await self.wait_stopped()

    def terminate(self) -> None:
        """Ask for a clean stop (SIGTERM) without waiting for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    async def wait_stopped(self) -> None:
        """Wait for the clean stop; a process that hangs in it is killed after 30 s.
        The wait leaves the event loop free: on its way out the process still delivers
        replies to the test's callback receiver (served by this loop), and a blocked loop
        would hold its clean stop until its delivery grace ran out."""
        if self.process is None:
            return
        try:
            await asyncio.to_thread(self.process.wait, 30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def _lost_port(log: Path) -> bool:
    return "address already in use" in log.read_text(errors="replace").lower()


def group_config(
    directory: Path, store_url: str, callback_url: str, **overrides: Any
) -> dict[str, Any]:
    """The config every process of a group shares: echo bot + hand-off, api and web chat."""
    handoff = directory / "handoff.yaml"
    handoff.write_text(json.dumps(HANDOFF, ensure_ascii=False), encoding="utf-8")
    config: dict[str, Any] = {
        "store": {"url": store_url},
        "delivery": {"base_delay": 0.05, "max_delay": 0.5, "lease": 2.0, "poll_interval": 0.1},
        "logging": {"level": "INFO", "format": "json"},
        "bot": {"kind": "echo", "handoff_path": str(handoff)},
        "channels": {
            "api": {"callback_url": callback_url},
            "webchat": {
                "enabled": True,
                "demo_page": False,
                "rate_per_second": 50,
                "rate_burst": 50,
            },
        },
    }
    config.update(overrides)
    return config


class HubGroup:
    """N hub processes sharing one store; `hubs[i].url` is process i's base URL."""

    def __init__(
        self,
        directory: Path,
        config: Mapping[str, Any],
        count: int = 3,
        *,
        each: Callable[[int, Mapping[str, Any]], Mapping[str, Any]] | None = None,
    ) -> None:
        """`each(n, config)`, when given, is process n's own config (a port of its own …)."""
        self.hubs = [
            HubProcess(directory / f"hub{n}", "ABCDEFGH"[n], each(n, config) if each else config)
            for n in range(count)
        ]

    async def start(self) -> None:
        for hub in self.hubs:
            hub.spawn()
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(hub.ready(session) for hub in self.hubs))

    async def stop(self) -> None:
        # Every process is asked first and then waited for: the clean stops run side by
        # side instead of one after another (each takes seconds on a loaded machine).
        for hub in self.hubs:
            hub.terminate()
        for hub in self.hubs:
            await hub.wait_stopped()

    def __getitem__(self, index: int) -> HubProcess:
        return self.hubs[index]


__all__ = ["HANDOFF", "HubGroup", "HubProcess", "api_headers", "free_port", "group_config"]
