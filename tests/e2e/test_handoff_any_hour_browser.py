"""Defect 1 in the browser: the README's hand-off on a Sunday night, outside the demo calendar
(Asia/Shanghai, Mon–Sat), with the server's clock set there. An online agent takes a
Chinese customer's conversation from the queue; a supervisor's reassign to an offline agent is
refused with the reason and then given to an online one; an agent who comes online is offered
new work at once. Debian's Chromium, a real server from `create_app`, loopback only."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from handoff.console.accounts import Role
from handoff.engine import HandoffEngine
from handoff.queue import Presence
from hub.api import HUB
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_console_browser import OffsetClock, open_chat, say, sign_in
from tests.handoff.console.helpers import HANDOFF_YAML, console_app, handoff_env, seed_sqlite
from tests.handoff.helpers import at, engine_of
from tests.support import served

DEMO_CALENDAR = """
calendar:
  timezone: Asia/Shanghai
  hours:
    mon: ["09:00-18:00"]
    tue: ["09:00-18:00"]
    wed: ["09:00-18:00"]
    thu: ["09:00-18:00"]
    fri: ["09:00-18:00"]
    sat: ["10:00-16:00"]
    sun: []
"""
SUNDAY_NIGHT = at("2026-11-29 03:00")  # closed until Monday 09:00


@dataclass
class Server:
    url: str
    clock: OffsetClock
    engine: HandoffEngine


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("tom", Role.AGENT), ("sara", Role.SUPERVISOR))
    env = handoff_env(tmp_path, FRONTDESK_WEBCHAT_SECRET="test-webchat-secret")
    (tmp_path / "handoff.yaml").write_text(HANDOFF_YAML + DEMO_CALENDAR, encoding="utf-8")
    clock = OffsetClock()
    clock.offset = SUNDAY_NIGHT - time.time()
    app = console_app(env, clock=clock)
    # The whole server lives on Sunday night: the hub's log, the engine's SLA clocks.
    app[HUB].clock = clock
    engine_of(app).clock = clock
    async with served(app) as base:
        yield Server(base, clock, engine_of(app))


async def test_the_hand_off_works_on_a_sunday_night(server: Server, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    csp: list[str] = []
    # A Chinese customer asks for a person while nobody is online: told when we are back,
    # with the zone, and their ticket number.
    ling = await open_chat(browser, server.url)
    ling_chat = ling.get_by_role("log")
    await say(ling, "我的路由器坏了，转人工")
    await expect(ling_chat).to_contain_text("2026-11-30 09:00 (Asia/Shanghai, UTC+08:00) 恢复服务")
    await expect(ling_chat).to_contain_text("工单 #1001")
    await expect(ling.locator(".fdw-ticket")).to_contain_text("正在等待人工客服")

    # Tom comes online (English and billing only: nothing is offered to him) and takes it.
    tom = await sign_in(browser, server.url, "tom", csp)
    await tom.get_by_role("tab", name="Queue").click()
    queue = tom.locator("#queue .ticket")
    await expect(queue).to_have_count(1, timeout=10_000)
    await queue.first.click()
    take = tom.get_by_role("button", name="Take")
    await expect(take).to_be_visible()
    await take.click()
    await expect(ling_chat).to_contain_text("客服 Tom 已接入")
    await expect(ling.locator(".fdw-ticket")).to_have_text("客服 Tom 正在为您服务")
    await tom.locator("#reply").fill("您好，我是 Tom，我来帮您看看路由器。")
    await tom.locator("#reply").press("Enter")
    await expect(ling_chat).to_contain_text("我来帮您看看路由器")
    await tom.screenshot(path=str(ARTIFACTS / "console-take-sunday.png"))
    await ling.screenshot(path=str(ARTIFACTS / "webchat-taken-sunday-zh.png"))

    # Tom takes a break and the supervisor is away too: an English customer waits. A
    # reassign to offline Mei says why it cannot and writes nothing; once Tom is back he is
    # offered it at once, and the supervisor's reassign to him assigns it.
    await tom.locator("#presence").select_option("away")
    sara = await sign_in(browser, server.url, "sara", csp)
    await sara.locator("#presence").select_option("away")
    ann = await open_chat(browser, server.url)
    ann_chat = ann.get_by_role("log")
    await say(ann, "My router is broken, I want to talk to a person")
    await expect(ann_chat).to_contain_text("(ticket #1002)")
    await expect(ann_chat).to_contain_text("back at 2026-11-30 09:00 (Asia/Shanghai, UTC+08:00)")
    await sara.goto(server.url + "/console/supervisor")
    waiting = sara.locator("#floor-rows tr", has_text="pickup")
    await expect(waiting).to_have_count(1)
    await expect(waiting).to_contain_text("—")  # nobody holds it
    await waiting.get_by_role("combobox").select_option("mei")
    await expect(sara.locator("#toast")).to_contain_text("Mei is offline")
    await sara.reload()
    await expect(sara.locator("#floor-rows tr")).to_have_count(2)  # no copy in the queue
    await tom.locator("#presence").select_option("online")
    await expect(ann.locator(".fdw-ticket")).to_contain_text("an agent is about to join")
    await sara.reload()
    offered = sara.locator("#floor-rows tr", has_text="pickup")
    await expect(offered).to_contain_text("tom")
    await offered.get_by_role("combobox").select_option("tom")
    await expect(ann_chat).to_contain_text("Tom from our team has joined")
    await expect(ann.locator(".fdw-ticket")).to_have_text("You are chatting with Tom")
    await sara.reload()
    await expect(sara.locator("#floor-rows tr", has_text="pickup")).to_have_count(0)
    await sara.screenshot(path=str(ARTIFACTS / "console-reassign-sunday.png"))

    # The supervisor edits who Tom is; the floor shows it at once.
    await sara.get_by_role("button", name="Edit Tom").click()
    await sara.locator("#agent-skills").fill("billing, hardware")
    await sara.locator("#agent-capacity").fill("2")
    await sara.locator("#agent-team").fill("night shift")
    await sara.locator("#agent-form").get_by_role("button", name="Save").click()
    await expect(sara.locator("#toast")).to_contain_text("Saved.")
    await expect(sara.locator("#agents")).to_contain_text("Tom · Online · 2/2")

    # Mei comes online on Sunday night: the next conversation is offered to her at once.
    mei = await sign_in(browser, server.url, "mei", csp)
    bo = await open_chat(browser, server.url)
    await say(bo, "router dead again, talk to a person")
    mine = mei.locator("#mine .ticket")
    await expect(mine).to_have_count(1, timeout=10_000)
    await expect(bo.locator(".fdw-ticket")).to_contain_text("an agent is about to join")
    await mine.first.click()
    await mei.get_by_role("button", name="Accept").click()
    await expect(bo.get_by_role("log")).to_contain_text("Mei from our team has joined")
    assert csp == []


async def test_the_console_announces_presence_again_after_its_socket_reconnects(
    server: Server, browser: Browser
) -> None:
    csp: list[str] = []
    mei = await sign_in(browser, server.url, "mei", csp)
    agents = server.engine.queue.agents

    async def mei_is_online() -> bool:
        for _ in range(200):
            if agents["mei"].presence == Presence.ONLINE:
                return True
            await mei.wait_for_timeout(50)
        return False

    assert await mei_is_online()
    # A server that lost the agent's presence (what a restart without a store would do)
    # while the page still says "Online"; then the live socket drops and comes back.
    agents["mei"].presence = Presence.OFFLINE
    server.engine.feed.close()
    assert await mei_is_online()
    await expect(mei.locator("#presence")).to_have_value("online")
