"""An unknown console URL opened in a browser: a small page in the console's style and the
agent's language, not raw JSON; the API and non-browser clients keep their JSON error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from handoff.console.accounts import Role
from tests.handoff.console.helpers import console_app, console_env, login, seed_sqlite

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
async def client(tmp_path: Path, aiohttp_client) -> TestClient[Any, Any]:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    made: TestClient[Any, Any] = await aiohttp_client(console_app(console_env(tmp_path)))
    return made


@pytest.mark.parametrize(
    ("language", "title", "back"),
    [("en", "Page not found", "Back to the workspace"), ("zh", "页面不存在", "返回工作区")],
)
async def test_a_signed_in_agent_gets_a_page_in_their_language(
    client: TestClient[Any, Any], language: str, title: str, back: str
) -> None:
    csrf = await login(client, "mei")
    changed = await client.post(
        "/console/api/me/language", json={"language": language}, headers={"X-CSRF-Token": csrf}
    )
    assert changed.status == 200

    response = await client.get("/console/nope/<script>alert(1)</script>", headers=BROWSER)
    assert response.status == 404
    assert response.content_type == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in response.headers
    html = await response.text()
    assert f'<html lang="{"zh-CN" if language == "zh" else "en"}">' in html
    assert f"<h1>{title}</h1>" in html
    assert f'<a href="/console/">{back}</a>' in html
    assert "/console/static/console.css" in html
    # The path comes back as text, never as markup.
    assert "<script>alert(1)</script>" not in html
    assert "/console/nope/&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    ("accept_language", "title"),
    [("en-GB,en;q=0.9", "Page not found"), ("zh-CN,zh;q=0.9,en;q=0.5", "页面不存在")],
)
async def test_before_login_the_page_follows_the_browser(
    client: TestClient[Any, Any], accept_language: str, title: str
) -> None:
    response = await client.get(
        "/console/nope", headers={**BROWSER, "Accept-Language": accept_language}
    )
    assert response.status == 404
    assert f"<h1>{title}</h1>" in await response.text()


async def test_the_api_keeps_its_json_error_and_a_missing_file_gets_no_page(
    client: TestClient[Any, Any],
) -> None:
    await login(client, "mei")
    api = await client.get("/console/api/nope", headers=BROWSER)
    assert api.status == 404
    assert (await api.json())["error"] == {"status": 404, "message": "Not Found"}
    missing = await client.get("/console/static/nope.js", headers=BROWSER)
    assert missing.status == 404
    assert missing.content_type != "text/html"


async def test_a_client_that_does_not_ask_for_html_keeps_the_json_error(
    client: TestClient[Any, Any],
) -> None:
    response = await client.get("/console/nope", headers={"Accept": "application/json"})
    assert response.status == 404
    assert (await response.json())["error"] == {"status": 404, "message": "Not Found"}
