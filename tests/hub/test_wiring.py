"""Wiring by construction: the hub's owners are built with the hub, once, and stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.abc import ConversationHandler, Owners, Turn, TurnResult
from hub.hub import Hub
from hub.store_sqlite import SQLiteStore


class Quiet(ConversationHandler):
    async def handle(self, turn: Turn) -> TurnResult:
        return TurnResult()


def test_owners_are_built_with_the_hub_and_fixed(tmp_path: Path) -> None:
    seen: list[Hub] = []
    bot, humans = Quiet(), Quiet()

    def owners(hub: Hub) -> Owners:
        # What the hand-off needs of the hub is there when it is built.
        assert hub.bus is not None and hub.store is not None and hub.metrics is not None
        seen.append(hub)
        return Owners(bot=bot, humans=humans)

    hub = Hub(store=SQLiteStore(tmp_path / "w.db"), owners=owners)
    assert seen == [hub]
    assert (hub.bot, hub.humans) == (bot, humans)
    with pytest.raises(AttributeError):
        hub.bot = Quiet()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        hub.humans = Quiet()  # type: ignore[misc]


def test_a_hub_takes_its_owners_one_way(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "w.db")
    built = Owners(bot=Quiet())
    with pytest.raises(ValueError):
        Hub(store=store)
    with pytest.raises(ValueError):
        Hub(store=store, bot=Quiet(), owners=lambda hub: built)
    with pytest.raises(ValueError):
        Hub(store=store, humans=Quiet(), owners=lambda hub: built)
    hub = Hub(store=store, bot=built.bot)
    assert (hub.bot, hub.humans) == (built.bot, None)
