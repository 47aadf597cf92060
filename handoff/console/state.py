"""What the console's handlers share, under one typed application key."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import jinja2
from aiohttp import web

from handoff.console.accounts import AccountStore
from handoff.console.i18n import translator
from handoff.console.settings import ConsoleSettings
from handoff.hub_link import HandoffStore
from hub.metrics import Metrics
from hub.model import Event, NewEvent
from hub.signals import TypingListener

HERE = Path(__file__).parent


def template_environment() -> jinja2.Environment:
    """Autoescaping everywhere: whatever a customer typed is text, never markup."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = duration
    return env


def duration(seconds: float | None, t: Callable[[str], str] | None = None) -> str:
    """`95` → `1m 35s` (`1分 35秒` with the Chinese `t`); None → `—`. Units come from the
    catalogue's `unit.*` keys (English without a translator)."""
    t = t or translator("en")
    if seconds is None:
        return "—"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    h, m, s = t("unit.h"), t("unit.m"), t("unit.s")
    if hours:
        return f"{hours}{h} {minutes}{m}"
    return f"{minutes}{m} {secs}{s}" if minutes else f"{secs}{s}"


class ConsoleLink(Protocol):
    """The hub as the console sees it: the log and the directory it reads, the metrics it
    adds its figures to, and the customers' typing it shows (its writes go through the
    hand-off's actions, and a review through `append`, which tells the event bus)."""

    @property
    def store(self) -> HandoffStore: ...

    @property
    def metrics(self) -> Metrics: ...

    def add_typing_listener(self, listener: TypingListener) -> None: ...

    async def append(
        self, conversation_id: str, events: Sequence[NewEvent]
    ) -> tuple[Event, ...]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleState:
    hub: ConsoleLink
    accounts: AccountStore
    settings: ConsoleSettings
    clock: Callable[[], float]
    templates: jinja2.Environment


CONSOLE = web.AppKey("console", ConsoleState)
