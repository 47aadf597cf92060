"""The widget in a real browser (Debian's Chromium) when a per-address limit says no: the
visitor is told so in their language, and connected as soon as there is room."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, expect

from hub.app import create_app
from hub.echo import EchoBot
from tests.connectors.webchat.helpers import webchat_config, webchat_env
from tests.support import served

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>shop</title>
<link rel="stylesheet" href="/webchat/widget.css"></head>
<body><p>shop</p><script src="/webchat/widget.js" data-lang="{lang}" defer></script></body>
</html>"""

RECONNECT_MS = 30_000  # the widget backs off up to 15 s between attempts


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    env = webchat_env(tmp_path)
    config = webchat_config(tmp_path, env, max_connections_per_address=1)
    app = create_app(config, environ=env, bot=EchoBot())

    async def shop(request: web.Request) -> web.Response:
        html = PAGE.format(lang=request.match_info["lang"])
        return web.Response(text=html, content_type="text/html")

    app.router.add_get("/shop/{lang:(en|zh)}", shop)
    async with served(app) as base:
        yield base


@pytest.mark.parametrize(
    ("lang", "open_label", "notice", "echo"),
    [
        ("en", "Open chat", "Too many chats are open from your network", "hello"),
        ("zh", "打开聊天", "您所在网络打开的聊天过多", "你好"),
    ],
)
async def test_a_visitor_over_the_address_limit_is_told_and_then_connected(
    url: str, browser: Browser, lang: str, open_label: str, notice: str, echo: str
) -> None:
    first = await (await browser.new_context()).new_page()
    await first.goto(f"{url}/shop/{lang}")
    await first.get_by_role("button", name=open_label).click()
    await first.get_by_role("textbox").fill("first")
    await first.get_by_role("textbox").press("Enter")
    await expect(first.get_by_role("log")).to_contain_text("You said: first")

    second = await (await browser.new_context()).new_page()  # same address, no room left
    await second.goto(f"{url}/shop/{lang}")
    await second.get_by_role("button", name=open_label).click()
    await expect(second.locator(".fdw-conn")).to_contain_text(notice)

    await first.close()  # room again: the second visitor gets in on its next attempt
    await expect(second.locator(".fdw-conn")).to_be_hidden(timeout=RECONNECT_MS)
    await second.get_by_role("textbox").fill(echo)
    await second.get_by_role("textbox").press("Enter")
    await expect(second.get_by_role("log")).to_contain_text(f"You said: {echo}")
