"""Agents added through the hand-off API (`POST /api/v1/handoff/agents`) are accounts, like
everyone else: kept in the console's account store, so a restart and a process that starts
later know them, and a second POST changes who they are. Real hub, real engine, real SQLite
and a real redis-server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from handoff.console.accounts import Account, Role
from handoff.console.state import CONSOLE
from tests.handoff.console.helpers import (
    console_app,
    handoff_env,
    password_hash,
    seed_sqlite,
    shared_stores,
    wait_until,
)
from tests.support import api_auth

AGENTS = "/api/v1/handoff/agents"
MEI_CHEN = {
    "id": "meichen",
    "name": "Mei Chen",
    "skills": ["billing"],
    "languages": ["en", "zh"],
    "capacity": 2,
}
CHEN_MEI = {
    "id": "chenmei",
    "name": "陈美",
    "skills": ["vip"],
    "languages": ["zh"],
    "capacity": 4,
    "team": "东区",
    "supervisor": True,
}


async def post(
    client: TestClient[Any, Any], body: dict[str, Any], *, status: int = 201
) -> dict[str, Any]:
    """201 for an agent new to the store, 200 for a change to one it has."""
    response = await client.post(AGENTS, json=body, headers=api_auth())
    assert response.status == status, await response.text()
    created: dict[str, Any] = await response.json()
    return created


async def listed(client: TestClient[Any, Any]) -> dict[str, dict[str, Any]]:
    response = await client.get(AGENTS, headers=api_auth())
    assert response.status == 200, await response.text()
    return {a["id"]: a for a in (await response.json())["items"]}


async def account(client: TestClient[Any, Any], agent_id: str) -> Account:
    found = await client.app[CONSOLE].accounts.get(agent_id)
    assert found is not None, f"no account {agent_id!r}"
    return found


async def test_an_agent_added_by_api_is_an_account_and_survives_a_restart(
    tmp_path: Path, aiohttp_client
) -> None:
    env = handoff_env(tmp_path)
    first: TestClient[Any, Any] = await aiohttp_client(console_app(env))
    assert (await post(first, MEI_CHEN))["name"] == "Mei Chen"
    assert (await post(first, CHEN_MEI))["supervisor"] is True

    mei_chen, chen_mei = await account(first, "meichen"), await account(first, "chenmei")
    assert mei_chen.name == "Mei Chen" and mei_chen.role == Role.AGENT
    assert mei_chen.password_hash == ""  # no login until someone sets a password
    assert mei_chen.agent is not None and mei_chen.agent.languages == ("en", "zh")
    assert chen_mei.name == "陈美" and chen_mei.role == Role.SUPERVISOR
    assert chen_mei.agent is not None and chen_mei.agent.team == "东区"

    # A second process on the same file, started after the POST, knows them from the store.
    second: TestClient[Any, Any] = await aiohttp_client(console_app(env))
    there = await listed(second)
    assert there["meichen"]["name"] == "Mei Chen" and there["meichen"]["capacity"] == 2
    assert there["chenmei"]["name"] == "陈美" and there["chenmei"]["supervisor"] is True

    # Presence set through the API is kept too (the roster writes every change back).
    response = await first.put(
        f"{AGENTS}/meichen/presence", json={"presence": "online"}, headers=api_auth()
    )
    assert response.status == 200

    async def kept() -> bool:
        return (await account(first, "meichen")).presence == "online"

    await wait_until(kept)
    await first.close()
    await second.close()

    again: TestClient[Any, Any] = await aiohttp_client(console_app(env))
    agents = await listed(again)
    assert agents["meichen"]["presence"] == "online"
    assert agents["meichen"]["skills"] == ["billing"]
    assert agents["chenmei"]["languages"] == ["zh"] and agents["chenmei"]["team"] == "东区"


async def test_a_second_post_changes_the_profile_and_leaves_the_login_alone(
    tmp_path: Path, aiohttp_client
) -> None:
    await seed_sqlite(tmp_path, ("kai", Role.SUPERVISOR))
    env = handoff_env(tmp_path)
    client: TestClient[Any, Any] = await aiohttp_client(console_app(env))
    await post(client, MEI_CHEN)
    changed = await post(
        client, {**MEI_CHEN, "name": "陈美", "skills": ["vip"], "capacity": 5}, status=200
    )
    assert changed["name"] == "陈美" and changed["skills"] == ["vip"] and changed["capacity"] == 5
    stored = await account(client, "meichen")
    assert stored.name == "陈美" and stored.agent is not None and stored.agent.capacity == 5

    # An account with a password and a role: the API changes who they are for routing, not
    # whether or as what they log in.
    kai = await post(
        client, {"id": "kai", "name": "Kai Lin", "languages": ["zh"], "team": "北区"}, status=200
    )
    assert kai["supervisor"] is True  # the role the operator gave, not the body's default
    stored_kai = await account(client, "kai")
    assert stored_kai.role == Role.SUPERVISOR and stored_kai.password_hash == await password_hash()
    assert stored_kai.name == "Kai Lin" and stored_kai.agent is not None
    assert stored_kai.agent.languages == ("zh",) and stored_kai.agent.team == "北区"

    # A bad field is a 422 naming it, and nothing is written, here or in the engine.
    before = await client.app[CONSOLE].accounts.all()
    engine_before = await listed(client)
    for bad, field in [
        ({**MEI_CHEN, "capacity": 0}, "capacity"),
        ({**MEI_CHEN, "languages": ["fr"]}, "languages"),
        ({**MEI_CHEN, "skills": "billing"}, "skills"),
        ({**MEI_CHEN, "id": "mei chen"}, "id"),
        # Ids are account ids too (URLs, the CLI, @mentions): ASCII only, one rule.
        ({**MEI_CHEN, "id": "陈美"}, "id"),
        ({**MEI_CHEN, "id": "mei²"}, "id"),
        ({**MEI_CHEN, "colour": "red"}, "colour"),
    ]:
        refused = await client.post(AGENTS, json=bad, headers=api_auth())
        assert refused.status == 422, await refused.text()
        assert field in (await refused.json())["error"]["message"]
    assert await client.app[CONSOLE].accounts.all() == before
    assert await listed(client) == engine_before
    await client.close()

    # A process started later routes by what the last POST said.
    later: TestClient[Any, Any] = await aiohttp_client(console_app(env))
    agents = await listed(later)
    assert agents["meichen"]["name"] == "陈美" and agents["meichen"]["capacity"] == 5
    assert agents["kai"]["name"] == "Kai Lin" and agents["kai"]["team"] == "北区"


async def test_on_redis_every_process_knows_an_agent_added_by_api(
    tmp_path: Path, aiohttp_client, request: pytest.FixtureRequest
) -> None:
    env = handoff_env(tmp_path, FRONTDESK_STORE_URL=request.getfixturevalue("redis_url"))
    first: TestClient[Any, Any] = await aiohttp_client(console_app(env))
    running: TestClient[Any, Any] = await aiohttp_client(console_app(env))
    await post(first, CHEN_MEI)
    await post(first, MEI_CHEN)

    async def heard() -> bool:  # a running process hears of them on the bus
        agents = await listed(running)
        return "chenmei" in agents and "meichen" in agents

    await wait_until(heard)

    # One started later reads them from the accounts in Redis.
    later: TestClient[Any, Any] = await aiohttp_client(console_app(env))
    agents = await listed(later)
    assert agents["chenmei"]["name"] == "陈美" and agents["chenmei"]["supervisor"] is True
    assert agents["meichen"]["name"] == "Mei Chen" and agents["meichen"]["languages"] == [
        "en",
        "zh",
    ]
    stored = await account(later, "chenmei")
    assert stored.role == Role.SUPERVISOR and stored.password_hash == ""


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_processes_adding_one_agent_at_once_make_one_account(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    from handoff.console.roster import put_agent
    from handoff.settings import AgentSpec

    names = ("Mei Chen", "陈美", "Mei Chen")
    specs = [
        AgentSpec(id="mei", name=name, skills=frozenset(), languages=frozenset({"zh"}), capacity=2)
        for name in names
    ]
    async with shared_stores(backend, len(specs), tmp_path, request) as stores:
        # Three processes get the same new agent at once: none fails, one account results,
        # holding one of the names asked for.
        puts = await asyncio.gather(
            *(
                put_agent(store, None, spec, now=1.0)
                for store, spec in zip(stores, specs, strict=True)
            )
        )
        assert sorted(created for _, created in puts) == [False, False, True]
        accounts = await stores[0].all()
        assert [a.id for a in accounts] == ["mei"] and accounts[0].name in names
        assert accounts[0].role == Role.AGENT and accounts[0].password_hash == ""
