"""Quality inspection: deterministic sampling with its reasons, pre-checks from the log in both
languages, reviews as events on both stores, agreement between reviewers, and the console
pages for supervisors (scoring) and agents (their own reviews only)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from handoff.console.accounts import Role
from handoff.console.state import CONSOLE
from handoff.qa.inspection import (
    Facts,
    Review,
    agreement,
    prechecks,
    review_event,
    sample_reasons,
    sample_share,
)
from handoff.qa.service import QualityInspection
from handoff.qa.settings import load_qa_settings
from handoff.reports.seed import write_conversation
from hub.errors import ConfigError, InputError
from hub.model import Event, NewEvent
from hub.ports import Backend, EventLog
from hub.store_redis import RedisStore
from hub.store_sqlite import SQLiteStore
from tests.handoff.console.helpers import FakeClock, console_app, handoff_env, login, seed_sqlite
from tests.support import REPO

SETTINGS = load_qa_settings(REPO / "config" / "qa.yaml")
NOW = 1_800_000_000.0


def resolved(conversation_id: str, **changes: Any) -> Facts:
    facts = Facts(conversation_id, "webchat", agent="mei", resolved_at=NOW)
    for key, value in changes.items():
        setattr(facts, key, value)
    return facts


# ---------------------------------------------------------------- sampling and checks


def test_the_random_share_is_deterministic_and_near_the_percentage() -> None:
    ids = [f"con_{n:05d}" for n in range(2000)]
    chosen = [i for i in ids if "percent" in sample_reasons(resolved(i), SETTINGS)]
    assert 0.27 < len(chosen) / len(ids) < 0.33  # 30 % configured
    assert chosen == [i for i in ids if "percent" in sample_reasons(resolved(i), SETTINGS)]
    assert all(0 <= sample_share(i) < 1 for i in ids[:50])


def test_every_rule_says_why_and_only_resolved_work_is_sampled() -> None:
    outside = next(f"c{n}" for n in range(1000) if sample_share(f"c{n}") >= 0.3)
    facts = resolved(outside, complaint=True, csat=1, sla_breached=True)
    assert sample_reasons(facts, SETTINGS) == ["complaint", "low_csat", "sla_breached"]
    assert sample_reasons(resolved(outside, csat=3), SETTINGS) == []
    assert sample_reasons(resolved(outside, resolved_at=None, complaint=True), SETTINGS) == []


@pytest.mark.parametrize(
    ("first_reply", "greeted"),
    [
        ("Hello Ana, thanks for waiting. Let me check your order.", True),
        ("您好，很高兴为您服务，我来查一下订单。", True),
        ("Order 20261001 is late.", False),
        ("订单已经发货了。", False),
    ],
)
def test_prechecks_read_greeting_silences_and_mood(first_reply: str, greeted: bool) -> None:
    facts = resolved(
        "c1",
        agent_messages=[(1000.0, first_reply), (2000.0, "ok")],
        customer_messages=[
            (990.0, "hi"),
            (1100.0, "还在吗"),
            (2100.0, "this is ridiculous, useless"),
        ],
    )
    checks = prechecks(facts, SETTINGS)
    assert checks["no_greeting"] is not greeted
    assert checks["long_silences"] == 1  # 1100 → 2000 is 15 minutes, over 5
    assert checks["negative_at_end"] is True


def test_review_forms_are_checked() -> None:
    rubric = SETTINGS.rubric
    scores: dict[str, object] = {item.key: 4 for item in rubric}
    good: dict[str, object] = {"scores": scores, "comment": "耐心，解答准确"}
    event = review_event(rubric, reviewer="sara", agent="mei", body=good)
    assert event.type == "qa.reviewed" and event.data["scores"]["accuracy"] == 4
    cases: list[tuple[dict[str, object], str]] = [
        ({}, "field 'scores'"),
        ({"scores": {**scores, "accuracy": 6}}, "score 'accuracy'"),
        ({"scores": {**scores, "empathy": True}}, "score 'empathy'"),
        ({"scores": {**scores, "speed": 3}}, "unknown rubric item(s): speed"),
        ({"scores": scores, "comment": "x" * 2001}, "field 'comment'"),
    ]
    for bad, message in cases:
        with pytest.raises(InputError, match=re.escape(message)):
            review_event(rubric, reviewer="sara", agent="mei", body=bad)


def test_agreement_between_reviewers_of_the_same_conversation() -> None:
    def review(reviewer: str, conversation: str, *scores: int) -> Review:
        keys = ("greeting", "accuracy")
        return Review(conversation, reviewer, "mei", dict(zip(keys, scores, strict=True)), "", 1.0)

    result = agreement(
        [review("sara", "c1", 5, 4), review("lin", "c1", 5, 2), review("sara", "c2", 3, 3)]
    )
    assert result == {"pairs": 2, "exact": 0.5, "mean_difference": 1.0}
    assert agreement([review("sara", "c1", 5, 4)])["exact"] is None


def test_a_broken_rubric_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "qa.yaml"
    path.write_text("rubric:\n  greeting:\n    weight: 1\n    label: {en: Hi}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="rubric label needs en and zh") as caught:
        load_qa_settings(path)
    assert caught.value.line == 4


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


async def handled_conversation(store: EventLog, number: int, first_reply: str, csat: int) -> str:
    """A complaint an agent (mei) took, answered and resolved, through the store."""
    start = NOW - 3600
    conversation_id = await write_conversation(
        store,
        "webchat",
        number,
        "我要投诉，快递一周了还没到",
        start,
        [NewEvent(type="handoff.requested", data={"reason": "complaint", "intent": "complaint"})],
    )
    events = [
        NewEvent(type="handoff.accepted", data={"agent_id": "mei"}),
        NewEvent(type="handoff.agent_message", data={"agent_id": "mei", "agent_name": "Mei"}),
        NewEvent(type="message.out", data={"outbound": {"text": first_reply}}),
        NewEvent(type="handoff.resolved", data={"agent_id": "mei"}),
        NewEvent(type="csat.answered", data={"score": csat}),
    ]
    await store.append_events(conversation_id, events, now=start + 600)
    return conversation_id


async def test_reviews_are_events_and_scores_add_up(store: Backend) -> None:
    qa = QualityInspection(store, SETTINGS, zone="Asia/Shanghai", clock=lambda: NOW)
    first = await handled_conversation(store, 1, "您好，我是 Mei，马上为您查询。", csat=2)
    await handled_conversation(store, 2, "Order is late.", csat=5)
    overview = await qa.overview(reviewer="sara")
    assert overview["sampled"] == 2  # complaints are always sampled
    waiting = {row["conversation_id"]: row for row in overview["waiting"]}
    assert "low_csat" in waiting[first]["reasons"] and "complaint" in waiting[first]["reasons"]

    transcript = await qa.transcript(first)
    assert transcript is not None and transcript.checks["no_greeting"] is False
    assert [line["who"] for line in transcript.lines] == ["customer", "agent"]

    scores = {item.key: 5 for item in SETTINGS.rubric} | {"empathy": 3}
    review = await qa.review(first, reviewer="sara", body={"scores": scores, "comment": "好"})
    assert (
        review.agent == "mei" and review.total(SETTINGS.rubric) == 92.0
    )  # 46 of 50 weighted points
    await qa.review(first, reviewer="lin", body={"scores": scores})
    after = await qa.overview(reviewer="sara")
    assert first not in {row["conversation_id"] for row in after["waiting"]}
    assert after["agents"] == [{"agent": "mei", "reviews": 2, "average": 92.0}]
    assert after["agreement"]["exact"] == 1.0
    mine = await qa.overview(reviewer="mei", agent="mei")
    assert {r["conversation_id"] for r in mine["reviews"]} == {first} and mine["waiting"] == []
    with pytest.raises(InputError):  # a conversation nobody resolved cannot be reviewed
        other = await write_conversation(store, "webchat", 3, "hello", NOW - 60, [])
        await qa.review(other, reviewer="sara", body={"scores": scores})


# ---------------------------------------------------------------- the console


@pytest.fixture
async def console(aiohttp_client: Any, tmp_path: Path) -> Any:
    await seed_sqlite(tmp_path, ("sara", Role.SUPERVISOR), ("mei", Role.AGENT), ("tom", Role.AGENT))
    app = console_app(handoff_env(tmp_path), clock=FakeClock(NOW))
    return await aiohttp_client(app)


@pytest.mark.parametrize(("language", "title"), [("en", "Quality inspection"), ("zh", "质量抽检")])
async def test_supervisor_scores_agents_read_their_own(
    console: Any, language: str, title: str
) -> None:
    store = console.app[CONSOLE].hub.store
    conversation_id = await handled_conversation(
        store, 9, "Hi, I'm Mei <b>from support</b>", csat=4
    )
    announced: list[Event] = []  # what the event bus tells every process's listeners
    console.app[CONSOLE].hub.add_listener(announced.extend)
    csrf = await login(console, "sara")
    await console.post(
        "/console/api/me/language", json={"language": language}, headers={"X-CSRF-Token": csrf}
    )
    page = await (await console.get("/console/qa")).text()
    assert title in page and f"/console/qa/{conversation_id}" in page
    review_page = await (await console.get(f"/console/qa/{conversation_id}")).text()
    assert "&lt;b&gt;from support&lt;/b&gt;" in review_page  # the transcript is escaped
    scores = {item.key: 4 for item in SETTINGS.rubric}
    url = f"/console/api/qa/{conversation_id}/review"
    bad = await console.post(url, json={"scores": {}}, headers={"X-CSRF-Token": csrf})
    assert bad.status == 422
    assert (await console.post(url, json={"scores": scores})).status == 403  # no CSRF token
    saved = await console.post(url, json={"scores": scores}, headers={"X-CSRF-Token": csrf})
    assert saved.status == 200 and (await saved.json())["review"]["total"] == 80.0
    # The review is announced as it was logged, so no process reads it back from the log.
    assert announced == (await store.events(conversation_id))[-1:]

    await login(console, "mei")
    own = await (await console.get("/console/api/qa")).json()
    assert [r["total"] for r in own["reviews"]] == [80.0] and own["waiting"] == []
    assert (await console.get(f"/console/qa/{conversation_id}")).status == 403
    await login(console, "tom")
    assert (await (await console.get("/console/api/qa")).json())["reviews"] == []
