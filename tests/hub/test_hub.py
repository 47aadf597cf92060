"""The hub's one path, end to end through the real api channel and a real callback server."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from connectors.api import verify
from hub.abc import ConversationHandler, Turn, TurnResult
from hub.app import create_app
from hub.echo import EchoBot
from hub.model import Inbound, Outbound
from hub.store_sqlite import SQLiteStore
from tests.support import (
    CHANNEL_TOKEN,
    CallbackReceiver,
    api_auth,
    channel_auth,
    fast_retries,
    hub_config,
    hub_env,
)


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


def make_app(tmp_path: Path, receiver: CallbackReceiver, bot: ConversationHandler | None = None):
    env = hub_env(tmp_path, FRONTDESK_API_CHANNEL_CALLBACK_URL=receiver.url)
    return create_app(fast_retries(hub_config(env)), environ=env, bot=bot or EchoBot())


async def post(client: TestClient[Any, Any], sender: str, message_id: str, text: str):
    response = await client.post(
        "/api/v1/channels/api/messages",
        json={"id": message_id, "sender": sender, "text": text},
        headers=channel_auth(),
    )
    return response.status, await response.json()


async def test_message_in_reply_out_signed_with_idempotency_key(
    aiohttp_client, tmp_path: Path, receiver: CallbackReceiver
) -> None:
    client = await aiohttp_client(make_app(tmp_path, receiver))
    status, body = await post(client, "ana", "m1", "hello")
    assert status == 202 and not body["duplicate"]
    (reply,) = await receiver.wait_for(1)
    assert reply["text"] == "You said: hello"
    assert reply["conversation_id"] == body["conversation_id"]
    assert reply["recipient"] == "ana"
    headers = receiver.headers[0]
    assert headers["X-Frontdesk-Delivery"] == reply["delivery_id"]
    assert verify(
        CHANNEL_TOKEN, receiver.bodies[0], headers["X-Frontdesk-Signature"], now=reply_time()
    )
    assert not verify(
        "wrong secret", receiver.bodies[0], headers["X-Frontdesk-Signature"], now=reply_time()
    )

    events = await client.get(
        f"/api/v1/conversations/{body['conversation_id']}/events", headers=api_auth()
    )
    types = [e["type"] for e in (await events.json())["items"]]
    core = [t for t in types if t in ("conversation.opened", "message.in", "message.out")]
    assert core == ["conversation.opened", "message.in", "message.out"]


def reply_time() -> float:
    import time

    return time.time()


class SlowBot(ConversationHandler):
    """Answers after a random delay and records how many turns ran at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most_at_once = 0

    async def handle(self, turn: Turn) -> TurnResult:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        await asyncio.sleep(random.uniform(0.001, 0.02))
        self.running -= 1
        return TurnResult(replies=(Outbound(text=turn.inbound.text),))


async def test_turns_run_in_order_per_conversation_and_concurrently_across(
    aiohttp_client, tmp_path: Path, receiver: CallbackReceiver
) -> None:
    bot = SlowBot()
    client = await aiohttp_client(make_app(tmp_path, receiver, bot))
    senders = [f"s{n}" for n in range(5)]
    await asyncio.gather(
        *(post(client, s, f"{s}-{i}", f"{s}:{i}") for s in senders for i in range(8))
    )
    await receiver.wait_for(40)
    for sender in senders:
        texts = [r["text"] for r in receiver.received if r["recipient"] == sender]
        seqs = [r["seq"] for r in receiver.received if r["recipient"] == sender]
        # Replies were generated in the order the messages were stored.
        stored_order = await _inbound_texts(client, receiver, sender)
        assert texts == stored_order
        assert seqs == sorted(seqs)
    assert bot.most_at_once > 1


async def _inbound_texts(
    client: TestClient[Any, Any], receiver: CallbackReceiver, sender: str
) -> list[str]:
    conversation_id = next(
        r["conversation_id"] for r in receiver.received if r["recipient"] == sender
    )
    response = await client.get(
        f"/api/v1/conversations/{conversation_id}/events?limit=1000", headers=api_auth()
    )
    return [
        e["data"]["text"] for e in (await response.json())["items"] if e["type"] == "message.in"
    ]


class FailsFor(ConversationHandler):
    def __init__(self, bad_sender: str) -> None:
        self.bad_sender = bad_sender

    async def handle(self, turn: Turn) -> TurnResult:
        if turn.inbound.sender == self.bad_sender:
            raise RuntimeError("flow exploded")
        return TurnResult(replies=(Outbound(text="fine"),))


async def test_a_failing_conversation_gets_an_apology_and_others_go_on(
    aiohttp_client, tmp_path: Path, receiver: CallbackReceiver
) -> None:
    client = await aiohttp_client(make_app(tmp_path, receiver, FailsFor("bad")))
    _, bad = await post(client, "bad", "b1", "boom")
    await post(client, "good", "g1", "hi")
    replies = await receiver.wait_for(2)
    by_recipient = {r["recipient"]: r["text"] for r in replies}
    assert by_recipient["good"] == "fine"
    assert "something went wrong" in by_recipient["bad"]
    assert "flow exploded" not in by_recipient["bad"]
    events = await client.get(
        f"/api/v1/conversations/{bad['conversation_id']}/events", headers=api_auth()
    )
    failed = [e for e in (await events.json())["items"] if e["type"] == "turn.failed"]
    assert failed[0]["data"] == {"error": "RuntimeError"}


