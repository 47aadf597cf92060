"""Commands packed by hiredis (`hub.redis_packing`): the bytes redis-py's own packer sends,
what it refuses still refused, and the store's client on it against a real Redis."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import DataError

from hub.redis_packing import HiredisPacking, packed_by_hiredis
from hub.store_redis_connect import connect

FAST = packed_by_hiredis(Connection)()
PLAIN = Connection()


def both(*args: Any) -> tuple[bytes, bytes]:
    return b"".join(FAST.pack_command(*args)), b"".join(PLAIN.pack_command(*args))


ARGUMENT = (
    st.text()
    | st.binary()
    | st.integers()
    | st.floats()  # NaN, infinities and -0.0 included: both write `repr`
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["EVALSHA", "SET", b"HGET", "ZADD"]), st.lists(ARGUMENT, max_size=12))
def test_the_same_bytes_as_redis_py(command: str | bytes, arguments: list[Any]) -> None:
    fast, plain = both(command, *arguments)
    assert fast == plain


@pytest.mark.parametrize(
    "args",
    [
        ("SCRIPT LOAD", "return 1"),  # a command of two words goes as two arguments
        (b"CLIENT SETNAME", "frontdesk"),
        ("SET", "fd:{fd}:kv:问候", "你好 hello", 1.5, 10**20, -0.0),
        ("SET", "k", memoryview(b"bytes seen through a view")),
        ("SET", "k", "x" * 10_000),  # past redis-py's buffer cut-off: sent in chunks
    ],
)
def test_the_same_bytes_for_the_special_cases(args: tuple[Any, ...]) -> None:
    fast, plain = both(*args)
    assert fast == plain


@pytest.mark.parametrize("bad", [True, None, {"a": 1}, ["list"]])
def test_what_redis_py_refuses_is_still_refused(bad: Any) -> None:
    with pytest.raises(DataError):
        FAST.pack_command("SET", "k", bad)


def test_a_lone_surrogate_is_refused_as_before() -> None:
    with pytest.raises(UnicodeEncodeError):
        PLAIN.pack_command("SET", "k", "\ud800")
    with pytest.raises(UnicodeEncodeError):
        FAST.pack_command("SET", "k", "\ud800")


def test_one_class_per_connection_kind() -> None:
    for base in (Connection, SSLConnection, UnixDomainSocketConnection):
        packed = packed_by_hiredis(base)
        assert issubclass(packed, base) and issubclass(packed, HiredisPacking)
        assert packed_by_hiredis(base) is packed


async def test_the_store_client_packs_through_hiredis(redis_url: str) -> None:
    client = await connect(redis_url)
    try:
        pool = client.connection_pool  # type: ignore[union-attr]
        assert issubclass(pool.connection_class, HiredisPacking)
        await client.set("fd-packing:问候", "你好 hello")
        assert await client.get("fd-packing:问候") == "你好 hello"
        assert await client.eval("return ARGV[1] .. ARGV[2]", 0, "一", 2.5) == "一2.5"
    finally:
        await client.delete("fd-packing:问候")
        await client.aclose()
