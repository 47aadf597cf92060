"""What a customer says back to an answer (`dialogs.said_back`): a bare yes gets "tell me what
it's about", a rejection gets "sorry, I misunderstood" with the question's other readings.
The demo bot with its knowledge base and real classifier; English and Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.engine import DialogEngine
from dialogs.said_back import bare_yes, rejects_answer
from hub.abc import TurnResult
from tests.dialogs.talk import DEMO_KNOWLEDGE, Chat, demo_engine, write_bot

GO_AHEAD = {"en": "Of course. Tell me what it's about", "zh": "好的，请告诉我是什么问题"}
MISUNDERSTOOD = {"en": "Sorry, I misunderstood.", "zh": "抱歉，我理解错了。"}


@pytest.fixture(scope="module")
def demo() -> DialogEngine:
    return demo_engine(knowledge=DEMO_KNOWLEDGE)


def said(result: TurnResult) -> str:
    return "\n".join(Chat.texts(result))


@pytest.mark.parametrize(
    "text", ["yes", "Yep!", "yes please", "sure", "是", "是的", "有", "嗯嗯，有的"]
)
def test_a_bare_yes(text: str) -> None:
    assert bare_yes(text) and not rejects_answer(text)


@pytest.mark.parametrize(
    "text",
    [
        "no, that's not what I meant",
        "That’s not what I asked.",
        "wrong answer!",
        "you misunderstood me",
        "不是这个意思",
        "不是",
        "答非所问",
        "我问的不是这个啊",
    ],
)
def test_a_rejection(text: str) -> None:
    assert rejects_answer(text) and not bare_yes(text)


@pytest.mark.parametrize(
    "text",
    [
        "yes, how do I return a phone?",  # a question after the yes: read as one
        "不是，我想问怎么退货",
        "is this not what I asked for",
        "no",  # closes (`dialogs.closing_words`)
        "是不是要先付款",
        "有没有学生优惠",
    ],
)
def test_a_question_or_a_closing_is_neither(text: str) -> None:
    assert not bare_yes(text) and not rejects_answer(text)


@pytest.mark.parametrize(
    ("lang", "thanks", "yes", "question", "intent"),
    [
        ("en", "thanks", "yes", "how do I return headphones?", "refund_policy"),
        ("zh", "谢谢", "有", "耳机怎么退货", "refund_policy"),
    ],
)
async def test_yes_to_anything_else_asks_what_it_is_about(
    demo: DialogEngine, lang: str, thanks: str, yes: str, question: str, intent: str
) -> None:
    chat = Chat(demo)
    assert said(await chat.say(thanks)).endswith(("?", "？"))  # "Anything else …?"
    result = await chat.say(yes)
    assert said(result).startswith(GO_AHEAD[lang])
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and (turn["intent"], turn["handled_as"]) == (None, "go_ahead")
    answered = Chat.event(await chat.say(question), "bot.turn")
    assert answered is not None and answered["intent"] == intent


@pytest.mark.parametrize("text", ["是", "是的"])
async def test_a_lone_shi_is_no_question_about_the_bot(demo: DialogEngine, text: str) -> None:
    # Read as a question it was the bot's identity ("你是机器人吗" has it): "我是智能助手…".
    result = await Chat(demo).say(text)
    assert said(result).startswith(GO_AHEAD["zh"])


@pytest.mark.parametrize(
    ("lang", "question", "rejection"),
    [
        ("en", "how do I reset my password", "no, that's not what I meant"),
        ("zh", "怎么重置密码", "不是这个意思"),
    ],
)
async def test_a_rejected_answer_is_not_given_again(
    demo: DialogEngine, lang: str, question: str, rejection: str
) -> None:
    chat = Chat(demo)
    first = said(await chat.say(question))
    result = await chat.say(rejection)
    assert said(result).startswith(MISUNDERSTOOD[lang]) and first not in said(result)
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["handled_as"] == "misunderstood"
    assert chat.state.get("topic") is None  # the topic ends: nothing leans on it any more
    # A second miss in a row is a misunderstanding too: the offer of a person.
    again = await chat.say(rejection)
    assert [b.payload.split("#")[0] for b in again.replies[-1].buttons] == [
        "/handoff_accept",
        "/handoff_decline",
    ]


HOURS_BOT = """
faq:
  store_hours:
    title: {en: "Store opening hours", zh: "门店营业时间"}
    examples: [when does the store open, store opening hours, what time does your shop open,
               门店几点开门, 门店营业时间, 你们店几点开门]
    answer: {en: "Our stores open 10:00-21:00.", zh: "门店营业时间 10:00-21:00。"}
  phone_hours:
    title: {en: "Phone support hours", zh: "电话客服时间"}
    examples: [when can I call you, phone support hours, what time does your hotline open,
               客服电话几点开, 电话客服时间, 热线几点上班]
    answer: {en: "Our hotline answers 9:00-18:00.", zh: "客服热线 9:00-18:00。"}
  shipping_cost:
    title: {en: "Shipping costs", zh: "运费"}
    examples: [how much is shipping, delivery fee, shipping cost, 运费多少, 邮费怎么算, 包邮吗]
    answer: {en: "Shipping is free over 99.", zh: "满 99 包邮。"}
"""


@pytest.mark.parametrize(
    ("question", "rejection", "read_as", "other"),
    [
        ("what are your hours", "that's not what I meant", "phone_hours", "store_hours"),
        ("几点上班", "答非所问", "phone_hours", "store_hours"),
    ],
)
async def test_the_other_readings_of_the_question_are_offered(
    tmp_path: Path, question: str, rejection: str, read_as: str, other: str
) -> None:
    chat = Chat(DialogEngine.from_path(write_bot(tmp_path, bot=HOURS_BOT)))
    answered = Chat.event(await chat.say(question), "bot.turn")
    assert answered is not None and answered["intent"] == read_as
    result = await chat.say(rejection)
    offered = [b.payload for b in result.replies[0].buttons]
    assert offered[0] == f"/{other}" and f"/{read_as}" not in offered


@pytest.mark.parametrize(
    ("question", "rejection"), [("do you price match", "wrong answer"), ("订单能改吗", "答非所问")]
)
async def test_a_rejection_of_a_quoted_article_is_its_no(
    demo: DialogEngine, question: str, rejection: str
) -> None:
    chat = Chat(demo)
    await chat.say(question)
    assert chat.state["offer"] == "kb"  # "Did this help?"
    result = await chat.say(rejection)
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["handled_as"] == "kb_not_helped"
    feedback = Chat.event(result, "kb.feedback")
    assert feedback is not None and feedback["helpful"] is False
