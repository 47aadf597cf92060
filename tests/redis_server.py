"""A private, throwaway `redis-server` for tests: loopback only, on a free port.

Never the system Redis on 6379 and never a fake: the contract tests must exercise the
real Lua scripts. Persistence is an append-only file fsynced on every write, in a
temporary directory, so `restart()` brings back everything written before it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


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

    def start(self, timeout: float = 10.0) -> None:
        """Start (or start again, on the same port and data directory)."""
        if self._process is not None:
            return
        for attempt in range(3):
            try:
                self._spawn(timeout)
            except RuntimeError:
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
        self._process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                log = (self.dir / "redis.log").read_text(errors="replace")[-2000:]
                self._process = None
                raise RuntimeError(f"redis-server exited at start:\n{log}")
            if self._ping():
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout}s")

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

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def flushdb(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(b"SELECT 0\r\nFLUSHDB\r\n")
            received = b""
            while received.count(b"\r\n") < 2:
                chunk = sock.recv(64)
                if not chunk:
                    break
                received += chunk
            if received != b"+OK\r\n+OK\r\n":
                raise RuntimeError(f"FLUSHDB failed: {received!r}")
