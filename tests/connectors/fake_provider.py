"""The rig every fake provider API builds on: a real aiohttp server on 127.0.0.1 that
records each call and can be told to fail the next ones.

A provider fake (WhatsApp's Graph API, later Twilio or WeChat) subclasses `FakeProvider`,
adds its routes in `routes()`, calls `record()` first in each handler and answers
`scripted()` when it is not None. Tests wait with `wait_for(name, count)`, never with
sleeps; the 30 s guard only turns a missing call into a failure.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web


@dataclass
class Call:
    name: str
    body: Any
    at: float = field(default_factory=time.monotonic)


@dataclass
class Scripted:
    status: int
    body: Any


class FakeProvider:
    """Start with `await start()` (or `async with`); point the connector at `base_url`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.base_url = ""
        self._failures: dict[str, list[Scripted]] = {}
        self._failures_at: dict[tuple[str, int], Scripted] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    async def start(self) -> None:
        app = web.Application()
        app.router.add_routes(self.routes())
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def fail(self, name: str, status: int, body: Any, *, times: int = 1) -> None:
        """The next `times` calls named `name` answer `status` with the JSON `body`."""
        self._failures.setdefault(name, []).extend([Scripted(status, body)] * times)

    def fail_call(self, name: str, number: int, status: int, body: Any) -> None:
        """Call number `number` (1-based) named `name` answers `status` with `body`."""
        self._failures_at[(name, number)] = Scripted(status, body)

    async def record(self, name: str, body: Any) -> web.Response | None:
        """Log one call; the scripted failure to answer with, if one is due."""
        self.calls.append(Call(name, body))
        async with self._changed:
            self._changed.notify_all()
        queued = self._failures.get(name)
        failure = queued.pop(0) if queued else None
        failure = failure or self._failures_at.pop((name, len(self.called(name))), None)
        return None if failure is None else web.json_response(failure.body, status=failure.status)

    def called(self, name: str) -> list[Call]:
        return [call for call in self.calls if call.name == name]

    async def wait_for(self, name: str, count: int = 1, timeout: float = 30.0) -> list[Call]:
        """Until `name` was called at least `count` times (fails the test after `timeout`)."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.called(name)) >= count), timeout
            )
        return self.called(name)


__all__ = ["Call", "FakeProvider", "Scripted"]
