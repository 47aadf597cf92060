"""A message asking two things gets both answers (`dialogs.questions`), and a message that
only looks like two keeps today's single answer. The demo bot, its real classifier."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dialogs.engine import DialogEngine
from tests.dialogs.talk import Chat, demo_engine, write_bot

# The first words of each demo answer or question the tests look for.
SHIPPING_COST = {
    "en": "Standard delivery within mainland China",
    "zh": "中国大陆地区订单满 99 元包邮",
}
SHIPPING_TIME = {"en": "Orders placed before 16:00", "zh": "16:00 前下单当天发货"}
CHANGE_ADDRESS = {"en": "You can change the address", "zh": "订单发货前"}
OPENING_HOURS = {"en": "Our stores are open", "zh": "门店营业时间"}
DAMAGED_DELIVERY = {"en": "We are sorry. Please take photos"}
ASK_ORDER = {"en": "What's your order number?", "zh": "请提供您的订单号"}


@pytest.fixture(scope="module")
def demo() -> DialogEngine:
    return demo_engine()


@pytest.fixture(scope="module")
def unsplit(demo: DialogEngine) -> DialogEngine:
    """The demo bot with splitting off: every message read whole, as it was before."""
    settings = replace(demo.bot.settings, split_confidence=1.0)
    return DialogEngine(replace(demo.bot, settings=settings))


async def same_as_unsplit(demo: DialogEngine, unsplit: DialogEngine, message: str) -> Chat:
    """Say `message` to both; assert the same replies and `bot.turn`; the demo's chat.
    (The confidence may differ: a question read alone lends the whole its own when it is
    surer of the same intent, `dialogs.questions.story_question`.)"""
    chat, before = Chat(demo), Chat(unsplit)
    result, expected = await chat.say(message), await before.say(message)
    assert chat.texts(result) == before.texts(expected)
    turn, expected_turn = chat.event(result, "bot.turn"), before.event(expected, "bot.turn")
    assert turn is not None and expected_turn is not None
    assert turn.pop("confidence") >= expected_turn.pop("confidence")
    assert turn == expected_turn
    assert chat.state == before.state
    return chat


def starts(replies: list[str], beginnings: list[str]) -> bool:
    """Whether each reply says its words (near its start), one reply each."""
    return len(replies) == len(beginnings) and all(
        0 <= reply.find(words) < 10 for reply, words in zip(replies, beginnings, strict=True)
    )


async def answered(
    demo: DialogEngine, message: str, words: list[str], intents: list[str]
) -> tuple[Chat, dict[str, Any]]:
    """Say `message`; assert one reply per question, each saying its `words`, and the
    `bot.turn` listing `intents`; the chat and that `bot.turn`."""
    chat = Chat(demo)
    result = await chat.say(message)
    assert starts(chat.texts(result), words)
    turn = chat.event(result, "bot.turn")
    assert turn is not None
    assert [q["intent"] for q in turn["questions"]] == intents
    return chat, turn


@pytest.mark.parametrize(
    ("message", "lang"),
    [
        ("how much is shipping and how long does it take", "en"),
        ("How much is shipping? Also, how long does delivery take?", "en"),
        ("运费多少，几天能到", "zh"),
        ("運費多少？另外幾天能到", "zh"),  # Traditional
    ],
)
async def test_two_faq_questions_get_two_answers_in_the_order_asked(
    demo: DialogEngine, message: str, lang: str
) -> None:
    chat, turn = await answered(
        demo,
        message,
        [SHIPPING_COST[lang], SHIPPING_TIME[lang]],
        ["shipping_cost", "shipping_time"],
    )
    assert all(q["confidence"] >= 0.5 for q in turn["questions"])
    # The turn names the last question answered, as a FAQ: what the escalation reads.
    assert (turn["intent"], turn["handled_as"], turn["lang"]) == ("shipping_time", "faq", lang)
    assert chat.state["flow"] == "" and chat.state["fallbacks"] == 0


@pytest.mark.parametrize(
    ("message", "lang"),
    [
        ("hi, where is my order? also can I change the delivery address?", "en"),
        ("你好，我的订单到哪了？另外能改收货地址吗", "zh"),
    ],
)
async def test_the_faq_is_answered_first_then_the_flow_asks_its_question(
    demo: DialogEngine, message: str, lang: str
) -> None:
    # No greeting beside the answers; the order question comes last, so the next message
    # answers it.
    chat, turn = await answered(
        demo, message, [CHANGE_ADDRESS[lang], ASK_ORDER[lang]], ["change_address", "check_order"]
    )
    assert (turn["intent"], turn["handled_as"]) == ("check_order", "flow")
    assert (chat.state["flow"], chat.state["step"]) == ("order_status", "ask_number")


@pytest.mark.parametrize(
    ("message", "intent", "beginning"),
    [
        # One question, with or without a greeting or thanks before it.
        ("what are your opening hours?", "opening_hours", OPENING_HOURS["en"]),
        ("你们几点开门？", "opening_hours", OPENING_HOURS["zh"]),
        ("hello, how much is shipping", "shipping_cost", SHIPPING_COST["en"]),
        ("谢谢！运费多少", "shipping_cost", SHIPPING_COST["zh"]),
        # A part the bot cannot read alone: the message is read whole, as before.
        (
            "I bought it last week. How long does delivery take?",
            "shipping_time",
            SHIPPING_TIME["en"],
        ),
        ("我上周买的，几天能到？", "shipping_time", SHIPPING_TIME["zh"]),
        # A statement and the question it leads to are one question, not two (a parcel
        # that arrived broken is replaced or refunded: the damaged-delivery answer).
        (
            "the parcel arrived broken, I want to return it",
            "damaged_delivery",
            DAMAGED_DELIVERY["en"],
        ),
        (
            "I moved last month, can I change where my order goes?",
            "change_address",
            CHANGE_ADDRESS["en"],
        ),
        ("我搬家了，能改地址吗？", "change_address", CHANGE_ADDRESS["zh"]),
    ],
)
async def test_one_question_is_answered_as_before(
    demo: DialogEngine, unsplit: DialogEngine, message: str, intent: str, beginning: str
) -> None:
    chat = await same_as_unsplit(demo, unsplit, message)
    assert chat.last is not None
    assert starts(chat.texts(chat.last), [beginning])
    turn = chat.event(chat.last, "bot.turn")
    assert turn is not None
    assert turn["intent"] == intent and "questions" not in turn


@pytest.mark.parametrize(
    "message",
    [
        "how much is shipping? also blorp frobnicate the quux",
        "运费多少？另外那个东西咋整呢",
    ],
)
async def test_a_part_that_is_not_understood_keeps_todays_answer(
    demo: DialogEngine, unsplit: DialogEngine, message: str
) -> None:
    chat = await same_as_unsplit(demo, unsplit, message)
    assert chat.last is not None and len(chat.last.replies) == 1


@pytest.mark.parametrize(
    "message",
    ["I want to complain. where is my order?", "我要投诉！我的订单到哪了"],
)
async def test_a_complaint_beside_a_question_goes_the_usual_way(
    demo: DialogEngine, unsplit: DialogEngine, message: str
) -> None:
    chat = await same_as_unsplit(demo, unsplit, message)
    assert chat.last is not None and len(chat.last.replies) == 1


RESUME = {"en": "Now, back to where we were.", "zh": "好的，我们继续刚才的话题。"}


@pytest.mark.parametrize(
    ("opening", "message", "lang"),
    [
        ("where is my order?", "how much is shipping and how long does it take", "en"),
        ("我的订单到哪了", "运费多少，几天能到", "zh"),
    ],
)
async def test_inside_a_flow_two_faqs_are_answered_then_its_question_asked_again(
    demo: DialogEngine, opening: str, message: str, lang: str
) -> None:
    chat = Chat(demo)
    await chat.say(opening)
    result = await chat.say(message)
    assert starts(
        chat.texts(result),
        [SHIPPING_COST[lang], SHIPPING_TIME[lang], RESUME[lang], ASK_ORDER[lang]],
    )
    turn = chat.event(result, "bot.turn")
    assert turn is not None and turn["handled_as"] == "interruption"
    assert [q["intent"] for q in turn["questions"]] == ["shipping_cost", "shipping_time"]
    assert (chat.state["flow"], chat.state["step"]) == ("order_status", "ask_number")


async def test_inside_a_flow_its_own_question_beside_a_faq_is_one_interruption(
    demo: DialogEngine, unsplit: DialogEngine
) -> None:
    # The flow is already asking for the order number: no second flow, no split.
    for engine in (demo, unsplit):
        chat = Chat(engine)
        await chat.say("track my order")
        result = await chat.say("where is my order? also can I change the delivery address?")
        assert starts(chat.texts(result), [CHANGE_ADDRESS["en"], RESUME["en"], ASK_ORDER["en"]])
        turn = chat.event(result, "bot.turn")
        assert turn is not None and "questions" not in turn


SPLIT_OFF = """\
settings:
  split_confidence: 1
faq:
  hours:
    examples: [when are you open, opening hours, what time do you open, 几点开门, 营业时间]
    answer: {en: "We open at 9.", zh: 我们九点开门。}
  prices:
    examples: [how much is it, what does it cost, price list, 多少钱, 价格]
    answer: {en: "It costs 5.", zh: 五元。}
"""


@pytest.mark.parametrize(
    ("message", "both"),
    [
        ("when are you open? also how much is it", ["We open at 9.", "It costs 5."]),
        ("几点开门？另外多少钱", ["我们九点开门。", "五元。"]),
    ],
)
async def test_split_confidence_one_turns_splitting_off(
    tmp_path: Path, message: str, both: list[str]
) -> None:
    on = DialogEngine.from_path(
        write_bot(
            tmp_path / "on", bot=SPLIT_OFF.replace("split_confidence: 1", "split_confidence: 0.4")
        )
    )
    assert Chat.texts(await Chat(on).say(message)) == both
    off = DialogEngine.from_path(write_bot(tmp_path / "off", bot=SPLIT_OFF))
    assert off.bot.settings.split_confidence == 1.0
    assert len((await Chat(off).say(message)).replies) == 1
