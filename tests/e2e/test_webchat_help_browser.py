"""The widget links to the help centre in the visitor's language, and the help centre (the
knowledge base's articles, server-rendered, no script) opens from it — in Debian's Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from hub.app import create_app
from tests.connectors.webchat.helpers import webchat_config, webchat_env
from tests.dialogs.talk import DEMO_KNOWLEDGE, demo_engine
from tests.support import served


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    env = webchat_env(tmp_path)
    bot = demo_engine(knowledge=DEMO_KNOWLEDGE)
    async with served(create_app(webchat_config(tmp_path, env), environ=env, bot=bot)) as base:
        yield base


async def test_the_widget_opens_the_help_centre_in_the_visitors_language(
    url: str, browser: Browser
) -> None:
    context = await browser.new_context(viewport={"width": 390, "height": 760})
    page = await context.new_page()
    await page.goto(url + "/")
    await page.get_by_role("button", name="Open chat").click()
    link = page.get_by_role("link", name="Help centre")
    await expect(link).to_have_attribute("href", url + "/help?lang=en")

    async with context.expect_page() as opened:
        await link.click()
    help_page = await opened.value
    await expect(help_page.get_by_role("heading", level=1)).to_have_text("Help centre")
    await help_page.get_by_role("searchbox").fill("my earbuds only play on one side")
    await help_page.get_by_role("searchbox").press("Enter")
    results = help_page.locator("ul.results")
    await results.get_by_role("link", name="Pairing Bluetooth headphones and speakers").click()
    await expect(help_page.locator("article")).to_contain_text("Only one side plays")

    # A Chinese visitor: the widget follows the language they write in.
    box = page.get_by_role("textbox")
    await box.fill("你好，请问营业时间")
    await box.press("Enter")
    zh_link = page.get_by_role("link", name="帮助中心")
    await expect(zh_link).to_have_attribute("href", url + "/help?lang=zh")
    await help_page.goto(await zh_link.get_attribute("href") or "")
    await expect(help_page.get_by_role("heading", level=1)).to_have_text("帮助中心")
    await expect(help_page.locator("ul.list")).to_contain_text("以旧换新")
