"""The outbox's delivery: one conversation's replies in order (on both stores, across hub
processes) and patience through a long outage (on an injected clock, never a real wait)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Self, cast

import pytest

from hub.abc import ChannelLinks, Connector, ConversationHandler, Turn, TurnResult
from hub.config import Section
from hub.delivery import RetryPolicy
from hub.errors import RetryLater
from hub.hub import Hub
from hub.model import Delivery, EventType, Inbound, Outbound
from hub.ports import Backend
from hub.store_common import failed_delivery
from hub.store_redis import RedisStore
from hub.store_sqlite import SQLiteStore
from tests.support import channel_links

FAST = RetryPolicy(base_delay=0.05, max_delay=0.1, poll_interval=0.02, lease=5.0)


class FlakyChannel(Connector):
    """A channel at the network boundary: records what it sent, into a list several hubs
    may share (one customer's phone), and fails the first `fail` sends as it is told."""

    name = "flaky"

    def __init__(self, *, links: ChannelLinks, sent: list[str], fail: int = 0, **how: Any) -> None:
        super().__init__(links=links)
        self.sent = sent
        self.fail = fail
        self.how = how  # RetryLater's keywords: retry_after=… for a 429
        self.attempts = 0
        self.changed = asyncio.Event()

    @classmethod
    def from_config(
        cls, settings: Section, *, links: ChannelLinks, environ: Mapping[str, str]
    ) -> Self:
        return cls(links=links, sent=[])

    async def deliver(self, delivery: Delivery) -> Mapping[str, Any]:
        self.attempts += 1
        self.changed.set()
        if self.fail:
            self.fail -= 1
            raise RetryLater("429 Too Many Requests", **self.how)
        self.sent.append(delivery.outbound.text)
        return {"ok": True}


class TwoReplies(ConversationHandler):
    """Answers each message with two replies, in English and in Chinese."""

    async def handle(self, turn: Turn) -> TurnResult:
        text = turn.inbound.text
        return TurnResult(replies=(Outbound(text=f"1/2 {text}"), Outbound(text=f"2/2 {text}")))


def message(text: str, message_id: str) -> Inbound:
    return Inbound(channel="flaky", sender="ana", message_id=message_id, text=text)


StoreMaker = Callable[[], Backend]


@pytest.fixture(params=["sqlite", "redis", "redis-cluster"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreMaker:
    if request.param == "sqlite":
        return lambda: SQLiteStore(tmp_path / "delivery.db")
    fixture = "redis_url" if request.param == "redis" else "redis_cluster_url"
    url = request.getfixturevalue(fixture)
    return lambda: RedisStore(url)


async def running_hub(store: Backend, channel_sent: list[str], files: Path, **channel: Any) -> Hub:
    await store.open()
    hub = Hub(store=store, bot=TwoReplies(), retry=FAST)
    hub.add_connector(FlakyChannel(links=channel_links(hub, files), sent=channel_sent, **channel))
    await hub.start()
    return hub


async def stop(*hubs: Hub) -> None:
    for hub in hubs:
        await hub.stop()
        await cast(Backend, hub.store).close()  # the backend `running_hub` opened


async def until(condition: Callable[[], bool]) -> None:
    """Wait until `condition()` holds (a guard against hanging, not a timing assertion)."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 20)


@pytest.fixture
def sent() -> list[str]:
    return []


async def test_a_retried_reply_is_not_overtaken(
    make_store: StoreMaker, sent: list[str], tmp_path: Path
) -> None:
    """The first send gets a 429; the turn's second reply and the next turn's answers wait."""
    hub = await running_hub(make_store(), sent, tmp_path, fail=1, retry_after=0.05)
    try:
        await hub.ingest(message("hello", "m1"))
        await hub.ingest(message("你好", "m2"))  # back to back
        await until(lambda: len(sent) == 4)
        assert sent == ["1/2 hello", "2/2 hello", "1/2 你好", "2/2 你好"]
    finally:
        await stop(hub)


async def test_a_transient_failure_holds_the_conversation_not_others(
    make_store: StoreMaker, sent: list[str], tmp_path: Path
) -> None:
    hub = await running_hub(make_store(), sent, tmp_path, fail=1)  # a 502: backoff, no retry_after
    try:
        await hub.ingest(message("where is my order?", "m1"))
        await hub.ingest(message("我的订单在哪里？", "m2"))
        await until(lambda: len(sent) == 4)
        assert sent == [
            "1/2 where is my order?",
            "2/2 where is my order?",
            "1/2 我的订单在哪里？",
            "2/2 我的订单在哪里？",
        ]
        conversation = await hub.latest_conversation("flaky:ana")
        assert conversation is not None
        failed = [
            e for e in await hub.events(conversation.id) if e.type == EventType.DELIVERY_FAILED
        ]
        assert len(failed) == 1 and "throttled" not in failed[0].data
    finally:
        await stop(hub)


async def test_two_hub_processes_on_one_redis_keep_the_order(
    shared_store_url: str, sent: list[str], tmp_path: Path
) -> None:
    """Turn one is answered by hub A, whose first send fails; turn two arrives at hub B.
    B's answer must wait for A's retry, though B could send at once (one Redis, and a
    Redis Cluster)."""
    first = await running_hub(
        RedisStore(shared_store_url), sent, tmp_path / "a", fail=1, retry_after=0.2
    )
    second = await running_hub(RedisStore(shared_store_url), sent, tmp_path / "b")
    try:
        await first.ingest(message("Is the shop open?", "m1"))
        channel = first.connectors["flaky"]
        assert isinstance(channel, FlakyChannel)
        await until(lambda: channel.attempts >= 1)  # A's first send failed
        await second.ingest(message("商店开门了吗？", "m2"))
        await until(lambda: len(sent) == 4)
        assert sent == [
            "1/2 Is the shop open?",
            "2/2 Is the shop open?",
            "1/2 商店开门了吗？",
            "2/2 商店开门了吗？",
        ]
    finally:
        await stop(first, second)


# --------------------------------------------------------------------------- patience


def a_delivery(**fields: Any) -> Delivery:
    defaults: dict[str, Any] = {
        "id": "dlv_1",
        "conversation_id": "con_1",
        "seq": 3,
        "channel": "telegram",
        "address": "1",
        "thread_hint": "",
        "outbound": Outbound(text="hi 你好"),
    }
    return Delivery(**(defaults | fields))


def ride(policy: RetryPolicy, *, outage: float, retry_after: float | None = None) -> list[float]:
    """Fail a delivery until the policy parks it; the times of the attempts (clock from 0)."""
    delivery = a_delivery()
    now, attempts = 0.0, [0.0]
    while now < outage:
        retry_at = policy.retry_at(delivery, now=now, retry_after=retry_after)
        if retry_at is None:
            raise AssertionError(f"parked after {now:.0f} s and {len(attempts)} attempts")
        delivery, _ = failed_delivery(
            delivery,
            error="500",
            retry_at=retry_at,
            now=now,
            throttled=retry_after is not None,
        )
        now = retry_at
        attempts.append(now)
    return attempts


def test_an_hour_long_outage_is_ridden_out_by_default() -> None:
    attempts = ride(RetryPolicy(), outage=3500.0)
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert max(gaps) <= 300.0  # backoff capped at five minutes
    assert gaps[:3] == sorted(gaps[:3])  # growing at first
    assert len(attempts) < 40  # not hammering the channel either


def test_a_failing_reply_is_parked_after_the_retry_horizon() -> None:
    policy = RetryPolicy(retry_for=600.0)
    with pytest.raises(AssertionError, match="parked after"):
        ride(policy, outage=10_000.0)
    delivery = a_delivery(attempts=5, failing_since=1000.0)
    assert policy.retry_at(delivery, now=1599.0) is not None
    assert policy.retry_at(delivery, now=1600.0) is None


def test_429s_wait_as_told_and_use_up_no_attempts() -> None:
    policy = RetryPolicy(max_attempts=8)
    attempts = ride(policy, outage=600.0, retry_after=2.0)  # 300 throttles, no parking
    assert len(attempts) > 8
    assert {b - a for a, b in itertools.pairwise(attempts)} == {2.0}
    with pytest.raises(AssertionError, match="parked after"):
        ride(policy, outage=600.0)  # eight real failures do park with max_attempts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_worker_retries_through_an_outage_on_its_clock(
    tmp_path: Path, sent: list[str]
) -> None:
    """The channel fails for 50 minutes: the replies arrive afterwards, none parked."""
    clock = Clock()
    store = SQLiteStore(tmp_path / "patience.db")
    await store.open()
    hub = Hub(store=store, bot=TwoReplies(), retry=RetryPolicy(poll_interval=0.01), clock=clock)
    channel = FlakyChannel(links=channel_links(hub, tmp_path), sent=sent, fail=10_000)
    hub.add_connector(channel)
    await hub.start()
    try:
        receipt = await hub.ingest(message("hello", "m1"))
        start = clock.now
        while clock.now - start < 3000.0:
            seen = channel.attempts
            await until(lambda: channel.attempts > seen)  # noqa: B023 - awaited right here
            events = await hub.events(receipt.conversation_id, limit=1000)
            outcomes = [e for e in events if e.type.startswith("delivery.")]
            while len(outcomes) < channel.attempts:  # the failure is recorded just after
                await asyncio.sleep(0.01)
                events = await hub.events(receipt.conversation_id, limit=1000)
                outcomes = [e for e in events if e.type.startswith("delivery.")]
            assert outcomes[-1].type == EventType.DELIVERY_FAILED
            retry_at = outcomes[-1].data["retry_at"]
            assert retry_at - clock.now <= 300.0
            clock.now = retry_at
        channel.fail = 0  # the outage is over
        await until(lambda: len(sent) == 2)
        assert sent == ["1/2 hello", "2/2 hello"]
        assert (await store.dead_letters(limit=10)).items == []
    finally:
        await stop(hub)


async def test_an_outbox_written_before_ordering_is_migrated(tmp_path: Path) -> None:
    """A file from before the outbox knew its conversations opens, and its replies go."""
    import json
    import sqlite3

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE outbox (id TEXT PRIMARY KEY, next_attempt_at REAL NOT NULL,"
        " parked_at REAL, data TEXT NOT NULL)"
    )
    for seq, text in ((5, "Hello"), (6, "你好")):
        entry = a_delivery(id=f"dlv_{seq}", seq=seq, outbound=Outbound(text=text))
        old.execute(
            "INSERT INTO outbox VALUES (?, 1.0, NULL, ?)", (entry.id, json.dumps(entry.to_json()))
        )
    old.commit()
    old.close()

    store = SQLiteStore(path)
    await store.open()
    try:
        (head,) = await store.claim_deliveries(now=2.0, limit=10, lease=30)
        assert head.outbound.text == "Hello"  # the second waits behind it
        following = await store.delivery_succeeded(head, receipt={}, now=3.0, lease=30)
        assert following is not None and following.outbound.text == "你好"
    finally:
        await store.close()
