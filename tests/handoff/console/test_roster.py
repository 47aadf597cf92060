"""One source of truth for who an agent is: the account store, edited with `frontdesk agents`
and seeded from handoff.yaml; a supervisor is whoever has the role. Presence is kept there
too, so a restart brings people back as they were. Real hub, real engine, real SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from handoff.api import ACTIONS, HANDOFF
from handoff.console import roster
from handoff.console.accounts import Role
from handoff.console.state import CONSOLE
from handoff.queue import Presence
from tests.handoff.console.helpers import (
    PASSWORD,
    console_app,
    handoff_env,
    login,
    login_form_token,
    seed_sqlite,
    shared_stores,
    wait_until,
)
from tests.handoff.console.test_cli import run, stored
from tests.handoff.console.test_workspace import customer_says, snapshot
from tests.handoff.helpers import engine_of


async def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    """`frontdesk agents …`, as an operator types it (the CLI runs its own event loop)."""
    stdin = f"{PASSWORD}\n" if "--password-stdin" in argv else ""
    return await asyncio.to_thread(run, tmp_path, monkeypatch, *argv, stdin=stdin)


async def go_online(client: TestClient[Any, Any], csrf: str) -> None:
    response = await client.post(
        "/console/api/presence", json={"presence": "online"}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 200


async def test_the_role_makes_a_supervisor_as_the_readme_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aiohttp_client
) -> None:
    # handoff.yaml lists mei as a plain agent and sara with `supervisor: true`.
    assert (
        await cli(tmp_path, monkeypatch, "add", "mei", "--role", "supervisor", "--password-stdin")
        == 0
    )
    assert (
        await cli(tmp_path, monkeypatch, "add", "tom", "--role", "agent", "--password-stdin") == 0
    )
    app = console_app(handoff_env(tmp_path))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    engine = engine_of(app)
    # The routing profile came from handoff.yaml; the role from the account.
    assert engine.agent("mei").supervisor and engine.agent("mei").skills == {"hardware"}
    assert not engine.agent("tom").supervisor and engine.agent("tom").skills == {"billing"}

    conversation_id = await customer_says(client, "我的路由器坏了，转人工", "m1")
    tom = await login(client, "tom")
    await go_online(client, tom)
    mei = await login(client, "mei")
    base = f"/console/api/conversations/{conversation_id}"
    moved = await client.post(
        base + "/reassign", json={"to_agent": "tom"}, headers={"X-CSRF-Token": mei}
    )
    assert moved.status == 200, await moved.text()
    ticket = engine.queue.tickets[conversation_id]
    assert ticket.agent_id == "tom" and ticket.accepted

    # Tom is no supervisor: the console refuses him, and so does the engine behind the API.
    tom = await login(client, "tom")
    refused = await client.post(
        base + "/reassign", json={"to_agent": "mei"}, headers={"X-CSRF-Token": tom}
    )
    assert refused.status == 403


async def test_agents_seeded_from_handoff_yaml_have_no_password_until_one_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aiohttp_client, capsys
) -> None:
    app = console_app(handoff_env(tmp_path))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    engine = engine_of(app)
    assert engine.agent("sara").supervisor  # `supervisor: true` seeded the role
    sara = await app[CONSOLE].accounts.get("sara")
    assert sara is not None and sara.password_hash == "" and sara.agent is not None
    for password in ("frontdesk-no-such-account", PASSWORD):
        client.session.cookie_jar.clear()
        token = await login_form_token(client)
        response = await client.post(
            "/console/login",
            data={"username": "sara", "password": password, "csrf": token},
            allow_redirects=False,
        )
        assert response.status != 303
    await client.close()

    # `agents add` completes the seeded account, keeping its routing profile.
    assert (
        await cli(tmp_path, monkeypatch, "add", "sara", "--role", "supervisor", "--password-stdin")
        == 0
    )
    assert (await asyncio.to_thread(stored, tmp_path, "sara")).agent == sara.agent
    assert await cli(tmp_path, monkeypatch, "list") == 0
    listing = capsys.readouterr().out
    lines = {line.split()[0]: line for line in listing.splitlines()[1:]}
    assert "active" in lines["sara"] and "skills=vip" in lines["sara"]
    assert "no-login" in lines["tom"]  # seeded, nobody has set a password yet


async def test_the_cli_edits_the_profile_and_the_engine_follows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aiohttp_client
) -> None:
    app = console_app(handoff_env(tmp_path))
    await aiohttp_client(app)
    engine = engine_of(app)
    store = app[CONSOLE].accounts
    args = ("set", "tom", "--skills", "billing,vip", "--languages", "en,zh", "--capacity", "1")
    assert await cli(tmp_path, monkeypatch, *args, "--team", "north") == 0
    assert await cli(tmp_path, monkeypatch, "add", "kai", "--name", "Kai", "--password-stdin") == 0
    assert await cli(tmp_path, monkeypatch, "set", "tom", "--capacity", "0") == 1
    operator = ("add", "ops", "--role", "operator", "--password-stdin")
    assert await cli(tmp_path, monkeypatch, *operator) == 0
    await roster.refresh(store, app[ACTIONS])  # what the background loop does every 15 s
    assert "ops" not in engine.queue.agents  # an operator without a routing profile
    tom = engine.agent("tom")
    assert tom.skills == {"billing", "vip"} and tom.languages == {"en", "zh"}
    assert tom.capacity == 1 and tom.team == "north"
    assert engine.agent("kai").name == "Kai"  # an account not in handoff.yaml is an agent too


async def test_presence_is_kept_across_a_restart(tmp_path: Path, aiohttp_client) -> None:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    env = handoff_env(tmp_path)
    first = console_app(env)
    client: TestClient[Any, Any] = await aiohttp_client(first)
    mei = await login(client, "mei")
    await go_online(client, mei)

    async def kept() -> bool:
        account = await first[CONSOLE].accounts.get("mei")
        return account is not None and account.presence == "online"

    await wait_until(kept)
    await client.close()

    again = console_app(env)
    client = await aiohttp_client(again)
    assert again[HANDOFF].queue.agents["mei"].presence == Presence.ONLINE
    conversation_id = await customer_says(client, "my router, talk to a person", "m1")
    mei = await login(client, "mei")

    async def offered_to_mei() -> bool:
        mine = (await snapshot(client, mei))["mine"]
        return [t["conversation_id"] for t in mine] == [conversation_id]

    await wait_until(offered_to_mei)


async def test_a_supervisor_edits_an_agent_in_the_console(tmp_path: Path, aiohttp_client) -> None:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("sara", Role.SUPERVISOR))
    app = console_app(handoff_env(tmp_path))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    engine, store = engine_of(app), app[CONSOLE].accounts
    sara = await login(client, "sara")
    headers = {"X-CSRF-Token": sara}
    profile = {
        "skills": ["billing", "vip"],
        "languages": ["zh", "en"],
        "capacity": 5,
        "team": "东区",
    }
    response = await client.put("/console/api/agents/tom", json=profile, headers=headers)
    assert response.status == 200, await response.text()
    tom = engine.agent("tom")
    assert tom.skills == {"billing", "vip"} and tom.languages == {"en", "zh"}
    assert tom.capacity == 5 and tom.team == "东区"
    stored_tom = await store.get("tom")
    assert stored_tom is not None and stored_tom.agent is not None
    assert stored_tom.agent.capacity == 5
    floor = await snapshot(client, sara)
    assert next(a for a in floor["agents"] if a["id"] == "tom")["team"] == "东区"

    for bad, field in [
        ({**profile, "capacity": 0}, "capacity"),
        ({**profile, "capacity": 2.5}, "capacity"),
        ({**profile, "languages": ["fr"]}, "languages"),
        ({**profile, "languages": []}, "languages"),
        ({**profile, "skills": ["<b>x</b>"]}, "skills"),
        ({**profile, "skills": "billing"}, "skills"),
    ]:
        refused = await client.put("/console/api/agents/tom", json=bad, headers=headers)
        assert refused.status == 422 and field in (await refused.json())["error"]["message"]
    assert (await store.get("tom")) == stored_tom  # nothing written
    missing = await client.put("/console/api/agents/nobody", json=profile, headers=headers)
    assert missing.status == 404

    mei = await login(client, "mei")
    forbidden = await client.put(
        "/console/api/agents/mei", json=profile, headers={"X-CSRF-Token": mei}
    )
    assert forbidden.status == 403


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_processes_starting_together_seed_each_agent_once(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    from handoff.settings import AgentSpec

    specs = [
        AgentSpec(
            id="bo",
            name="Bo",
            skills=frozenset({"general"}),
            languages=frozenset({"en"}),
            capacity=2,
        ),
        AgentSpec(
            id="lin",
            name="林",
            skills=frozenset({"general"}),
            languages=frozenset({"zh"}),
            capacity=2,
        ),
    ]
    async with shared_stores(backend, 3, tmp_path, request) as stores:
        # Three hub processes start at once on one store: none of them may fail its start.
        await asyncio.gather(*(roster.seed(store, specs, now=1.0) for store in stores))
        accounts = {a.id: a.name for a in await stores[0].all()}
        assert accounts == {"bo": "Bo", "lin": "林"}
