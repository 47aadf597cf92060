"""Search results that are no open hand-off, opened in Debian's Chromium (Playwright)
against a real server: a supervisor finds a conversation only the bot ever answered and one
that was handed off and closed, and each opens in the workspace to read (transcript and
contact panel, no actions); an open hand-off found next opens with its actions again. In
the English and the Chinese console."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from playwright.async_api import Browser, expect

from handoff.console.accounts import Role
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_console_browser import switch_to_chinese
from tests.e2e.test_console_search_browser import customer_says, sign_in
from tests.handoff.console.helpers import console_app, handoff_env, seed_sqlite
from tests.support import api_auth, served

TEXTS = {
    "en": {
        "bot_only": "Does the router warranty cover water damage?",
        "closed": "My router is broken, talk to a person",
        "open": "The router died again, talk to a person",
        "open_query": "died again",
        "word": "router",
        "read_only": "Read only",
        "bot": "With the bot only",
        "resolved": "Closed",
        "hint": "Read only: this conversation is not an open hand-off of yours.",
    },
    "zh": {
        "bot_only": "路由器保修包括进水吗？",
        "closed": "我的路由器坏了，转人工",
        "open": "路由器又坏了，转人工",
        "open_query": "又坏了",
        "word": "路由器",
        "read_only": "只读",
        "bot": "仅机器人接待",
        "resolved": "已结束",
        "hint": "只读：此会话不是您正在处理的人工会话。",
    },
}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[str]:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("sara", Role.SUPERVISOR))
    app = console_app(handoff_env(tmp_path, FRONTDESK_WEBCHAT_SECRET="test-webchat-secret"))
    async with served(app) as base:
        yield base


async def handoff(base: str, method: str, path: str, body: dict[str, Any]) -> None:
    """The operators' hand-off API (the same actions the console calls)."""
    async with (
        ClientSession() as http,
        http.request(
            method, base + "/api/v1/handoff" + path, json=body, headers=api_auth()
        ) as response,
    ):
        assert response.status == 200, await response.text()


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_closed_and_bot_only_search_results_open_read_only(
    server: str, browser: Browser, language: str
) -> None:
    words = TEXTS[language]
    bot_only, closed, waiting = (f"{who}-{language}" for who in ("cai", "ana", "dee"))
    await customer_says(server, bot_only, words["bot_only"])  # the bot answers; no hand-off
    conversation = await customer_says(server, closed, words["closed"])
    # Mei takes the hand-off and resolves it (the operators' API: the same one service).
    await handoff(server, "PUT", "/agents/mei/presence", {"presence": "online"})
    await handoff(server, "POST", f"/conversations/{conversation}/accept", {"agent_id": "mei"})
    await handoff(server, "POST", f"/conversations/{conversation}/resolve", {"agent_id": "mei"})

    sara = await sign_in(browser, server, "sara")
    if language == "zh":
        await switch_to_chinese(sara)
        await expect(sara.get_by_role("searchbox", name="搜索")).to_be_visible()
    search = sara.locator("#search")
    results = sara.locator("#search-results .result")
    title = sara.locator("#conv-title")
    box = sara.locator("#open")

    # Only the bot ever answered this customer: listed as read only, and it opens.
    await search.fill(words["word"])
    found = results.filter(has_text=f"api:{bot_only}").first
    await expect(found.locator(".read-label")).to_contain_text(words["bot"])
    await found.click()
    await expect(title).to_contain_text(words["read_only"])
    await expect(title).to_contain_text(words["bot"])
    await expect(sara.locator("#summary .read-hint")).to_have_text(words["hint"])
    timeline = sara.locator("#timeline")
    await expect(timeline.locator(".item-customer .text").first).to_have_text(words["bot_only"])
    await expect(timeline.locator(".item-bot").first).to_be_visible()
    for tool in ("#accept", "#resolve", "#transfer", "#composer"):
        await expect(sara.locator(tool)).to_be_hidden()
    await expect(sara.locator("#contact-identities")).to_contain_text(f"api:{bot_only}")
    await expect(box).to_have_class("read-only")

    # A hand-off that was closed: its transcript, its ticket, the customer.
    found = results.filter(has_text=f"api:{closed}").first
    await expect(found.locator(".read-label")).to_contain_text(words["resolved"])
    await found.click()
    await expect(title).to_contain_text(words["resolved"])
    await expect(timeline.locator(".item-customer .text").first).to_have_text(words["closed"])
    await expect(sara.locator("#summary dd").last).to_contain_text("#")
    await expect(sara.locator("#contact-identities")).to_contain_text(f"api:{closed}")
    await expect(sara.locator("#composer")).to_be_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    # docs/img/console-read-only.png is the English picture.
    await sara.screenshot(path=str(ARTIFACTS / f"console-read-only-{language}.png"))

    # An open hand-off found next opens to work on again: the tools are back.
    await customer_says(server, waiting, words["open"])
    await search.fill("")
    await search.fill(words["open_query"])
    found = results.filter(has_text=f"api:{waiting}").first
    await expect(found).to_have_class("result openable")
    await found.click()
    await expect(sara.locator("#accept")).to_be_visible()
    await expect(sara.locator("#composer")).to_be_visible()
    await expect(title).not_to_contain_text(words["read_only"])
    await expect(timeline.locator(".item-customer .text").first).to_have_text(words["open"])
