"""The follow-up report with known answers on both stores, and the console's follow-up
pages: an agent records the result of their own call-back task (not another's), supervisors
read the weekly results, in English and Chinese."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handoff.console.accounts import Role
from handoff.console.state import CONSOLE
from handoff.reports.seed import SeedPlan, seed_history, write_conversation
from handoff.reports.service import Reports
from hub.model import NewEvent
from hub.ports import Backend
from hub.store_redis import RedisStore
from hub.store_sqlite import SQLiteStore
from tests.handoff.console.helpers import FakeClock, console_app, handoff_env, login, seed_sqlite
from tests.handoff.helpers import engine_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=SHANGHAI).timestamp()  # a Sunday noon


def at(day: int, hour: int = 10) -> float:
    return datetime(2026, 11, day, hour, 0, tzinfo=SHANGHAI).timestamp()


def resolved_by(agent: str, *followup: NewEvent) -> list[NewEvent]:
    return [
        NewEvent(type="handoff.requested", data={"reason": "complaint_words", "language": "zh"}),
        NewEvent(type="handoff.offered", data={"agent_id": agent, "accepted": True}),
        NewEvent(type="handoff.resolved", data={"agent_id": agent}),
        *followup,
    ]


def sent(rule: str = "complaints") -> NewEvent:
    return NewEvent(type="followup.sent", data={"rule": rule, "language": "en"})


def answered(outcome: str) -> NewEvent:
    return NewEvent(type="followup.answered", data={"outcome": outcome, "by": "customer"})


async def write_known_followups(store: Backend) -> dict[str, str]:
    """Five follow-ups in the week of Mon 23 Nov, one in the week before; their ids."""
    cases = {
        "solved": (at(24), [sent(), answered("solved")]),
        "unsolved": (at(24), [sent(), answered("unsolved")]),
        "no_answer": (at(25), [sent(), NewEvent(type="followup.expired", data={})]),
        "task": (at(26), [NewEvent(type="followup.task", data={"rule": "unhappy", "agent_id": "mei"})]),
        "skipped": (at(26), [NewEvent(type="followup.skipped", data={"why": "opted_out"})]),
        "before": (at(17), [sent(), answered("solved")]),
        "none": (at(26), []),  # resolved, never followed up
    }  # fmt: skip
    ids = {}
    for number, (name, (when, followup)) in enumerate(cases.items()):
        ids[name] = await write_conversation(
            store, "api", number, f"complaint {name}", when, resolved_by("mei", *followup)
        )
    return ids


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    store: Backend = (
        SQLiteStore(tmp_path / "reports.db")
        if request.param == "sqlite"
        else RedisStore(request.getfixturevalue("redis_url"))
    )
    await store.open()
    yield store
    await store.close()


async def test_followup_report_has_the_known_answers(store: Backend) -> None:
    ids = await write_known_followups(store)
    report = await Reports(store, zone="Asia/Shanghai", clock=lambda: NOW).followups(28)
    assert report["followups"] == 6
    weeks: list[dict[str, Any]] = report["weeks"]  # type: ignore[assignment]
    this_week, week_before = weeks
    assert this_week == {
        "week": "2026-11-23", "sent": 3, "tasks": 1, "skipped": 1, "solved": 1, "unsolved": 1,
        "opted_out": 0, "unreachable": 0, "no_answer": 1, "waiting": 1, "solved_share": 0.5,
    }  # fmt: skip
    assert week_before["week"] == "2026-11-16" and week_before["solved_share"] == 1.0
    assert report["open_tasks"] == [
        {"conversation_id": ids["task"], "agent": "mei", "rule": "unhappy", "since": at(26) + 1}
    ]
    short = await Reports(store, zone="Asia/Shanghai", clock=lambda: NOW).followups(7)
    assert [w["week"] for w in short["weeks"]] == ["2026-11-23"]  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the console


@pytest.fixture
async def console(aiohttp_client: Any, tmp_path: Path) -> Any:
    await seed_sqlite(tmp_path, ("sara", Role.SUPERVISOR), ("tom", Role.AGENT), ("mei", Role.AGENT))
    app = console_app(handoff_env(tmp_path), clock=FakeClock(NOW))
    client = await aiohttp_client(app)
    client.ids = await write_known_followups(client.app[CONSOLE].hub.store)
    await engine_of(client.app).rebuild_history()  # what a restart reads back from the log
    return client


@pytest.mark.parametrize(
    ("language", "title"), [("en", "My follow-up calls"), ("zh", "我的回访任务")]
)
async def test_an_agent_records_the_result_of_their_call_back(
    console: Any, language: str, title: str
) -> None:
    task = console.ids["task"]
    csrf = await login(console, "mei")
    await console.post(
        "/console/api/me/language", json={"language": language}, headers={"X-CSRF-Token": csrf}
    )
    page = await (await console.get("/console/followups")).text()
    assert title in page and f"/console/followups/{task}" in page
    form = {"csrf": csrf, "outcome": "maybe", "note": ""}
    refused = await console.post(f"/console/followups/{task}", data=form)
    assert refused.status == 400 and "outcome" in await refused.text()
    no_csrf = await console.post(f"/console/followups/{task}", data={"outcome": "solved"})
    assert no_csrf.status == 403
    form = {"csrf": csrf, "outcome": "unreachable", "note": "<b>voicemail</b>"}
    done = await console.post(f"/console/followups/{task}", data=form, allow_redirects=False)
    assert done.status == 303
    events = await console.app[CONSOLE].hub.store.events(task, limit=100)
    result = [e.data for e in events if e.type == "followup.answered"]
    assert result == [{"outcome": "unreachable", "by": "mei", "note": "<b>voicemail</b>"}]
    assert (
        f"/console/followups/{task}" not in await (await console.get("/console/followups")).text()
    )
    again = await console.post(f"/console/followups/{task}", data=form)
    assert again.status == 404


async def test_another_agents_task_is_not_theirs(console: Any) -> None:
    task = console.ids["task"]
    csrf = await login(console, "tom")
    assert task not in await (await console.get("/console/followups")).text()
    form = {"csrf": csrf, "outcome": "solved", "note": ""}
    assert (await console.post(f"/console/followups/{task}", data=form)).status == 403


@pytest.mark.parametrize(("language", "heading"), [("en", "Solved share"), ("zh", "解决率")])
async def test_supervisors_read_the_weekly_results(
    console: Any, language: str, heading: str
) -> None:
    csrf = await login(console, "sara")
    await console.post(
        "/console/api/me/language", json={"language": language}, headers={"X-CSRF-Token": csrf}
    )
    page = await console.get("/console/reports/followups")
    html = await page.text()
    assert page.status == 200 and heading in html and "50%" in html
    assert console.ids["task"][-6:] in html  # the open task, linked
    response = await console.get("/console/api/reports/followups?format=csv")
    rows = list(csv.reader(io.StringIO((await response.text()).lstrip("\ufeff"))))
    assert rows[0][0] == "week" and rows[1][:2] == ["2026-11-23", "3"]
    # A supervisor sees every agent's tasks on the follow-ups page, and may record one.
    task = console.ids["task"]
    assert task in await (await console.get("/console/followups")).text()
    form = {"csrf": csrf, "outcome": "solved", "note": "called instead of Mei"}
    done = await console.post(f"/console/followups/{task}", data=form, allow_redirects=False)
    assert done.status == 303
    events = await console.app[CONSOLE].hub.store.events(task, limit=100)
    assert [e.data["by"] for e in events if e.type == "followup.answered"] == ["sara"]


async def test_demo_history_has_followups_to_report(store: Backend) -> None:
    await seed_history(store, now=NOW, plan=SeedPlan(days=10, per_hour_peak=2.0))
    report = await Reports(store, zone="Asia/Shanghai", clock=lambda: NOW).followups(28)
    weeks: list[dict[str, Any]] = report["weeks"]  # type: ignore[assignment]
    assert isinstance(report["followups"], int) and report["followups"] > 0
    for week in weeks:  # every question of the demo was answered or ran out
        closed = week["solved"] + week["unsolved"] + week["opted_out"] + week["no_answer"]
        assert week["sent"] == closed and week["waiting"] == 0
