"""Defect 4: the customer is told the truth from one state machine — queued (place and
honest wait), offered (still waiting), assigned (the agent's display name), resolved — with a
short ticket number instead of internal ids and times with their zone; English and Chinese.
Real Hub, real stores (SQLite and a private Redis)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handoff.tickets import next_number
from hub.stores import store_from_url
from tests.handoff.helpers import FakeClock, Rig, at, handoff_yaml

MONDAY_10 = at("2026-11-23 10:00")
INTERNAL_ID = re.compile(r"\b[a-z]{2,4}_[0-9a-f]{12,}")


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    path = handoff_yaml(tmp_path)
    async with Rig.running(f"sqlite:///{tmp_path}/hub.db", path, FakeClock(MONDAY_10)) as rig:
        yield rig


@pytest.mark.parametrize(
    ("ask", "request_text", "queued", "offered", "assigned", "resolved"),
    [
        (
            "status",
            "my router, talk to a person",
            "Your ticket #1001 is waiting for a person: number 1 in the queue",
            "Your ticket #1001 is still waiting: a person is about to pick it up.",
            "Your ticket #1001 is being handled by Bo.",
            "Your last one (#1001) was resolved on 2026-11-23 10:05 (Asia/Shanghai, UTC+08:00)",
        ),
        (
            "进度",
            "路由器坏了，转人工",
            "您的工单 #1001 正在排队：第 1 位",
            "您的工单 #1001 仍在等待：客服即将接入。",
            "您的工单 #1001 正由客服 Bo 处理。",
            "您上一个工单（#1001）已于 2026-11-23 10:05 (Asia/Shanghai, UTC+08:00) 解决",
        ),
    ],
)
async def test_status_follows_one_state_machine(
    rig: Rig,
    ask: str,
    request_text: str,
    queued: str,
    offered: str,
    assigned: str,
    resolved: str,
) -> None:
    rig.online("sue")  # online (so the wait is honest) but without the hardware skill
    conversation_id = await rig.say("cus", request_text)
    assert "#1001" in rig.texts("cus")[-1]
    await rig.say("cus", ask)
    assert queued in rig.texts("cus")[-1]

    rig.online("bo")
    await rig.settle()
    assert rig.engine.queue.tickets[conversation_id].agent_id == "bo"
    await rig.say("cus", ask)
    assert rig.texts("cus")[-1] == offered  # offered is not "being handled"

    await rig.agents.accept(conversation_id, "bo")
    await rig.say("cus", ask)
    assert rig.texts("cus")[-1] == assigned

    rig.clock.advance(300)
    await rig.agents.resolve(conversation_id, "bo")
    rig.clock.advance(3600)
    await rig.say("cus", ask)
    await rig.wait_text("cus", resolved)
    said = "\n".join(rig.texts("cus"))
    assert conversation_id not in said and not INTERNAL_ID.search(said)


async def test_with_nobody_online_the_wait_is_not_a_number_of_minutes(rig: Rig) -> None:
    await rig.say("cus", "my router, talk to a person")
    await rig.say("cus", "status")
    told = rig.texts("cus")[-1]
    assert told.startswith("Your ticket #1001 is recorded") and "nobody is online" in told
    assert "minute" not in told


@pytest.mark.parametrize(
    ("request_text", "ask", "nobody_online", "not_said"),
    [
        ("talk to a person", "status", "Nobody from our team is online right now", "back"),
        ("转人工", "进度", "暂时没有客服在线", "上班后"),
    ],
)
async def test_with_nobody_online_in_opening_hours_nobody_is_said_to_be_away_twice(
    rig: Rig, request_text: str, ask: str, nobody_online: str, not_said: str
) -> None:
    # Monday 10:00 is in opening hours: no "(nobody is online right now)" after "not
    # available right now", no "when we are back" / "上班后" while the team is at work.
    await rig.say("cus", request_text)
    told = rig.texts("cus")[-1]
    assert nobody_online in told and "#1001" in told, told
    assert not_said not in told and "（暂无客服在线）" not in told, told
    assert "(nobody is online" not in told, told
    await rig.say("cus", ask)
    status = rig.texts("cus")[-1]
    assert "#1001" in status and not_said not in status, status


async def test_ticket_numbers_are_unique_and_survive_a_restart(tmp_path: Path) -> None:
    path = handoff_yaml(tmp_path)
    url = f"sqlite:///{tmp_path}/hub.db"
    clock = FakeClock(MONDAY_10)
    async with Rig.running(url, path, clock) as rig:
        first = await rig.say("a", "talk to a person")
        second = await rig.say("b", "转人工")
        assert [rig.engine.queue.tickets[c].number for c in (first, second)] == [1001, 1002]
        assert "工单 #1002" in rig.texts("b")[-1]
    async with Rig.running(url, path, clock) as rig:
        rig._seq = 100  # the first run's message ids are taken (they would be duplicates)
        third = await rig.say("c", "talk to a person")
        assert rig.engine.queue.tickets[third].number == 1003
        assert rig.engine.queue.tickets[first].to_json()["ticket"] == "#1001"


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_the_counter_is_not_swept_by_rate_limits(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path}/hub.db"
        if backend == "sqlite"
        else request.getfixturevalue("redis_url")
    )
    store = store_from_url(url)
    await store.open()
    try:
        assert await next_number(store) == 1001
        # Rate limits sweep their expired windows as they count.
        for now in (1_800_000_000.0, 1_900_000_000.0):
            await store.count_hit("login:ana", window=60.0, now=now)
        assert await next_number(store) == 1002
    finally:
        await store.close()
