"""Talking to the demo bot through the hub: api channel → hub → dialog engine (+ the rasa-sdk
action server) → hub → signed callback. The fixtures are in `tests/dialogs/conftest.py`."""

from __future__ import annotations

import itertools
from typing import Any

from tests.support import CallbackReceiver, api_auth, channel_auth

_ids = itertools.count(1)


class Customer:
    """One customer talking through the api channel; `say` waits for the bot's replies."""

    def __init__(self, client: Any, receiver: CallbackReceiver, sender: str) -> None:
        self.client, self.receiver, self.sender = client, receiver, sender
        self.conversation_id = ""

    async def say(self, text: str, *, replies: int = 1) -> list[dict[str, Any]]:
        before = len(self.receiver.received)
        response = await self.client.post(
            "/api/v1/channels/api/messages",
            json={"id": f"m{next(_ids)}", "sender": self.sender, "text": text},
            headers=channel_auth(),
        )
        assert response.status == 202, await response.text()
        self.conversation_id = (await response.json())["conversation_id"]
        await self.receiver.wait_for(before + replies)
        got = [r for r in self.receiver.received[before:] if r["recipient"] == self.sender]
        return sorted(got, key=lambda r: r["seq"])

    async def events(self) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/api/v1/conversations/{self.conversation_id}/events", headers=api_auth()
        )
        assert response.status == 200
        body = await response.json()
        return list(body.get("items", body.get("events", [])))

    async def turns(self) -> list[dict[str, Any]]:
        """The data of every `bot.turn` event so far."""
        return [e["data"] for e in await self.events() if e["type"] == "bot.turn"]

    async def handoffs(self) -> list[dict[str, Any]]:
        return [e["data"] for e in await self.events() if e["type"] == "handoff.requested"]

    async def summary_text(self) -> str:
        """The hand-off summary an agent reads for this conversation."""
        response = await self.client.get(
            f"/api/v1/handoff/conversations/{self.conversation_id}", headers=api_auth()
        )
        assert response.status == 200, await response.text()
        return str((await response.json())["summary_text"])

    async def status(self) -> str:
        response = await self.client.get(
            f"/api/v1/conversations/{self.conversation_id}", headers=api_auth()
        )
        return str((await response.json())["status"])


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r["text"] for r in replies)


def payloads(reply: dict[str, Any]) -> list[str]:
    return [b["payload"] for b in reply["buttons"]]
