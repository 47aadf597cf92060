"""The web chat channel through the real server: socket, resume, tabs, limits, fallback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSCloseCode, WSMsgType

from connectors import webchat
from hub.abc import ConversationHandler, Turn, TurnResult
from hub.api import HUB
from hub.app import create_app
from hub.echo import EchoBot
from hub.model import ConversationStatus, NewEvent, Outbound
from tests.connectors.webchat.helpers import (
    frames_until,
    hello,
    is_reply,
    next_frame,
    webchat_config,
    webchat_env,
)

WS = "/webchat/ws"
PACKAGE = str(Path(webchat.__file__).parent)  # the connector's code, not its tests


@pytest.fixture
def make_client(aiohttp_client, tmp_path: Path):
    async def make(bot: ConversationHandler | None = None, **settings: Any):
        env = webchat_env(tmp_path)
        app = create_app(
            webchat_config(tmp_path, env, **settings), environ=env, bot=bot or EchoBot()
        )
        return await aiohttp_client(app)

    return make


async def say(ws, message_id: str, text: str) -> list[dict[str, Any]]:
    await ws.send_json({"type": "message", "id": message_id, "text": text})
    return await frames_until(ws, is_reply(f"You said: {text}"))


async def test_a_visitor_gets_a_token_chats_and_sees_sequence_numbers(make_client) -> None:
    client = await make_client()
    async with client.ws_connect(WS) as ws:
        frames = await hello(ws)
        welcome = frames[0]
        assert welcome["type"] == "welcome"
        assert welcome["token"].startswith("wv1.")
        assert welcome["conversation_id"] is None
        frames = await say(ws, "c_1", "hello <script>alert(1)</script>")
    kinds = [(f["type"], f.get("direction")) for f in frames]
    assert ("ack", None) in kinds
    assert ("message", "in") in kinds
    ack = next(f for f in frames if f["type"] == "ack")
    mine = next(f for f in frames if f["type"] == "message" and f["direction"] == "in")
    reply = frames[-1]
    assert (ack["id"], ack["duplicate"]) == ("c_1", False)
    assert mine["id"] == "c_1" and mine["seq"] == ack["seq"]
    assert reply["seq"] > mine["seq"]
    assert reply["conversation_id"] == ack["conversation_id"]


@pytest.mark.parametrize("text", ["Is my watch waterproof?", "手表防水吗？"])
async def test_idle_tabs_hold_no_task_of_the_connector(make_client, text: str) -> None:
    """10,000 idle visitors are 10,000 open tabs: a tab that has sent and received what it
    had holds no writer task (its writer runs while frames wait), yet still gets what
    comes next."""
    client = await make_client()
    sockets = [await client.ws_connect(WS) for _ in range(6)]
    for n, ws in enumerate(sockets):
        await hello(ws)
        await say(ws, f"idle_{n}", text)

    def connector_tasks() -> list[asyncio.Task[Any]]:
        return [
            task
            for task in asyncio.all_tasks()
            if task.get_coro().cr_code.co_filename.startswith(PACKAGE)  # type: ignore[union-attr]
        ]

    for _ in range(200):  # the writers end once they have sent what they had
        if not connector_tasks():
            break
        await asyncio.sleep(0.05)
    assert connector_tasks() == []
    frames = await say(sockets[0], "idle_again", text)
    assert frames[-1]["text"] == f"You said: {text}"
    for ws in sockets:
        await ws.close()


class GateBot(ConversationHandler):
    """Answers only once the test lets it, so the test can watch the turn in progress."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()

    async def handle(self, turn: Turn) -> TurnResult:
        await self.gate.wait()
        return TurnResult(replies=(Outbound(text="done"),))


async def test_a_typing_indicator_shows_while_the_turn_runs(make_client) -> None:
    bot = GateBot()
    client = await make_client(bot=bot)
    async with client.ws_connect(WS) as ws:
        await hello(ws)
        await ws.send_json({"type": "message", "id": "c_1", "text": "hi"})
        before = await frames_until(ws, lambda f: f["type"] == "typing")
        bot.gate.set()
        after = await frames_until(ws, is_reply("done"))
    assert not any(f["type"] == "message" and f["direction"] == "out" for f in before)
    assert after[-1]["text"] == "done"


async def test_a_resent_message_id_is_processed_once(make_client) -> None:
    client = await make_client()
    async with client.ws_connect(WS) as ws:
        token = (await hello(ws))[0]["token"]
        first = await say(ws, "c_same", "once")
        await ws.send_json({"type": "message", "id": "c_same", "text": "once"})
        again = await next_frame(ws)
    assert again["type"] == "ack" and again["duplicate"] is True
    assert again["seq"] == next(f for f in first if f["type"] == "ack")["seq"]
    async with client.ws_connect(WS) as ws:
        replay = await hello(ws, token=token)
    texts = [f["text"] for f in replay if f["type"] == "message"]
    assert texts == ["once", "You said: once"]


