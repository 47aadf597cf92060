"""The test harness's wait for a Redis to be ready: PING tried again until it answers,
within one overall deadline, rather than one short timeout that a loaded machine trips."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from functools import partial

import pytest

from tests.redis_server import READY_ENV, ServerExited, free_port, ping, wait_until_ready

BOUND = 60.0  # s: only reached when the wait does not retry, which is the failure


class LateServer:
    """A loopback server that answers PING, and only from its `silent + 1`th connection:
    the ones before are accepted and left without an answer (a server too busy to reply)."""

    def __init__(self, port: int, *, silent: int = 0) -> None:
        self.port = port
        self.silent = silent
        self.accepted = 0
        self._listener: socket.socket | None = None
        self._held: list[socket.socket] = []
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(8)
        self._listener = listener
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        assert self._listener is not None
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed
            self.accepted += 1
            if self.accepted <= self.silent:
                self._held.append(connection)
                continue
            with connection:
                if connection.recv(64).startswith(b"PING"):
                    connection.sendall(b"+PONG\r\n")

    def close(self) -> None:
        for connection in self._held:
            connection.close()
        if self._listener is not None:
            self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        if self._thread is not None:
            self._thread.join(BOUND)


@pytest.fixture
def port() -> Iterator[int]:
    yield free_port()


def test_the_wait_retries_until_a_server_that_starts_late_answers(port: int) -> None:
    server = LateServer(port)
    answers: list[bool] = []

    def probe() -> bool:
        answered = ping(port)
        answers.append(answered)
        if len(answers) == 3:
            server.start()  # the server comes up after three refused probes
        return answered

    try:
        wait_until_ready(probe, f"a late server on port {port}", within=BOUND)
    finally:
        server.close()
    assert answers == [False, False, False, True]


def test_a_probe_left_unanswered_is_tried_again(port: int) -> None:
    """A busy server accepts the connection but does not answer in time: that probe times
    out, and the next one is answered."""
    server = LateServer(port, silent=2)
    server.start()
    try:
        wait_until_ready(
            partial(ping, port, timeout=0.2), f"a busy server on port {port}", within=BOUND
        )
    finally:
        server.close()
    assert server.accepted == 3


def test_a_server_that_never_answers_is_named_with_a_way_out(port: int) -> None:
    with pytest.raises(RuntimeError) as refused:
        wait_until_ready(partial(ping, port), f"redis-server on port {port}", within=0)
    message = str(refused.value)
    assert f"redis-server on port {port} did not answer PING within 0 s" in message
    assert READY_ENV in message


def test_a_server_that_exited_ends_the_wait_at_once() -> None:
    probes: list[int] = []

    def probe() -> bool:
        probes.append(1)
        return False

    with pytest.raises(ServerExited, match="it exited: port taken"):
        wait_until_ready(probe, "redis-server", within=BOUND, gone=lambda: "it exited: port taken")
    assert probes == []
