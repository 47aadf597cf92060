"""Working a conversation in the console, in Debian's Chromium driven by Playwright, against
the whole hub on a loopback port: typing both ways with the web chat widget, canned
responses at the cursor and by "/shortcut", the note toggle, Resolve with Undo,
notifications (permission granted in the browser context) with the tab-title count,
mentions, and the keyboard shortcuts with their help overlay. In English and in Chinese."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from handoff.console.accounts import Role
from handoff.console.i18n import STRINGS
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_console_browser import go_online, open_chat, say, switch_to_chinese
from tests.handoff.console.helpers import (
    HANDOFF_YAML,
    PASSWORD,
    console_app,
    console_env,
    handoff_env,
    seed_sqlite,
)
from tests.support import REPO, served

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
WAIT = 20_000  # ms: generous, for a busy machine
UNDO_MS = 5_000  # the console's own Resolve countdown (UNDO_SECONDS in compose.js)
REFUND = {
    lang: (REPO / "config" / "canned" / f"refund_policy.{lang}.j2")
    .read_text(encoding="utf-8")
    .split("\n", 1)[1]
    .strip()
    for lang in ("en", "zh")
}
# Records each browser notification the page shows (and still shows it).
NOTIFICATION_SPY = """
(() => {
  const Real = window.Notification;
  if (!Real) return;
  window.__notifications = [];
  function Spy(title, options) {
    window.__notifications.push({ title, body: (options || {}).body || "" });
    return new Real(title, options);
  }
  Object.defineProperty(Spy, "permission", { get: () => Real.permission });
  Spy.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Spy;
})();
"""


def word(key: str, lang: str) -> str:
    return STRINGS[key][lang]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[str]:
    """The whole hub with the hand-off and the console; agents Mei and Tom. Its URL."""
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("tom", Role.AGENT))
    env = handoff_env(tmp_path, FRONTDESK_WEBCHAT_SECRET="test-webchat-secret")
    async with served(console_app(env)) as base:
        yield base


async def agent(
    browser: Browser, url: str, username: str, *, lang: str = "en", notifications: bool = False
) -> Page:
    context: BrowserContext = await browser.new_context(viewport=DESKTOP)
    if notifications:
        await context.grant_permissions(["notifications"], origin=url)
        await context.add_init_script(NOTIFICATION_SPY)
    page = await context.new_page()
    await page.goto(url + "/console/login")
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(url + "/console/")
    if lang == "zh":
        await switch_to_chinese(page)
    await go_online(page)
    return page


async def take_first(page: Page) -> None:
    """Open the first conversation (offered, or waiting in the queue) and accept or take it."""
    ticket = page.locator("#mine .ticket, #queue .ticket").first
    await expect(ticket).to_be_visible(timeout=WAIT)
    await ticket.click()
    await expect(page.locator("#accept")).to_be_visible()
    await page.locator("#accept").click()
    await expect(page.locator("#resolve")).to_be_enabled(timeout=WAIT)


async def pause_clock(page: Page) -> None:
    """Stop the page's (installed) clock: its timers fire only when the test moves it."""
    now_ms = await page.evaluate("Date.now()")
    await page.clock.pause_at((now_ms + 1_000) / 1000)  # seconds, in Playwright for Python


async def blur(page: Page) -> None:
    """Leave the text field, as an agent clicking on the page would."""
    await page.evaluate("document.activeElement && document.activeElement.blur()")


CASES = [
    pytest.param("en", "My router is broken, I want to talk to a person", id="en"),
    pytest.param("zh", "我的路由器坏了，转人工", id="zh"),
]


