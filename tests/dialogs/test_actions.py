"""Custom actions: the webhook request and answer as pure functions, then the client against
a real rasa-sdk action server (the `action_server` fixture) and a few broken servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest
from aiohttp import web
from aiohttp.test_utils import unused_port
from pytest_aiohttp import AiohttpClient

from dialogs.actions import (
    RASA_VERSION,
    ActionClient,
    ActionOutcome,
    ActionResponseError,
    build_request,
    describe_failure,
    parse_response,
)
from hub.abc import ConversationHandler, Turn, TurnResult
from hub.app import create_app
from hub.model import Attachment, Button, Outbound
from tests.support import CallbackReceiver, channel_auth, hub_config, hub_env


class Server(Protocol):
    """What the `action_server` fixture (tests/dialogs/conftest.py) yields."""

    @property
    def url(self) -> str: ...


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
StartServer = Callable[[Handler], Awaitable[str]]

# ------------------------------------------------------------------------ the request


def test_request_carries_everything_the_action_server_reads() -> None:
    request = build_request(
        "action_check_order",
        sender_id="conv-1",
        slots={"order_id": "20261001", "language": "zh"},
        latest_message={"text": "where is 20261001", "intent": {"name": "order_status"}},
        events=[{"event": "user", "text": "where is 20261001"}],
    )
    assert request["next_action"] == "action_check_order"
    assert request["sender_id"] == "conv-1"
    assert request["domain"] == {}  # always present: rasa-sdk answers 449 without it
    assert request["version"] == RASA_VERSION
    tracker = request["tracker"]
    assert tracker["sender_id"] == "conv-1"
    assert tracker["slots"] == {"order_id": "20261001", "language": "zh"}
    assert tracker["latest_message"]["intent"] == {"name": "order_status"}
    assert tracker["events"] == [{"event": "user", "text": "where is 20261001"}]


# ------------------------------------------------------------------------- the answer


def test_answer_becomes_slot_updates_and_replies_in_rasa_order() -> None:
    outcome = parse_response(
        {
            "events": [
                {"event": "slot", "name": "order_status", "value": "shipped"},
                {"event": "bot", "text": "from an event", "data": {"buttons": []}},
                {"event": "followup", "name": "action_listen"},  # the engine owns the flow
                {"event": "slot", "name": "order_id", "value": None},
            ],
            "responses": [
                {"text": "Order found", "buttons": [{"title": "OK", "payload": "/affirm"}]},
                {"text": None, "image": "https://example.com/p.png", "buttons": []},
                {"text": None, "buttons": [], "custom": {"x": 1}},  # nothing to show
            ],
        }
    )
    assert outcome == ActionOutcome(
        slots={"order_status": "shipped", "order_id": None},
        replies=(
            Outbound(text="Order found", buttons=(Button(title="OK", payload="/affirm"),)),
            Outbound(
                text="", attachments=(Attachment(kind="image", url="https://example.com/p.png"),)
            ),
            Outbound(text="from an event"),
        ),
    )
    assert parse_response({}) == ActionOutcome()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (None, "expected a JSON object, got null"),
        ([1], "expected a JSON object, got list"),
        ({"events": {"event": "slot"}}, "'events' is dict, not a list"),
        ({"responses": "hi"}, "'responses' is str, not a list"),
        ({"events": ["slot"]}, "events[0] is str, not an object"),
        ({"events": [{"event": "slot", "value": 1}]}, "events[0] sets a slot without a name"),
        ({"responses": [{"text": 5}]}, "responses[0].text is int, not a string"),
        ({"responses": [{"text": "a", "buttons": {}}]}, "responses[0].buttons is dict"),
        ({"responses": [{"text": "a", "buttons": [{"payload": "/x"}]}]}, "buttons[0] has no title"),
        ({"responses": [{"text": "a", "buttons": [{"title": "x"}]}]}, "buttons[0] has no payload"),
    ],
)
def test_answer_with_an_unexpected_shape_is_refused(payload: Any, message: str) -> None:
    with pytest.raises(ActionResponseError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_response(payload)


def test_failure_reasons_never_echo_the_request() -> None:
    rejected = {"error": "slot order_id is not set", "action_name": "action_check_order"}
    assert describe_failure(400, rejected) == "action rejected: slot order_id is not set"
    assert describe_failure(404, {"error": "No registered action"}).startswith("unknown action")
    assert "449" in describe_failure(449, {"error": "Missing domain context"})
    crashed = {"error": "boom", "request_body": {"tracker": {"slots": {"card": "4111"}}}}
    assert describe_failure(500, crashed) == "the action server answered HTTP 500"
    assert describe_failure(502, None) == "the action server answered HTTP 502"


# ------------------------------------------------------------------ the real action server


@pytest.fixture
async def client(action_server: Server) -> AsyncIterator[ActionClient]:
    client = ActionClient(action_server.url, timeout=10.0)
    yield client
    await client.close()


async def check_order(client: ActionClient, **slots: Any) -> ActionOutcome:
    return await client.run(
        "action_check_order",
        sender_id="conv-1",
        slots=slots,
        latest_message={"text": "where is my order?"},
        events=[],
    )


async def test_shipped_order_sets_the_status_and_names_carrier_and_eta(
    client: ActionClient,
) -> None:
    outcome = await check_order(client, order_id="20261001", language="en")
    assert not outcome.failed, outcome.error
    assert outcome.slots == {"order_status": "shipped"}
    (reply,) = outcome.replies
    assert "20261001" in reply.text
    assert "SF Express" in reply.text
    # The demo's dates follow the calendar: due in two days, never in the past.
    assert f"should arrive by {date.today() + timedelta(days=2)}." in reply.text


async def test_answers_in_chinese_when_the_language_slot_says_so(client: ActionClient) -> None:
    processing = await check_order(client, order_id="20261002", language="zh")
    delivered = await check_order(client, order_id="20261003")
    assert processing.slots == {"order_status": "processing"}
    assert "正在备货" in processing.replies[0].text
    assert delivered.slots == {"order_status": "delivered"}
    delivered_on = date.today() - timedelta(days=3)
    assert delivered.replies[0].text == f"Order 20261003 was delivered on {delivered_on}."


@pytest.mark.parametrize(
    ("language", "title"), [("en", "I didn't receive it"), ("zh", "我没有收到")]
)
async def test_a_delivered_order_offers_the_delivery_problem_with_its_number(
    client: ActionClient, language: str, title: str
) -> None:
    outcome = await check_order(client, order_id="20261003", language=language)
    (reply,) = outcome.replies
    assert reply.buttons == (
        Button(title=title, payload='/delivery_problem{"order_number": "20261003"}'),
    )


@pytest.mark.parametrize("order_id", ["20269999", "123", "2026100a"])
async def test_unknown_order_offers_buttons(client: ActionClient, order_id: str) -> None:
    outcome = await check_order(client, order_id=order_id, language="en")
    assert not outcome.failed, outcome.error
    assert outcome.slots == {"order_status": "not_found"}
    (reply,) = outcome.replies
    assert order_id in reply.text
    assert reply.buttons == (
        Button(title="Try another number", payload="check my order"),
        Button(title="Talk to a human", payload="talk to a human"),
    )


async def test_rejected_action_fails_with_its_reason(client: ActionClient) -> None:
    outcome = await check_order(client, language="en")  # no order_id: the action rejects
    assert outcome.failed
    assert outcome.error == "action rejected: slot order_id is not set"
    assert outcome.slots == {}
    assert outcome.replies == ()


async def test_unknown_action_fails(client: ActionClient) -> None:
    outcome = await client.run(
        "action_launch_rocket", sender_id="c", slots={}, latest_message={}, events=[]
    )
    assert outcome.failed
    assert outcome.error.startswith("unknown action:")
    assert "action_launch_rocket" in outcome.error


async def test_crashing_action_fails_without_echoing_the_request(client: ActionClient) -> None:
    outcome = await client.run(
        "action_crash",
        sender_id="c",
        slots={"card_number": "4111-1111-1111-1111"},
        latest_message={"text": "my card is 4111-1111-1111-1111"},
        events=[],
    )
    assert outcome.failed
    assert outcome.error == "the action server answered HTTP 500"
    assert "4111" not in outcome.error


async def test_slow_action_times_out(action_server: Server) -> None:
    client = ActionClient(action_server.url, timeout=0.5)
    try:
        outcome = await client.run(
            "action_sleep", sender_id="c", slots={"sleep_seconds": 5}, latest_message={}, events=[]
        )
    finally:
        await client.close()
    assert outcome.failed
    assert outcome.error == "timed out after 0.5s"


async def test_server_down_fails_and_the_client_recovers(action_server: Server) -> None:
    client = ActionClient(f"http://127.0.0.1:{unused_port()}/webhook")
    try:
        down = await check_order(client, order_id="20261001")
        client.url = action_server.url  # the server "comes back" at the same client
        back = await check_order(client, order_id="20261001")
    finally:
        await client.close()
    assert down.failed
    assert down.error.startswith("cannot connect")
    assert back.slots == {"order_status": "shipped"}


# --------------------------------------------------------------- servers that misbehave


@pytest.fixture
async def fake_server() -> AsyncIterator[StartServer]:
    """Start a loopback server answering the webhook with `handler`; returns its URL."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_post("/webhook", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}/webhook"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, b"<html>oops</html>", "invalid JSON in the answer (HTTP 200)"),
        (200, b'{"events": "all of them"}', "unexpected answer: 'events' is str, not a list"),
        (200, b"null", "unexpected answer: expected a JSON object, got null"),
        (502, b"<html>bad gateway</html>", "the action server answered HTTP 502"),
    ],
)
async def test_broken_answers_fail_cleanly(
    fake_server: StartServer, status: int, body: bytes, error: str
) -> None:
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=status, body=body, content_type="application/json")

    client = ActionClient(await fake_server(handler))
    try:
        outcome = await check_order(client, order_id="20261001")
    finally:
        await client.close()
    assert outcome == ActionOutcome(failed=True, error=error)


