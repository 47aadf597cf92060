"""A greeting, thanks or goodbye answers no question: a message that asks one and reads only
faintly (below `WEAK_INTENT`) as small talk is read as nothing, so the bot never says goodbye
to "nice, does it come in red?". Small talk itself, and small talk read surely, are answered
as before. The demo bot with its knowledge base and its real classifier; English and
Chinese."""

from __future__ import annotations

import pytest

from dialogs.affirm import is_question
from dialogs.engine import DialogEngine
from dialogs.suggestions import SMALL_TALK
from dialogs.turns import WEAK_INTENT
from tests.dialogs.talk import DEMO_KNOWLEDGE, Chat, demo_engine


@pytest.fixture(scope="module")
def demo() -> DialogEngine:
    return demo_engine(knowledge=DEMO_KNOWLEDGE)


@pytest.mark.parametrize(
    ("text", "misread_as"),
    [
        ("nice, does it come in red?", "goodbye"),
        ("see, can it survive a drop?", "goodbye"),
        ("well then, can I wear it while I sleep?", "greet"),
        ("ok thanks but is it safe in the sauna?", "thanks"),
        (
            "那洗澡能戴吗",
            "goodbye",
        ),  # then can I wear it in the shower? (its 那 reads as 那我先走了)
        ("那睡觉能戴吗", "goodbye"),
        ("谢谢那送人可以包装吗", "thanks"),  # can you gift-wrap it?
    ],
)
async def test_a_question_faintly_read_as_small_talk_is_not_answered_as_small_talk(
    demo: DialogEngine, text: str, misread_as: str
) -> None:
    prediction = demo.bot.classifier.predict(text)
    assert prediction.intent == misread_as and prediction.confidence < WEAK_INTENT
    assert is_question(text)
    result = await Chat(demo).say(text)
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["intent"] not in SMALL_TALK
    small_talk = {
        demo.bot.faqs[name].answer.pick(lang, "en") for name in SMALL_TALK for lang in ("en", "zh")
    }
    assert not set(Chat.texts(result)) & small_talk


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("see you", "goodbye"),
        ("thanks a lot", "thanks"),
        ("hello, anyone there?", "greet"),  # a question, and surely a greeting
        ("那我先走了", "goodbye"),
        ("在吗", "greet"),  # a question too
        ("谢谢", "thanks"),
    ],
)
async def test_small_talk_is_still_answered(demo: DialogEngine, text: str, intent: str) -> None:
    result = await Chat(demo).say(text)
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["intent"] == intent
    assert Chat.texts(result)