@pytest.mark.parametrize(("lang", "ask"), CASES)
async def test_typing_canned_note_and_resolve_with_undo(
    server: str, browser: Browser, lang: str, ask: str
) -> None:
    mei = await agent(browser, server, "mei", lang=lang)
    customer = await open_chat(browser, server)
    chat = customer.get_by_role("log")
    await say(customer, ask)
    await take_first(mei)
    await expect(mei.locator("#timeline .item-customer").first).to_be_visible()

    # The agent types: the widget shows it, in the customer's language; and stops: it goes.
    widget_typing = customer.locator(".fdw-typing")
    reply = mei.locator("#reply")
    await reply.press_sequentially("Hel")
    await expect(widget_typing).to_be_visible(timeout=WAIT)
    await expect(widget_typing).to_have_text("typing…" if lang == "en" else "正在输入…")
    await reply.fill("")
    await expect(widget_typing).to_be_hidden(timeout=WAIT)

    # The customer types: the console says so; their message ends it.
    customer_typing = mei.locator("#customer-typing")
    box = customer.get_by_role("textbox")
    await box.press_sequentially("Is it" if lang == "en" else "请问")
    await expect(customer_typing).to_be_visible(timeout=WAIT)
    await expect(customer_typing).to_have_text(word("typing.customer", lang))
    # Meanwhile "/" lists every canned response (the picture in docs/console.md).
    await reply.press_sequentially("/")
    await expect(mei.locator("#canned-suggest [role=option]")).to_have_count(3)
    if lang == "en":
        # docs/img/console-workspace.png is a copy of this one: tests never write into docs/.
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await mei.screenshot(path=str(ARTIFACTS / "console-workspace.png"))
    await reply.press("Escape")
    await reply.fill("")
    await box.press("Enter")
    await expect(customer_typing).to_be_hidden(timeout=WAIT)

    # A canned response goes where the cursor is; the draft around it stays.
    before, after = ("Hi there, ", " Thanks!") if lang == "en" else ("您好，", "谢谢！")
    await reply.fill(before + after)
    await reply.evaluate(f"(box) => box.setSelectionRange({len(before)}, {len(before)})")
    title = "Refund policy" if lang == "en" else "退款政策"
    await mei.locator("#canned").select_option(label=title)
    await expect(reply).to_have_value(before + REFUND[lang] + after)
    await mei.screenshot(path=str(ARTIFACTS / f"console-canned-{lang}.png"))

    # "/ref" lists the matching responses; Enter inserts the chosen one and does not send.
    await reply.fill("")
    await reply.press_sequentially("OK. /ref")
    suggestions = mei.locator("#canned-suggest [role=option]")
    await expect(suggestions).to_have_count(1)
    await expect(suggestions.first).to_contain_text("/refund_policy")
    await expect(suggestions.first).to_contain_text(title)
    await reply.press("Enter")
    await expect(reply).to_have_value("OK. " + REFUND[lang])
    await expect(mei.locator("#canned-suggest")).to_be_hidden()
    await reply.press("Enter")  # now it sends
    await expect(chat).to_contain_text(REFUND[lang], timeout=WAIT)
    await expect(reply).to_have_value("")
    # "/" with no match says so, in the console's language.
    await reply.press_sequentially("/zzz")
    await expect(mei.locator("#canned-suggest")).to_contain_text(word("canned.none", lang))
    await reply.press("Escape")
    await expect(mei.locator("#canned-suggest")).to_be_hidden()
    await reply.fill("")

    # "Internal note" is for one message: after sending, the box is for the customer again.
    await mei.locator("#as-note").check()
    await expect(reply).to_have_attribute("placeholder", word("note.placeholder", lang))
    secret = "Checking the warehouse first" if lang == "en" else "先查一下仓库"
    await reply.fill(secret)
    await reply.press("Enter")
    await expect(mei.locator("#timeline .item-note").last).to_contain_text(secret, timeout=WAIT)
    await expect(mei.locator("#as-note")).not_to_be_checked()
    await expect(reply).to_have_attribute("placeholder", word("reply.placeholder", lang))

    # Resolve waits for an Undo; Undo means nothing was sent. The page runs on Playwright's
    # clock, which stands still while the test clicks (a busy machine cannot outrun the click
    # on Undo) and then jumps past the countdown instead of sitting it out.
    undo_bar = mei.locator("#undo-bar")
    await mei.clock.install()
    await pause_clock(mei)
    await mei.locator("#resolve").click()
    await expect(undo_bar).to_be_visible()
    await expect(undo_bar).to_contain_text(word("resolve.pending", lang).split("{n}")[-1].strip())
    await mei.locator("#undo").click()
    await expect(undo_bar).to_be_hidden()
    await expect(mei.locator("#resolve")).to_be_enabled()
    # Past the moment the countdown would have resolved: still ours, the customer still hears.
    await mei.clock.run_for(UNDO_MS + 2_000)
    await mei.clock.resume()
    still = "Still here." if lang == "en" else "我还在。"
    await reply.fill(still)
    await reply.press("Enter")
    await expect(chat).to_contain_text(still, timeout=WAIT)
    await expect(mei.locator("#mine .ticket")).to_have_count(1)
    assert "How satisfied" not in await chat.inner_text()

    # Without Undo it resolves once the countdown ends (the "e" shortcut asks the same), and
    # the customer is asked for a rating.
    await pause_clock(mei)
    await blur(mei)
    await mei.keyboard.press("e")
    await expect(undo_bar).to_be_visible()
    await mei.clock.run_for(UNDO_MS)
    await mei.clock.resume()
    rating = "How satisfied" if lang == "en" else "满意"
    await expect(chat).to_contain_text(rating, timeout=WAIT)
    await expect(undo_bar).to_be_hidden()
    await expect(mei.locator("#mine .ticket")).to_have_count(0, timeout=WAIT)