async def test_a_server_that_never_answers_times_out(fake_server: StartServer) -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"events": [], "responses": []})

    client = ActionClient(await fake_server(handler), timeout=0.2)
    try:
        outcome = await check_order(client, order_id="20261001")
    finally:
        release.set()
        await client.close()
    assert outcome.failed
    assert outcome.error == "timed out after 0.2s"


# ------------------------------------------------------- end to end through the hub


class OrderBot(ConversationHandler):
    """Treats every message as an order number: the smallest bot that calls an action."""

    def __init__(self, actions: ActionClient) -> None:
        self.actions = actions

    async def handle(self, turn: Turn) -> TurnResult:
        outcome = await self.actions.run(
            "action_check_order",
            sender_id=turn.conversation.id,
            slots={"order_id": turn.inbound.text, "language": "en"},
            latest_message={"text": turn.inbound.text},
            events=[],
        )
        if outcome.failed:
            return TurnResult(replies=(Outbound(text="Sorry, I cannot check orders right now."),))
        return TurnResult(replies=outcome.replies, state={"slots": dict(outcome.slots)})

    async def stop(self) -> None:
        await self.actions.close()


async def test_order_status_through_the_api_channel(
    aiohttp_client: AiohttpClient, action_server: Server, tmp_path: Path
) -> None:
    receiver = CallbackReceiver()
    env = hub_env(tmp_path, FRONTDESK_API_CHANNEL_CALLBACK_URL=await receiver.start())
    bot = OrderBot(ActionClient(action_server.url, timeout=10.0))
    try:
        client = await aiohttp_client(create_app(hub_config(env), environ=env, bot=bot))
        for index, text in enumerate(["20261001", "42"]):
            response = await client.post(
                "/api/v1/channels/api/messages",
                json={"id": f"m{index}", "sender": "shop-7", "text": text},
                headers=channel_auth(),
            )
            assert response.status == 202
            await receiver.wait_for(index + 1)
    finally:
        await receiver.stop()
    shipped, not_found = receiver.received
    assert "SF Express" in shipped["text"]
    assert shipped["buttons"] == []
    assert "42" in not_found["text"]
    assert [b["title"] for b in not_found["buttons"]] == ["Try another number", "Talk to a human"]
