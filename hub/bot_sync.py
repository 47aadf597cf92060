"""Hot reload across processes: every hub process serves the same version of the bot.

Each process watches its dialog files and articles, but at its own pace, and on another
machine the files may arrive later. So when a process reloads an edit it noticed itself,
it announces the new version (a digest of the files) as a `bot.reloaded` signal on the
event bus; every other process that serves something else reloads at once:

    process A: watcher sees an edit ─► reload ─► bus.signal("bot.reloaded", {version})
    process B, C: signal ─► files here are that version? ─► reload now ─► same version

A process whose files are not that version (a machine the deployment has not reached
yet) keeps serving what it has and says so in the log and in `/readyz` (`bot.version`
beside `bot.announced`); its own watcher reloads when the files arrive. Only reloads a
process noticed itself are announced, so processes never echo each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from hub.bus import EventBus

log = logging.getLogger("frontdesk.bot_sync")

TOPIC = "bot.reloaded"


@runtime_checkable
class VersionedBot(Protocol):
    """A bot that can name what it serves and reload to another process's version."""

    @property
    def version(self) -> str: ...

    def on_reloaded(self, listener: Callable[[str], None]) -> None: ...

    async def follow(self, version: str) -> bool: ...


class BotSync:
    """Announces this process's reloads and follows the others'."""

    def __init__(self, bus: EventBus, bot: VersionedBot) -> None:
        self.bus = bus
        self.bot = bot
        self.announced = ""  # the last version any process announced ("" none since start)
        self._wanted: str | None = None
        self._task: asyncio.Task[None] | None = None
        bot.on_reloaded(self._announce)
        bus.on_signal(TOPIC, self._on_signal)

    def status(self) -> dict[str, Any]:
        """What `/readyz` shows: the version served, and the last one announced."""
        version = self.bot.version
        announced = self.announced or version
        return {"version": version, "announced": announced, "current": version == announced}

    def _announce(self, version: str) -> None:
        self.announced = version
        log.info("bot reloaded; announcing", extra={"bot_version": version})
        self.bus.signal(TOPIC, {"version": version})

    def _on_signal(self, data: Mapping[str, Any]) -> None:
        version = data.get("version")
        if not isinstance(version, str) or not version:
            return
        self.announced = version
        # One follower at a time; a newer announcement replaces a waiting one.
        self._wanted = version
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._follow(), name="bot-sync")

    async def _follow(self) -> None:
        while self._wanted is not None:
            version, self._wanted = self._wanted, None
            try:
                same = await self.bot.follow(version)
            except Exception:
                log.exception("following a bot reload failed", extra={"bot_version": version})
                continue
            if same:
                log.info("bot reloaded to the announced version", extra={"bot_version": version})
            else:
                log.warning(
                    "another process serves bot version %s; this one keeps %s (its files differ)",
                    version,
                    self.bot.version,
                    extra={"bot_version": self.bot.version, "announced": version},
                )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


__all__ = ["TOPIC", "BotSync", "VersionedBot"]
