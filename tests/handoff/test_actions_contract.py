"""The contract between the two surfaces of the agent actions: the same shift, acted once
through the REST hand-off API (operator token, `agent_id` in the body) and once through the
console (each agent signed in), on the real hub — same status codes, same refusals, and the
same events written, in English and in Chinese."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from handoff.actions import ActionError, Actor
from handoff.api import ACTIONS, HANDOFF
from handoff.console.accounts import Role
from hub.api import HUB
from tests.handoff.console.helpers import console_app, handoff_env, login, seed_sqlite, wait_until
from tests.support import api_auth, channel_auth

H = "/api/v1/handoff"
# Generated ids (`cus_01a2…`) and moments differ between two runs, not between surfaces.
GENERATED_ID = re.compile(r"^[a-z]{3}_[0-9a-f]{16,}$")

WORDS = {
    "en": {
        "ask": "talk to a person",
        "reply": "Hello, Mei here.",
        "note": "wants a refund",
        "whisper": "offer the 10% voucher",
    },
    "zh": {
        "ask": "转人工",
        "reply": "您好，我是小梅。",
        "note": "想要退款",
        "whisper": "可以给九折券",
    },
}


@dataclass
class Step:
    """One action by one agent: `action` is the route's last segment ("presence" is the
    agent's own presence); `body` is what both surfaces send besides the agent's id."""

    actor: str
    action: str
    conversation: str = ""
    body: dict[str, Any] = field(default_factory=dict)


class Surface:
    """Sends steps through one surface; returns (status, error message or "")."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client

    async def send(self, step: Step, conversation_id: str) -> tuple[int, str]:
        raise NotImplementedError

    @staticmethod
    async def answer(response: Any) -> tuple[int, str]:
        data = await response.json()
        return response.status, (data.get("error") or {}).get("message", "")


class RestSurface(Surface):
    async def send(self, step: Step, conversation_id: str) -> tuple[int, str]:
        if step.action == "presence":
            path, method = f"{H}/agents/{step.actor}/presence", "PUT"
            body = step.body
        else:
            path, method = f"{H}/conversations/{conversation_id}/{step.action}", "POST"
            supervised = step.action in ("reassign", "join", "whisper")
            who = "supervisor_id" if supervised else "agent_id"
            body = {who: step.actor, **step.body}
        response = await self.client.request(method, path, json=body, headers=api_auth())
        return await self.answer(response)


class ConsoleSurface(Surface):
    def __init__(self, client: TestClient[Any, Any]) -> None:
        super().__init__(client)
        self.signed_in = ""
        self.csrf = ""

    async def send(self, step: Step, conversation_id: str) -> tuple[int, str]:
        if self.signed_in != step.actor:
            self.csrf = await login(self.client, step.actor)
            self.signed_in = step.actor
        if step.action == "presence":
            path = "/console/api/presence"
        else:
            path = f"/console/api/conversations/{conversation_id}/{step.action}"
        response = await self.client.post(path, json=step.body, headers={"X-CSRF-Token": self.csrf})
        return await self.answer(response)


def shift(words: dict[str, str]) -> list[Step | str]:
    """The shift both surfaces act: every action, its refusals and its successes. A string
    is a pause until that conversation ("first"/"second") is offered to someone."""
    return [
        Step("mei", "presence", body={"presence": "busy"}),  # 422: not a presence
        Step("tom", "accept", "first"),  # 409: Tom is offline
        Step("mei", "presence", body={"presence": "online"}),
        "first",
        Step("mei", "accept", "first"),
        Step("mei", "reply", "first", {"text": words["reply"]}),
        Step("mei", "reply", "first", {"text": "   "}),  # 422: empty
        Step("mei", "note", "first", {"text": words["note"]}),
        Step("mei", "transfer", "first", {"to_agent": "sara", "to_skill": "vip"}),  # 400
        Step("mei", "transfer", "first", {"to_agent": "nobody"}),  # 404: no such agent
        Step("sara", "presence", body={"presence": "online"}),
        Step("mei", "transfer", "first", {"to_agent": "sara", "note": words["note"]}),
        "first",
        Step("sara", "reassign", "first", {"to_agent": "tom"}),  # 409: Tom is offline
        Step("sara", "accept", "first"),
        Step("sara", "resolve", "first", {"note": words["note"]}),
        Step("sara", "resolve", "first", {}),  # 404: no longer open
        "second",
        Step("mei", "accept", "second"),
        Step("sara", "whisper", "second", {"text": words["whisper"]}),
        Step("sara", "whisper", "second", {"text": "  "}),  # 422: empty
        Step("sara", "join", "second"),
        Step("sara", "join", "second"),  # again: changes nothing
        Step("sara", "reply", "second", {"text": words["reply"]}),  # a participant replies
        Step("mei", "handback", "second", {"note": words["note"]}),
        Step("mei", "presence", body={"presence": "away"}),
    ]