async def test_a_tampered_token_is_refused(make_client) -> None:
    client = await make_client()
    async with client.ws_connect(WS) as ws:
        token = (await hello(ws))[0]["token"]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    async with client.ws_connect(WS) as ws:
        await ws.send_json({"type": "hello", "token": tampered})
        frame = await next_frame(ws)
        closing = await ws.receive()
    assert frame["type"] == "error" and frame["code"] == "bad_token"
    assert ws.close_code == 4401, closing


async def test_reconnecting_replays_exactly_what_was_missed_in_order(make_client) -> None:
    client = await make_client()
    hub = client.app[HUB]
    async with client.ws_connect(WS) as ws:
        token = (await hello(ws))[0]["token"]
        frames = await say(ws, "c_1", "one")
    conversation_id, last_seq = frames[-1]["conversation_id"], frames[-1]["seq"]
    # While the visitor is away: an agent writes, and the visitor writes from another device.
    await hub.send(conversation_id, [Outbound(text="An agent here"), Outbound(text="Still there?")])
    async with client.ws_connect(WS) as other:
        await hello(other, token=token)
        await say(other, "c_2", "two")
    async with client.ws_connect(WS) as ws:
        frames = await hello(ws, token=token, conversation_id=conversation_id, last_seq=last_seq)
    assert frames[0]["type"] == "welcome" and frames[-1]["type"] == "synced"
    missed = [(f["direction"], f["text"]) for f in frames if f["type"] == "message"]
    assert missed == [
        ("out", "An agent here"),
        ("out", "Still there?"),
        ("in", "two"),
        ("out", "You said: two"),
    ]
    seqs = [f["seq"] for f in frames if f["type"] == "message"]
    assert seqs == sorted(set(seqs)) and seqs[0] > last_seq
    assert frames[-1]["seq"] == seqs[-1]


async def test_every_tab_of_a_visitor_sees_the_conversation(make_client) -> None:
    client = await make_client()
    async with client.ws_connect(WS) as first:
        token = (await hello(first))[0]["token"]
        async with client.ws_connect(WS) as second:
            await hello(second, token=token)
            await say(first, "c_1", "from tab one")
            seen = await frames_until(second, is_reply("You said: from tab one"))
    texts = [f["text"] for f in seen if f["type"] == "message"]
    assert texts == ["from tab one", "You said: from tab one"]


async def test_sending_too_fast_gets_a_slow_down_frame_not_a_silent_drop(make_client) -> None:
    client = await make_client(rate_burst=2, rate_per_second=0.05)
    async with client.ws_connect(WS) as ws:
        await hello(ws)
        await say(ws, "c_1", "a")
        await say(ws, "c_2", "b")
        await ws.send_json({"type": "message", "id": "c_3", "text": "c"})
        frame = await next_frame(ws)
    assert frame["type"] == "slow_down" and frame["id"] == "c_3"
    assert frame["retry_after"] > 0
    conversations = await client.app[HUB].store.list_conversations(limit=5)
    events = await client.app[HUB].store.events(conversations.items[0].id)
    assert [e.data["text"] for e in events if e.type == "message.in"] == ["a", "b"]


async def test_origins_outside_the_allow_list_cannot_open_the_socket(make_client) -> None:
    client = await make_client(allowed_origins=["https://shop.example"])
    refused = await client.get(WS, headers={"Origin": "https://evil.example"})
    assert refused.status == 403
    assert "origin" in (await refused.json())["error"]["message"]
    for origin in ("https://shop.example", f"http://{client.host}:{client.port}"):
        async with client.ws_connect(WS, headers={"Origin": origin}) as ws:
            assert (await hello(ws))[0]["type"] == "welcome"


async def test_oversized_and_malformed_frames(make_client) -> None:
    client = await make_client(max_frame_bytes=2048, max_text_length=100)
    async with client.ws_connect(WS) as ws:
        await hello(ws)
        await ws.send_str("{not json")
        bad = await next_frame(ws)
        await ws.send_json({"type": "message", "id": "c_1", "text": "x" * 101})
        long = await next_frame(ws)
        await ws.send_str("x" * 4096)
        closed = await ws.receive()
    assert bad["type"] == "error" and "not valid JSON" in bad["message"]
    assert long["type"] == "error" and "longer than 100" in long["message"]
    assert ws.close_code == WSCloseCode.MESSAGE_TOO_BIG, closed


