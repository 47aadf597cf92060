"""Choose a store from its URL."""

from __future__ import annotations

from hub.abc import Store
from hub.errors import ConfigError


def store_from_url(url: str) -> Store:
    """`sqlite:///relative/or//absolute/path.db` or `redis://host:port/db`."""
    if url.startswith("sqlite:///"):
        from hub.store_sqlite import SQLiteStore

        path = url.removeprefix("sqlite:///")
        if not path:
            raise ConfigError("sqlite URL needs a file path", key="store.url")
        return SQLiteStore(path)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from hub.store_redis import RedisStore

        return RedisStore(url)
    raise ConfigError(f"unknown store URL {url!r}", key="store.url")
