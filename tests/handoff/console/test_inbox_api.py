"""The conversation list and search through the real app, on SQLite and on a real
redis-server: tabs, filters, pages, who sees what, English and Chinese (Traditional too)
search with marked snippets, and bad input answered with a clear 4xx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from handoff.console.accounts import Role, accounts_from_url
from tests.handoff.console.helpers import add_accounts, console_app, handoff_env, login, wait_until
from tests.support import channel_auth


async def says(client: TestClient[Any, Any], sender: str, text: str, message_id: str) -> str:
    response = await client.post(
        "/api/v1/channels/api/messages",
        json={"id": message_id, "sender": sender, "text": text},
        headers=channel_auth(),
    )
    assert response.status == 202, await response.text()
    return str((await response.json())["conversation_id"])


async def get(client: TestClient[Any, Any], path: str, **params: str) -> tuple[int, Any]:
    response = await client.get(path, params=params)
    return response.status, await response.json()


async def rows(client: TestClient[Any, Any], **params: str) -> list[dict[str, Any]]:
    status, data = await get(client, "/console/api/conversations", **params)
    assert status == 200, data
    return list(data["rows"])


@pytest.fixture
async def floor(tmp_path: Path, store_url: str, aiohttp_client) -> dict[str, Any]:
    """Ana (English) and Bo (Chinese) asked for a person; both were offered to Mei, who
    accepted Ana's; Chen only talked to the bot."""
    await add_accounts(
        accounts_from_url(store_url),
        ("mei", Role.AGENT),
        ("tom", Role.AGENT),
        ("sara", Role.SUPERVISOR),
    )
    env = handoff_env(tmp_path, FRONTDESK_STORE_URL=store_url)
    client: TestClient[Any, Any] = await aiohttp_client(console_app(env))
    ana = await says(client, "ana", "My gift card refund failed, talk to a person", "a1")
    bo = await says(client, "bo", "我的礼品卡退款失败了，转人工", "b1")
    chen = await says(client, "chen", "just checking a refund policy", "c1")
    csrf = await login(client, "mei")
    headers = {"X-CSRF-Token": csrf}
    assert (
        await client.post("/console/api/presence", json={"presence": "online"}, headers=headers)
    ).status == 200

    async def both_offered() -> bool:
        return {r["conversation_id"] for r in await rows(client, tab="mine")} == {ana, bo}

    await wait_until(both_offered, timeout=30)
    accepted = await client.post(f"/console/api/conversations/{ana}/accept", headers=headers)
    assert accepted.status == 200
    await says(client, "bo", "还在吗？", "b2")  # a second unanswered message
    return {"client": client, "ana": ana, "bo": bo, "chen": chen}


async def test_tabs_filters_and_pages_of_the_list(floor) -> None:
    client, ana, bo = floor["client"], floor["ana"], floor["bo"]
    mine = await rows(client, tab="mine")
    assert [r["conversation_id"] for r in mine] == [bo, ana]  # offers first
    by_id = {r["conversation_id"]: r for r in mine}
    assert by_id[ana]["status"] == "assigned" and by_id[bo]["status"] == "offered"
    assert by_id[bo]["language"] == "zh" and by_id[ana]["language"] == "en"
    assert by_id[bo]["customer"]["identity"] == "api:bo" and by_id[bo]["channel"] == "api"
    assert by_id[ana]["agent_name"] == "Mei" and by_id[ana]["reasons"]
    assert by_id[ana]["sla"]["level"] in ("ok", "amber", "red") and by_id[ana]["priority"]

    async def bo_waits_twice() -> bool:
        row = {r["conversation_id"]: r for r in await rows(client, tab="mine")}[bo]
        return (row["unread"], row["preview"], row["preview_from"]) == (2, "还在吗？", "customer")

    await wait_until(bo_waits_twice)
    assert [r["conversation_id"] for r in await rows(client, tab="mine", language="zh")] == [bo]
    assert [r["conversation_id"] for r in await rows(client, tab="mine", status="assigned")] == [
        ana
    ]
    assert await rows(client, tab="mine", channel="telegram") == []
    assert await rows(client, tab="queue") == []

    status, page = await get(client, "/console/api/conversations", tab="mine", limit="1")
    assert status == 200 and page["total"] == 2 and page["next_cursor"]
    assert page["counts"] == {"mine": 2, "queue": 0}  # no "all" tab for an agent
    status, rest = await get(
        client, "/console/api/conversations", tab="mine", limit="1", cursor=page["next_cursor"]
    )
    assert [r["conversation_id"] for r in page["rows"] + rest["rows"]] == [bo, ana]
    assert rest["next_cursor"] is None

    status, refused = await get(client, "/console/api/conversations", tab="all")
    assert status == 403 and "supervisors" in refused["error"]["message"]

    await login(client, "tom")  # another agent: Mei's conversations are not his to see
    assert await rows(client, tab="mine") == [] and await rows(client, tab="queue") == []

    await login(client, "sara")
    everything = await rows(client, tab="all")
    assert {r["conversation_id"] for r in everything} == {ana, bo}
    assert [
        r["conversation_id"] for r in await rows(client, tab="all", agent="mei", status="offered")
    ] == [bo]


