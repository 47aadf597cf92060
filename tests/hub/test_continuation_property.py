"""Which open conversation a message continues, on random histories: every backend against
the pure rule (`hub.ports.policy`).

SQLite calls the rule; the Redis `record_inbound` script must decide atomically with its
write, so it follows the rule on its own (Lua). `test_port_continuation.py` holds both to a
table of named cases; this holds them to histories Hypothesis makes up: messages on web
chat, Telegram, email and the api channel, in email or api threads or none, a moment or
more than the continuity window apart, conversations resolved in between. Each step must
land where the rule says: in the conversation the rule continues, or in a new one.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.abc import TurnResult
from hub.model import ConversationStatus, Inbound
from hub.ports import Backend
from hub.store_redis import RedisStore
from hub.store_sqlite import SQLiteStore
from tests.hub.test_port_continuation import SENDERS, Model, Say

W = 1000.0
EXAMPLES = 150  # histories per backend (40 missed a two-step case a mutant of the Lua failed)
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,  # real I/O on a shared machine: no timing in the verdict
    database=None,  # nothing written into the work tree
    derandomize=True,  # the same histories on every run: a verdict that does not flicker
    suppress_health_check=[HealthCheck.too_slow],
)
THREADS = {"webchat": [""], "telegram": [""], "email": ["", "<r1@mail>", "<r2@mail>"]}
THREADS["api"] = ["", "order-7"]


@dataclass(frozen=True)
class Message:
    channel: str
    thread: str
    gap: float  # seconds after the previous step


@dataclass(frozen=True)
class Resolution:
    which: int  # of the open conversations, by position in the order they were opened
    gap: float


GAPS = st.sampled_from([1.0, W / 2, W - 1, 2 * W, 10 * W])
MESSAGES = st.sampled_from(sorted(THREADS)).flatmap(
    lambda channel: st.builds(
        Message, channel=st.just(channel), thread=st.sampled_from(THREADS[channel]), gap=GAPS
    )
)
STEPS = st.lists(
    st.one_of(MESSAGES, MESSAGES, MESSAGES, st.builds(Resolution, st.integers(0, 3), GAPS)),
    min_size=1,
    max_size=8,
)


@pytest.fixture(params=["sqlite", "redis", "cluster"])
def opened(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[asyncio.AbstractEventLoop, Backend]]:
    """A store opened on a loop of the test's own (Hypothesis runs the examples itself)."""
    if request.param == "sqlite":
        store: Backend = SQLiteStore(tmp_path / "continuation.db")
    else:
        fixture = "redis_url" if request.param == "redis" else "redis_cluster_url"
        store = RedisStore(request.getfixturevalue(fixture))
    loop = asyncio.new_event_loop()
    loop.run_until_complete(store.open())
    try:
        yield loop, store
    finally:
        loop.run_until_complete(store.close())
        loop.close()


async def replay(
    store: Backend, window: float | None, steps: list[Message | Resolution], who: int
) -> None:
    """One customer's history through the rule alone and through the store, step by step."""
    store.continuity_window = window
    senders = {channel: f"{sender}-{who}" for channel, sender in SENDERS.items()}
    customer, _ = await store.ensure_customer(f"webchat:{senders['webchat']}", now=0.0)
    for channel in ("telegram", "email", "api"):
        assert await store.add_identity(customer.id, f"{channel}:{senders[channel]}", now=0.0)
    model = Model(window)
    ids: dict[str, str] = {}  # the model's label -> the store's conversation id
    at = 0.0
    for n, step in enumerate(steps):
        at += step.gap
        if isinstance(step, Resolution):
            if not model.open:
                continue
            label = sorted(model.open)[step.which % len(model.open)]
            del model.open[label]
            conversation = await store.get_conversation(ids[label])
            assert conversation is not None
            await store.commit_turn(
                conversation.id,
                handled_seq=conversation.last_seq,
                result=TurnResult(status=ConversationStatus.RESOLVED),
                now=at,
                lease=30,
            )
            continue
        label = model.say(Say(step.channel, at, "", step.thread))
        got = await store.record_inbound(
            Inbound(
                channel=step.channel,
                sender=senders[step.channel],
                message_id=f"m{who}-{n}",
                text="hello 你好",
                thread_hint=step.thread,
                timestamp=at,
            ),
            now=at,
        )
        assert got.customer.id == customer.id
        if label in ids:
            assert got.conversation.id == ids[label], (n, step, steps)
        else:
            assert got.conversation.id not in ids.values(), (n, step, steps)
            ids[label] = got.conversation.id


def test_every_backend_follows_the_rule_on_random_histories(
    opened: tuple[asyncio.AbstractEventLoop, Backend],
) -> None:
    loop, store = opened
    customers = itertools.count()

    @SETTINGS
    @given(window=st.sampled_from([W, None]), steps=STEPS)
    def history(window: float | None, steps: list[Message | Resolution]) -> None:
        loop.run_until_complete(replay(store, window, steps, next(customers)))

    history()
