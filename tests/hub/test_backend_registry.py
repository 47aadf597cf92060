"""The backend registry (`hub.stores.BACKENDS`): a store URL's scheme names one family, and
the family gives the store and everything beside it. Nothing else tells backends apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.attachments import AttachmentSettings
from hub.attachments_fs import FileAttachments
from hub.attachments_redis import RedisAttachments
from hub.beside import LocalBeside, RedisBeside, SQLiteBeside
from hub.bus import LocalBus
from hub.bus_redis import RedisBus
from hub.errors import ConfigError
from hub.kv import MemoryKeyValue, RedisKeyValue, SQLiteKeyValue
from hub.leader import RedisLease, SoleLease
from hub.search import NoSearch
from hub.search_redis import RedisSearch
from hub.search_sqlite import SQLiteSearch
from hub.shared_limits import LocalRateLimiter, RedisRateLimiter
from hub.shared_pacing import LocalPacing, RedisPacing
from hub.store_redis import RedisStore
from hub.store_sqlite import SQLiteStore
from hub.stores import BACKENDS, REDIS, SQLITE, attachments_beside, backend_kind, beside

REDIS_URLS = [
    "redis://127.0.0.1:1/0",
    "rediss://127.0.0.1:1/0",
    "unix:///tmp/redis.sock",
    "redis+cluster://127.0.0.1:1",
    "rediss+cluster://127.0.0.1:1",
]


@pytest.mark.parametrize("url", REDIS_URLS)
def test_every_redis_scheme_names_the_redis_family(url: str) -> None:
    assert backend_kind(url) is REDIS
    assert isinstance(REDIS.build(url, continuity_window=None), RedisStore)


def test_the_registry_knows_two_families_and_refuses_others(tmp_path: Path) -> None:
    assert {kind.name for kind in BACKENDS.values()} == {"sqlite", "redis"}
    assert backend_kind(f"sqlite:///{tmp_path}/a.db") is SQLITE
    with pytest.raises(ConfigError) as caught:
        backend_kind("postgres://db/frontdesk", key="console.accounts_url")
    assert caught.value.key == "console.accounts_url"
    with pytest.raises(ConfigError, match="file path"):
        backend_kind("sqlite:///").build("sqlite:///", continuity_window=None)


def test_a_sqlite_store_has_its_file_beside_it_and_one_process(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "hub.db")
    parts = beside(store)
    assert isinstance(parts, SQLiteBeside)
    kv = parts.kv()
    assert isinstance(kv, SQLiteKeyValue) and kv.path == store.path
    assert isinstance(parts.search(), SQLiteSearch)
    assert isinstance(parts.bus(), LocalBus) and isinstance(parts.lease("job"), SoleLease)
    assert isinstance(parts.limiter(), LocalRateLimiter)
    assert isinstance(parts.pacing(), LocalPacing)
    files = attachments_beside(f"sqlite:///{tmp_path}/hub.db", AttachmentSettings())
    assert isinstance(files, FileAttachments) and files.directory == tmp_path / "attachments"


def test_a_redis_store_shares_every_part_on_its_server() -> None:
    store = RedisStore("redis://127.0.0.1:1/0")  # never opened: nothing connects
    parts = beside(store)
    assert isinstance(parts, RedisBeside)
    assert isinstance(parts.bus(), RedisBus) and isinstance(parts.lease("job"), RedisLease)
    assert isinstance(parts.limiter(), RedisRateLimiter)
    assert isinstance(parts.pacing(), RedisPacing)
    assert isinstance(parts.kv(), RedisKeyValue) and isinstance(parts.search(), RedisSearch)
    files = attachments_beside("redis://127.0.0.1:1/0", AttachmentSettings())
    assert isinstance(files, RedisAttachments)


def test_a_store_of_no_family_serves_one_process_in_memory() -> None:
    parts = beside(object())  # a test double
    assert isinstance(parts, LocalBeside)
    assert isinstance(parts.kv(), MemoryKeyValue) and isinstance(parts.search(), NoSearch)
    assert isinstance(parts.bus(), LocalBus) and isinstance(parts.lease("job"), SoleLease)
