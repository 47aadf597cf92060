"""The wait a queued customer is told does not jump: no number from a thin history, a
robust statistic, a bounded step between two messages at one place, round buckets, and
"longer than usual" rather than a wait shorter than the one already endured; English and
Chinese. Pure rules first, then through a real Hub the way `test_status_truth` drives it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handoff.wait import MIN_PICKUPS, estimate, message_key, per_place, phrase
from tests.handoff.helpers import BASE, FakeClock, Rig, at, handoff_yaml

MONDAY_10 = at("2026-11-23 10:00")
NOW = 1_800_000_000.0


# ------------------------------------------------------------------ pure rules
def test_a_thin_history_gives_no_number() -> None:
    few = [(NOW - 60 * i, 30.0) for i in range(MIN_PICKUPS - 1)]
    assert per_place(few, NOW) is None
    # Enough pick-ups, but from another shift: still nothing to say.
    stale = [(NOW - 7 * 3600 - i, 30.0) for i in range(20)]
    assert per_place(stale, NOW) is None
    assert estimate(None, position=3, online=2) is None
    assert message_key(None, waited=9999) == ""


def test_one_slow_pick_up_does_not_swing_the_wait() -> None:
    usual = [(NOW - 60 * i, 60.0 + i) for i in range(9)]
    slow = [*usual, (NOW, 3300.0)]
    assert per_place(usual, NOW) == pytest.approx(64.0)
    assert per_place(slow, NOW) == pytest.approx(64.5)


def test_the_estimate_moves_by_at_most_a_factor_at_one_place() -> None:
    assert estimate(3000.0, position=1, online=1, told=60.0, told_position=1) == 120.0
    assert estimate(5.0, position=1, online=1, told=60.0, told_position=1) == 30.0
    # A new place is news: the estimate may follow it.
    assert estimate(3000.0, position=2, online=2, told=60.0, told_position=1) == 3000.0


@pytest.mark.parametrize(
    ("seconds", "en", "zh"),
    [
        (20, "a few minutes", "几分钟"),
        (170, "a few minutes", "几分钟"),
        (6 * 60, "about 5 minutes", "约 5 分钟"),
        (12 * 60, "about 10 minutes", "约 10 分钟"),
        (35 * 60, "about 30 minutes", "约半小时"),
        (56 * 60, "about an hour", "约 1 小时"),
        (5 * 3600, "more than an hour", "超过 1 小时"),
    ],
)
def test_the_wait_is_said_in_round_buckets(seconds: float, en: str, zh: str) -> None:
    assert (phrase(seconds, "en"), phrase(seconds, "zh")) == (en, zh)


def test_a_wait_already_longer_than_the_estimate_is_said_to_be_longer() -> None:
    assert message_key(300.0, waited=100.0) == "wait_estimate"
    assert message_key(300.0, waited=301.0) == "wait_longer"


# ------------------------------------------------------------------ the real path
@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    path = handoff_yaml(tmp_path)
    async with Rig.running(f"sqlite:///{tmp_path}/hub.db", path, FakeClock(MONDAY_10)) as rig:
        yield rig


@pytest.fixture
async def rig_without_default(tmp_path: Path) -> AsyncIterator[Rig]:
    path = handoff_yaml(tmp_path, routing={"default_wait": 0})
    async with Rig.running(f"sqlite:///{tmp_path}/hub.db", path, FakeClock(MONDAY_10)) as rig:
        yield rig


async def pick_up(rig: Rig, sender: str, after: float) -> None:
    """Another customer asks for a person; Sue takes them `after` seconds later."""
    conversation_id = await rig.say(sender, "talk to a person")
    rig.clock.advance(after)
    await rig.agents.accept(conversation_id, "sue")
    await rig.agents.resolve(conversation_id, "sue")
    await rig.settle()


#: What each language's customer says and hears, for the journeys below.
SAID: dict[str, dict[str, str]] = {
    "en": {
        "request": "my router, talk to a person",
        "ask": "status",
        "place": "number 1 in the queue",
        "minutes": "minute",
        "one_minute": "about 1 minute",
        "few": "The expected wait is a few minutes.",
        "longer": "taking longer than usual",
        "jumped": "30 minutes",
    },
    "zh": {
        "request": "路由器坏了，转人工",
        "ask": "进度",
        "place": "第 1 位",
        "minutes": "分钟",
        "one_minute": "约 1 分钟",
        "few": "预计等待几分钟。",
        "longer": "比平时久一些",
        "jumped": "半小时",
    },
}
LANGS = pytest.mark.parametrize("lang", ["en", "zh"])


@LANGS
async def test_a_quick_then_a_slow_pick_up_do_not_make_the_wait_jump(rig: Rig, lang: str) -> None:
    said = SAID[lang]
    # Sue is online (the wait is a real queue) but cannot take the router ticket; she takes
    # other customers', and their pick-up times are all the history there is.
    rig.online("sue")
    slow = await rig.say("slow", "talk to a person")  # offered to Sue, not yet taken
    rig.clock.advance(3000)
    await rig.say("cus", said["request"])
    await pick_up(rig, "quick", after=30)
    await rig.say("cus", said["ask"])
    first = rig.texts("cus")[-1]
    rig.clock.advance(10)
    await rig.agents.accept(slow, "sue")  # picked up after 3040 s
    await rig.say("cus", said["ask"])
    second = rig.texts("cus")[-1]
    # Two pick-ups are no history: the configured default_wait speaks, both times alike.
    assert first == second, (first, second)
    assert said["one_minute"] not in first, first


@LANGS
async def test_with_a_thin_history_the_customer_hears_their_place_only(
    rig_without_default: Rig, lang: str
) -> None:
    rig, said = rig_without_default, SAID[lang]
    rig.online("sue")
    await pick_up(rig, "quick", after=30)
    await rig.say("cus", said["request"])
    told = rig.texts("cus")[-1]
    await rig.say("cus", said["ask"])
    status = rig.texts("cus")[-1]
    for text in (told, status):
        assert said["place"] in text and said["minutes"] not in text, text
        assert text.endswith(("queue.", "位。")), text


@LANGS
async def test_a_customer_who_waited_longer_than_the_estimate_is_told_so(
    rig: Rig, lang: str
) -> None:
    said = SAID[lang]
    rig.online("sue")
    for index in range(MIN_PICKUPS):
        await pick_up(rig, f"other{index}", after=60)
    await rig.say("cus", said["request"])
    assert said["few"] in rig.texts("cus")[-1], rig.texts("cus")[-1]
    rig.clock.advance(600)  # ten minutes against about one a place
    await rig.say("cus", said["ask"])
    status = rig.texts("cus")[-1]
    assert said["longer"] in status and said["minutes"] not in status, status


@LANGS
async def test_a_burst_of_slow_pick_ups_moves_the_told_wait_by_a_step_only(
    tmp_path: Path, lang: str
) -> None:
    said = SAID[lang]
    agents = [dict(agent) for agent in BASE["agents"]]
    for agent in agents:
        agent["capacity"] = 10  # Sue holds the slow ones offered while she takes the rest
    path = handoff_yaml(tmp_path, agents=agents)
    async with Rig.running(f"sqlite:///{tmp_path}/hub.db", path, FakeClock(MONDAY_10)) as rig:
        rig.online("sue")
        slow = [await rig.say(f"slow{index}", "talk to a person") for index in range(5)]
        rig.clock.advance(3000)
        for index in range(MIN_PICKUPS):
            await pick_up(rig, f"quick{index}", after=60)
        await rig.say("cus", said["request"])
        assert said["few"] in rig.texts("cus")[-1], rig.texts("cus")[-1]
        for conversation_id in slow:  # five pick-ups of nearly an hour land at once
            await rig.agents.accept(conversation_id, "sue")
        await rig.say("cus", said["ask"])
        status = rig.texts("cus")[-1]
        # Unsteadied, the trimmed mean would now say about 30 minutes; told about one, the
        # customer hears at most twice that.
        assert said["jumped"] not in status and said["few"] in status, status
