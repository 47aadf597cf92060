"""A message that only announces a question gets "tell me what it's about", not a help-centre
article chosen by its one or two words (`dialogs.preamble`); the demo bot, real engine."""

from __future__ import annotations

import pytest

from dialogs.engine import DialogEngine
from dialogs.preamble import announces_question, names_subject
from tests.dialogs.talk import DEMO_KNOWLEDGE, Chat, demo_engine


@pytest.mark.parametrize(
    "text",
    [
        "I have a problem",
        "I have a question.",
        "can u help me",
        "Hello?? I need help!",
        "hi, quick question",
        "Can you help me out please?",
        "我有个问题",
        "我想问下",
        "您好，想咨询一下",
        "在吗？我想问一下",
        "求助！！",
        "我有個問題",  # Traditional
    ],
)
def test_announcing(text: str) -> None:
    assert announces_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hi",
        "你好",
        "I have a problem with my order",
        "help me reset my password",
        "helpline number",
        "question about my order",
        "我有个问题，订单还没到",
        "请问你们几点开门",
        "求助，手机开不了机",
    ],
)
def test_asking_or_something_else(text: str) -> None:
    assert not announces_question(text)


@pytest.fixture(scope="module")
def demo() -> DialogEngine:
    return demo_engine(knowledge=DEMO_KNOWLEDGE)


@pytest.mark.parametrize(
    ("preamble", "reply", "question", "answered"),
    [
        ("I have a problem", "Tell me what it's about", "do you ship to Canada?", "40 countries"),
        ("can u help me", "Tell me what it's about", "how do I redeem my points", "100 points"),
        ("我有个问题", "请告诉我是什么问题", "积分怎么用", "100 积分"),
        ("我想问下", "请告诉我是什么问题", "寄到香港要多久", "40 多个国家"),
    ],
)
async def test_the_bot_waits_for_the_question_then_answers_it(
    demo: DialogEngine, preamble: str, reply: str, question: str, answered: str
) -> None:
    chat = Chat(demo)
    result = await chat.say(preamble)
    (text,) = Chat.texts(result)
    assert reply in text
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["handled_as"] == "preamble"
    assert Chat.event(result, "kb.answered") is None  # no article for "problem" or 问题
    assert answered in Chat.texts(await chat.say(question))[0]


ORDER_WORDS = ("order", "orders", "parcel", "订单", "包裹")


@pytest.mark.parametrize(
    "text",
    [
        "I have a problem with my order",
        "there is an issue with my order",
        "question about my order",
        "Problem with my parcel!",
        "我的订单有问题",
        "关于订单的问题",
        "订单出问题了",
        "我的訂單有問題",  # Traditional
    ],
)
def test_a_subject_named_without_the_question(text: str) -> None:
    assert names_subject(text, ORDER_WORDS)


@pytest.mark.parametrize(
    "text",
    [
        "my order",  # a subject alone: the classifier reads it (the order status)
        "订单",
        "I have a problem",  # a trouble alone: `announces_question`
        "where is my order",
        "my order has not arrived",
        "problem with my order 20261001",
        "我的订单还没到",
        "我的账号有问题",  # another subject
    ],
)
def test_a_question_or_another_subject(text: str) -> None:
    assert not names_subject(text, ORDER_WORDS)


@pytest.mark.parametrize(
    ("said", "ask", "buttons", "tap", "next_reply"),
    [
        (
            "I have a problem with my order",
            "what about your order?",
            ["Order status", "Not received, wrong or missing item", "Change the delivery address",
             "Cancel an order"],
            "/delivery_problem",
            "order number",
        ),
        (
            "我的订单有问题",
            "订单遇到了什么问题",
            ["查询订单", "没收到货、发错或少件", "修改收货地址", "取消订单"],
            "/delivery_problem",
            "订单号",
        ),
        ("关于付款的问题", "付款遇到了什么问题", ["支付失败", "重复扣款", "支付方式", "发票"], "/charged_twice", "重复扣款"),
    ],
)  # fmt: skip
async def test_the_bot_asks_what_about_the_subject_with_its_topics_as_buttons(
    demo: DialogEngine, said: str, ask: str, buttons: list[str], tap: str, next_reply: str
) -> None:
    chat = Chat(demo)
    result = await chat.say(said)
    (reply,) = result.replies
    assert ask in reply.text and [b.title for b in reply.buttons] == buttons
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["handled_as"] == "topic_menu"
    assert Chat.event(result, "kb.answered") is None  # not the pre-orders article
    assert next_reply in "\n".join(Chat.texts(await chat.say(tap)))


def test_a_subject_alone_counts_only_when_asked_for() -> None:
    assert names_subject("my order", ORDER_WORDS, bare=True)
    assert names_subject("订单", ORDER_WORDS, bare=True)
    assert not names_subject("my order", ORDER_WORDS)
    assert not names_subject("my order has not arrived", ORDER_WORDS, bare=True)


@pytest.mark.parametrize(
    ("said", "ask", "first_button"),
    [
        ("my account", "what about your account?", "Can't sign in"),
        ("账号", "账号遇到了什么问题", "无法登录"),
        ("my phone", "What is happening with it?", "Device won't turn on"),
        ("耳机", "设备出现了什么情况", "设备无法开机"),
    ],
)
async def test_a_subject_alone_read_unsurely_gets_the_topics(
    demo: DialogEngine, said: str, ask: str, first_button: str
) -> None:
    """ "my account" had been the account deletion FAQ (0.51), "my phone" an article about
    moving data to a new phone."""
    result = await Chat(demo).say(said)
    (reply,) = result.replies
    assert ask in reply.text and reply.buttons[0].title == first_button


async def test_a_subject_alone_read_surely_is_that_intent(demo: DialogEngine) -> None:
    turn = Chat.event(await Chat(demo).say("my order"), "bot.turn")  # the order status, 0.69
    assert turn is not None and turn["intent"] == "check_order" and turn["handled_as"] == "flow"
