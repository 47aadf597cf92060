"""Quality inspection in Debian's Chromium: a supervisor opens the sample, scores a conversation
beside its transcript and sees the weighted total; the agent then reads the review."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from handoff.console.accounts import Role
from handoff.console.state import CONSOLE
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_console_browser import switch_to_chinese
from tests.handoff.console.helpers import PASSWORD, console_app, handoff_env, seed_sqlite
from tests.handoff.test_quality_inspection import handled_conversation
from tests.support import served


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    await seed_sqlite(tmp_path, ("sara", Role.SUPERVISOR), ("mei", Role.AGENT))
    app = console_app(handoff_env(tmp_path))
    async with served(app) as base:
        store = app[CONSOLE].hub.store
        conversation_id = await handled_conversation(store, 1, "Order 20261001 is late.", csat=2)
        yield base, conversation_id


@pytest.mark.parametrize(
    ("language", "sign_in", "review", "save", "saved", "no_greeting"),
    [
        ("en", "Sign in", "Review", "Save review", "Saved. Score:", "No greeting"),
        ("zh", "登录", "评审", "保存评审", "已保存。得分：", "客服首句未问候"),
    ],
)
async def test_a_supervisor_scores_a_conversation_beside_its_transcript(
    server: tuple[str, str],
    browser: Browser,
    language: str,
    sign_in: str,
    review: str,
    save: str,
    saved: str,
    no_greeting: str,
) -> None:
    base, conversation_id = server
    context = await browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN" if language == "zh" else "en-US"
    )
    page = await context.new_page()
    await page.goto(base + "/console/login")
    await page.locator("input[name=username]").fill("sara")
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.get_by_role("button", name=sign_in).click()
    await expect(page).to_have_url(base + "/console/")
    if language == "zh" and await page.locator("#language").get_attribute("data-switch-to") == "zh":
        await switch_to_chinese(page)  # the switch reloads the page in Chinese
    await page.goto(base + "/console/qa")
    await page.locator(f'a[href="/console/qa/{conversation_id}"]').click()
    await expect(page.locator("#qa-transcript")).to_contain_text("快递一周了还没到")
    await expect(page.locator("#qa-checks")).to_contain_text(no_greeting)
    await page.locator("select[name=accuracy]").select_option("3")
    await page.locator("select[name=empathy]").select_option("2")
    await page.locator("textarea[name=comment]").fill("回复准确，但没有问候 / no greeting")
    await page.get_by_role("button", name=save).click()
    await expect(page.locator("#qa-result")).to_contain_text(saved)
    # greeting 1 (pre-filled: no greeting), accuracy 3, empathy 2, resolution 5, policy 5:
    # 1·1 + 3·3 + 2·2 + 3·5 + 1·5 = 34 of 50.
    await expect(page.locator("#qa-total")).to_have_text("68.0%")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"qa-review-{language}.png"))

    agent = await (await browser.new_context()).new_page()
    await agent.goto(base + "/console/login")
    await agent.locator("input[name=username]").fill("mei")
    await agent.locator("input[name=password]").fill(PASSWORD)
    await agent.locator("button[type=submit]").click()
    await agent.goto(base + "/console/qa")
    await expect(agent.locator("#qa-reviews")).to_contain_text("68.0%")
    await expect(agent.locator("#qa-waiting")).to_have_count(0)