@pytest.mark.parametrize(("lang", "ask"), CASES)
async def test_notifications_title_count_and_mentions(
    server: str, browser: Browser, lang: str, ask: str
) -> None:
    mei = await agent(browser, server, "mei", lang=lang, notifications=True)
    tom = await agent(browser, server, "tom", lang=lang, notifications=True)
    title = word("title", lang)
    await expect(mei).to_have_title(title)

    customer = await open_chat(browser, server)
    await say(customer, ask)

    # A new offer: an in-page notice, a browser notification, "(1)" in the tab title.
    notices = mei.locator("#notices .notice")
    offer = mei.locator("#notices .notice-offer")
    await expect(offer).to_have_count(1, timeout=WAIT)
    await expect(offer).to_contain_text(word("notify.offer", lang))
    await expect(mei).to_have_title(f"(1) {title}")
    shown = await mei.evaluate("window.__notifications")
    assert [n["title"] for n in shown] == [word("notify.offer", lang)]
    await offer.click()  # opens it, and the agent has now seen what was new
    await expect(mei).to_have_title(title)
    await expect(mei.locator("#open")).to_be_visible()
    await take_first(mei)

    # A new message in one of Mei's conversations.
    await expect(notices).to_have_count(0, timeout=WAIT)
    await say(customer, "Hello?" if lang == "en" else "在吗？")
    message = mei.locator("#notices .notice-message")
    await expect(message).to_have_count(1, timeout=WAIT)
    await expect(message).to_contain_text(word("notify.message", lang))
    await expect(mei).to_have_title(f"(1) {title}")
    shown = await mei.evaluate("window.__notifications")
    assert shown[-1]["title"] == word("notify.message", lang)
    await mei.screenshot(path=str(ARTIFACTS / f"console-notification-{lang}.png"))

    # Mei mentions Tom in a note: Tom is notified and may open the conversation.
    assert await tom.locator("#notices .notice").count() == 0
    await mei.locator("#as-note").check()
    await mei.locator("#reply").fill("@tom can you check the invoice?")
    await mei.locator("#reply").press("Enter")
    mention = tom.locator("#notices .notice-mention")
    await expect(mention).to_have_count(1, timeout=WAIT)
    await expect(mention).to_contain_text(word("notify.mention", lang).replace("{who}", "mei"))
    await expect(tom).to_have_title(f"(1) {title}")
    await mention.click()
    await expect(tom.locator("#timeline .item-note").last).to_contain_text(
        "can you check the invoice?", timeout=WAIT
    )
    assert "invoice" not in await customer.get_by_role("log").inner_text()


