"""The agent console on a WeChat conversation, in Debian's Chromium: the channel's icon and
how long the 48-hour window has left ("WeChat window closes in 3 h" / "微信客服消息窗口
3 小时后关闭"), then that it has closed, as the console's clock moves on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, expect
from ruamel.yaml import YAML

from handoff.console.accounts import Role
from tests.connectors.wechat.fake_wechat import APP_ID, FakeWeChatApi
from tests.connectors.wechat.harness import env, signed_query, text, xml
from tests.e2e.test_console_browser import OffsetClock, sign_in, switch_to_chinese
from tests.handoff.console.helpers import console_app, handoff_env, seed_sqlite
from tests.support import DEMO_CONFIG, served


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeChatApi]:
    async with FakeWeChatApi() as api:
        yield api


def wechat_config(tmp_path: Path, fake: FakeWeChatApi) -> Path:
    """The demo config with the WeChat channel enabled against the fake."""
    yaml = YAML(typ="rt")
    config: Any = yaml.load(DEMO_CONFIG.read_text(encoding="utf-8"))
    config["channels"]["wechat"] = {"enabled": True, "app_id": APP_ID, "api_url": fake.base_url}
    # The test moves the console's clock by two days; the agent's session outlives it.
    config["console"].update(session_idle_minutes=6000, session_max_hours=96)
    path = tmp_path / "frontdesk.yaml"
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(config, out)
    return path


@pytest.mark.parametrize(
    ("language", "words", "closes", "closed"),
    [
        (
            "en",
            "My router is broken, I want to talk to a person",
            "WeChat window closes in 3 h",
            "WeChat window closed",
        ),
        ("zh", "路由器坏了，我要转人工", "微信客服消息窗口 3 小时后关闭", "微信客服消息窗口已关闭"),
    ],
)
async def test_the_console_shows_the_wechat_icon_and_the_48_hour_window(
    tmp_path: Path,
    browser: Browser,
    fake: FakeWeChatApi,
    language: str,
    words: str,
    closes: str,
    closed: str,
) -> None:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    environ = {**handoff_env(tmp_path), **env(tmp_path)}
    clock = OffsetClock()
    app = console_app(environ, clock=clock, config_path=wechat_config(tmp_path, fake))
    async with served(app) as url:
        mei = await sign_in(browser, url, "mei", [])
        if language == "zh":
            await switch_to_chinese(mei)
        async with (
            aiohttp.ClientSession() as session,  # WeChat pushes the customer's message
            session.post(
                f"{url}/webhooks/wechat", params=signed_query(), data=xml(text(1, words))
            ) as posted,
        ):
            assert (posted.status, await posted.text()) == (200, "success")

        ticket = mei.locator(".ticket")
        await expect(ticket).to_have_count(1, timeout=30_000)
        await expect(ticket.locator(".channel")).to_have_text("WX")
        await expect(ticket.locator(".chan-name")).to_have_text("wechat")
        # 45 hours after the customer's message: 3 hours of the window are left.
        clock.offset = 45 * 3600 + 60
        await ticket.click()
        await mei.locator("#accept").click()
        await expect(mei.locator("#channel-window")).to_have_text(closes)
        clock.offset = 49 * 3600  # past the window's end
        await mei.locator("#mine .ticket").click()
        await expect(mei.locator("#channel-window")).to_contain_text(closed)