async def customer_asks(client: TestClient[Any, Any], sender: str, text: str) -> str:
    response = await client.post(
        "/api/v1/channels/api/messages",
        json={"id": f"{sender}-1", "sender": sender, "text": text},
        headers=channel_auth(),
    )
    assert response.status == 202, await response.text()
    return str((await response.json())["conversation_id"])


def _stable(value: Any) -> Any:
    """`value` with moments (floats) as "<time>" and generated ids as "<id>"."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    if isinstance(value, float):
        return "<time>"
    if isinstance(value, str) and GENERATED_ID.match(value):
        return "<id>"
    return value


async def act(
    tmp_path: Path,
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    make: Callable[[TestClient[Any, Any]], Surface],
    words: dict[str, str],
) -> tuple[list[tuple[int, str]], dict[str, list[tuple[str, dict[str, Any]]]]]:
    """The shift on a fresh hub through one surface: each step's answer, and per
    conversation the events it wrote (moments left out)."""
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("tom", Role.AGENT), ("sara", Role.SUPERVISOR))
    app = console_app(handoff_env(tmp_path))
    client = await aiohttp_client(app)
    surface = make(client)
    engine = app[HANDOFF]
    ids = {
        "first": await customer_asks(client, "ana", words["ask"]),
        "second": await customer_asks(client, "bo", words["ask"]),
    }
    answers = []
    for step in shift(words):
        if isinstance(step, str):
            conversation_id = ids[step]

            def offered(conversation_id: str = conversation_id) -> bool:
                ticket = engine.queue.tickets.get(conversation_id)
                return ticket is not None and bool(ticket.agent_id)

            await wait_until(offered)
            continue
        answers.append(await surface.send(step, ids.get(step.conversation, "")))
    store = app[HUB].store
    events = {
        name: [(e.type, _stable(e.data)) for e in await store.events(cid, limit=500)]
        for name, cid in ids.items()
    }
    return answers, events


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_both_surfaces_answer_and_write_the_same(
    tmp_path: Path, aiohttp_client: Any, language: str
) -> None:
    words = WORDS[language]
    rest, rest_events = await act(tmp_path / "rest", aiohttp_client, RestSurface, words)
    console, console_events = await act(tmp_path / "console", aiohttp_client, ConsoleSurface, words)
    steps = [s for s in shift(words) if isinstance(s, Step)]
    for step, by_rest, by_console in zip(steps, rest, console, strict=True):
        assert by_rest == by_console, step
    assert [status for status, _ in rest] == [
        422,
        409,
        200,
        200,
        200,
        422,
        200,
        400,
        404,
        200,
        200,
        409,
        200,
        200,
        404,
        200,
        200,
        422,
        200,
        200,
        200,
        200,
        200,
    ]
    assert rest_events == console_events
    first = [kind for kind, _ in rest_events["first"]]
    assert {"handoff.agent_message", "handoff.note", "handoff.transferred"} <= set(first)
    assert first.count("handoff.transferred") == 1  # the refused reassign wrote nothing
    assert "handoff.resolved" in first
    second = [kind for kind, _ in rest_events["second"]]
    assert "handoff.handed_back" in second
    assert second.count("handoff.whisper") == 1 and second.count("handoff.joined") == 1
    assert second.count("handoff.agent_message") == 1  # Sara's reply, as a participant
    # The whisper is logged for the agent and never becomes a message to the customer.
    outbound = [d["outbound"]["text"] for k, d in rest_events["second"] if k == "message.out"]
    assert words["whisper"] not in outbound and words["reply"] in outbound


def test_refusals_carry_a_reason_in_both_languages() -> None:
    error = ActionError.from_input(ActionError("no agent 'x'", "没有客服 'x'", status=404))
    assert (error.status, error.reason("en"), error.reason("zh")) == (
        404,
        "no agent 'x'",
        "没有客服 'x'",
    )


async def test_the_service_refuses_with_status_and_both_reasons(
    tmp_path: Path, aiohttp_client: Any
) -> None:
    app = console_app(handoff_env(tmp_path))
    client = await aiohttp_client(app)
    actions = app[ACTIONS]
    conversation_id = await customer_asks(client, "ana", WORDS["zh"]["ask"])
    # Stored is answered (202); the turn that queues the hand-off runs after it.
    await wait_until(lambda: conversation_id in app[HANDOFF].queue.tickets)
    with pytest.raises(ActionError) as bad:
        actions.set_presence(Actor("mei"), "busy")
    assert bad.value.status == 422 and "online, away, offline" in bad.value.reason("zh")
    assert "必须是" in bad.value.reason("zh") and "must be" in bad.value.reason("en")
    with pytest.raises(ActionError) as refused:
        await actions.accept(Actor("tom"), conversation_id)  # Tom is offline
    assert refused.value.status == 409
    assert refused.value.reason("en") == (
        "Tom is offline: only an online agent can take a conversation"
    )
    assert refused.value.reason("zh").startswith("当前无法执行此操作：")
    with pytest.raises(ActionError) as hidden:
        await actions.note(Actor("tom", sees_all=False), "con_unknown", "x")
    assert (hidden.value.status, hidden.value.reason("zh")) == (404, "该会话没有进行中的人工接待")