async def test_failed_deliveries_are_retried_then_delivered(
    aiohttp_client, tmp_path: Path, receiver: CallbackReceiver
) -> None:
    receiver.fail_next = 2
    client = await aiohttp_client(make_app(tmp_path, receiver))
    _, body = await post(client, "ana", "m1", "retry me")
    (reply,) = await receiver.wait_for(1)
    assert reply["text"] == "You said: retry me"
    events = await client.get(
        f"/api/v1/conversations/{body['conversation_id']}/events", headers=api_auth()
    )
    types = [e["type"] for e in (await events.json())["items"]]
    assert types.count("delivery.failed") == 2
    assert types[-1] == "delivery.delivered"


async def test_undeliverable_reply_is_parked_visibly_and_can_be_redriven(
    aiohttp_client, tmp_path: Path, receiver: CallbackReceiver
) -> None:
    receiver.fail_next = 1000  # the receiver is down for good
    client = await aiohttp_client(make_app(tmp_path, receiver))
    await post(client, "ana", "m1", "lost?")
    for _ in range(200):
        parked = await (await client.get("/api/v1/deliveries/parked", headers=api_auth())).json()
        if parked["items"]:
            break
        await asyncio.sleep(0.05)
    (item,) = parked["items"]
    assert item["attempts"] == 4 and "503" in item["last_error"]
    assert receiver.received == []

    receiver.fail_next = 0
    response = await client.post(f"/api/v1/deliveries/{item['id']}/redrive", headers=api_auth())
    assert response.status == 200
    (reply,) = await receiver.wait_for(1)
    assert reply["delivery_id"] == item["id"]
    missing = await client.post("/api/v1/deliveries/nope/redrive", headers=api_auth())
    assert missing.status == 404


async def test_client_error_from_callback_parks_at_once(
    aiohttp_client, tmp_path: Path, receiver: CallbackReceiver
) -> None:
    receiver.status_after_failures = 400
    client = await aiohttp_client(make_app(tmp_path, receiver))
    await post(client, "ana", "m1", "bad request upstream")
    await receiver.wait_for(1)
    for _ in range(100):
        parked = await (await client.get("/api/v1/deliveries/parked", headers=api_auth())).json()
        if parked["items"]:
            break
        await asyncio.sleep(0.05)
    assert parked["items"][0]["attempts"] == 1
    assert "400" in parked["items"][0]["last_error"]


async def test_turns_left_pending_by_a_crash_are_answered_on_start(
    aiohttp_client, tmp_path: Path, receiver: CallbackReceiver
) -> None:
    store = SQLiteStore(tmp_path / "frontdesk.db")
    await store.open()
    message = Inbound(channel="api", sender="ana", message_id="before-crash", text="still there?")
    await store.record_inbound(message, now=1.0)
    await store.close()
    await aiohttp_client(make_app(tmp_path, receiver))
    (reply,) = await receiver.wait_for(1)
    assert reply["text"] == "You said: still there?"


class Sleepy(ConversationHandler):
    async def handle(self, turn: Turn) -> TurnResult:
        await asyncio.sleep(0.3)
        return TurnResult(replies=(Outbound(text="finished before shutdown"),))


async def test_graceful_shutdown_finishes_turns_and_flushes_outbox(
    aiohttp_client, tmp_path: Path, receiver: CallbackReceiver
) -> None:
    client = await aiohttp_client(make_app(tmp_path, receiver, Sleepy()))
    await post(client, "ana", "m1", "hi")
    await client.close()  # runs the app's cleanup while the turn is still sleeping
    assert [r["text"] for r in receiver.received] == ["finished before shutdown"]


def test_join_replies_makes_one_message_of_a_turn() -> None:
    from hub.hub import join_replies
    from hub.model import Button

    joined = join_replies(
        [
            Outbound(text="Sorry to hear that."),
            Outbound(text="Did it turn on?", buttons=(Button(title="Yes", payload="yes"),)),
        ]
    )
    assert joined.text == "Sorry to hear that.\n\nDid it turn on?"
    assert [b.payload for b in joined.buttons] == ["yes"]


class Tagger(ConversationHandler):
    async def handle(self, turn: Turn) -> TurnResult:
        from hub.model import EventType, NewEvent

        return TurnResult(
            replies=(Outbound(text="noted"),),
            events=(NewEvent(type=EventType.CUSTOMER_TAGGED, data={"tag": "vip"}),),
        )


async def test_a_tag_event_tags_the_customer(
    aiohttp_client, tmp_path: Path, receiver: CallbackReceiver
) -> None:
    client = await aiohttp_client(make_app(tmp_path, receiver, Tagger()))
    _, body = await post(client, "ana", "m1", "tag me")
    await receiver.wait_for(1)
    for _ in range(100):
        response = await client.get(f"/api/v1/customers/{body['customer_id']}", headers=api_auth())
        if (await response.json())["tags"]:
            break
        await asyncio.sleep(0.02)
    assert (await response.json())["tags"] == ["vip"]
    await post(client, "ana", "m2", "again")  # tagging twice keeps one tag
    await receiver.wait_for(2)
    response = await client.get(f"/api/v1/customers/{body['customer_id']}", headers=api_auth())
    assert (await response.json())["tags"] == ["vip"]
