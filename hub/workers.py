"""`frontdesk serve --workers N`: N hub processes on one machine, one port.

The parent starts N copies of ``frontdesk serve`` that each bind the same address with
SO_REUSEPORT, so the kernel spreads new connections over them; they share everything else
through the Redis store and its event bus (a SQLite store is one process's file, so N > 1
needs Redis). The parent only supervises: it restarts a worker that dies, gives up when
workers keep dying at start (a bad config would otherwise loop forever), and on SIGTERM or
Ctrl+C stops them all, each finishing its turns and flushing its outbox.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from types import FrameType

from hub.errors import ConfigError
from hub.store_redis_connect import CLUSTER_SCHEMES, SINGLE_SCHEMES

log = logging.getLogger("frontdesk.workers")

EARLY_EXIT = 10.0  # a worker that dies this soon after starting did not really start
GIVE_UP_AFTER = 3  # early exits in a row before the parent stops trying
STOP_GRACE = 30.0


def check_shared_store(store_url: str, workers: int) -> None:
    """Several workers need a store they can share: Redis, not a SQLite file."""
    if workers > 1 and not store_url.startswith((*SINGLE_SCHEMES, *CLUSTER_SCHEMES)):
        raise ConfigError(
            f"--workers {workers} needs a shared store: set store.url to redis://host:port/db "
            f"(a SQLite store is served by one process; got {store_url.split(':', 1)[0]}:…)",
            key="store.url",
        )


class Supervisor:
    """Runs `count` copies of `argv` and keeps them running until told to stop."""

    def __init__(self, argv: Sequence[str], count: int, *, env: Mapping[str, str]) -> None:
        self.argv = list(argv)
        self.count = count
        self.env = dict(env)
        self.workers: dict[int, tuple[subprocess.Popen[bytes], float]] = {}
        self.stopping = False
        self.early_exits = 0

    def _spawn(self, index: int) -> None:
        env = {**self.env, "FRONTDESK_WORKER": str(index)}
        process = subprocess.Popen(self.argv, env=env)
        self.workers[index] = (process, time.monotonic())

    def _stop_soon(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop_soon)
        signal.signal(signal.SIGINT, self._stop_soon)
        for index in range(self.count):
            self._spawn(index)
        code = 0
        while not self.stopping:
            time.sleep(0.2)
            for index, (process, started) in list(self.workers.items()):
                status = process.poll()
                if status is None or self.stopping:
                    continue
                early = time.monotonic() - started < EARLY_EXIT
                self.early_exits = self.early_exits + 1 if early else 0
                print(
                    f"worker {index} exited with status {status}; "
                    + ("giving up" if self.early_exits >= GIVE_UP_AFTER else "restarting it"),
                    file=sys.stderr,
                    flush=True,
                )
                if self.early_exits >= GIVE_UP_AFTER:
                    self.stopping, code = True, 1
                    break
                self._spawn(index)
        self._stop_all()
        return code

    def _stop_all(self) -> None:
        for process, _ in self.workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for process, _ in self.workers.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


__all__ = ["Supervisor", "check_shared_store"]
