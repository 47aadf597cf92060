"""Closing words after an answer ("no, that's all", "好的", "没有了", "算了") end the exchange
politely instead of being read as a question (`dialogs.closing_words`); the demo bot."""

from __future__ import annotations

import pytest

from dialogs.closing_words import closes, emoji_answer, waves
from dialogs.engine import DialogEngine
from tests.dialogs.talk import DEMO_KNOWLEDGE, Chat, demo_engine


@pytest.mark.parametrize(
    "text",
    ["no", "No, that's all", "nope, all good", "ok", "got it!", "never mind", "no thanks",
     "好的", "好", "没有了", "嗯嗯好的", "算了", "不用了", "就这些", "沒有了",
     "👍", "🙏", "👍🏻", "😊", "好的👌", "ok 👍", "[强]", "[抱拳][抱拳]"],
)  # fmt: skip
def test_closing(text: str) -> None:
    assert closes(text)


@pytest.mark.parametrize(
    "text",
    ["", "yes", "thanks", "谢谢", "no sound", "no sound from my speaker", "ok where is my order",
     "好的，那运费多少", "没有收到货", "不用了，我要转人工", "没事了",
     # A thank-you is the bot's `thanks` to answer ("You're welcome!"):
     "ok thanks", "no that is all, thanks", "好的谢谢", "没有了，谢谢",
     # An unhappy face is no closing, nor an emoji beside a question:
     "👎", "😡", "[流泪]", "ok 😭", "[强] 那运费多少", "no sound 👍"],
)  # fmt: skip
def test_asking_or_something_else(text: str) -> None:
    assert not closes(text)


@pytest.fixture(scope="module")
def demo() -> DialogEngine:
    return demo_engine(knowledge=DEMO_KNOWLEDGE)


@pytest.mark.parametrize(
    ("question", "closing", "reply"),
    [
        ("what are your opening hours?", "no that is all", "If anything else comes up"),
        ("what are your opening hours?", "ok", "If anything else comes up"),
        ("你们几点开门", "好的", "如有其他问题"),
        ("你们几点开门", "没有了", "如有其他问题"),
        ("怎么改密码", "算了", "如有其他问题"),
    ],
)
async def test_closing_words_after_an_answer_start_nothing(
    demo: DialogEngine, question: str, closing: str, reply: str
) -> None:
    """Before: "好的" got the store-pickup article, "no that is all" the no-sound one, "没有了"
    a delivery-problem flow asking for an order number, "算了" "didn't get that"."""
    chat = Chat(demo)
    await chat.say(question)
    result = await chat.say(closing)
    (text,) = Chat.texts(result)
    assert reply in text
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["handled_as"] == "closing" and turn["flow"] == ""
    assert Chat.event(result, "kb.answered") is None


@pytest.mark.parametrize(
    ("opening", "answer"), [("my phone won't turn on", "no"), ("手机开不了机", "没有")]
)
async def test_a_question_of_the_bot_reads_its_own_answers_first(
    demo: DialogEngine, opening: str, answer: str
) -> None:
    chat = Chat(demo)
    await chat.say(opening)
    await chat.say(answer)
    assert chat.state["slots"]["on_after_hold"] == "no"
    assert chat.state["flow"] == "power_troubleshooting"


@pytest.mark.parametrize(
    ("question", "thumbs"), [("what are your opening hours?", "👍"), ("你们几点开门", "[强]")]
)
async def test_a_thumbs_up_after_an_answer_is_no_misunderstanding(
    demo: DialogEngine, question: str, thumbs: str
) -> None:
    """Two of them had been two "didn't understand" and then the offer of a person."""
    chat = Chat(demo)
    await chat.say(question)
    for _ in range(2):
        turn = Chat.event(await chat.say(thumbs), "bot.turn")
        assert turn is not None and turn["handled_as"] == "closing"
    assert chat.state["fallbacks"] == 0 and chat.state["offer"] == ""


@pytest.mark.parametrize(
    ("line", "emoji", "helpful"),
    [("the app crashes every time I open it", "👍", True), ("app 一打开就闪退", "[强]", True),
     ("the app crashes every time I open it", "👎", False)],
)  # fmt: skip
async def test_an_emoji_answers_did_this_help(
    demo: DialogEngine, line: str, emoji: str, helpful: bool
) -> None:
    chat = Chat(demo)
    await chat.say(line)
    result = await chat.say(emoji)
    assert [e.data for e in result.events if e.type == "kb.feedback"] == [
        {"article": "app-problems", "helpful": helpful}
    ]


def test_emoji_answers() -> None:
    assert [emoji_answer(t) for t in ("👍", "[强]", "👎😡", "ok 👍", "😭 no")] == [
        "yes",
        "yes",
        "no",
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("wave", "hello"), [("👋", "Frontdesk assistant"), ("👋🏻", "Frontdesk assistant")]
)
async def test_a_wave_alone_is_a_hello(demo: DialogEngine, wave: str, hello: str) -> None:
    assert waves(wave) and not closes(wave)
    result = await Chat(demo).say(wave)
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["intent"] == "greet"
    assert hello in Chat.texts(result)[0]
