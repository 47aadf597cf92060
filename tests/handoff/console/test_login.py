"""Logging in and out of the console through the real hub app: cookies, CSRF, rate limits,
expiry, API tokens and the security headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from handoff.console.accounts import Role, Session, new_secret, token_key
from handoff.console.accounts_sqlite import SQLiteAccounts
from tests.handoff.console.helpers import (
    FORM_CSRF,
    PASSWORD,
    FakeClock,
    config_with,
    console_app,
    console_env,
    login,
    login_form_token,
    seed_sqlite,
)


def _form_token(html: str) -> str:
    match = FORM_CSRF.search(html)
    assert match is not None
    return match.group(1)


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(tmp_path: Path, aiohttp_client, clock: FakeClock) -> TestClient[Any, Any]:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("sara", Role.SUPERVISOR))
    config = config_with(
        tmp_path,
        "  login_free_failures_per_account: 3\n  login_window_seconds: 600\n"
        "  session_idle_minutes: 30\n  trust_forwarded_proto: true\n",
    )
    app = console_app(console_env(tmp_path), clock=clock, config_path=config)
    made: TestClient[Any, Any] = await aiohttp_client(app)
    return made


async def test_login_sets_a_strict_http_only_session_and_logout_ends_it(
    client: TestClient[Any, Any],
) -> None:
    first = await client.get("/console/", allow_redirects=False)
    assert first.status == 303 and first.headers["Location"] == "/console/login"

    token = await login_form_token(client)
    response = await client.post(
        "/console/login",
        data={"username": "mei", "password": PASSWORD, "csrf": token},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/console/"
    cookie = next(c for c in response.headers.getall("Set-Cookie") if "fd_console=" in c)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain HTTP here: a Secure cookie would never come back

    page = await client.get("/console/")
    assert page.status == 200 and "Mei" in await page.text()
    me = await client.get("/console/api/me")
    assert (await me.json())["account"]["role"] == "agent"
    assert "password_hash" not in (await me.json())["account"]

    csrf = await login(client, "mei")
    refused = await client.post("/console/logout", allow_redirects=False)
    assert refused.status == 403  # no CSRF token
    out = await client.post("/console/logout", data={"csrf": csrf}, allow_redirects=False)
    assert out.status == 303 and out.headers["Location"] == "/console/login"
    assert (await client.get("/console/api/me")).status == 401


async def test_cookies_are_secure_behind_a_tls_proxy(client: TestClient[Any, Any]) -> None:
    token = await login_form_token(client)
    response = await client.post(
        "/console/login",
        data={"username": "mei", "password": PASSWORD, "csrf": token},
        headers={"X-Forwarded-Proto": "https"},
        allow_redirects=False,
    )
    cookie = next(c for c in response.headers.getall("Set-Cookie") if "fd_console=" in c)
    assert "Secure" in cookie


async def test_wrong_password_unknown_user_and_forged_form_are_refused(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    token = await login_form_token(client)
    for username, password in (("mei", "wrong password!"), ("nobody", PASSWORD)):
        response = await client.post(
            "/console/login", data={"username": username, "password": password, "csrf": token}
        )
        assert response.status == 401
        text = await response.text()
        assert "Wrong user name or password." in text
        token = _form_token(text)  # each form carries a fresh token
    forged = await client.post(
        "/console/login", data={"username": "mei", "password": PASSWORD, "csrf": "guess"}
    )
    assert forged.status == 403
    cross_site = await client.post(
        "/console/login",
        data={"username": "mei", "password": PASSWORD, "csrf": token},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status == 403
    assert "console login failed" in caplog.text


async def test_sessions_expire_when_idle_and_when_the_account_is_disabled(
    tmp_path: Path, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    await login(client, "mei")
    clock.now += 29 * 60
    assert (await client.get("/console/api/me")).status == 200  # activity slides the expiry
    clock.now += 29 * 60
    assert (await client.get("/console/api/me")).status == 200
    clock.now += 31 * 60
    assert (await client.get("/console/api/me")).status == 401

    await login(client, "mei")
    store = SQLiteAccounts(tmp_path / "frontdesk.db")
    await store.open()
    account = await store.get("mei")
    assert account is not None
    from dataclasses import replace

    await store.replace(replace(account, disabled=True))
    await store.close()
    assert (await client.get("/console/api/me")).status == 401


async def test_api_tokens_work_on_the_json_api_only_and_need_no_csrf(
    tmp_path: Path, client: TestClient[Any, Any], clock: FakeClock
) -> None:
    secret = new_secret()
    store = SQLiteAccounts(tmp_path / "frontdesk.db")
    await store.open()
    await store.put_session(
        Session(
            key=token_key(secret),
            account_id="sara",
            csrf="",
            created_at=clock.now,
            expires_at=clock.now + 86400,
            last_seen=clock.now,
            api_token=True,
        )
    )
    await store.close()
    bearer = {"Authorization": f"Bearer {secret}"}
    me = await client.get("/console/api/me", headers=bearer)
    assert me.status == 200 and (await me.json())["account"]["id"] == "sara"
    switched = await client.post(
        "/console/api/me/language", json={"language": "zh"}, headers=bearer
    )
    assert switched.status == 200
    page = await client.get("/console/", headers=bearer, allow_redirects=False)
    assert page.status == 303  # a token is not a browser session
    # and a token is not accepted as a cookie either
    client.session.cookie_jar.update_cookies({"fd_console": secret})
    assert (await client.get("/console/api/me")).status == 401


async def test_console_pages_forbid_inline_script_and_framing(client: TestClient[Any, Any]) -> None:
    for path in ("/console/login", "/console/api/me", "/console/static/console.css"):
        response = await client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert (await client.get("/console/login")).headers["Cache-Control"] == "no-store"


async def test_language_switch_validates_and_renders_chinese(client: TestClient[Any, Any]) -> None:
    csrf = await login(client, "mei")
    bad = await client.post(
        "/console/api/me/language", json={"language": "fr"}, headers={"X-CSRF-Token": csrf}
    )
    assert bad.status == 422
    ok = await client.post(
        "/console/api/me/language", json={"language": "zh"}, headers={"X-CSRF-Token": csrf}
    )
    assert ok.status == 200
    assert "退出" in await (await client.get("/console/")).text()
