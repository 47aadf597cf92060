"""The conversation list and search in Debian's Chromium (Playwright) against a real server:
rows that say who and why, a filter, the tabs, a live update, a search in Chinese (and in
Traditional characters) that opens the conversation, markup in a match shown as text, and
a supervisor's All tab in the Chinese console."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession
from playwright.async_api import Browser, Page, expect

from handoff.console.accounts import Role
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_console_browser import switch_to_chinese
from tests.handoff.console.helpers import PASSWORD, console_app, handoff_env, seed_sqlite
from tests.support import channel_auth, served

XSS = '<img src=x onerror="window.__xss=1">退货 转人工'


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[str]:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("sara", Role.SUPERVISOR))
    app = console_app(handoff_env(tmp_path, FRONTDESK_WEBCHAT_SECRET="test-webchat-secret"))
    async with served(app) as base:
        yield base


async def customer_says(base: str, sender: str, text: str) -> str:
    """`text` from `sender` on the api channel: the conversation's id."""
    async with (
        ClientSession() as http,
        http.post(
            base + "/api/v1/channels/api/messages",
            json={"id": f"{sender}-{time.monotonic_ns()}", "sender": sender, "text": text},
            headers=channel_auth(),
        ) as response,
    ):
        assert response.status == 202, await response.text()
        return str((await response.json())["conversation_id"])


async def sign_in(browser: Browser, base: str, username: str) -> Page:
    context = await browser.new_context(viewport={"width": 1200, "height": 720})
    page = await context.new_page()
    await page.goto(base + "/console/")
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(base + "/console/")
    # The URL changes before the page's scripts run: a search typed before they listen is
    # never sent (a CI failure of the read-only test: an empty result list for "router").
    await page.wait_for_load_state("load")
    return page


async def test_list_filters_tabs_and_a_chinese_search_that_opens_the_conversation(
    server: str, browser: Browser
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await customer_says(server, "ana", "My gift card refund failed, talk to a person")
    await customer_says(server, "bo", "我的礼品卡退款还没到账，转人工")
    await customer_says(server, "chen", XSS)

    mei = await sign_in(browser, server, "mei")
    await mei.locator("#presence").select_option("online")
    mine = mei.locator("#mine .ticket")
    await expect(mine).to_have_count(3, timeout=15_000)  # offered to her, live
    bo = mine.filter(has_text="api:bo")
    await expect(bo.locator(".lang")).to_have_text("ZH")
    await expect(bo.locator(".state")).to_have_text("Offered")
    await expect(bo.locator(".chan-name")).to_have_text("api")
    await expect(bo.locator(".preview")).to_contain_text("我的礼品卡退款还没到账")
    await expect(bo.locator(".unread")).to_have_text("1")
    await expect(bo.locator(".sla")).to_contain_text("left")

    # A filter: only the Chinese conversations.
    await mei.locator(".list-filters summary").click()
    await mei.locator("#filters select[name=language]").select_option("zh")
    await expect(mine).to_have_count(2)
    await expect(mei.locator("#filter-count")).to_have_text("1")
    await mei.get_by_role("button", name="Clear filters").click()
    await expect(mine).to_have_count(3)

    # A fourth customer waits (Mei is full): the Queue tab's count moves live.
    await customer_says(server, "dee", "router dead, talk to a person")
    await expect(mei.locator("#queue-count")).to_have_text("1", timeout=15_000)
    await mei.get_by_role("tab", name="Queue").click()
    await expect(mei.locator("#queue .ticket")).to_have_count(1)
    await expect(mei.locator("#queue .ticket .preview")).to_contain_text("router dead")
    await expect(mine.first).to_be_hidden()
    await mei.get_by_role("tab", name="My conversations").click()
    # docs/img/console-list.png is this picture.
    await mei.locator(".inbox").screenshot(path=str(ARTIFACTS / "console-list.png"))

    # Search in Chinese; the match is marked; the result opens the conversation.
    search = mei.get_by_role("searchbox", name="Search")
    await search.fill("退款")
    results = mei.locator("#search-results .result")
    await expect(results).to_have_count(1)
    await expect(results.first.locator("mark")).to_have_text("退款")
    await expect(results.first).to_contain_text("api:bo")
    await results.first.click()
    await expect(mei.locator("#conv-title")).to_contain_text("api")
    await expect(mei.locator("#timeline .item-customer .text").first).to_have_text(
        "我的礼品卡退款还没到账，转人工"
    )
    await search.fill("禮品卡")  # Traditional characters find the Simplified text
    await expect(results).to_have_count(1)
    await expect(results.first.locator("mark")).to_have_text("礼品卡")
    await search.fill("gift card")
    await expect(results.first.locator("mark")).to_have_text(["gift", "card"])
    # Markup in a message is found and shown as text; nothing of it runs.
    await search.fill("退货")
    await expect(results).to_have_count(1)
    await expect(results.first.locator(".snippet")).to_contain_text(
        '<img src=x onerror="window.__xss=1">'
    )
    assert await mei.locator("#search-results img").count() == 0
    assert await mei.evaluate("window.__xss") is None
    await search.fill("nothing-like-this")
    await expect(mei.locator("#search-results")).to_contain_text("No matches.")
    await search.press("Escape")
    await expect(mei.locator("#search-results")).to_be_hidden()
    await expect(mine).to_have_count(3)

    # A supervisor in the Chinese console: the All tab, and a search across the floor.
    sara = await sign_in(browser, server, "sara")
    await switch_to_chinese(sara)
    await expect(sara.get_by_role("tab", name="全部")).to_be_visible()
    await sara.get_by_role("tab", name="全部").click()
    await expect(sara.locator("#all .ticket")).to_have_count(4)
    await sara.get_by_role("searchbox", name="搜索").fill("礼品卡")
    await expect(sara.locator("#search-results .result")).to_have_count(1)
    await expect(sara.locator("#search-results h3")).to_have_text("消息")
    await sara.screenshot(path=str(ARTIFACTS / "console-search-zh.png"))
    await search.fill("礼品卡")
    await expect(results).to_have_count(1)
    # docs/img/console-search.png is this picture.
    await mei.screenshot(
        path=str(ARTIFACTS / "console-search.png"),
        clip={"x": 0, "y": 0, "width": 940, "height": 330},
    )
