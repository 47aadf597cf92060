"""Debian's Chromium, driven by Playwright, for the browser journeys (never a downloaded one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright, expect

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"  # screenshots; ignored by git
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-background-networking",  # this machine reaches nothing but loopback
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# Assertions wait for the page to reach the expected state; on a busy two-core CI machine a
# hand-off crossing the hub, the store and a second browser context can take longer than
# Playwright's 5 s default. Waiting longer never makes a wrong page pass.
expect.set_options(timeout=20_000)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert Path(CHROMIUM).exists(), "run scripts/install-test-deps.d/chromium.sh first"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()
