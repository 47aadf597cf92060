"""Typing across hub processes on one Redis: a web chat visitor on A types and the hand-off
feed on B (what B's consoles stream) shows it; Ana, whose console is on B, types a reply
and the visitor's widget on A shows her typing, then its end. Nothing of it is logged."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import aiohttp
import pytest

from handoff.console.accounts import Session, accounts_from_url, new_secret, token_key
from tests.scale.clients import Feed, Operator, Visitor, eventually
from tests.scale.processes import HubGroup

ASK = {"en": "My parcel is lost, talk to a person", "zh": "我的包裹丢了，转人工"}


async def console_token(store_url: str, account_id: str) -> str:
    """An API token for a console account, as `frontdesk agents token` issues one."""
    store = accounts_from_url(store_url)
    await store.open()
    try:
        secret, now = new_secret(), time.time()
        await store.put_session(
            Session(
                key=token_key(secret),
                account_id=account_id,
                csrf="",
                created_at=now,
                expires_at=now + 3600,
                last_seen=now,
                api_token=True,
            )
        )
    finally:
        await store.close()
    return secret


def typing_frame(on: bool, frame: dict[str, Any]) -> bool:
    return frame["type"] == "typing" and frame["on"] is on


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_typing_reaches_the_other_process_both_ways(
    hubs: HubGroup, scale_store_url: str, lang: str
) -> None:
    a, b = hubs[0], hubs[1]
    async with aiohttp.ClientSession() as session:
        visitor = Visitor(session)
        await visitor.connect(a)
        await visitor.say("m1", ASK[lang])
        conversation_id = (await visitor.until(lambda f: f["type"] == "ack"))["conversation_id"]
        # The hand-off's answer: the turn (and the "typing…" shown while it ran) is over.
        await visitor.until(lambda f: f["type"] == "message" and f.get("text") != ASK[lang])
        operator = Operator(session, b)
        await operator.presence("ana", "online")  # offers are accepted at once here

        async def held_on_b() -> bool:
            return any(
                t["conversation_id"] == conversation_id and t["agent_id"] == "ana"
                for t in (await operator.queue())["assigned"]
            )

        await eventually(held_on_b, "the hand-off held by Ana, as B knows it")
        feed = Feed(session)
        await feed.open(b)

        # The customer types on A: B's feed has the hint (ids only).
        assert visitor.ws is not None
        await visitor.ws.send_json({"type": "typing", "on": True})
        hint = await feed.until(lambda f: f["type"] == "typing")
        assert hint == {
            "type": "typing",
            "conversation_id": conversation_id,
            "side": "customer",
            "on": True,
        }

        # Ana types in her console on B: the widget on A shows it, then that she stopped.
        token = await console_token(scale_store_url, "ana")
        path = f"{b.url}/console/api/conversations/{conversation_id}/typing"
        for on in (True, False):
            async with session.post(
                path, json={"on": on}, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                assert response.status == 200, await response.text()
                assert (await response.json())["sent"] is True
            frame = await visitor.until(partial(typing_frame, on))
            assert frame == {"type": "typing", "on": on}

        # Typing is never logged: the log holds the question and the hand-off, no typing.
        events = await operator.events(conversation_id)
        assert not [e for e in events if "typing" in e["type"]]
        await feed.close()
        await visitor.close()
