"""The limits port (`hub.ports.Limits`): fixed-window hit counters and verification
attempts, on SQLite, a real redis-server and a Redis Cluster."""

from __future__ import annotations

from hub.ports import Limits

SECRET_TEXT = "my card is 4111-SECRET-TEXT"


async def test_challenge_attempts_are_counted_and_expire(store: Limits) -> None:
    await store.put_challenge("cus_1", {"target": "email:a@b.co", "digest": "d"}, expires_at=50.0)
    first = await store.attempt_challenge("cus_1", now=10.0)
    second = await store.attempt_challenge("cus_1", now=11.0)
    assert first == {"target": "email:a@b.co", "digest": "d", "attempts": 1}
    assert second is not None and second["attempts"] == 2
    assert await store.attempt_challenge("cus_1", now=50.0) is None  # expired
    assert await store.attempt_challenge("cus_1", now=12.0) is None  # and gone
    await store.put_challenge("cus_1", {"target": "x"}, expires_at=100.0)
    await store.drop_challenge("cus_1")
    assert await store.attempt_challenge("cus_1", now=12.0) is None


async def test_count_hit_counts_per_fixed_window(store: Limits) -> None:
    assert [await store.count_hit("k", window=60, now=t) for t in (0, 10, 59)] == [1, 2, 3]
    assert await store.count_hit("k", window=60, now=61) == 1
    assert await store.count_hit("other", window=60, now=61) == 1