async def test_a_socket_that_never_says_hello_is_closed(make_client) -> None:
    client = await make_client(hello_timeout=0.2)
    async with client.ws_connect(WS) as ws:
        frame = await next_frame(ws)
        await ws.receive()
    assert frame["code"] == "no_hello"
    assert ws.close_code == 4000


async def test_a_silent_connection_is_closed_after_the_idle_timeout(make_client) -> None:
    client = await make_client(idle_timeout=1.0, ping_interval=1.0)
    async with client.ws_connect(WS) as ws:  # aiohttp answers the server's pings itself
        await hello(ws)
        while (await ws.receive(timeout=10)).type == WSMsgType.TEXT:
            pass  # nothing but the server's own frames until it gives up on us
    assert ws.close_code == 4000


class QueueBot(ConversationHandler):
    """Puts every conversation in the queue, as a hand-off would, with its position."""

    async def handle(self, turn: Turn) -> TurnResult:
        return TurnResult(
            replies=(Outbound(text="Connecting you to a person"),),
            events=(NewEvent(type="handoff.queued", data={"position": 2, "expected_wait": 180}),),
            status=ConversationStatus.QUEUED,
        )


async def test_ticket_status_is_pushed_live(make_client) -> None:
    client = await make_client(bot=QueueBot())
    async with client.ws_connect(WS) as ws:
        await hello(ws)
        await ws.send_json({"type": "message", "id": "c_1", "text": "a human please"})
        frames = await frames_until(ws, is_reply("Connecting you to a person"))
        status = [f for f in frames if f["type"] == "status"]
        hub = client.app[HUB]
        await hub.send(
            frames[-1]["conversation_id"],
            [],
            events=[NewEvent(type="handoff.assigned", data={"agent_name": "Mei"})],
            status=ConversationStatus.ASSIGNED,
        )
        later = await frames_until(ws, lambda f: f["type"] == "status" and "agent" in f)
    assert {"event": "handoff.queued", "position": 2, "expected_wait": 180.0}.items() <= (
        next(f for f in status if f["event"] == "handoff.queued").items()
    )
    assert any(f.get("status") == "queued" for f in status)
    assert later[-1]["agent"] == "Mei"


async def test_replies_to_an_absent_visitor_are_stored_for_pickup(make_client) -> None:
    client = await make_client()
    async with client.ws_connect(WS) as ws:
        token = (await hello(ws))[0]["token"]
        frames = await say(ws, "c_1", "bye 再见")
    conversation_id = frames[-1]["conversation_id"]
    hub = client.app[HUB]
    await hub.send(conversation_id, [Outbound(text="Your parcel shipped 您的包裹已发出")])
    # Stored: in the log, and nothing left to send (the visitor's tab reads the log).
    assert await hub.store.claim_deliveries(now=1e12, limit=10, lease=30) == []
    async with client.ws_connect(WS) as ws:
        frames = await hello(ws, token=token, conversation_id=conversation_id, last_seq=0)
    assert [f["text"] for f in frames if f["type"] == "message"][-1] == (
        "Your parcel shipped 您的包裹已发出"
    )


async def test_long_polling_has_the_same_semantics(make_client) -> None:
    client = await make_client()
    welcome = await (await client.post("/webchat/hello", json={})).json()
    auth = {"Authorization": f"Bearer {welcome['token']}"}
    sent = await client.post(
        "/webchat/messages", json={"id": "c_1", "text": "by poll"}, headers=auth
    )
    assert sent.status == 202 and (await sent.json())["type"] == "ack"
    again = await client.post(
        "/webchat/messages", json={"id": "c_1", "text": "by poll"}, headers=auth
    )
    assert (await again.json())["duplicate"] is True
    frames: list[dict[str, Any]] = []
    after, conversation = 0, ""
    while not any(is_reply("You said: by poll")(f) for f in frames if f["type"] == "message"):
        polled = await (
            await client.get(
                f"/webchat/poll?after={after}&wait=5&conversation_id={conversation}", headers=auth
            )
        ).json()
        frames += polled["frames"]
        after, conversation = polled["seq"], polled["conversation_id"]
    texts = [f["text"] for f in frames if f["type"] == "message"]
    assert texts == ["by poll", "You said: by poll"]
    forged = {"Authorization": "Bearer wv1.v_AAAAAAAAAAAAAAAAAAAAAA.bad"}
    refused = await client.get("/webchat/poll", headers=forged)
    assert refused.status == 401
    assert "signature" in (await refused.json())["error"]["message"]


async def test_widget_and_demo_page_are_served_with_safe_headers(make_client) -> None:
    client = await make_client()
    page = await client.get("/")
    assert page.status == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert '<script src="/webchat/widget.js"' in await page.text()
    script = await client.get("/webchat/widget.js")
    assert script.content_type == "text/javascript"
    assert "innerHTML" not in await script.text()
