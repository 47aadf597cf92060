"""Follow-ups (回访) through the real path: api channel → hub → hand-off → api channel, on
SQLite and Redis, with an injected clock. A complaint resolved on a Friday evening is followed
up on Monday morning (business hours), once, even after a restart and with two processes;
"no" reopens a hand-off to the agent who resolved it, "yes" is recorded, "Don't ask again"
opts the customer out; a low CSAT becomes a call-back task for the agent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from handoff.engine import HandoffEngine
from hub.api import HUB
from hub.app import create_app
from hub.config import load_config
from hub.model import ConversationStatus
from tests.handoff.helpers import (
    FakeClock,
    TinyBot,
    api_channel_config,
    at,
    engine_of,
    handoff_yaml,
    until,
)
from tests.support import CallbackReceiver, api_auth, channel_auth, hub_env, run_turn_again

H = "/api/v1/handoff"
WEEKDAYS = {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
FOLLOWUPS = {
    "enabled": True,
    "answer_within_days": 3,
    "rules": [
        {"name": "complaints", "complaint": True, "after_hours": 24, "action": "message"},
        {"name": "unhappy", "csat_at_most": 2, "after_days": 1, "action": "task"},
    ],
}
COMPLAINT = {"en": "This is a complaint, nobody helps me", "zh": "我要投诉，一直没人管"}
QUESTION = {"en": "still solved", "zh": "还解决着吗"}


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    server = CallbackReceiver()
    await server.start()
    yield server
    await server.stop()


@asynccontextmanager
async def hub(
    tmp_path: Path, store_url: str, clock: FakeClock, receiver: CallbackReceiver
) -> AsyncIterator[tuple[TestClient, HandoffEngine]]:
    """One hub process on `store_url`; several may run at once on one Redis."""
    calendar = {"timezone": "Asia/Shanghai", "hours": WEEKDAYS}
    handoff = handoff_yaml(tmp_path, followups=FOLLOWUPS, calendar=calendar)
    bot = {"kind": "echo", "handoff_path": str(handoff)}
    env = hub_env(tmp_path, FRONTDESK_STORE_URL=store_url)
    config = load_config(api_channel_config(tmp_path, bot=bot, callback_url=receiver.url), env)
    app = create_app(config, environ=env, bot=TinyBot(), clock=clock)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield client, engine_of(app)
    finally:
        await client.close()


class Customer:
    def __init__(self, client: TestClient, receiver: CallbackReceiver, name: str) -> None:
        self.client, self.receiver, self.name = client, receiver, name
        self.count = 0
        self.mark = 0  # callbacks before this one answered earlier messages

    async def says(self, text: str) -> str:
        self.count += 1
        self.mark = len(self.receiver.received)
        response = await self.client.post(
            "/api/v1/channels/api/messages",
            json={"id": f"{self.name}-{self.count}", "sender": self.name, "text": text},
            headers=channel_auth(),
        )
        assert response.status in (200, 201, 202), await response.text()
        return str((await response.json())["conversation_id"])

    async def hears(self, fragment: str) -> dict[str, Any]:
        """The first callback since the customer last wrote containing `fragment` (waits
        for it)."""
        seen = self.mark
        while True:
            for item in self.receiver.received[seen:]:
                if fragment in item["text"] and item.get("recipient", self.name) == self.name:
                    return item
            seen = len(self.receiver.received)
            await self.receiver.wait_for(seen + 1)


async def call(client: TestClient, method: str, path: str, body: Any = None) -> Any:
    response = await client.request(method, path, json=body, headers=api_auth())
    assert response.status < 300, await response.text()
    return await response.json()


async def kinds(client: TestClient, conversation_id: str, prefix: str = "") -> list[dict[str, Any]]:
    body = await call(client, "GET", f"/api/v1/conversations/{conversation_id}/events?limit=1000")
    return [e for e in body["items"] if e["type"].startswith(prefix)]


async def resolved_complaint(
    client: TestClient, customer: Customer, language: str, clock: FakeClock
) -> str:
    """The customer complains, Bo takes it and resolves it (Friday 17:30 Shanghai)."""
    await call(client, "PUT", f"{H}/agents/bo/presence", {"presence": "online"})
    conversation_id = await customer.says(COMPLAINT[language])
    await customer.hears("#")  # the ticket number in the queue message
    await call(client, "POST", f"{H}/conversations/{conversation_id}/accept", {"agent_id": "bo"})
    await call(client, "POST", f"{H}/conversations/{conversation_id}/resolve", {"agent_id": "bo"})
    await customer.hears("1 = " if language == "en" else "1 =")
    return conversation_id


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_no_reopens_to_the_agent_who_resolved_it(
    tmp_path: Path, store_url: str, receiver: CallbackReceiver, language: str
) -> None:
    clock = FakeClock(at("2026-11-27 17:30"))  # a Friday, half an hour before closing
    async with hub(tmp_path, store_url, clock, receiver) as (client, engine):
        customer = Customer(client, receiver, "ana")
        old = await resolved_complaint(client, customer, language, clock)

        clock.advance(24 * 3600)  # Saturday 17:30: due, but the business is closed
        await engine.tick()
        assert await kinds(client, old, "followup.") == []

        clock.now = at("2026-11-30 09:00")  # Monday, opening time
        await engine.tick()
        await engine.tick()  # a second tick sends nothing more
        question = await customer.hears(QUESTION[language])
        assert [b["payload"] for b in question["buttons"]] == [
            "/followup yes", "/followup no", "/followup stop",
        ]  # fmt: skip
        sent = await kinds(client, old, "followup.")
        assert [e["type"] for e in sent] == ["followup.sent"]
        assert sent[0]["data"]["rule"] == "complaints" and sent[0]["data"]["language"] == language
        questions = [r for r in receiver.received if QUESTION[language] in r["text"]]
        assert len(questions) == 1

        clock.advance(3600)
        new = await customer.says("/followup no")
        await customer.hears("#")
        assert new != old
        requested = [e["data"] for e in await kinds(client, new, "handoff.requested")]
        assert requested[0]["reasons"] == ["followup_unsolved"]
        assert requested[0]["previous_conversation"] == old
        assert requested[0]["prefer_agent"] == "bo"
        assert requested[0]["language"] == language
        answered = await kinds(client, old, "followup.answered")
        assert answered[0]["data"]["outcome"] == "unsolved"
        assert answered[0]["data"]["in"] == new

        async def offered_back_to_bo() -> bool:
            queue = await call(client, "GET", f"{H}/queue")
            return [t["agent_id"] for t in queue["assigned"]] == ["bo"]

        await until(offered_back_to_bo)

        # The turn of "no" runs again, its commit lost: the same hand-off, one answer.
        again = await run_turn_again(client.app[HUB], new, clock())
        assert again.status == ConversationStatus.QUEUED
        reasons = [e.data["reasons"] for e in again.events if e.type == "handoff.requested"]
        assert reasons == [["followup_unsolved"]]
        assert len(await kinds(client, old, "followup.answered")) == 1


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_yes_is_recorded_and_stop_opts_out(
    tmp_path: Path, store_url: str, receiver: CallbackReceiver, language: str
) -> None:
    clock = FakeClock(at("2026-11-23 10:00"))  # a Monday morning
    async with hub(tmp_path, store_url, clock, receiver) as (client, engine):
        customer = Customer(client, receiver, "ana")
        first = await resolved_complaint(client, customer, language, clock)
        clock.advance(24 * 3600)
        await engine.tick()
        await customer.hears(QUESTION[language])
        await customer.says("是的，已经好了" if language == "zh" else "yes, works now")
        await customer.hears("感谢" if language == "zh" else "thank you")
        answered = await kinds(client, first, "followup.answered")
        assert answered[0]["data"]["outcome"] == "solved"

        # A second complaint; this time the customer asks never to be followed up again.
        second = await resolved_complaint(client, customer, language, clock)
        clock.advance(24 * 3600)
        await engine.tick()
        await customer.hears(QUESTION[language])  # a second question
        await customer.says("/followup stop")
        await customer.hears("不会再回访" if language == "zh" else "won't follow up")
        assert (await kinds(client, second, "followup.answered"))[0]["data"]["outcome"] == (
            "opted_out"
        )
        third = await resolved_complaint(client, customer, language, clock)
        clock.advance(24 * 3600)
        await engine.tick()
        skipped = await kinds(client, third, "followup.")
        assert [(e["type"], e["data"]["why"]) for e in skipped] == [
            ("followup.skipped", "opted_out")
        ]


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_low_csat_becomes_a_call_back_task(
    tmp_path: Path, store_url: str, receiver: CallbackReceiver, language: str
) -> None:
    clock = FakeClock(at("2026-11-23 10:00"))
    async with hub(tmp_path, store_url, clock, receiver) as (client, engine):
        customer = Customer(client, receiver, "ana")
        for agent_id in ("ana", "bo"):
            await call(client, "PUT", f"{H}/agents/{agent_id}/presence", {"presence": "online"})
        conversation_id = await customer.says(
            "我要转人工" if language == "zh" else "I want to talk to a person"
        )
        await customer.hears("#")
        # Whoever it was offered to accepts it and resolves it.
        assigned: list[dict[str, Any]] = []

        async def offered() -> bool:
            assigned[:] = (await call(client, "GET", f"{H}/queue"))["assigned"]
            return bool(assigned)

        await until(offered)
        agent = assigned[0]["agent_id"]
        await call(
            client, "POST", f"{H}/conversations/{conversation_id}/accept", {"agent_id": agent}
        )
        await call(
            client, "POST", f"{H}/conversations/{conversation_id}/resolve", {"agent_id": agent}
        )
        await customer.hears("1 =")
        await customer.says("/csat 1")
        await customer.hears("感谢" if language == "zh" else "Thank you")
        clock.advance(86400)
        await engine.tick()
        tasks = (await call(client, "GET", f"{H}/followups?agent_id={agent}"))["items"]
        assert [t["conversation_id"] for t in tasks] == [conversation_id]
        assert tasks[0]["csat"] == 1 and tasks[0]["language"] in ("en", "zh")
        assert not any(QUESTION[language] in r["text"] for r in receiver.received)

        bad = await client.post(
            f"{H}/followups/{conversation_id}",
            json={"agent_id": agent, "outcome": "maybe"},
            headers=api_auth(),
        )
        assert bad.status == 400 and "outcome" in await bad.text()
        body = {"agent_id": agent, "outcome": "solved", "note": "called, all fine"}
        await call(client, "POST", f"{H}/followups/{conversation_id}", body)
        again = await client.post(f"{H}/followups/{conversation_id}", json=body, headers=api_auth())
        assert again.status == 404  # no open task any more
        events = await kinds(client, conversation_id, "followup.")
        assert [e["type"] for e in events] == ["followup.task", "followup.answered"]
        assert events[1]["data"]["by"] == agent
        assert (await call(client, "GET", f"{H}/followups"))["items"] == []


async def test_a_due_followup_survives_a_restart_and_is_sent_once(
    tmp_path: Path, store_url: str, receiver: CallbackReceiver
) -> None:
    clock = FakeClock(at("2026-11-23 10:00"))
    async with hub(tmp_path, store_url, clock, receiver) as (client, engine):
        old = await resolved_complaint(client, Customer(client, receiver, "ana"), "en", clock)
    clock.advance(3 * 86400)  # the hub was down when the follow-up fell due
    async with hub(tmp_path, store_url, clock, receiver) as (client, engine):
        await engine.tick()
        await Customer(client, receiver, "ana").hears(QUESTION["en"])
    async with hub(tmp_path, store_url, clock, receiver) as (client, engine):
        await engine.tick()
        assert [e["type"] for e in await kinds(client, old, "followup.")] == ["followup.sent"]
    assert len([r for r in receiver.received if QUESTION["en"] in r["text"]]) == 1


async def test_two_processes_send_one_followup(
    tmp_path: Path, shared_store_url: str, receiver: CallbackReceiver
) -> None:
    redis_url = shared_store_url  # a single Redis, then a Redis Cluster
    clock = FakeClock(at("2026-11-23 10:00"))
    async with (
        hub(tmp_path, redis_url, clock, receiver) as (first, first_engine),
        hub(tmp_path, redis_url, clock, receiver) as (second, second_engine),
    ):
        old = await resolved_complaint(first, Customer(first, receiver, "ana"), "en", clock)
        clock.advance(2 * 86400)
        assert first_engine.leader.leading != second_engine.leader.leading
        leader = first_engine if first_engine.leader.leading else second_engine

        async def resolution_known() -> bool:  # the bus carried it to the leader
            past = leader.history.past(old)
            return past is not None and past.resolved_at > 0

        await until(resolution_known)
        for engine in (first_engine, second_engine, first_engine, second_engine):
            await engine.tick()
        await Customer(first, receiver, "ana").hears(QUESTION["en"])
        assert [e["type"] for e in await kinds(second, old, "followup.")] == ["followup.sent"]
    assert len([r for r in receiver.received if QUESTION["en"] in r["text"]]) == 1


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_an_erased_customer_is_not_followed_up(
    tmp_path: Path, store_url: str, receiver: CallbackReceiver, language: str
) -> None:
    clock = FakeClock(at("2026-11-23 10:00"))
    async with hub(tmp_path, store_url, clock, receiver) as (client, engine):
        customer = Customer(client, receiver, "ana")
        old = await resolved_complaint(client, customer, language, clock)
        conversation = await call(client, "GET", f"/api/v1/conversations/{old}")
        await call(client, "DELETE", f"/api/v1/customers/{conversation['customer_id']}")
        clock.advance(2 * 86400)
        await engine.tick()
        skipped = await kinds(client, old, "followup.")
        assert [(e["type"], e["data"]["why"]) for e in skipped] == [("followup.skipped", "erased")]
        assert not any(QUESTION[language] in r["text"] for r in receiver.received)
