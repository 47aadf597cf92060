"""The one registry of store URL schemes (each naming a family of backends and everything
beside its stores), and what a store failure means for a client."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from redis.exceptions import (
    BusyLoadingError,
    ClusterDownError,
    ReadOnlyError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from hub.beside import Beside, LocalBeside, RedisBeside, SQLiteBeside
from hub.errors import ConfigError, Contention, LeaseLost
from hub.ports import Backend
from hub.ports.policy import DAY

if TYPE_CHECKING:
    from hub.attachments import AttachmentSettings, AttachmentStore


class BuildBackend(Protocol):
    """Builds a backend from its URL and the policy settings it applies."""

    def __call__(self, url: str, *, continuity_window: float | None) -> Backend: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendKind:
    """One family of backends, and everything that lives beside its stores.

    `name` keys what other packages keep per family (the console's accounts:
    `handoff.console.accounts`); `build` makes the store a URL names; `beside` gives the
    shared parts that go with a store of this family (None for a store of another);
    `attachments` makes the store of files sent either way, beside the URL's store.
    """

    name: str
    build: BuildBackend
    beside: Callable[[object], Beside | None]
    attachments: Callable[[str, AttachmentSettings], AttachmentStore]


def sqlite_path(url: str, *, key: str = "store.url") -> str:
    """The file a `sqlite:///` URL names; `ConfigError` (at `key`) when it names none."""
    path = url.removeprefix("sqlite:///")
    if not path:
        raise ConfigError("sqlite URL needs a file path", key=key)
    return path


def _sqlite(url: str, *, continuity_window: float | None) -> Backend:
    """`sqlite:///relative/or//absolute/path.db`: the embedded backend, one process."""
    from hub.store_sqlite import SQLiteStore

    return SQLiteStore(sqlite_path(url), continuity_window=continuity_window)


def _sqlite_beside(store: object) -> Beside | None:
    from hub.store_sqlite import SQLiteStore

    return SQLiteBeside(store) if isinstance(store, SQLiteStore) else None


def _sqlite_attachments(url: str, settings: AttachmentSettings) -> AttachmentStore:
    """Files in a directory: `attachments.directory`, else `attachments/` beside the file."""
    from hub.attachments_fs import FileAttachments

    directory = settings.directory or str(Path(sqlite_path(url)).parent / "attachments")
    return FileAttachments(directory, settings)


def _redis(url: str, *, continuity_window: float | None) -> Backend:
    """One Redis server, or any node of a Redis Cluster (`hub.store_redis_connect` tells
    them apart by scheme): any number of processes and machines."""
    from hub.store_redis import RedisStore

    return RedisStore(url, continuity_window=continuity_window)


def _redis_beside(store: object) -> Beside | None:
    from hub.store_redis_core import RedisCore

    return RedisBeside(store) if isinstance(store, RedisCore) else None


def _redis_attachments(url: str, settings: AttachmentSettings) -> AttachmentStore:
    """Files on the same Redis, with an expiry and a daily quota per uploader."""
    from hub.attachments_redis import RedisAttachments

    return RedisAttachments(url, settings)


SQLITE = BackendKind(
    name="sqlite", build=_sqlite, beside=_sqlite_beside, attachments=_sqlite_attachments
)
REDIS = BackendKind(
    name="redis", build=_redis, beside=_redis_beside, attachments=_redis_attachments
)

#: URL prefix (scheme) → the family of backends it names, and so everything beside the
#: store (`BackendKind`). Every backend implements all the ports of `hub.ports`; a
#: family's modules are imported only when its scheme is used.
BACKENDS: dict[str, BackendKind] = {
    "sqlite:///": SQLITE,  # sqlite:///relative/path.db, sqlite:////absolute/path.db
    "redis://": REDIS,  # redis://host:port/db
    "rediss://": REDIS,  # the same over TLS
    "unix://": REDIS,  # unix:///path/to/redis.sock
    "redis+cluster://": REDIS,  # any node of a Redis Cluster
    "rediss+cluster://": REDIS,
}

# Every prefix a store URL may start with.
STORE_SCHEMES = tuple(BACKENDS)


def backend_kind(url: str, *, key: str = "store.url") -> BackendKind:
    """The family a store URL names (`BACKENDS`); `ConfigError` (at `key`) for an unknown
    scheme."""
    for prefix, kind in BACKENDS.items():
        if url.startswith(prefix):
            return kind
    raise ConfigError(f"unknown store URL {url!r}", key=key)


def store_from_url(url: str, *, continuity_window: float | None = DAY) -> Backend:
    """The backend a store URL names (`BACKENDS`), not yet opened; `ConfigError` for an
    unknown scheme. `continuity_window`: `identity.continuity_window` (`hub.ports.policy`)."""
    return backend_kind(url).build(url, continuity_window=continuity_window)


def beside(store: object) -> Beside:
    """The shared parts that go with `store` (the family it belongs to; one process alone,
    in memory, for a store of none, such as a test double)."""
    for kind in dict.fromkeys(BACKENDS.values()):
        found = kind.beside(store)
        if found is not None:
            return found
    return LocalBeside()


def attachments_beside(url: str, settings: AttachmentSettings) -> AttachmentStore:
    """The attachment store that goes with the store `url` names."""
    return backend_kind(url).attachments(url, settings)


# SQLite's words for "the database cannot take this now" (as opposed to a bug in a query).
_SQLITE_OUTAGES = (
    "database is locked",
    "database or disk is full",
    "readonly database",
    "disk i/o error",
    "unable to open database",
)


def is_outage(error: BaseException) -> bool:
    """Whether `error` (or what caused it) says the store is unreachable or cannot write,
    rather than that the request or the code is wrong: then the client should retry."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current, RedisConnectionError | RedisTimeoutError | BusyLoadingError | ReadOnlyError
        ):
            return True
        # A Redis Cluster failing over or moving slots, or this process having stalled past
        # a conversation's lease: the same request succeeds later.
        if isinstance(
            current,
            ClusterDownError | TryAgainError | SlotNotCoveredError | LeaseLost | Contention,
        ):
            return True
        if isinstance(current, sqlite3.OperationalError) and any(
            words in str(current).lower() for words in _SQLITE_OUTAGES
        ):
            return True
        current = current.__cause__ or current.__context__
    return False
