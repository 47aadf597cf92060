"""The agent console on an SMS conversation, in Debian's Chromium: the channel's icon, the
carrier's rules beside the title ("SMS: text only …" / "短信：仅限文字 …"), and, once the
customer texted STOP, that replies are parked until they text START. Markup in an SMS is
shown as text and never runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from playwright.async_api import Browser, expect
from ruamel.yaml import YAML

from connectors.sms.connector import SIGNATURE_HEADER, WEBHOOK_PATH
from handoff.console.accounts import Role
from tests.connectors.sms.fake_twilio import FakeTwilio
from tests.connectors.sms.harness import channel, env, incoming, signature
from tests.e2e.test_console_browser import sign_in, switch_to_chinese
from tests.handoff.console.helpers import console_app, handoff_env, seed_sqlite
from tests.support import DEMO_CONFIG, served


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as api:
        yield api


def sms_config(tmp_path: Path, fake: FakeTwilio) -> Path:
    """The demo config with the SMS channel enabled against the fake."""
    yaml = YAML(typ="rt")
    config: Any = yaml.load(DEMO_CONFIG.read_text(encoding="utf-8"))
    config["channels"]["sms"] = channel(fake)
    path = tmp_path / "frontdesk.yaml"
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(config, out)
    return path


async def text_in(url: str, words: str) -> None:
    """Twilio posts the customer's SMS (signed over the public URL, not the loopback one)."""
    fields = incoming(words)
    headers = {
        SIGNATURE_HEADER: signature(WEBHOOK_PATH, fields),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}{WEBHOOK_PATH}", data=urlencode(fields), headers=headers) as posted,
    ):
        assert posted.status == 200


@pytest.mark.parametrize(
    ("language", "words", "stop", "plain", "opted_out"),
    [
        (
            "en",
            "My router is broken <img src=x onerror=window.__xss=1>, talk to a person",
            "STOP",
            "SMS: text only",
            "SMS: the customer texted STOP",
        ),
        (
            "zh",
            "路由器坏了<script>window.__xss=1</script>，我要转人工",
            "退订",
            "短信：仅限文字",
            "短信：客户已回复退订",
        ),
    ],
)
async def test_the_console_shows_the_sms_icon_and_the_carrier_rules(
    tmp_path: Path,
    browser: Browser,
    fake: FakeTwilio,
    language: str,
    words: str,
    stop: str,
    plain: str,
    opted_out: str,
) -> None:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    environ = {**handoff_env(tmp_path), **env(tmp_path)}
    app = console_app(environ, config_path=sms_config(tmp_path, fake))
    async with served(app) as url:
        mei = await sign_in(browser, url, "mei", [])
        if language == "zh":
            await switch_to_chinese(mei)
        await text_in(url, words)

        ticket = mei.locator(".ticket")
        await expect(ticket).to_have_count(1, timeout=30_000)
        await expect(ticket.locator(".channel")).to_have_text("SMS")
        await expect(ticket.locator(".chan-name")).to_have_text("sms")
        await ticket.click()
        await mei.locator("#accept").click()
        await expect(mei.locator("#channel-window")).to_contain_text(plain)
        customer = mei.locator("#timeline .item-customer")
        await expect(customer.locator(".text")).to_have_text(words)
        await expect(customer.locator(".badge").first).to_have_text("sms")
        # The number is a claim: the agent sees the sender marked as not verified.
        await expect(customer.locator(".badge-unverified")).to_have_count(1)
        assert await mei.evaluate("window.__xss") is None
        assert await mei.locator("#timeline img").count() == 0

        await text_in(url, stop)
        await mei.locator("#mine .ticket").click()
        await expect(mei.locator("#channel-window")).to_contain_text(opted_out)
