"""The browser tests' shared Chromium (`tests/e2e/chromium_host.py`): one browser per worker,
yet nothing one test's pages stored is seen by the next, and the browser never outlives its
worker — whether the worker closes it or dies."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from playwright.async_api import async_playwright

from tests.e2e.chromium_host import SharedChromium
from tests.support import REPO, served

PAGE = "<!doctype html><title>rig</title><p>hello 你好</p>"


@pytest.fixture
def host() -> Iterator[SharedChromium]:
    shared = SharedChromium()  # its own, not the worker's: these tests end it
    try:
        yield shared
    finally:
        shared.close()


@pytest.fixture
async def site() -> AsyncIterator[str]:
    async def page(_: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    async with served(app) as url:
        yield url


async def visit(cdp_url: str, site: str, *, remember: str) -> tuple[str, str, int]:
    """One test's worth: connect, open a context and a page; what it found stored (cookies,
    localStorage), and how many contexts the browser had before; then store `remember`."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.connect_over_cdp(cdp_url)
        cdp = await browser.new_browser_cdp_session()
        contexts = len((await cdp.send("Target.getBrowserContexts"))["browserContextIds"])
        page = await (await browser.new_context()).new_page()
        await page.goto(site)
        await page.get_by_text("hello 你好").wait_for()
        cookies = await page.evaluate("document.cookie")
        stored = await page.evaluate("localStorage.getItem('who') || ''")
        await page.evaluate(
            "(who) => { document.cookie = 'who=' + who; localStorage.setItem('who', who); }",
            remember,
        )
        assert await page.evaluate("document.cookie") == f"who={remember}"
        await browser.close()
    return cookies, stored, contexts


async def test_one_chromium_and_a_fresh_context_for_each_test(
    host: SharedChromium, site: str
) -> None:
    url = host.url()
    first = await visit(url, site, remember="first")
    second = await visit(host.url(), site, remember="second")
    assert host.url() == url  # the same browser both times
    assert first == ("", "", 0)
    assert second == ("", "", 0)  # nothing left of the first: no cookie, no storage, no context


def listening(url: str) -> bool:
    address = urlsplit(url)
    assert address.hostname == "127.0.0.1"  # DevTools on loopback only
    try:
        with socket.create_connection((address.hostname, address.port or 0), timeout=2):
            return True
    except OSError:
        return False


async def gone(url: str) -> None:
    """Wait until nothing listens on the browser's DevTools port (Chromium has exited)."""
    while listening(url):
        await asyncio.sleep(0.1)


# A worker that dies outright (SIGKILL, pytest-timeout's os._exit …) runs no teardown.
WORKER = """
from tests.e2e.chromium_host import SharedChromium
print(SharedChromium().url(), flush=True)
input()
"""


async def test_chromium_ends_with_the_worker_however_it_ends(host: SharedChromium) -> None:
    url = host.url()
    assert listening(url)
    host.close()  # the session's end
    await asyncio.wait_for(gone(url), 30)

    url = host.url()  # started again on next use
    pid = host.pid
    assert pid is not None and listening(url)
    os.kill(pid, signal.SIGKILL)  # the host itself killed
    await asyncio.wait_for(gone(url), 30)
    assert host.url() != url  # a new browser, after the old one died

    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert worker.stdin is not None and worker.stdout is not None
    url = (await asyncio.to_thread(worker.stdout.readline)).decode().strip()
    assert listening(url)
    worker.kill()
    worker.wait()
    worker.stdin.close()
    worker.stdout.close()
    await asyncio.wait_for(gone(url), 30)