async def test_search_in_english_and_chinese_shows_only_what_the_agent_may_see(floor) -> None:
    client, ana, bo, chen = floor["client"], floor["ana"], floor["bo"], floor["chen"]

    async def search(q: str) -> dict[str, Any]:
        status, data = await get(client, "/console/api/search", q=q)
        assert status == 200, data
        return dict(data)

    async def found(q: str) -> list[str]:
        return [m["conversation_id"] for m in (await search(q))["messages"]]

    async def indexed() -> bool:  # Redis indexes from the log, moments after the write
        return set(await found("refund")) == {ana, chen}

    await login(client, "sara")
    await wait_until(indexed, timeout=30)
    await login(client, "mei")
    assert await found("refund") == [ana]  # Chen's chat with the bot is not Mei's to see
    assert await found("退款") == [bo]
    assert await found("禮品卡") == [bo]  # Traditional finds Simplified
    assert await found("gift 失败") == []  # both words, never in one message
    zh = (await search("退款"))["messages"][0]
    assert ["退款", True] in zh["snippet"] and zh["open"] is True and zh["who"] == "customer"
    assert zh["customer"]["identity"] == "api:bo" and zh["ticket"].startswith("#")
    en = (await search("GIFT card"))["messages"][0]
    assert [p for p in en["snippet"] if p[1]] == [["gift", True], ["card", True]]
    people = (await search("bo"))["customers"]
    assert [c["customer"]["identity"] for c in people] == ["api:bo"]
    assert people[0]["conversation"]["conversation_id"] == bo

    await login(client, "tom")
    assert await found("refund") == [] and await found("退款") == []
    assert (await search("bo"))["customers"] == []

    await login(client, "sara")  # a supervisor sees everything; the bot's chat is not open
    by_id = {m["conversation_id"]: m for m in (await search("refund"))["messages"]}
    assert set(by_id) == {ana, chen} and by_id[chen]["open"] is False
    assert by_id[chen]["read"] is True and by_id[ana]["read"] is True  # both open to read


async def test_conversations_to_read_only(floor) -> None:
    """The read-only transcript behind a search result: supervisors read any conversation,
    an agent only a customer's whose hand-off they may see; everyone else gets a 404."""
    client, ana, bo, chen = floor["client"], floor["ana"], floor["bo"], floor["chen"]

    async def transcript(conversation_id: str) -> tuple[int, Any]:
        return await get(client, f"/console/api/transcripts/{conversation_id}")

    await login(client, "sara")
    status, data = await transcript(chen)  # only the bot ever answered Chen
    assert status == 200 and data["ticket"] is None
    assert data["conversation"]["status"] == "bot"
    assert data["conversation"]["customer_id"]
    texts = [i["text"] for i in data["timeline"] if i["who"] == "customer"]
    assert texts == ["just checking a refund policy"]
    assert (await transcript("con_nothing"))[0] == 404 and data["handoffs"] == []
    status, data = await transcript(ana)
    assert [h["ticket"][0] for h in data["handoffs"]] == ["#"] and data["ticket"]

    await login(client, "mei")
    status, data = await transcript(bo)  # offered to her
    assert status == 200 and "还在吗？" in [i["text"] for i in data["timeline"]]
    assert (await transcript(chen))[0] == 404  # never handed to anyone
    await login(client, "tom")
    assert (await transcript(ana))[0] == 404 and (await transcript(bo))[0] == 404


async def test_bad_searches_and_list_requests_are_clear_refusals(floor) -> None:
    client = floor["client"]
    await login(client, "mei")
    for q, status in (
        ("", 400),
        ("   ", 400),
        ('"', 400),
        ("*", 400),
        ("退" * 201, 400),
        ("one two three four five six seven eight nine", 400),
    ):
        got, data = await get(client, "/console/api/search", q=q)
        assert got == status, (q, data)
        assert data["error"]["message"]
    # Query-language syntax is text: never an index error.
    for q in ('NEAR("refund"', "refund*", "refund OR 退款", "礼品卡 AND -x", "'); DROP TABLE x;--"):
        got, data = await get(client, "/console/api/search", q=q)
        assert got == 200, (q, data)
    too_long = await client.get("/console/api/search", params={"q": "x" * 10_000})
    assert too_long.status in (400, 414)  # the server refuses the line before any handler
    for params in (
        {"q": "refund", "cursor": "garbage"},
        {"q": "refund", "limit": "0"},
        {"q": "refund", "surprise": "1"},
    ):
        got, data = await get(client, "/console/api/search", **params)
        assert got == 400, (params, data)
    for params in (
        {"tab": "elsewhere"},
        {"status": "sleeping"},
        {"priority": "urgent"},
        {"cursor": "-1"},
        {"limit": "100000"},
        {"skill": "x" * 65},
        {"colour": "red"},
    ):
        got, data = await get(client, "/console/api/conversations", **params)
        assert got == 400, (params, data)
    client.session.cookie_jar.clear()
    got, _ = await get(client, "/console/api/search", q="refund")
    assert got == 401
