"""The contact panel and the supervisor's tools in Debian's Chromium (Playwright), on a real
TCP server built by `create_app`: a customer in the web chat widget who wrote earlier on the
api channel, Mei working the conversation, Sara supervising, Tom receiving a reassign — in
English and in Chinese. Screenshots land in tests/e2e/artifacts/ (docs/img/ holds copies)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from handoff.console.accounts import Role
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_console_browser import XSS, open_chat, say, sign_in, switch_to_chinese
from tests.handoff.console.helpers import console_app, handoff_env, seed_sqlite
from tests.support import api_auth, channel_auth, served

WORDS = {
    "en": {
        "before": "My invoice is wrong",
        "ask": "talk to a person",
        "tag": "vip",
        "note": "Prefers a call after 6 pm",
        "filter": "invoice",
        "whisper": "Offer the 10% voucher",
        "hello": "Hello, Mei here.",
        "reason": "Billing question for Tom",
        "join": "Join",
        "name": "Ana Li",
        "company": "Acme Ltd",
    },
    "zh": {
        "before": "我的发票有误",
        "ask": "转人工",
        "tag": "重要客户",
        "note": "希望晚上六点后电话联系",
        "filter": "发票",
        "whisper": "可以给九折券",
        "hello": "您好，我是小梅。",
        "reason": "账单问题请汤姆处理",
        "join": "加入会话",
        "name": "李安娜",
        "company": "安可有限公司",
    },
}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[str]:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("tom", Role.AGENT), ("sara", Role.SUPERVISOR))
    env = handoff_env(tmp_path, FRONTDESK_WEBCHAT_SECRET="test-webchat-secret")
    async with served(console_app(env)) as base:
        yield base


async def rest(method: str, url: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
    headers = kw.pop("headers", api_auth())
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, json=body, headers=headers) as response,
    ):
        assert response.status < 300, await response.text()
        return await response.json()


async def in_language(page: Page, language: str) -> None:
    if language == "zh":
        await switch_to_chinese(page)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_contact_panel_whisper_reassign_and_drill_down(
    server: str, browser: Browser, language: str
) -> None:
    words = WORDS[language]
    csp: list[str] = []
    # Earlier, on the api channel: a conversation of the same person (merged below).
    earlier = await rest(
        "POST",
        server + "/api/v1/channels/api/messages",
        {"id": "a-1", "sender": "ana", "text": words["before"]},
        headers=channel_auth(),
    )
    mei = await sign_in(browser, server, "mei", csp)
    await in_language(mei, language)
    await mei.locator("#presence").select_option("online")

    customer = await open_chat(browser, server)
    chat = customer.get_by_role("log")
    await say(customer, words["ask"])
    mine = mei.locator("#mine .ticket")
    await expect(mine).to_have_count(1, timeout=15_000)
    queue = await rest("GET", server + "/api/v1/handoff/queue")
    (ticket,) = queue["assigned"]  # offered to Mei
    webchat_customer = ticket["customer_id"]
    conversation_id = ticket["conversation_id"]
    api_customer = (
        await rest("GET", server + f"/api/v1/conversations/{earlier['conversation_id']}")
    )["customer_id"]
    await rest(
        "POST",
        server + f"/api/v1/customers/{webchat_customer}/merge",
        {"other": api_customer, "reason": "proved by code"},
    )

    # Mei opens the conversation: the contact panel shows the customer beside it.
    await mine.first.click()
    await mei.locator("#accept").click()
    await expect(chat).to_contain_text("Mei")
    panel = mei.locator("#profile")
    await expect(panel.locator("#contact-identities")).to_contain_text("webchat")
    await expect(panel.locator("#contact-identities")).to_contain_text("api")
    # The name and a CRM field, a tag and a note: saved, shown, audited on the server.
    await panel.locator("#contact-name").fill(words["name"])
    await panel.locator("#contact-name-form button").click()
    await expect(panel.locator("#contact-title")).to_have_text(words["name"])
    await panel.locator('#contact-crm-fields input[data-key="company"]').fill(words["company"])
    await panel.locator("#contact-crm-form button").click()
    contact_url = server + f"/api/v1/customers/{webchat_customer}/contact"
    for _ in range(200):  # the field holds what was typed at once: wait for the server
        crm = {f["key"]: f["value"] for f in (await rest("GET", contact_url))["crm"]}
        if crm["company"] == words["company"]:
            break
        await asyncio.sleep(0.05)
    assert crm["company"] == words["company"]
    await panel.locator("#contact-tag").fill(words["tag"])
    await panel.locator("#contact-tag-form button").click()
    await expect(panel.locator("#contact-tags")).to_contain_text(words["tag"])
    await panel.locator("#contact-note").fill(words["note"])
    await panel.locator("#contact-note-form button").click()
    await expect(panel.locator("#contact-notes")).to_contain_text(words["note"])
    await expect(panel.locator("#contact-notes")).to_contain_text("mei")
    trail = await rest("GET", server + f"/api/v1/customers/{webchat_customer}/export")
    actions = [(e["action"], e.get("actor")) for e in trail["audit"]]
    assert ("customer.tags_changed", "mei") in actions and ("customer.note", "mei") in actions
    changed = {e["field"]: e["new"] for e in trail["audit"] if "field" in e}
    assert changed["name"] == words["name"] and changed["company"] == words["company"]
    # The earlier conversation from the api channel: listed, filtered, read.
    past = panel.locator("#contact-conversations .past-item")
    await expect(past).to_have_count(2)
    await panel.locator("#contact-filter").fill(words["filter"])
    await expect(past).to_have_count(1)
    await expect(past.first).to_contain_text("api")
    await past.first.locator("button").click()
    await expect(panel.locator("#transcript")).to_contain_text(words["before"])
    if language == "en":
        ARTIFACTS.mkdir(exist_ok=True)
        await mei.set_viewport_size({"width": 1400, "height": 1500})  # the whole panel
        await panel.evaluate("node => { node.scrollTop = 0; }")
        await mei.screenshot(path=str(ARTIFACTS / "console-contact.png"))
        await mei.set_viewport_size({"width": 1280, "height": 800})

    # What anyone typed stays text: an attribute holding markup never runs.
    await panel.locator("#contact-attribute-key").fill("nickname")
    await panel.locator("#contact-attribute-value").fill(XSS)
    await panel.locator("#contact-attribute-form button").click()
    await expect(panel.locator("#contact-attributes dd")).to_contain_text(XSS)
    assert await panel.locator("img, script").count() == 0
    assert await mei.evaluate("window.__xss") is None

    # Sara opens Mei's conversation from the floor and whispers: Mei sees it, the customer never.
    sara = await sign_in(browser, server, "sara", csp)
    await in_language(sara, language)
    await sara.goto(server + "/console/supervisor")
    held = sara.locator(f'#agents li[data-agent="mei"] button.held[data-id="{conversation_id}"]')
    await held.click()
    await expect(sara.locator("#reader")).to_be_visible()
    await sara.locator("#whisper-text").fill(words["whisper"])
    await sara.locator("#whisper-form button").click()
    await expect(sara.locator("#reader-timeline .item-whisper")).to_contain_text(words["whisper"])
    whisper = mei.locator("#timeline .item-whisper")
    await expect(whisper).to_contain_text(words["whisper"], timeout=10_000)
    await mei.locator("#reply").fill(words["hello"])
    await mei.locator("#reply").press("Enter")
    await expect(chat).to_contain_text(words["hello"])  # the widget is up to date …
    assert words["whisper"] not in await chat.inner_text()  # … and never got the whisper
    # Sara joins and replies beside Mei.
    await sara.locator("#reader-join").click()
    await expect(sara.locator("#reader-reply-form")).to_be_visible()

    # Reassign to Tom with a reason; Tom sees the reason in the conversation.
    tom = await sign_in(browser, server, "tom", csp)
    await in_language(tom, language)
    await tom.locator("#presence").select_option("online")
    await sara.locator("#reassign-to").select_option("tom")
    await sara.locator("#reassign-reason").fill(words["reason"])
    await sara.locator("#reassign-form button").click()
    await expect(chat).to_contain_text("Tom", timeout=10_000)
    toms = tom.locator("#mine .ticket")
    await expect(toms).to_have_count(1, timeout=10_000)
    await toms.first.click()
    await expect(tom.locator("#timeline")).to_contain_text(words["reason"])
    # Tom does not see the whisper meant for Mei.
    await expect(tom.locator("#timeline .item-whisper")).to_have_count(0)
    if language == "en":
        await sara.screenshot(path=str(ARTIFACTS / "console-supervisor.png"), full_page=True)

    # The dashboard: from the hand-off figure to the conversation behind it.
    await sara.reload()
    await sara.locator("#fig-handed-off").click()
    rows = sara.locator("#drill-rows tr")
    await expect(rows).to_have_count(1)
    await rows.first.locator("button").click()
    await expect(sara.locator("#reader-timeline")).to_contain_text(words["ask"])
    assert csp == []
