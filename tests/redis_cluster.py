"""A private, throwaway Redis Cluster for tests: three masters on free loopback ports.

Each node is a `redis-server --cluster-enabled yes` in its own temporary directory (no
persistence: a test cluster lives for one session); `redis-cli --cluster create` joins
them with no replicas and assigns the 16384 slots. Never the system Redis, never a fake:
the cluster suites must exercise the real scripts under the real slot rules.

As for the single server (`tests.redis_server`), every wait is a probe tried again within
one generous deadline, and a command gets a long time to answer; the nodes' own failure
detection (`cluster-node-timeout`) is long too, as a node starved of CPU on a loaded machine
is slow, not down (and with no replicas a "failed" master would stop the whole cluster).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from functools import partial
from pathlib import Path

from tests.redis_server import (
    PROBE_TIMEOUT,
    READY_WITHIN,
    REPLY_TIMEOUT,
    ServerExited,
    free_port,
    ping,
    redis_server_binary,
    wait_until_ready,
)

# A cluster node also listens on its port + 10000 (the cluster bus), so its port must be at
# most 55535; Linux hands out free ports up to 60999, about one in five of them too high.
BUS_OFFSET = 10_000
HIGHEST_PORT = 65_535 - BUS_OFFSET
NODE_TIMEOUT_MS = 60_000  # before the other nodes think a node failed


def free_node_port() -> int:
    """A free loopback port whose cluster-bus port (+10000) exists and is free too."""
    for _ in range(200):
        port = free_port()
        if port <= HIGHEST_PORT and _free(port + BUS_OFFSET):
            return port
    raise RuntimeError("no free port pair (port, port + 10000) on 127.0.0.1")


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _exited(process: subprocess.Popen[bytes]) -> str | None:
    return None if process.poll() is None else f"it exited with status {process.returncode}"


def redis_cli_binary() -> str | None:
    return shutil.which("redis-cli")


class RedisTestCluster:
    """Three cluster-enabled redis-servers joined into one cluster; `url` names it."""

    def __init__(self, masters: int = 3) -> None:
        server, cli = redis_server_binary(), redis_cli_binary()
        if server is None or cli is None:
            raise RuntimeError("redis-server and redis-cli are needed (Debian: redis-server)")
        self.server, self.cli = server, cli
        self._tmp = tempfile.TemporaryDirectory(prefix="fd-redis-cluster-")
        self.dir = Path(self._tmp.name)
        self.masters = masters
        self.ports: list[int] = []
        self._processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        """The store URL; the client discovers the other nodes from the first."""
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def start(self, timeout: float = READY_WITHIN) -> None:
        try:
            for index in range(self.masters):
                self._spawn(index, timeout)
        except BaseException:
            self.close()  # the nodes that did start must not outlive the failed start
            raise
        nodes = [f"127.0.0.1:{port}" for port in self.ports]
        created = subprocess.run(
            [self.cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if created.returncode != 0:
            self.close()
            raise RuntimeError(f"redis-cli --cluster create failed:\n{created.stdout!r}")
        try:
            wait_until_ready(
                lambda: all(self._state_ok(port) for port in self.ports),
                "the test cluster (cluster_state:ok)",
                within=timeout,
                pause=0.05,
            )
        except RuntimeError:
            self.close()
            raise

    def _spawn(self, index: int, timeout: float) -> None:
        for _ in range(3):  # another process may take the free port before we bind it
            port = free_node_port()
            process = self._node(port)
            try:
                wait_until_ready(
                    partial(ping, port),
                    f"cluster node {index} on port {port}",
                    within=timeout,
                    gone=partial(_exited, process),
                )
            except ServerExited:
                process.wait()
                continue
            except BaseException:
                process.kill()
                process.wait()
                raise
            self.ports.append(port)
            self._processes.append(process)
            return
        raise RuntimeError(f"cluster node {index} did not start")

    def _node(self, port: int) -> subprocess.Popen[bytes]:
        node_dir = self.dir / str(port)
        node_dir.mkdir()
        args = [
            self.server,
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--protected-mode", "yes",
            "--cluster-enabled", "yes",
            "--cluster-config-file", str(node_dir / "nodes.conf"),
            "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
            "--dir", str(node_dir),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", str(node_dir / "redis.log"),
        ]  # fmt: skip
        return subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
        )

    def _state_ok(self, port: int) -> bool:
        return b"cluster_state:ok" in self._command(port, b"CLUSTER INFO")

    @staticmethod
    def _command(port: int, line: bytes, timeout: float = PROBE_TIMEOUT) -> bytes:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
                sock.sendall(line + b"\r\n")
                return sock.recv(4096)
        except OSError:
            return b""

    def flushall(self) -> None:
        """Empty every master (FLUSHALL acts on one node only, so ask each)."""
        for port in self.ports:
            reply = self._command(port, b"FLUSHALL", timeout=REPLY_TIMEOUT)
            if not reply.startswith(b"+OK"):
                raise RuntimeError(f"FLUSHALL on {port} failed: {reply!r}")

    def close(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
        self._tmp.cleanup()
