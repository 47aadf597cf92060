"""One Chromium for a whole pytest worker, which each browser test connects to over CDP.

Launching Chromium costs about a second per test on a busy two-core machine, and every test
runs on an event loop of its own, so a Playwright `Browser` cannot outlive its test. This
module runs as a small process of its own (`python -m tests.e2e.chromium_host`): it launches
Debian's Chromium through Playwright exactly as a test would (same executable, same switches,
nothing downloaded), with the DevTools port on loopback, prints the browser's CDP WebSocket
URL on one line, and keeps the browser until its standard input closes — when the worker
ends, however it ends — or until the browser itself goes away. Tests then get a fresh
browser context each (`connect_over_cdp` + `new_context`: fresh cookies and storage).

`SharedChromium` is the worker's side: it starts the host on first use, starts a new one if
the last one died, and closes it at the end of the session.
"""

from __future__ import annotations

import asyncio
import select
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-background-networking",  # this machine reaches nothing but loopback
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Chromium picks a free port and writes it into the profile (DevToolsActivePort); it binds
# DevTools to 127.0.0.1 only.
DEVTOOLS = "--remote-debugging-port=0"
START_TIMEOUT = 60.0  # s: a cold Chromium on a loaded two-core machine
STOP_TIMEOUT = 15.0


async def _devtools_url(profile: Path) -> str:
    """The browser's CDP WebSocket URL, once Chromium has written it into its profile."""
    active = profile / "DevToolsActivePort"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    while True:
        lines = active.read_text().split() if active.exists() else []
        if len(lines) == 2:  # written whole: the port, then the browser's path
            port, path = lines
            return f"ws://127.0.0.1:{port}{path}"
        if loop.time() > deadline:
            raise TimeoutError(f"Chromium wrote no {active} in {START_TIMEOUT:.0f} s")
        await asyncio.sleep(0.05)


async def _stdin_closed() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.read()  # nothing is ever written: this returns at end of file


async def host() -> None:
    with tempfile.TemporaryDirectory(prefix="frontdesk-chromium-") as profile:
        async with async_playwright() as playwright:
            # A persistent context only so that the profile, and so the port file, is ours;
            # tests never use this context, they open their own.
            context = await playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, DEVTOOLS]
            )
            gone = asyncio.Event()
            context.on("close", lambda _: gone.set())
            print(await _devtools_url(Path(profile)), flush=True)
            waits = [asyncio.create_task(_stdin_closed()), asyncio.create_task(gone.wait())]
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for wait in waits:
                wait.cancel()
            if not gone.is_set():
                await context.close()


class SharedChromium:
    """The worker's Chromium host process, started on first use (and again if it died)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._url = ""

    def url(self) -> str:
        """The CDP WebSocket URL of a running Chromium."""
        if self._process is None or self._process.poll() is not None:
            self.close()
            self._start()
        return self._url

    @property
    def pid(self) -> int | None:
        """The host process's id while one runs."""
        return None if self._process is None else self._process.pid

    def _start(self) -> None:
        assert Path(CHROMIUM).exists(), "run scripts/install-test-deps.d/chromium.sh first"
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.chromium_host"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],  # the repository: `tests` is importable
        )
        self._process = process
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT + 30)
        line = process.stdout.readline().strip() if ready else ""
        if not line.startswith("ws://127.0.0.1:"):
            self.close()
            raise RuntimeError(
                f"the Chromium host gave no DevTools URL (got {line!r}); see its stderr above"
            )
        self._url = line

    def close(self) -> None:
        """End the host, and with it Chromium (killed if it does not stop in time)."""
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()  # the host's signal to close the browser and exit
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


if __name__ == "__main__":
    asyncio.run(host())
