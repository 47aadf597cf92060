"""Helpers for the console tests: a real hub app with the console, accounts, logins."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from handoff.console.accounts import Account, AccountStore, Role
from handoff.console.accounts_sqlite import SQLiteAccounts
from handoff.console.passwords import hash_password
from handoff.console.state import CONSOLE
from hub.abc import ConversationHandler
from hub.app import create_app
from hub.echo import EchoBot
from tests.support import DEMO_CONFIG, hub_config, hub_env

PASSWORD = "correct horse battery"
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
FORM_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def console_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    return hub_env(tmp_path, **overrides)


def config_with(tmp_path: Path, console_yaml: str, *, server: dict[str, Any] | None = None) -> Path:
    """The demo config with these `console:` settings (YAML text, indented by two spaces)
    layered over the demo's own, and any `server:` settings."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    config = yaml.load(DEMO_CONFIG.read_text(encoding="utf-8"))
    config["console"].update(yaml.load(console_yaml.replace("\n  ", "\n").strip()) or {})
    config["server"].update(server or {})
    path = tmp_path / "frontdesk.yaml"
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(config, out)
    return path


def console_app(
    env: dict[str, str],
    *,
    bot: ConversationHandler | None = None,
    clock: Callable[[], float] | None = None,
    config_path: Path = DEMO_CONFIG,
) -> web.Application:
    """The whole hub (`create_app`) with the console mounted, optionally on a test clock."""
    config = hub_config(env, config_path)
    app = create_app(config, environ=env, bot=bot or EchoBot())
    if clock is not None:
        app[CONSOLE] = replace(app[CONSOLE], clock=clock)
    return app


_HASHES: list[str] = []


async def password_hash() -> str:
    """An argon2 hash of `PASSWORD`, made once per worker: hashing is slow on purpose (64 MiB
    of memory work: a tenth of a second, seconds on a loaded machine). Logging in still
    verifies it for real."""
    if not _HASHES:
        _HASHES.append(await asyncio.to_thread(hash_password, PASSWORD))
    return _HASHES[0]


async def add_accounts(store: AccountStore, *people: tuple[str, Role]) -> None:
    """Create accounts (password `PASSWORD`) in a store that is not open yet."""
    hashed = await password_hash()
    await store.open()
    try:
        for account_id, role in people:
            await store.add(
                Account(id=account_id, name=account_id.title(), role=role, password_hash=hashed)
            )
    finally:
        await store.close()


async def seed_sqlite(tmp_path: Path, *people: tuple[str, Role]) -> None:
    """Accounts in the hub's SQLite file (where the console looks by default)."""
    await add_accounts(SQLiteAccounts(tmp_path / "frontdesk.db"), *people)


@contextlib.asynccontextmanager
async def shared_stores(
    backend: str, count: int, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[list[AccountStore]]:
    """`count` open account stores on one SQLite file or one real Redis ("sqlite" or
    "redis"): what as many hub processes starting at once would share."""
    from handoff.console.accounts_redis import RedisAccounts

    def build() -> AccountStore:
        if backend == "sqlite":
            return SQLiteAccounts(tmp_path / "accounts.db")
        return RedisAccounts(request.getfixturevalue("redis_url"))

    stores = [build() for _ in range(count)]
    for store in stores:
        await store.open()
    try:
        yield stores
    finally:
        for store in stores:
            await store.close()


async def login_form_token(client: TestClient[Any, Any]) -> str:
    response = await client.get("/console/login")
    assert response.status == 200
    match = FORM_CSRF.search(await response.text())
    assert match is not None
    return match.group(1)


async def login(client: TestClient[Any, Any], username: str, password: str = PASSWORD) -> str:
    """Log in through the form (as a fresh browser would: no cookies); returns the session's
    CSRF token from the workspace page."""
    client.session.cookie_jar.clear()
    token = await login_form_token(client)
    response = await client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf": token},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    page = await client.get("/console/")
    assert page.status == 200
    match = META_CSRF.search(await page.text())
    assert match is not None
    return match.group(1)


HANDOFF_YAML = """\
triggers:
  human_request:
    phrases:
      en: ["talk to a person"]
      zh: ["转人工"]
sla:
  P1: {pickup: 5, resolve: 120}
  P2: {pickup: 10, resolve: 1440}
  P3: {pickup: 15, resolve: 2880}
  warn_at: 0.8
routing:
  accept_timeout: 600
agents:
  - {id: mei, name: Mei, skills: [hardware], languages: [en, zh], capacity: 3}
  - {id: tom, name: Tom, skills: [billing], languages: [en], capacity: 3}
  - {id: sara, name: Sara, skills: [vip], languages: [en, zh], capacity: 3, supervisor: true}
"""


def handoff_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A hub with the hand-off on, open around the clock, agents mei, tom and sara."""
    path = tmp_path / "handoff.yaml"
    path.write_text(HANDOFF_YAML, encoding="utf-8")
    return console_env(tmp_path, FRONTDESK_HANDOFF_PATH=str(path), **overrides)


async def wait_until(check: Callable[[], object], timeout: float = 10.0) -> None:
    """Poll an async or sync condition until it holds (fails the test after `timeout`)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
