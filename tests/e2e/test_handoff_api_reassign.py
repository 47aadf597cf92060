"""Defect 2 through the REST hand-off API on a real server: a reassign to an agent who cannot
take the conversation now is a 409 that says why and writes nothing — however often it is
tried — and the queue still holds the conversation once; a reassign to an online agent
assigns it; the same reassign again changes nothing."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.e2e.test_handoff_api_journey import H, call, customer_says
from tests.support import api_auth

pytest_plugins = ["tests.e2e.test_handoff_api_journey"]  # its `client` and `receiver`


async def reassign(client: TestClient, conversation_id: str, to_agent: str) -> Any:
    return await client.post(
        f"{H}/conversations/{conversation_id}/reassign",
        json={"supervisor_id": "sue", "to_agent": to_agent, "note": "knows routers"},
        headers=api_auth(),
    )


async def test_reassign_assigns_or_says_why_not(client: TestClient) -> None:
    await call(client, "PUT", "/agents/sue/presence", {"presence": "online"})  # no hardware
    conversation_id = await customer_says(client, 1, "my router is broken, talk to a person")
    before = await call(client, "GET", f"/conversations/{conversation_id}")
    for _ in range(3):
        refused = await reassign(client, conversation_id, "bo")
        assert refused.status == 409
        assert (await refused.json())["error"]["message"] == (
            "Bo is offline: only an online agent can take a conversation"
        )
    queue = await call(client, "GET", "/queue")
    assert [t["conversation_id"] for t in queue["waiting"]] == [conversation_id]
    after = await call(client, "GET", f"/conversations/{conversation_id}")
    assert len(after["transcript"]) == len(before["transcript"])

    await call(client, "PUT", "/agents/bo/presence", {"presence": "away"})
    away = await reassign(client, conversation_id, "bo")
    assert away.status == 409 and "Bo is away" in (await away.json())["error"]["message"]

    for _ in range(2):
        assigned = await reassign(client, conversation_id, "sue")
        assert assigned.status == 200, await assigned.text()
    queue = await call(client, "GET", "/queue")
    assert queue["waiting"] == []
    assert [(t["agent_id"], t["accepted"], t["ticket"]) for t in queue["assigned"]] == [
        ("sue", True, "#1001")
    ]
