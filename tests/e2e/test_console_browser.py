"""A shift in the agent console, in Debian's Chromium driven by Playwright, against a real
TCP server built by `create_app` with the hand-off and the web chat: a customer in one
browser context, agents in others. Screenshots land in tests/e2e/artifacts/."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from handoff.console.accounts import Role
from tests.e2e.conftest import ARTIFACTS
from tests.handoff.console.helpers import PASSWORD, console_app, handoff_env, seed_sqlite
from tests.support import served

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
DESKTOP: ViewportSize = {"width": 1280, "height": 800}


class OffsetClock:
    """Real time plus an offset the test sets: the console's SLA colours follow it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Server:
    url: str
    clock: OffsetClock


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("sara", Role.SUPERVISOR))
    env = handoff_env(tmp_path, FRONTDESK_WEBCHAT_SECRET="test-webchat-secret")
    clock = OffsetClock()
    app = console_app(env, clock=clock)
    async with served(app) as base:
        yield Server(base, clock)


async def sign_in(browser: Browser, url: str, username: str, csp: list[str]) -> Page:
    page = await (await browser.new_context(viewport=DESKTOP)).new_page()
    page.on(
        "console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None
    )
    await page.goto(url + "/console/")
    await expect(page).to_have_url(url + "/console/login")
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(url + "/console/")
    await go_online(page)
    return page


async def go_online(page: Page) -> None:
    """Choose "Online" once the console's scripts listen, and wait until the server has it:
    the URL changes before the page's scripts run, and a choice made before they listen is
    never sent (the agent would stay offline and be offered nothing)."""
    await page.wait_for_load_state("load")
    await page.locator("#presence").select_option("online")
    await page.wait_for_function(
        """async () => {
          const answer = await fetch("/console/api/snapshot", { credentials: "same-origin" });
          const data = await answer.json();
          return Boolean(data.me && data.me.agent && data.me.agent.presence === "online");
        }""",
        polling=200,
    )


async def switch_to_chinese(page: Page) -> None:
    """Press 中文 once the console's scripts listen, and wait for the page in Chinese: the URL
    changes before the page's scripts run, and a click before they listen does nothing."""
    await page.wait_for_load_state("load")
    await page.locator("#language").click()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


async def open_chat(browser: Browser, url: str) -> Page:
    page = await (await browser.new_context(viewport={"width": 390, "height": 760})).new_page()
    await page.goto(url + "/")
    await page.get_by_role("button", name="Open chat").click()
    await expect(page.get_by_role("dialog")).to_be_visible()
    return page


async def say(page: Page, text: str) -> None:
    box = page.get_by_role("textbox")
    await box.fill(text)
    await box.press("Enter")


async def test_a_whole_hand_off_in_the_browser(server: Server, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    csp_violations: list[str] = []
    mei = await sign_in(browser, server.url, "mei", csp_violations)

    customer = await open_chat(browser, server.url)
    chat = customer.get_by_role("log")
    await say(customer, XSS)
    await expect(chat).to_contain_text("You said:")
    await say(customer, "My router is broken, I want to talk to a person")
    await expect(chat).to_contain_text("in the queue")

    # The offer appears live (no reload) in Mei's list; she opens it and sees the summary.
    mine = mei.locator("#mine .ticket")
    await expect(mine).to_have_count(1, timeout=10_000)
    await expect(mine.first.locator(".chan-name")).to_have_text("webchat")
    await mine.first.click()
    await expect(mei.locator("#summary")).to_contain_text("Summary")
    await expect(mei.locator("#summary")).to_contain_text("router")
    # SLA colours follow the server's clock (pick-up: 15 min for P3, amber from 80 %).
    sla = mine.first.locator(".sla")
    await expect(sla).to_have_class("sla sla-ok")
    server.clock.offset = 13 * 60
    await mei.reload()
    await expect(mei.locator("#mine .ticket .sla")).to_have_class("sla sla-amber")
    server.clock.offset = 16 * 60
    await mei.reload()
    await expect(mei.locator("#mine .ticket .sla")).to_have_class("sla sla-red")
    await expect(mei.locator("#mine .ticket .sla")).to_contain_text("overdue")
    await mei.screenshot(path=str(ARTIFACTS / "console-sla-red.png"))
    server.clock.offset = 0
    await mei.reload()
    await mei.locator("#mine .ticket").first.click()

    await mei.get_by_role("button", name="Accept").click()
    await expect(chat).to_contain_text("Mei from our team has joined")

    # What the customer typed is shown as text and never runs.
    timeline = mei.locator("#timeline")
    await expect(timeline.locator(".item-customer .text").first).to_have_text(XSS)
    assert await timeline.locator("img, script").count() == 0
    assert await mei.evaluate("window.__xss") is None

    reply = mei.locator("#reply")
    await reply.fill("Hello from Mei,")
    await reply.press("Shift+Enter")  # a new line, not a send
    await reply.type("let me check your router.")
    await reply.press("Enter")
    await expect(chat).to_contain_text("let me check your router.")
    await expect(timeline.locator(".item-agent .text").last).to_have_text(
        "Hello from Mei,\nlet me check your router."
    )
    await mei.screenshot(path=str(ARTIFACTS / "console-workspace.png"))

    # Transfer to the supervisor, who resolves; the customer is asked for a CSAT score.
    sara = await sign_in(browser, server.url, "sara", csp_violations)
    await mei.reload()
    await mei.locator("#mine .ticket").first.click()
    await mei.get_by_role("button", name="Transfer").click()
    await mei.locator("#transfer-to").fill("sara")
    await mei.locator("#transfer-form").get_by_role("button", name="Transfer").click()
    await expect(mei.locator("#mine .ticket")).to_have_count(0, timeout=10_000)

    theirs = sara.locator("#mine .ticket")
    await expect(theirs).to_have_count(1, timeout=10_000)
    await theirs.first.click()
    await sara.get_by_role("button", name="Accept").click()
    await expect(sara.get_by_role("button", name="Resolve")).to_be_enabled()
    await sara.get_by_role("button", name="Resolve").click()
    # Resolve waits 5 s for an Undo before it is sent.
    await expect(chat).to_contain_text("How satisfied are you", timeout=20_000)
    await customer.screenshot(path=str(ARTIFACTS / "console-customer-csat.png"))

    await sara.goto(server.url + "/console/supervisor")
    await expect(sara.locator(".charts svg")).to_have_count(3)
    await expect(sara.locator("#agents li")).to_have_count(3)  # mei, tom, sara
    await sara.screenshot(path=str(ARTIFACTS / "console-dashboard.png"), full_page=True)

    # A tablet's width: the lists and the conversation stay usable.
    await mei.set_viewport_size({"width": 820, "height": 1180})
    await expect(mei.locator("#mine")).to_be_visible()
    await mei.get_by_role("tab", name="Queue").click()
    await expect(mei.locator("#queue")).to_be_visible()
    await mei.screenshot(path=str(ARTIFACTS / "console-tablet.png"))

    await mei.get_by_role("button", name="Sign out").click()
    await expect(mei).to_have_url(server.url + "/console/login")
    await mei.goto(server.url + "/console/")
    await expect(mei).to_have_url(server.url + "/console/login")

    assert await customer.evaluate("window.__xss") is None
    assert csp_violations == []
