"""Defect 7, in Debian's Chromium at desktop and mobile sizes against a real server: the
newest message is never hidden behind quick replies or a rating question, a reload opens the
log at the newest message, and the widget's own words are Chinese for a Chinese page or a
Chinese conversation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, ViewportSize, expect

from hub.abc import ConversationHandler, Turn, TurnResult
from hub.app import create_app
from hub.model import Button, Outbound
from tests.connectors.webchat.helpers import webchat_config, webchat_env
from tests.e2e.conftest import ARTIFACTS
from tests.support import served

SIZES: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 800},
    "mobile": {"width": 360, "height": 640},
}
CSAT = {
    "en": "How satisfied are you with the help you got? (1 = very unhappy, 5 = very happy)",
    "zh": "您对本次服务满意吗？（1 = 非常不满意，5 = 非常满意）",
}
ZH_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>灯与织</title></head>
<body><h1>灯与织</h1><script src="/webchat/widget.js" defer></script></body></html>"""


class MenuBot(ConversationHandler):
    """Long answers with many quick replies, and a rating question, in the visitor's language."""

    async def handle(self, turn: Turn) -> TurnResult:
        text = turn.inbound.text
        zh = any("\u4e00" <= ch <= "\u9fff" for ch in text)
        if "rate" in text or "评价" in text:
            scores = tuple(Button(title=str(n), payload=f"/csat {n}") for n in range(1, 6))
            return TurnResult(replies=(Outbound(text=CSAT["zh" if zh else "en"], buttons=scores),))
        if "menu" in text or "菜单" in text:
            topics = ("Shipping", "Returns", "Refunds", "Warranty", "Invoices", "Stores")
            buttons = tuple(Button(title=t, payload=f"/{t.lower()}") for t in topics)
            answer = "Here is everything I can help with today. " * 3 + "Pick a topic below:"
            return TurnResult(replies=(Outbound(text=answer, buttons=buttons),))
        return TurnResult(replies=(Outbound(text=f"{'您说' if zh else 'You said'}: {text}"),))


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    env = webchat_env(tmp_path)
    app = create_app(webchat_config(tmp_path, env), environ=env, bot=MenuBot())

    async def zh_page(_: web.Request) -> web.Response:
        return web.Response(text=ZH_PAGE, content_type="text/html")

    app.router.add_get("/zh", zh_page)
    async with served(app) as base:
        yield base


async def open_chat(page: Page, url: str, button: str = "Open chat") -> None:
    await page.goto(url)
    await page.get_by_role("button", name=button).click()
    await expect(page.get_by_role("dialog")).to_be_visible()


async def ask(page: Page, text: str) -> None:
    box = page.get_by_role("textbox")
    await box.fill(text)
    await box.press("Enter")


async def newest_is_whole(page: Page) -> bool:
    """The last message lies entirely inside the log's visible area."""
    return bool(
        await page.evaluate(
            """() => {
              const log = document.querySelector('.fdw-log');
              const last = log.querySelector('.fdw-msg:last-child');
              const box = log.getBoundingClientRect(), msg = last.getBoundingClientRect();
              return msg.top >= box.top - 1 && msg.bottom <= box.bottom + 1;
            }"""
        )
    )


async def fill_the_log(page: Page, count: int = 8) -> None:
    for number in range(count):
        await ask(page, f"message number {number}")
        await expect(page.get_by_role("log")).to_contain_text(f"You said: message number {number}")


@pytest.mark.parametrize("size", SIZES)
async def test_the_newest_message_stays_whole_above_quick_replies_and_the_rating(
    url: str, browser: Browser, size: str
) -> None:
    page = await (await browser.new_context(viewport=SIZES[size])).new_page()
    await open_chat(page, url + "/")
    await fill_the_log(page)
    await ask(page, "menu")
    await expect(page.get_by_role("button", name="Warranty")).to_be_visible()
    assert await newest_is_whole(page)
    await ask(page, "rate")
    await expect(page.get_by_role("button", name="5", exact=True)).to_be_visible()
    await expect(page.locator(".fdw-msg .fdw-text").last).to_have_text(CSAT["en"])
    assert await newest_is_whole(page)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"webchat-csat-{size}.png"))


@pytest.mark.parametrize("size", SIZES)
async def test_after_a_reload_the_log_opens_at_the_newest_message(
    url: str, browser: Browser, size: str
) -> None:
    page = await (await browser.new_context(viewport=SIZES[size])).new_page()
    await open_chat(page, url + "/")
    await fill_the_log(page, 12)
    await page.reload()
    # The conversation is replayed into the closed panel; then the visitor opens it.
    await expect(page.locator(".fdw-msg")).to_have_count(25)  # greeting + 12 + 12
    await page.get_by_role("button", name="Open chat").click()
    await expect(page.locator(".fdw-msg").last).to_contain_text("message number 11")
    assert await newest_is_whole(page)
    assert await page.evaluate("document.querySelector('.fdw-log').scrollTop") > 0


@pytest.mark.parametrize("size", SIZES)
async def test_the_widget_speaks_chinese_on_a_chinese_page(
    url: str, browser: Browser, size: str
) -> None:
    page = await (await browser.new_context(viewport=SIZES[size])).new_page()
    await open_chat(page, url + "/zh", button="打开聊天")
    box = page.get_by_role("textbox", name="请输入消息…")
    await expect(box).to_have_attribute("placeholder", "请输入消息…")
    await expect(page.get_by_role("button", name="发送")).to_be_visible()
    await ask(page, "评价")
    await expect(page.locator(".fdw-msg .fdw-text").last).to_have_text(CSAT["zh"])
    assert await newest_is_whole(page)


@pytest.mark.parametrize("size", SIZES)
async def test_a_chinese_visitor_on_an_english_page_gets_chinese_chrome(
    url: str, browser: Browser, size: str
) -> None:
    page = await (await browser.new_context(viewport=SIZES[size])).new_page()
    await open_chat(page, url + "/")
    await expect(page.get_by_role("textbox")).to_have_attribute("placeholder", "Type a message…")
    await ask(page, "你好，我的订单到哪里了")
    await expect(page.get_by_role("log")).to_contain_text("您说: 你好，我的订单到哪里了")
    await expect(page.get_by_role("textbox")).to_have_attribute("placeholder", "请输入消息…")
    await expect(page.get_by_role("button", name="发送")).to_be_visible()
    await page.reload()  # the conversation's language is remembered
    await page.get_by_role("button", name="打开聊天").click()
    await expect(page.get_by_role("textbox")).to_have_attribute("placeholder", "请输入消息…")
    await page.screenshot(path=str(ARTIFACTS / f"webchat-zh-{size}.png"))
