"""Web chat journeys in a real browser (Debian's Chromium driven by Playwright) against a
real TCP server built by `create_app`. Install the browser with
`scripts/install-test-deps.d/chromium.sh`; Playwright never downloads one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from connectors.webchat.connector import WebchatConnector
from hub.abc import ConversationHandler, Turn, TurnResult
from hub.api import HUB
from hub.app import create_app
from hub.hub import Hub
from hub.model import Button, Outbound
from tests.connectors.webchat.helpers import webchat_config, webchat_env
from tests.e2e.conftest import ARTIFACTS

MENU = (Button(title="Shipping", payload="/shipping"), Button(title="Returns", payload="/returns"))
ANSWERS = {
    "/shipping": "Orders ship within 2 working days.",
    "/returns": "Returns are free within 30 days.",
}


class FaqBot(ConversationHandler):
    """A tiny FAQ bot: quick replies for the topics, the answer when one is chosen."""

    async def handle(self, turn: Turn) -> TurnResult:
        text = turn.inbound.text
        if text in ANSWERS:
            return TurnResult(replies=(Outbound(text=ANSWERS[text]),))
        return TurnResult(
            replies=(Outbound(text=f"You asked: {text}. Pick a topic:", buttons=MENU),)
        )


@dataclass
class Server:
    url: str
    hub: Hub
    webchat: WebchatConnector
    gate: dict[str, bool]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    env = webchat_env(tmp_path)
    app = create_app(webchat_config(tmp_path, env), environ=env, bot=FaqBot())
    gate = {"open": True}

    @web.middleware
    async def network(request: web.Request, handler):
        # Stands in for a network that drops sockets: new WebSockets fail while closed.
        if request.path == "/webchat/ws" and not gate["open"]:
            return web.Response(status=503)
        return await handler(request)

    app.middlewares.append(network)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    hub = app[HUB]
    connector = hub.connectors["webchat"]
    assert isinstance(connector, WebchatConnector)
    try:
        yield Server(f"http://127.0.0.1:{port}", hub, connector, gate)
    finally:
        await runner.cleanup()


async def open_chat(browser: Browser, url: str, **context: object) -> Page:
    page = await (await browser.new_context(**context)).new_page()  # type: ignore[arg-type]
    await page.goto(url)
    await page.get_by_role("button", name="Open chat").click()
    await expect(page.get_by_role("dialog")).to_be_visible()
    return page


async def ask(page: Page, text: str) -> None:
    box = page.get_by_role("textbox")
    await box.fill(text)
    await box.press("Enter")


async def test_ask_a_question_and_answer_with_a_quick_reply(server: Server, browser: Browser):
    page = await open_chat(browser, server.url + "/", viewport={"width": 390, "height": 760})
    chat = page.get_by_role("log")
    await ask(page, "Where is my order?")
    await expect(chat).to_contain_text("You asked: Where is my order?. Pick a topic:")
    await page.get_by_role("button", name="Shipping").click()
    await expect(chat).to_contain_text("Orders ship within 2 working days.")
    await expect(page.get_by_role("button", name="Shipping")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "webchat-open.png"))
    bubbles = chat.locator(".fdw-in .fdw-text")
    await expect(bubbles).to_have_text(["Where is my order?", "Shipping"])


async def test_the_widget_reconnects_and_gets_what_was_sent_meanwhile(
    server: Server, browser: Browser
):
    page = await open_chat(browser, server.url + "/")
    chat = page.get_by_role("log")
    await ask(page, "hello")
    await expect(chat).to_contain_text("Pick a topic")
    conversations = await server.hub.store.list_conversations(limit=1)
    conversation_id = conversations.items[0].id

    server.gate["open"] = False
    assert await server.webchat.disconnect_all() == 1
    await expect(page.get_by_role("status").first).to_have_text("Reconnecting…")
    await server.hub.send(conversation_id, [Outbound(text="Agent Mei here.")])
    await server.hub.send(conversation_id, [Outbound(text="Your parcel left today.")])
    await ask(page, "typed while offline")
    server.gate["open"] = True

    await expect(chat).to_contain_text("Your parcel left today.")
    await expect(chat).to_contain_text("You asked: typed while offline")
    outs = chat.locator(".fdw-out:not(.fdw-greeting) .fdw-text")
    await expect(outs).to_have_text(
        [
            "You asked: hello. Pick a topic:",
            "Agent Mei here.",
            "Your parcel left today.",
            "You asked: typed while offline. Pick a topic:",
        ]
    )
    await expect(page.locator(".fdw-conn")).to_be_hidden()


async def test_html_and_scripts_typed_by_anyone_render_as_text(server: Server, browser: Browser):
    page = await open_chat(browser, server.url + "/")
    chat = page.get_by_role("log")
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script><b>bold</b>'
    await ask(page, payload)
    await expect(chat).to_contain_text(f"You asked: {payload}")
    await expect(chat.locator(".fdw-in .fdw-text")).to_have_text([payload])
    assert await chat.locator("img, script, b").count() == 0
    assert await page.evaluate("window.__xss") is None
