"""The reports on both stores, written through the store's own write path with known answers,
and the console's report pages, JSON and CSV for supervisors (only)."""

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
from tests.handoff.console.helpers import (
    FakeClock,
    console_app,
    handoff_env,
    login,
    seed_sqlite,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=SHANGHAI).timestamp()  # a Sunday noon


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


def turn(handled_as: str, lang: str, intent: str | None = None) -> NewEvent:
    return NewEvent(
        type="bot.turn", data={"handled_as": handled_as, "lang": lang, "intent": intent}
    )


def complaint(reason: str) -> list[NewEvent]:
    return [
        turn("flow", "en", "complaint"),
        NewEvent(type="handoff.requested", data={"reason": reason, "intent": "complaint"}),
    ]


def at(day: int, hour: int) -> float:
    return datetime(2026, 11, day, hour, 30, tzinfo=SHANGHAI).timestamp()


async def write_known_history(store: Backend) -> None:
    lines = [
        (at(28, 20), "do you sell refurbished phones", [turn("fallback", "en")]),
        (at(28, 20), "Do you sell refurbished phones?", [turn("fallback", "en")]),
        (at(27, 9), "do you sell any refurbished phones", [turn("fallback", "en")]),
        (at(26, 20), "有没有翻新手机卖", [turn("fallback", "zh")]),
        (at(25, 20), "你们卖翻新手机吗", [turn("fallback", "zh")]),
        (at(25, 10), "what are your opening hours", [turn("faq", "en", "opening_hours")]),
        (at(24, 20), "=cmd|' /C calc'!A0", [turn("fallback", "en")]),
        # Hotspots: the week of Mon 23 Nov against the week of Mon 16 Nov.
        (at(24, 11), "my refund is late", complaint("refund_delay")),
        (at(25, 11), "退款还没到", complaint("refund_delay")),
        (at(26, 11), "refund still missing", complaint("refund_delay")),
        (at(18, 11), "parcel is late", complaint("late_delivery")),
        (at(19, 11), "my refund is late", complaint("refund_delay")),
    ]
    for number, (when, text, events) in enumerate(lines):
        await write_conversation(store, "webchat", number, text, when, events)


async def test_reports_have_the_known_answers(store: Backend) -> None:
    await write_known_history(store)
    reports = Reports(store, zone="Asia/Shanghai", concurrency=lambda: 2, clock=lambda: NOW)

    unanswered = await reports.unanswered(7)
    assert unanswered["lines"] == 6
    groups = unanswered["groups"]
    assert isinstance(groups, list)
    assert [(g["lang"], g["count"]) for g in groups[:2]] == [("en", 3), ("zh", 2)]
    assert "refurbished" in groups[0]["words"]
    assert "do you sell refurbished phones" in groups[0]["yaml"]

    hotspots = await reports.hotspots(28)
    this_week, last_week = hotspots["weeks"][:2]  # type: ignore[index]
    assert this_week["week"] == "2026-11-23" and last_week["week"] == "2026-11-16"
    assert this_week["reasons"][0]["reason"] == "refund_delay"
    assert (this_week["reasons"][0]["count"], this_week["reasons"][0]["before"]) == (3, 1)
    assert {"word": "refund", "count": 2, "before": 1} in this_week["words"]

    volume = await reports.volume(13)  # under two weeks: no weekly season to fit yet
    grid = volume["heatmap"]
    assert isinstance(grid, list)
    assert sum(map(sum, grid)) == 12
    assert grid[5][20] == 2  # Saturday 28 Nov, 20:00 in Shanghai
    assert volume["forecast"]["method"] == "weekly average"  # type: ignore[index]
    plan = volume["plan"]
    assert isinstance(plan, list) and len(plan) == 168
    assert plan[0]["at"].startswith("2026-11-29T12:00+08:00")


async def test_seeded_history_is_deterministic_and_marked_handled(store: Backend) -> None:
    plan = SeedPlan(days=2, per_hour_peak=3.0, seed=7)
    written = await seed_history(store, now=NOW, plan=plan)
    assert written > 10
    assert await store.pending_conversations() == []  # nothing for the bot to answer again
    reports = Reports(store, zone="Asia/Shanghai", clock=lambda: NOW)
    volume = await reports.volume(2)
    assert volume["conversations"] == written


# ---------------------------------------------------------------- the console


@pytest.fixture
async def console(aiohttp_client: Any, tmp_path: Path) -> Any:
    await seed_sqlite(tmp_path, ("sara", Role.SUPERVISOR), ("tom", Role.AGENT))
    app = console_app(handoff_env(tmp_path), clock=FakeClock(NOW))
    client = await aiohttp_client(app)
    await write_known_history(client.app[CONSOLE].hub.store)
    return client


@pytest.mark.parametrize(
    ("language", "heading", "weekday"),
    [("en", "Unanswered questions", "Sat"), ("zh", "未解答问题", "周六")],
)
async def test_supervisor_reads_the_report_pages(
    console: Any, language: str, heading: str, weekday: str
) -> None:
    csrf = await login(console, "sara")
    await console.post(
        "/console/api/me/language", json={"language": language}, headers={"X-CSRF-Token": csrf}
    )
    page = await console.get("/console/reports/unanswered")
    html = await page.text()
    assert page.status == 200 and heading in html
    assert "do you sell refurbished phones" in html
    assert "=cmd|&#39; /C calc&#39;!A0" in html  # escaped, never markup
    volume = await (await console.get("/console/reports/volume?days=14")).text()
    assert "<svg" in volume and weekday in volume
    hotspots = await (await console.get("/console/reports/hotspots")).text()
    assert "refund_delay" in hotspots


async def test_csv_download_is_safe_for_spreadsheets(console: Any) -> None:
    await login(console, "sara")
    response = await console.get("/console/api/reports/unanswered?format=csv")
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO((await response.text()).lstrip("\ufeff"))))
    assert rows[0] == ["lang", "count", "suggested_intent", "examples"]
    examples = [row[3] for row in rows[1:]]
    assert "'=cmd|' /C calc'!A0" in examples


async def test_reports_are_for_supervisors_and_check_their_input(console: Any) -> None:
    await login(console, "tom")
    assert (await console.get("/console/api/reports/volume")).status == 403
    await login(console, "sara")
    assert (await console.get("/console/api/reports/volume?days=0")).status == 400
    assert (await console.get("/console/api/reports/volume?days=abc")).status == 400
    assert (await console.get("/console/api/reports/volume?days=365")).status == 400
    assert (await console.get("/console/api/reports/payroll")).status == 404
    body = await (await console.get("/console/api/reports/hotspots")).json()
    assert body["weeks"][0]["week"] == "2026-11-23"
