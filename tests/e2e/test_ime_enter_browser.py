"""An input method's Enter is not a send, in Debian's Chromium against a real server: a
visitor typing pinyin in the web chat widget, and an agent typing a reply in the console.

Chinese input methods confirm a candidate with Enter. Chromium marks that key press
`isComposing`; Safari sends it after `compositionend`, with `isComposing` false but
`keyCode` 229 (the code every IME key press has). Both are dispatched here as a browser
would; the message must go only on the real Enter that follows, whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession
from playwright.async_api import Browser, Locator, expect

from handoff.console.accounts import Role
from hub.app import create_app
from tests.connectors.webchat.helpers import webchat_config, webchat_env
from tests.e2e.test_console_search_browser import customer_says, sign_in
from tests.e2e.test_webchat_widget_layout import MenuBot, open_chat
from tests.handoff.console.helpers import console_app, handoff_env, seed_sqlite
from tests.support import api_auth, served

# (typed before the input method's Enter, typed after it, the whole message)
TYPED = {
    "en": ("I'd like to ask about", " my order", "I'd like to ask about my order"),
    "zh": ("我想问一下", "我的订单", "我想问一下我的订单"),
}


async def ime_enters(box: Locator) -> None:
    """The two Enter key presses an input method makes: Chromium's and Safari's."""
    await box.evaluate(
        """(box) => {
          box.dispatchEvent(new KeyboardEvent("keydown",
            { key: "Enter", code: "Enter", isComposing: true, bubbles: true, cancelable: true }));
          const safari = new KeyboardEvent("keydown",
            { key: "Enter", code: "Enter", bubbles: true, cancelable: true });
          Object.defineProperty(safari, "keyCode", { get: () => 229 });
          box.dispatchEvent(safari);
        }"""
    )


@pytest.fixture
async def chat_url(tmp_path: Path) -> AsyncIterator[str]:
    env = webchat_env(tmp_path)
    app = create_app(webchat_config(tmp_path, env), environ=env, bot=MenuBot())
    async with served(app) as base:
        yield base


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_widget_sends_on_the_real_enter_only(
    chat_url: str, browser: Browser, language: str
) -> None:
    first, rest, whole = TYPED[language]
    page = await (await browser.new_context()).new_page()
    await open_chat(page, chat_url)
    box = page.get_by_role("textbox")
    await box.fill(first)
    await ime_enters(box)
    await expect(box).to_have_value(first)  # still being written
    await box.press("End")
    await box.press_sequentially(rest)
    await box.press("Enter")
    said = "您说" if language == "zh" else "You said"
    await expect(page.get_by_role("log")).to_contain_text(f"{said}: {whole}")
    await expect(page.locator(".fdw-msg.fdw-in")).to_have_count(1)
    await expect(page.locator(".fdw-msg.fdw-in .fdw-text")).to_have_text(whole)


@pytest.fixture
async def console_url(tmp_path: Path) -> AsyncIterator[str]:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    app = console_app(handoff_env(tmp_path, FRONTDESK_WEBCHAT_SECRET="test-webchat-secret"))
    async with served(app) as base:
        yield base


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_console_sends_a_reply_on_the_real_enter_only(
    console_url: str, browser: Browser, language: str
) -> None:
    first, rest, whole = TYPED[language]
    opening = (
        "我的路由器坏了，转人工" if language == "zh" else "My router is broken, talk to a person"
    )
    conversation = await customer_says(console_url, f"ime-{language}", opening)
    async with ClientSession(headers=api_auth()) as http:
        base = console_url + "/api/v1/handoff"
        for method, path, body in (
            ("PUT", "/agents/mei/presence", {"presence": "online"}),
            ("POST", f"/conversations/{conversation}/accept", {"agent_id": "mei"}),
        ):
            async with http.request(method, base + path, json=body) as response:
                assert response.status == 200, await response.text()

    mei = await sign_in(browser, console_url, "mei")
    await mei.locator("#mine .ticket").first.click()
    reply = mei.locator("#reply")
    await expect(reply).to_be_editable()
    await reply.fill(first)
    await ime_enters(reply)
    await expect(reply).to_have_value(first)
    await reply.press("End")
    await reply.press_sequentially(rest)
    await reply.press("Enter")
    agent_lines = mei.locator("#timeline .item-agent .text")
    await expect(agent_lines).to_have_text([whole])
    await expect(reply).to_have_value("")
