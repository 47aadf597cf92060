"""A message that only announces a question gets "tell me what it's about", not a help-centre
article chosen by its one or two words (`dialogs.preamble`); the demo bot, real engine."""

from __future__ import annotations

import pytest

from dialogs.engine import DialogEngine
from dialogs.preamble import announces_question
from tests.dialogs.talk import DEMO_DIALOGS, REPO, Chat


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
    return DialogEngine.from_path(DEMO_DIALOGS, knowledge_path=REPO / "config" / "knowledge")


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