@pytest.mark.parametrize(("lang", "ask"), CASES)
async def test_an_sla_about_to_breach_notifies(
    tmp_path: Path, browser: Browser, lang: str, ask: str
) -> None:
    # A minute to pick up, warned from 5 %: the engine's own clock warns three seconds in,
    # and the breach stays a minute away, long after the test.
    handoff_yaml = tmp_path / "handoff.yaml"
    sla = re.sub(r"pickup: \d+", "pickup: 1", HANDOFF_YAML).replace("warn_at: 0.8", "warn_at: 0.05")
    handoff_yaml.write_text(sla, encoding="utf-8")
    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    env = console_env(
        tmp_path,
        FRONTDESK_HANDOFF_PATH=str(handoff_yaml),
        FRONTDESK_WEBCHAT_SECRET="test-webchat-secret",
    )
    async with served(console_app(env)) as url:
        mei = await agent(browser, url, "mei", lang=lang, notifications=True)
        customer = await open_chat(browser, url)
        await say(customer, ask)
        await expect(mei.locator("#mine .ticket, #queue .ticket")).to_have_count(1, timeout=WAIT)
        notice = mei.locator("#notices .notice-sla")
        await expect(notice).to_have_count(1, timeout=WAIT)
        await expect(notice).to_contain_text(word("notify.sla", lang))
        shown = await mei.evaluate("window.__notifications")
        assert shown[-1]["title"] == word("notify.sla", lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_keyboard_shortcuts_and_their_help(server: str, browser: Browser, lang: str) -> None:
    mei = await agent(browser, server, "mei", lang=lang)
    customer = await open_chat(browser, server)
    await say(customer, "My router is broken, I want to talk to a person")
    await expect(mei.locator("#mine .ticket, #queue .ticket")).to_have_count(1, timeout=WAIT)

    # "?" shows every shortcut, in the console's language; Escape closes it.
    help_ = mei.locator("#shortcuts-help")
    await mei.keyboard.press("?")
    await expect(help_).to_be_visible()
    await expect(help_.get_by_role("heading")).to_have_text(word("shortcuts.title", lang))
    for key in ("next", "take", "reply", "note", "resolve", "transfer"):
        await expect(help_).to_contain_text(word(f"shortcuts.{key}", lang))
    await mei.screenshot(path=str(ARTIFACTS / f"console-shortcuts-{lang}.png"))
    await mei.keyboard.press("Escape")
    await expect(help_).to_be_hidden()

    # j opens the next conversation, a takes it.
    await mei.keyboard.press("j")
    await expect(mei.locator("#open")).to_be_visible()
    await expect(mei.locator(".ticket.selected")).to_have_count(1)
    await mei.keyboard.press("a")
    await expect(mei.locator("#resolve")).to_be_enabled(timeout=WAIT)

    # n: write a note; r: write a reply. Keys typed in the box are text, not shortcuts.
    await blur(mei)
    await mei.keyboard.press("n")
    await expect(mei.locator("#reply")).to_be_focused()
    await expect(mei.locator("#as-note")).to_be_checked()
    await mei.keyboard.type("jet")
    await expect(mei.locator("#reply")).to_have_value("jet")
    await expect(mei.locator("#transfer-form")).to_be_hidden()
    await expect(help_).to_be_hidden()
    await mei.locator("#reply").fill("")
    await blur(mei)
    await mei.keyboard.press("r")
    await expect(mei.locator("#reply")).to_be_focused()
    await expect(mei.locator("#as-note")).not_to_be_checked()

    # t: the transfer form; with Ctrl held a key is the browser's, not ours.
    await blur(mei)
    await mei.keyboard.press("Control+e")
    await expect(mei.locator("#undo-bar")).to_be_hidden()
    await mei.keyboard.press("t")
    await expect(mei.locator("#transfer-form")).to_be_visible()
    await expect(mei.locator("#transfer-to")).to_be_focused()


@pytest.mark.parametrize(("lang", "ask"), CASES)
async def test_a_row_keeps_its_element_through_live_updates(
    server: str, browser: Browser, lang: str, ask: str
) -> None:
    """The list redraws on every live event. A row must stay the same element (updated in
    place): a row replaced between the agent's mouse down and mouse up swallows the click."""
    mei = await agent(browser, server, "mei", lang=lang)
    customer = await open_chat(browser, server)
    await say(customer, ask)
    row = mei.locator("#mine .ticket").first
    await expect(row).to_be_visible(timeout=WAIT)
    await row.evaluate("(node) => { node.__marked = true; }")
    more = "Are you there?" if lang == "en" else "有人吗？"
    await say(customer, more)
    await expect(row.locator(".preview")).to_contain_text(more, timeout=WAIT)
    assert await row.evaluate("(node) => node.__marked === true")
    await row.click()
    await expect(mei.locator("#timeline")).to_contain_text(more, timeout=WAIT)


@pytest.mark.parametrize(("lang", "ask"), CASES)
async def test_a_click_across_a_live_update_of_its_row_opens_it(
    server: str, browser: Browser, lang: str, ask: str
) -> None:
    """The agent presses the mouse on a row, a live event redraws the row's contents, the
    agent lets go: that is still a click on the row. (A redraw that swapped the row's
    children took the pressed element out of the page, and the browser sent no click.)"""
    mei = await agent(browser, server, "mei", lang=lang)
    customer = await open_chat(browser, server)
    await say(customer, ask)
    row = mei.locator("#mine .ticket").first
    await expect(row).to_be_visible(timeout=WAIT)
    box = await row.locator(".preview").bounding_box()
    assert box is not None
    await mei.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await mei.mouse.down()
    more = "Are you there?" if lang == "en" else "有人吗？"
    await say(customer, more)
    await expect(row.locator(".preview")).to_contain_text(more, timeout=WAIT)
    await mei.mouse.up()
    await expect(mei.locator("#timeline")).to_contain_text(more, timeout=WAIT)
