"""Failed logins slow further attempts down; successful ones never count, and a stranger
elsewhere cannot lock an agent out. Addresses come from X-Forwarded-For through a trusted
proxy (the test client is that proxy, on 127.0.0.1)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from handoff.console.accounts import Failures, Role
from handoff.console.throttle import ThrottlePolicy
from tests.handoff.console.helpers import (
    FORM_CSRF,
    PASSWORD,
    FakeClock,
    config_with,
    console_app,
    console_env,
    seed_sqlite,
)

OFFICE = "203.0.113.10"  # where the agents sit, behind one NAT address
STRANGER = "198.51.100.66"


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(tmp_path: Path, aiohttp_client, clock: FakeClock) -> TestClient[Any, Any]:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("tom", Role.AGENT), ("lin", Role.AGENT))
    config = config_with(
        tmp_path,
        "  login_free_failures_per_account: 3\n  login_free_failures_per_address: 6\n"
        "  login_delay_seconds: 2\n  login_max_delay_seconds: 16\n"
        "  login_window_seconds: 900\n",
        server={"trusted_proxies": ["127.0.0.1"]},
    )
    app = console_app(console_env(tmp_path), clock=clock, config_path=config)
    made: TestClient[Any, Any] = await aiohttp_client(app)
    return made


async def attempt(
    client: TestClient[Any, Any], username: str, password: str, address: str, language: str = "en"
) -> tuple[int, str, str]:
    """One login through the form from `address`: (status, Retry-After, page text)."""
    client.session.cookie_jar.clear()
    headers = {"X-Forwarded-For": address, "Accept-Language": language}
    form = await client.get("/console/login", headers=headers)
    match = FORM_CSRF.search(await form.text())
    assert match is not None
    response = await client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf": match.group(1)},
        headers=headers,
        allow_redirects=False,
    )
    return response.status, response.headers.get("Retry-After", ""), await response.text()


async def test_successful_logins_never_count(client: TestClient[Any, Any]) -> None:
    # Far more logins from one address than any free allowance: an office behind a NAT.
    for n in range(12):
        status, _, _ = await attempt(client, ("mei", "tom", "lin")[n % 3], PASSWORD, OFFICE)
        assert status == 303, n


async def test_a_stranger_cannot_lock_an_agent_out(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    statuses = [(await attempt(client, "mei", f"guess {n}", STRANGER))[0] for n in range(10)]
    assert statuses[:3] == [401, 401, 401] and 429 in statuses
    assert "console login throttled" in caplog.text
    # Mei at her own desk is not slowed down at all.
    assert (await attempt(client, "mei", PASSWORD, OFFICE))[0] == 303


@pytest.mark.parametrize(
    ("language", "notice"),
    [("en", "Too many failed attempts"), ("zh-CN,zh;q=0.9", "登录失败次数过多")],
)
async def test_delays_grow_with_each_failure_and_hammering_does_not_extend_them(
    client: TestClient[Any, Any], clock: FakeClock, language: str, notice: str
) -> None:
    for n in range(3):  # the free failures
        assert (await attempt(client, "mei", f"wrong {n}", STRANGER, language))[0] == 401
    waits = []
    for n in range(5):
        status, retry_after, text = await attempt(client, "mei", "again", STRANGER, language)
        assert status == 429 and notice in text
        for _ in range(5):  # hammering while throttled: refused unheard, the wait unchanged
            assert (await attempt(client, "mei", PASSWORD, STRANGER))[:2] == (429, retry_after)
        waits.append(int(retry_after))
        clock.now += int(retry_after)
        assert (await attempt(client, "mei", f"still wrong {n}", STRANGER, language))[0] == 401
    assert waits == [2, 4, 8, 16, 16]  # doubling, capped at login_max_delay_seconds

    clock.now += 16  # waiting it out lets the right password in, and clears the streak
    assert (await attempt(client, "mei", PASSWORD, STRANGER))[0] == 303
    assert (await attempt(client, "mei", "typo", STRANGER))[0] == 401


async def test_one_address_guessing_many_accounts_is_slowed_down(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    names = ["mei", "tom", "lin", "ana", "bo", "cy"]  # two guesses each: under the per-account
    statuses = [(await attempt(client, name, "spray", STRANGER))[0] for name in names]
    assert statuses == [401] * 6
    status, retry_after, _ = await attempt(client, "zoe", "spray", STRANGER)
    assert (status, retry_after) == (429, "2")
    assert (await attempt(client, "tom", PASSWORD, OFFICE))[0] == 303  # elsewhere: unaffected
    clock.now += 900  # a quiet window: the streak is forgotten
    assert (await attempt(client, "zoe", "spray", STRANGER))[0] == 401


def test_the_delay_policy() -> None:
    policy = ThrottlePolicy(delay=1.0, max_delay=300.0)
    waits = [policy.wait_after(Failures(count=n, last=0.0), free=5) for n in range(4, 16)]
    assert waits == [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0, 300.0]
    assert policy.wait_after(Failures(count=10**6), free=5) == 300.0
