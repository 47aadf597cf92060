"""A private, throwaway `redis-server` for tests: loopback only, on a free port.

Never the system Redis on 6379 and never a fake: the contract tests must exercise the
real Lua scripts. Persistence is an append-only file fsynced on every write, in a
temporary directory, so `restart()` brings back everything written before it.

Readiness is a PING answered, tried again and again within one generous deadline
(`wait_until_ready`), never a short timeout on one connection: on a loaded machine (load
over 20 on two cores) a server can take many seconds to start, or to answer a FLUSHDB that
waits for its fsync, though nothing is wrong. One slow probe only costs its own try.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

READY_ENV = "FRONTDESK_TEST_REDIS_READY"
# s: how long a server may take to answer its first PING. Generous: it is only reached when
# the server is truly broken, and then the message says so.
READY_WITHIN = float(os.environ.get(READY_ENV) or 120)
PROBE_TIMEOUT = 2.0  # s for one PING: a probe that times out is simply tried again
REPLY_TIMEOUT = 60.0  # s for a command's answer (FLUSHDB waits for an fsync on every write)


def redis_server_binary() -> str | None:
    """`redis-server` from PATH, else the one shipped by the PyPI package `redis-server`."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redis_server  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    path = getattr(redis_server, "REDIS_SERVER_PATH", None)
    return str(path) if path and Path(str(path)).exists() else None


class ServerExited(RuntimeError):
    """The server process ended before it answered (say, its port was taken meanwhile)."""


def wait_until_ready(
    probe: Callable[[], bool],
    what: str,
    *,
    within: float = READY_WITHIN,
    gone: Callable[[], str | None] = lambda: None,
    pause: float = 0.02,
) -> None:
    """Call `probe` (a PING) until it answers True, for at most `within` seconds overall.

    `gone` says why the server can no longer answer (it exited), which ends the wait at once
    (`ServerExited`); otherwise a probe that fails or times out is tried again after `pause`.
    Past the deadline, a `RuntimeError` that says what did not answer and how to wait longer."""
    deadline = time.monotonic() + within
    tries = 0
    while True:
        reason = gone()
        if reason is not None:
            raise ServerExited(f"{what} stopped before it answered PING: {reason}")
        tries += 1
        if probe():
            return
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"{what} did not answer PING within {within:g} s ({tries} tries). A machine "
                f"this loaded may need longer: set {READY_ENV} to a number of seconds."
            )
        time.sleep(pause)


def ping(port: int, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether a Redis on `port` answers PING within `timeout` (connecting included)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process; `url` stays the same across `restart()`."""

    def __init__(self, binary: str | None = None) -> None:
        found = binary or redis_server_binary()
        if found is None:
            raise RuntimeError("redis-server not found (install it, or `pip install redis-server`)")
        self.binary = found
        self._tmp = tempfile.TemporaryDirectory(prefix="fd-redis-")
        self.dir = Path(self._tmp.name)
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._started = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = READY_WITHIN) -> None:
        """Start (or start again, on the same port and data directory)."""
        if self._process is not None:
            return
        for attempt in range(3):
            try:
                self._spawn(timeout)
            except ServerExited:
                # Before the first start the port is ours to change: another process may
                # have taken the free port between probing and binding it.
                if self._started or attempt == 2:
                    raise
                self.port = free_port()
                continue
            self._started = True
            return

    def _spawn(self, timeout: float) -> None:
        args = [
            self.binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--protected-mode", "yes",
            "--dir", str(self.dir),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--daemonize", "no",
            "--logfile", str(self.dir / "redis.log"),
        ]  # fmt: skip
        process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
        )
        self._process = process

        def gone() -> str | None:
            if process.poll() is None:
                return None
            return "it exited:\n" + (self.dir / "redis.log").read_text(errors="replace")[-2000:]

        try:
            wait_until_ready(
                lambda: ping(self.port),
                f"redis-server on port {self.port}",
                within=timeout,
                gone=gone,
            )
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()  # SIGTERM: redis flushes the AOF and exits cleanly
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        self._tmp.cleanup()

    def flushdb(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=REPLY_TIMEOUT) as sock:
            sock.sendall(b"SELECT 0\r\nFLUSHDB\r\n")
            received = b""
            while received.count(b"\r\n") < 2:
                chunk = sock.recv(64)
                if not chunk:
                    break
                received += chunk
            if received != b"+OK\r\n+OK\r\n":
                raise RuntimeError(f"FLUSHDB failed: {received!r}")
