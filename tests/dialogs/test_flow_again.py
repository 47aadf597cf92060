"""Another value for the flow that just ran to its end: "sorry, wrong number: it's 20261002"
or "不好意思输错了，是20261002" right after an order was looked up runs the lookup again
with the new number, where the message alone was not understood at all."""

from __future__ import annotations

import pytest

from dialogs.engine import DialogEngine
from dialogs.state import State
from tests.dialogs.talk import Chat, demo_engine

CASES = [
    ("where is my order?", "sorry, wrong number: it's 20261002", "20261002"),
    ("where is my order?", "oops, typo. 20261003", "20261003"),
    ("我的订单到哪了", "不好意思输错了，是20261002", "20261002"),
    ("我的訂單到哪了", "還有一個 20261003", "20261003"),  # Traditional
]


@pytest.fixture(scope="module")
def engine() -> DialogEngine:
    """The demo bot, without its action server: the lookup itself fails ("can't look that
    up right now"), which ends the flow as its end does; through the hub, with the action
    server, `test_demo_through_hub.py` has the real answers."""
    return demo_engine()


async def looked_up(engine: DialogEngine, ask: str) -> Chat:
    chat = Chat(engine)
    await chat.say(ask)
    await chat.say("20261001")
    assert chat.state["flow"] == "" and chat.state["slots"]["order_id"] == "20261001"
    assert chat.state["finished"] == "order_status"
    return chat


@pytest.mark.parametrize(("ask", "again", "number"), CASES)
async def test_another_value_runs_the_finished_flow_again(
    engine: DialogEngine, ask: str, again: str, number: str
) -> None:
    chat = await looked_up(engine, ask)
    result = await chat.say(again)
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["handled_as"] == "flow_again"
    assert turn["slots"]["order_id"] == number and chat.state["fallbacks"] == 0


@pytest.mark.parametrize(("ask", "again", "number"), CASES[:1] + CASES[2:3])
async def test_not_once_the_follow_up_window_has_passed(
    engine: DialogEngine, ask: str, again: str, number: str
) -> None:
    chat = await looked_up(engine, ask)
    result = await chat.say(again, wait=301.0)  # the demo's window: 300 s
    turn = Chat.event(result, "bot.turn")
    # Not the finished flow run again; read as any message (an order number alone may
    # start the order lookup afresh, `test_guessed_flows.py`).
    assert turn is not None and turn["handled_as"] != "flow_again"


@pytest.mark.parametrize(
    ("ask", "drop", "again"),
    [
        ("where is my order?", "never mind", "sorry, it's 20261002"),
        ("我的订单到哪了", "算了", "是20261002"),
    ],
)
async def test_not_for_a_flow_the_customer_left(
    engine: DialogEngine, ask: str, drop: str, again: str
) -> None:
    chat = Chat(engine)
    await chat.say(ask)
    await chat.say(drop)
    assert chat.state.get("finished", "") == ""  # a flow left is not one finished
    result = await chat.say(again)
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["handled_as"] != "flow_again"


@pytest.mark.parametrize(
    ("ask", "other", "intent"),
    [
        ("where is my order?", "order 20261002 arrived damaged, the screen is cracked", "damaged_delivery"),
        ("我的订单到哪了", "订单20261002可以开发票吗", "invoice"),
    ],
)  # fmt: skip
async def test_a_message_understood_as_something_else_is_answered_as_that(
    engine: DialogEngine, ask: str, other: str, intent: str
) -> None:
    chat = await looked_up(engine, ask)
    turn = Chat.event(await chat.say(other), "bot.turn")
    assert turn is not None and turn["intent"] == intent and turn["handled_as"] != "flow_again"


def test_the_finished_flow_is_kept_between_turns() -> None:
    state = State(lang="en", finished="order_status", finished_at=12.5)
    again = State.from_json(state.to_json(), default_lang="en")
    assert (again.finished, again.finished_at) == ("order_status", 12.5)
    assert State.from_json({"finished": 3, "finished_at": "x"}, default_lang="en").finished == ""


async def test_the_same_message_with_no_flow_before_it_is_not_understood(
    engine: DialogEngine,
) -> None:
    chat = Chat(engine)
    result = await chat.say("sorry, wrong number: it's 20261002")
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["handled_as"] == "fallback"
