"""The widget's first bubble, the greeting, speaks the visitor's language like the rest of the
widget: the page's per-language greeting (`data-greeting-zh`), else its single one, else the
widget's own. In Debian's Chromium against a real server built by `create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, Locator, Page, Route, expect

from hub.app import create_app
from hub.echo import EchoBot
from tests.connectors.webchat.helpers import webchat_config, webchat_env

DEMO_EN = "Hi! Ask me about shipping, returns or your order."
DEMO_ZH = "您好！物流、退货或订单的问题都可以问我。"


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    env = webchat_env(tmp_path)
    app = create_app(webchat_config(tmp_path, env), environ=env, bot=EchoBot())
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def open_chat(browser: Browser, url: str, *, shop: str = "") -> Page:
    """The demo shop, or (`shop`: the widget tag's attributes) a shop page of our own on the
    hub's origin, with the chat open."""
    page = await (await browser.new_context()).new_page()
    if shop:

        async def own_page(route: Route) -> None:
            html = '<!doctype html><html lang="en"><meta charset="utf-8">'
            html += f'<script src="/webchat/widget.js" {shop}>'
            await route.fulfill(body=html + "</script></html>", content_type="text/html")

        await page.route(url + "/shop", own_page)
    await page.goto(url + ("/shop" if shop else "/"))
    await page.locator(".fdw-launcher").click()
    await expect(page.get_by_role("dialog")).to_be_visible()
    return page


def greeting(page: Page) -> Locator:
    return page.locator(".fdw-greeting .fdw-text")


async def ask(page: Page, text: str) -> None:
    box = page.get_by_role("textbox")
    await box.fill(text)
    await box.press("Enter")
    await expect(page.locator(".fdw-in .fdw-text").last).to_have_text(text)


async def test_an_english_visitor_is_greeted_in_english(url: str, browser: Browser) -> None:
    page = await open_chat(browser, url)
    await expect(greeting(page)).to_have_text(DEMO_EN)
    await ask(page, "Where is my order?")
    await expect(greeting(page)).to_have_text(DEMO_EN)


async def test_a_chinese_visitor_is_greeted_in_chinese_now_and_on_the_next_visit(
    url: str, browser: Browser
) -> None:
    page = await open_chat(browser, url)
    await ask(page, "你好，我的订单到哪了？")
    await expect(greeting(page)).to_have_text(DEMO_ZH)
    await expect(page.get_by_role("button", name="发送")).to_be_visible()

    await page.reload()  # the widget remembers the conversation's language
    await page.locator(".fdw-launcher").click()
    await expect(greeting(page)).to_have_text(DEMO_ZH)


async def test_a_single_greeting_stays_as_the_page_wrote_it(url: str, browser: Browser) -> None:
    page = await open_chat(browser, url, shop='data-greeting="Welcome to Lantern &amp; Loom!"')
    await expect(greeting(page)).to_have_text("Welcome to Lantern & Loom!")
    await ask(page, "你好")
    await expect(greeting(page)).to_have_text("Welcome to Lantern & Loom!")


async def test_without_a_greeting_the_widget_greets_in_its_own_words(
    url: str, browser: Browser
) -> None:
    page = await open_chat(browser, url, shop='data-lang="zh"')
    await expect(greeting(page)).to_have_text("您好！有什么可以帮您？")
    await ask(page, "Where is my order, please?")
    await expect(greeting(page)).to_have_text("Hi! How can we help you today?")


async def test_a_greeting_with_markup_shows_as_text(url: str, browser: Browser) -> None:
    markup = "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;&lt;b&gt;欢迎&lt;/b&gt;"
    page = await open_chat(browser, url, shop=f'data-lang="zh" data-greeting-zh="{markup}"')
    await expect(greeting(page)).to_have_text('<img src=x onerror="window.__xss=1"><b>欢迎</b>')
    assert await page.locator(".fdw img, .fdw b").count() == 0
    assert await page.evaluate("window.__xss") is None
