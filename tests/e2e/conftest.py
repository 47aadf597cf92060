"""Debian's Chromium, driven by Playwright, for the browser journeys (never a downloaded one).

One Chromium per pytest worker (`tests/e2e/chromium_host.py`), and a fresh browser context
for each test: a test's `browser` is a new CDP connection to it, and closing that connection
closes every context the test opened, so no cookie or storage outlives the test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright, expect

from tests.e2e.chromium_host import SharedChromium

ARTIFACTS = Path(__file__).parent / "artifacts"  # screenshots; ignored by git


# Assertions wait for the page to reach the expected state; on a busy two-core CI machine a
# hand-off crossing the hub, the store and a second browser context can take longer than
# Playwright's 5 s default. Waiting longer never makes a wrong page pass.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
def chromium() -> Iterator[SharedChromium]:
    """This worker's Chromium, launched on first use and closed with the session."""
    shared = SharedChromium()
    try:
        yield shared
    finally:
        shared.close()


@pytest.fixture
async def browser(chromium: SharedChromium) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.connect_over_cdp(chromium.url())
        try:
            yield browser
        finally:
            await browser.close()  # closes the contexts this test opened
