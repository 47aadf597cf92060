"""Dashboard figures from the log, the supervisor page's SVG charts, JSON and /metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from handoff.console.accounts import Role
from handoff.console.charts import bar_chart
from handoff.console.dashboard import Filters, facts_of, figures, parse_filters, percentile
from hub.errors import InputError
from hub.model import Conversation, ConversationStatus, Event
from tests.handoff.console.helpers import console_app, handoff_env, login, seed_sqlite
from tests.support import api_auth


def conversation(cid: str, channel: str, created: float) -> Conversation:
    return Conversation(
        id=cid,
        customer_id="cu",
        status=ConversationStatus.RESOLVED,
        channel=channel,
        address="a",
        created_at=created,
    )


def log(cid: str, *items: tuple[float, str, dict[str, Any]]) -> list[Event]:
    return [
        Event(conversation_id=cid, seq=i + 1, type=kind, at=at, data=data)
        for i, (at, kind, data) in enumerate(items)
    ]


def test_facts_and_figures() -> None:
    bot_only = facts_of(
        conversation("c1", "webchat", 100.0),
        log("c1", (100.0, "bot.turn", {"intent": "greet"})),
    )
    human = facts_of(
        conversation("c2", "telegram", 200.0),
        log(
            "c2",
            (200.0, "bot.turn", {"intent": "refund"}),
            (210.0, "handoff.requested", {}),
            (250.0, "handoff.accepted", {"agent_id": "mei"}),
            (270.0, "handoff.agent_message", {"agent_id": "mei"}),
            (400.0, "sla.breached", {"kind": "resolve"}),
            (610.0, "handoff.resolved", {"agent_id": "mei"}),
            (620.0, "csat.answered", {"score": 5}),
            (630.0, "nps.answered", {"score": 6}),
        ),
    )
    assert not bot_only.handed_off and bot_only.intent == "greet"
    assert human.first_response == 60.0 and human.resolution == 400.0 and human.agent == "mei"

    data = figures([bot_only, human], Filters(since=0.0))
    assert data["conversations"] == 2
    assert data["by_channel"] == {"telegram": 1, "webchat": 1}
    assert data["containment_rate"] == 0.5 and data["handoff_rate"] == 0.5
    assert data["first_response"] == {"median": 60.0, "p90": 60.0}
    assert data["csat"] == {"answers": 1, "average": 5.0, "satisfied": 1.0}
    assert data["nps"] == {"answers": 1, "score": -100}
    assert data["sla_attainment"] == 0.0

    only_mei = figures([bot_only, human], Filters(since=0.0, agent="mei"))
    assert only_mei["conversations"] == 1 and only_mei["containment_rate"] == 0.0
    assert figures([bot_only, human], Filters(since=150.0))["conversations"] == 1
    assert figures([], Filters())["containment_rate"] is None


def test_percentiles_and_filters() -> None:
    assert percentile([5, 1, 4, 2, 3], 0.5) == 3
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile([], 0.5) is None
    assert parse_filters({"range": "7d", "channel": "email"}, 1000.0).since == 1000.0 - 7 * 86400
    for bad in ({"range": "1y"}, {"intent": "x" * 65}):
        try:
            parse_filters(bad, 0.0)
        except InputError:
            continue
        raise AssertionError(f"accepted {bad}")


def test_charts_escape_labels() -> None:
    svg = bar_chart("By <b>", [("<script>alert(1)</script>", 3.0), ("email", 1.0)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.startswith("<svg") and svg.count("<rect") == 2


async def test_supervisor_page_json_and_metrics(tmp_path: Path, aiohttp_client) -> None:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("sara", Role.SUPERVISOR))
    client: TestClient[Any, Any] = await aiohttp_client(console_app(handoff_env(tmp_path)))
    await client.post(
        "/api/v1/channels/api/messages",
        json={"id": "m1", "sender": "ana", "text": "<script>x</script> talk to a person"},
        headers={"Authorization": "Bearer test-channel-token"},
    )
    await login(client, "sara")
    page = await client.get("/console/supervisor?range=7d&channel=api")
    html = await page.text()
    assert page.status == 200 and "<svg" in html and "<script>x" not in html
    data = await (await client.get("/console/api/dashboard?range=24h")).json()
    assert data["conversations"] == 1 and data["handoff_rate"] == 1.0
    bad = await client.get("/console/api/dashboard?range=forever")
    assert bad.status == 400
    metrics = await (await client.get("/metrics", headers=api_auth())).text()
    assert "frontdesk_console_handoff_rate" in metrics
    await login(client, "mei")
    assert (await client.get("/console/api/dashboard")).status == 403


@pytest.mark.parametrize(
    ("language", "words", "not_words"),
    [
        (
            "en",
            ["Bot containment", "Hand-off rate", "Conversations by channel", "Top intents"],
            ["机器人独立解决率"],
        ),
        (
            "zh",
            ["机器人独立解决率", "转人工率", "SLA 达成率", "满意率", "各渠道会话数", "热门意图"],
            [
                "Bot containment",
                "Hand-off rate",
                "SLA attainment",
                "CSAT satisfied",
                "Conversations by channel",
                "Top intents",
                "Response times",
            ],
        ),
    ],
)
async def test_the_supervisor_charts_speak_the_consoles_language(
    tmp_path: Path, aiohttp_client: Any, language: str, words: list[str], not_words: list[str]
) -> None:
    await seed_sqlite(tmp_path, ("sara", Role.SUPERVISOR))
    client: TestClient[Any, Any] = await aiohttp_client(console_app(handoff_env(tmp_path)))
    await client.post(
        "/api/v1/channels/api/messages",
        json={"id": "m1", "sender": "ana", "text": "转人工"},
        headers={"Authorization": "Bearer test-channel-token"},
    )
    csrf = await login(client, "sara")
    switched = await client.post(
        "/console/api/me/language", json={"language": language}, headers={"X-CSRF-Token": csrf}
    )
    assert switched.status == 200, await switched.text()
    html = await (await client.get("/console/supervisor?range=7d")).text()
    for word in words:
        assert word in html, word
    for word in not_words:
        assert word not in html, word
