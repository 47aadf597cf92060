"""Test-only custom actions, served next to the demo's by the `action_server` fixture.

Runs inside the action server's own environment (.venv-actions), not the hub's: the hub's
mypy cannot see rasa_sdk, hence the waiver below.
"""
# mypy: ignore-errors

from __future__ import annotations

import asyncio
from typing import Any

from actions import orders  # noqa: F401 - the demo's actions (config/actions), served alongside
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


class ActionSleep(Action):
    """Sleeps for slot ``sleep_seconds`` (at most 30) before answering: a slow backend."""

    def name(self) -> str:
        return "action_sleep"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> list[dict[str, Any]]:
        await asyncio.sleep(min(float(tracker.get_slot("sleep_seconds") or 0), 30.0))
        dispatcher.utter_message(text="finally awake")
        return []


class ActionCrash(Action):
    """Raises: rasa-sdk answers 500 and echoes the whole request, slots included."""

    def name(self) -> str:
        return "action_crash"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> list[dict[str, Any]]:
        raise RuntimeError("the order system is on fire")
