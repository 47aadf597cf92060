"""The agent console on a WhatsApp conversation, in Debian's Chromium: the channel's icon and
how long the 24-hour window has left ("WhatsApp window closes in 3 h" / "WhatsApp 会话窗口
3 小时后关闭"), then that it has closed, as the console's clock moves on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, expect
from ruamel.yaml import YAML

from handoff.console.accounts import Role
from tests.connectors.whatsapp.fake_graph import FakeGraphApi
from tests.connectors.whatsapp.harness import channel, env, sign, text
from tests.e2e.test_console_browser import OffsetClock, sign_in, switch_to_chinese
from tests.handoff.console.helpers import console_app, handoff_env, seed_sqlite
from tests.support import DEMO_CONFIG, served


@pytest.fixture
async def fake() -> AsyncIterator[FakeGraphApi]:
    async with FakeGraphApi() as api:
        yield api


def whatsapp_config(tmp_path: Path, fake: FakeGraphApi) -> Path:
    """The demo config with the WhatsApp channel enabled against the fake."""
    yaml = YAML(typ="rt")
    config: Any = yaml.load(DEMO_CONFIG.read_text(encoding="utf-8"))
    config["channels"]["whatsapp"] = channel(fake)
    # The test moves the console's clock by a day; the agent's session outlives it.
    config["console"].update(session_idle_minutes=3000, session_max_hours=72)
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
            "WhatsApp window closes in 3 h",
            "WhatsApp window closed",
        ),
        (
            "zh",
            "路由器坏了，我要转人工",
            "WhatsApp 会话窗口 3 小时后关闭",
            "WhatsApp 会话窗口已关闭",
        ),
    ],
)
async def test_the_console_shows_the_whatsapp_icon_and_the_window(
    tmp_path: Path,
    browser: Browser,
    fake: FakeGraphApi,
    language: str,
    words: str,
    closes: str,
    closed: str,
) -> None:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    environ = {**handoff_env(tmp_path), **env(tmp_path)}
    clock = OffsetClock()
    app = console_app(environ, clock=clock, config_path=whatsapp_config(tmp_path, fake))
    async with served(app) as url:
        mei = await sign_in(browser, url, "mei", [])
        if language == "zh":
            await switch_to_chinese(mei)
        body = json.dumps(text(1, words)).encode()
        async with (
            aiohttp.ClientSession() as session,  # Meta posts the customer's message
            session.post(f"{url}/webhooks/whatsapp", data=body, headers=sign(body)) as posted,
        ):
            assert posted.status == 200

        # Offered to Mei or waiting in the queue: either way she can take it.
        ticket = mei.locator(".ticket")
        await expect(ticket).to_have_count(1, timeout=30_000)
        await expect(ticket.locator(".channel")).to_have_text("WA")
        await expect(ticket.locator(".chan-name")).to_have_text("whatsapp")
        # 21 hours after the customer's message: 3 hours of the window are left.
        clock.offset = 21 * 3600 + 60
        await ticket.click()
        await mei.locator("#accept").click()
        await expect(mei.locator("#channel-window")).to_have_text(closes)
        clock.offset = 25 * 3600  # past the window's end
        await mei.locator("#mine .ticket").click()
        await expect(mei.locator("#channel-window")).to_contain_text(closed)
