"""Quality over time: weekly scores per agent and per team and reviewer agreement per rubric
item, with known answers on both stores, and on the console's quality page (en and zh)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handoff.console.accounts import Role
from handoff.console.state import CONSOLE
from handoff.qa.inspection import Review
from handoff.qa.service import QualityInspection
from handoff.qa.settings import load_qa_settings
from handoff.qa.trends import NO_TEAM, agreement_by_item, weekly_scores, weeks_back
from handoff.reports.seed import write_conversation
from hub.model import NewEvent
from hub.ports import Backend
from hub.store_redis import RedisStore
from hub.store_sqlite import SQLiteStore
from tests.handoff.console.helpers import (
    HANDOFF_YAML,
    FakeClock,
    console_app,
    handoff_env,
    login,
    seed_sqlite,
)
from tests.support import REPO

SETTINGS = load_qa_settings(REPO / "config" / "qa.yaml")
RUBRIC = SETTINGS.rubric
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=SHANGHAI).timestamp()  # Sunday of the week of 23 Nov
LAST_WEEK = NOW - 7 * 86400
ALL = {item.key: 5 for item in RUBRIC}  # 100 %
HALF = {item.key: 0 for item in RUBRIC} | {"accuracy": 5, "resolution": 5}  # 30 of 50: 60 %


def review(
    conversation: str, reviewer: str, agent: str, scores: dict[str, int], at: float
) -> Review:
    return Review(conversation, reviewer, agent, scores, "", at)


def test_weekly_scores_per_agent_and_team() -> None:
    weeks = weeks_back(NOW, "Asia/Shanghai", 3)
    assert weeks == ["2026-11-09", "2026-11-16", "2026-11-23"]
    reviews = [
        review("c1", "sara", "mei", ALL, NOW),
        review("c2", "sara", "mei", HALF, NOW),
        review("c3", "sara", "tom", HALF, LAST_WEEK),
        review("c4", "sara", "ann", ALL, LAST_WEEK),
        review("c5", "sara", "mei", ALL, NOW - 60 * 86400),  # outside the weeks shown
    ]
    agents = weekly_scores(
        reviews, RUBRIC, zone="Asia/Shanghai", weeks=weeks, group=lambda r: r.agent
    )
    assert agents == [
        {"name": "ann", "weeks": [None, 100.0, None], "reviews": 1, "average": 100.0},
        {"name": "mei", "weeks": [None, None, 80.0], "reviews": 2, "average": 80.0},
        {"name": "tom", "weeks": [None, 60.0, None], "reviews": 1, "average": 60.0},
    ]
    teams = {"mei": "North", "tom": "North"}
    by_team = weekly_scores(
        reviews, RUBRIC, zone="Asia/Shanghai", weeks=weeks,
        group=lambda r: teams.get(r.agent) or NO_TEAM,
    )  # fmt: skip
    assert [(row["name"], row["weeks"]) for row in by_team] == [
        ("North", [None, 60.0, 80.0]),
        (NO_TEAM, [None, 100.0, None]),
    ]


def test_agreement_by_item_uses_each_reviewers_latest_review() -> None:
    first = {item.key: 4 for item in RUBRIC}
    second = first | {"empathy": 2}
    reviews = [
        review("c1", "sara", "mei", {k: 1 for k in first}, NOW - 100),  # replaced below
        review("c1", "sara", "mei", first, NOW),
        review("c1", "lin", "mei", second, NOW),
        review("c2", "sara", "mei", first, NOW),  # one reviewer only: no pair
    ]
    rows = {row["item"]: row for row in agreement_by_item(reviews, RUBRIC)}
    assert rows["greeting"]["pairs"] == 1 and rows["greeting"]["exact"] == 1.0
    assert rows["empathy"]["exact"] == 0.0 and rows["empathy"]["mean_difference"] == 2.0
    assert rows["empathy"]["labels"] == {"en": "Empathy and tone", "zh": "同理心与语气"}


# ---------------------------------------------------------------- on both stores


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    store: Backend = (
        SQLiteStore(tmp_path / "qa.db")
        if request.param == "sqlite"
        else RedisStore(request.getfixturevalue("redis_url"))
    )
    await store.open()
    yield store
    await store.close()


async def resolved_by(store: Backend, number: int, agent: str, at: float) -> str:
    conversation_id = await write_conversation(
        store, "webchat", number, "my parcel is late", at,
        [NewEvent(type="handoff.requested", data={"reason": "complaint", "intent": "complaint"})],
    )  # fmt: skip
    events = [
        NewEvent(type="handoff.accepted", data={"agent_id": agent}),
        NewEvent(type="handoff.resolved", data={"agent_id": agent}),
    ]
    await store.append_events(conversation_id, events, now=at + 600)
    return conversation_id


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_the_overview_shows_weeks_teams_and_item_agreement(store: Backend) -> None:
    clock = Clock(LAST_WEEK)
    qa = QualityInspection(
        store, SETTINGS, zone="Asia/Shanghai", clock=clock, teams=lambda: {"mei": "North"}
    )
    old = await resolved_by(store, 1, "mei", LAST_WEEK - 3600)
    await qa.review(old, reviewer="sara", body={"scores": HALF})
    clock.now = NOW
    new = await resolved_by(store, 2, "mei", NOW - 3600)
    await qa.review(new, reviewer="sara", body={"scores": ALL})
    await qa.review(new, reviewer="lin", body={"scores": ALL | {"policy": 3}})
    tom = await resolved_by(store, 3, "tom", NOW - 3600)
    await qa.review(tom, reviewer="sara", body={"scores": HALF})
    overview = await qa.overview(reviewer="sara")
    trend = overview["trend"]
    assert trend["weeks"][-2:] == ["2026-11-16", "2026-11-23"]
    teams = {row["name"]: row["weeks"][-2:] for row in trend["teams"]}
    assert teams == {"North": [60.0, 98.0], NO_TEAM: [None, 60.0]}  # 100 and 96 this week
    agents = {row["name"]: row["average"] for row in trend["agents"]}
    assert agents == {"mei": 85.3, "tom": 60.0}
    items = {row["item"]: row for row in overview["agreement_items"]}
    assert items["policy"]["exact"] == 0.0 and items["accuracy"]["exact"] == 1.0
    own = await qa.overview(reviewer="mei", agent="mei")  # an agent's own trend only
    assert [row["name"] for row in own["trend"]["agents"]] == ["mei"]


# ---------------------------------------------------------------- the console


@pytest.mark.parametrize(
    ("language", "heading", "caption"),
    [("en", "Scores over time", "By team"), ("zh", "质检得分趋势", "按团队")],
)
async def test_the_quality_page_shows_teams_over_time(
    aiohttp_client: Any, tmp_path: Path, language: str, heading: str, caption: str
) -> None:
    await seed_sqlite(tmp_path, ("sara", Role.SUPERVISOR), ("mei", Role.AGENT))
    env = handoff_env(tmp_path)
    yaml = HANDOFF_YAML.replace("capacity: 3}", 'capacity: 3, team: "<i>North</i>"}', 1)
    Path(env["FRONTDESK_HANDOFF_PATH"]).write_text(yaml, encoding="utf-8")
    console = await aiohttp_client(console_app(env, clock=FakeClock(NOW)))
    store = console.app[CONSOLE].hub.store
    conversation_id = await resolved_by(store, 1, "mei", NOW - 3600)
    csrf = await login(console, "sara")
    await console.post(
        "/console/api/me/language", json={"language": language}, headers={"X-CSRF-Token": csrf}
    )
    saved = await console.post(
        f"/console/api/qa/{conversation_id}/review",
        json={"scores": ALL},
        headers={"X-CSRF-Token": csrf},
    )
    assert saved.status == 200
    page = await (await console.get("/console/qa")).text()
    assert heading in page and caption in page
    assert "&lt;i&gt;North&lt;/i&gt;" in page and "<i>North</i>" not in page
    assert 'id="qa-trend-agents"' in page and "<svg" in page
    body = await (await console.get("/console/api/qa")).json()
    assert body["trend"]["teams"][0]["name"] == "<i>North</i>"
