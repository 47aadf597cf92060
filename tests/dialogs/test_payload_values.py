"""`/intent{"entity": "value"}` button payloads (`dialogs.payloads`): the intent, and values
read as their entity reads a message. The demo bot's delivery-problem flow, which asks for
the order number unless it has it; English and Chinese."""

from __future__ import annotations

import pytest

from dialogs.engine import DialogEngine
from dialogs.payloads import MAX_VALUES, intent_with_values
from tests.dialogs.talk import Chat, demo_engine

INTENTS = {"delivery_problem", "greet"}


@pytest.fixture(scope="module")
def demo() -> DialogEngine:
    return demo_engine()


@pytest.mark.parametrize(
    ("text", "read"),
    [
        (
            '/delivery_problem{"order_number": "20261003"}',
            ("/delivery_problem", {"order_number": "20261003"}),
        ),
        (
            '/delivery_problem{"order_number": 20261003}',
            ("/delivery_problem", {"order_number": "20261003"}),
        ),
        ("/delivery_problem{}", ("/delivery_problem", {})),
        # Values that are not text or a number are left out.
        ('/greet{"a": true, "b": [1], "c": {"d": 1}, "e": null, "f": "x"}', ("/greet", {"f": "x"})),
        ('/greet{"订单": "二"}', ("/greet", {"订单": "二"})),
    ],
)
def test_an_intent_with_values_is_read(text: str, read: tuple[str, dict[str, str]]) -> None:
    assert intent_with_values(text, INTENTS) == read


@pytest.mark.parametrize(
    "text",
    [
        "/delivery_problem",  # a plain payload: read as before
        '/nope{"order_number": "20261003"}',  # an unknown intent
        '/delivery_problem{"order_number": ',  # not JSON
        "/delivery_problem[1]",
        '/delivery_problem{"a": 1} trailing',
        'my order {"order_number": "20261003"}',
        '/delivery_problem{"a": 1}{"b": 2}',
    ],
)
def test_anything_else_is_not_an_intent_with_values(text: str) -> None:
    assert intent_with_values(text, INTENTS) is None


def test_at_most_a_few_values_are_taken() -> None:
    many = "{" + ", ".join(f'"e{i}": "{i}"' for i in range(50)) + "}"
    read = intent_with_values(f"/greet{many}", INTENTS)
    assert read is not None and len(read[1]) == MAX_VALUES


@pytest.mark.parametrize(
    ("opening", "said"),
    [
        ("hello", "A person from our delivery team will look into order 20261003"),
        ("你好", "我们的物流专员会就订单 20261003 与快递公司核实"),
    ],
)
async def test_a_value_in_the_payload_fills_the_flows_slot(
    demo: DialogEngine, opening: str, said: str
) -> None:
    chat = Chat(demo)
    await chat.say(opening)  # the payload says nothing of the language: the chat's is kept
    result = await chat.say('/delivery_problem{"order_number": "20261003"}')
    assert said in "\n".join(Chat.texts(result))  # not asked for the number again
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["intent"] == "delivery_problem"
    assert turn["slots"]["order_id"] == "20261003"


@pytest.mark.parametrize(
    "values",
    [
        '{"order_number": "12"}',  # not what the entity finds in a message
        '{"order_number": true}',
        '{"colour": "20261003"}',  # no such entity
    ],
)
async def test_a_value_the_entity_would_not_read_is_left_out(
    demo: DialogEngine, values: str
) -> None:
    chat = Chat(demo)
    result = await chat.say(f"/delivery_problem{values}")
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["intent"] == "delivery_problem"
    assert "order_id" not in turn["slots"]
    assert "What's the order number?" in "\n".join(Chat.texts(result))


async def test_a_value_is_read_as_a_message_would_be(demo: DialogEngine) -> None:
    # The entity finds the number in it, as in a message; nothing else of it is kept.
    chat = Chat(demo)
    result = await chat.say('/delivery_problem{"order_number": "20261003; DROP TABLE events"}')
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["slots"]["order_id"] == "20261003"


async def test_a_malformed_payload_is_read_as_text(demo: DialogEngine) -> None:
    chat = Chat(demo)
    result = await chat.say('/delivery_problem{"order_number": ')
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["intent"] != "delivery_problem"
    assert "order_id" not in turn["slots"]
