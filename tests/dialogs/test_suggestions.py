"""A misunderstood line is never offered the complaint queue (or a person's) on a faint
resemblance (`dialogs/suggestions.py`): in English and Chinese."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dialogs.engine import DialogEngine
from dialogs.nlu import IntentScore
from dialogs.suggestions import HANDOFF_GUESS_SHARE, suggestions
from tests.dialogs.talk import Chat, demo_engine


@pytest.fixture(scope="module")
def engine() -> DialogEngine:
    return demo_engine()


def ranking(*scores: tuple[str, float]) -> list[IntentScore]:
    return [IntentScore(intent=intent, confidence=confidence) for intent, confidence in scores]


# ------------------------------------------------------------------ the suggestion rule


def test_a_faint_complaint_is_not_offered_but_a_faint_question_is(engine: DialogEngine) -> None:
    bot = engine.bot
    faint = HANDOFF_GUESS_SHARE * bot.classifier.threshold_for("complaint") * 0.9
    # "嗨～" was ranked like this: everything about equal, complaint first by a hair.
    offered = suggestions(
        bot, ranking(("complaint", faint), ("goodbye", faint), ("opening_hours", faint))
    )
    assert offered == ["opening_hours"]  # (nor a goodbye: small talk is no "did you mean")
    # The same faint score for a person's queue on request: not offered either.
    assert suggestions(bot, ranking(("talk_to_human", faint), ("invoice", faint))) == ["invoice"]


def test_a_complaint_near_the_threshold_is_still_offered(engine: DialogEngine) -> None:
    bot = engine.bot
    near = HANDOFF_GUESS_SHARE * bot.classifier.threshold_for("complaint") * 1.1
    offered = suggestions(bot, ranking(("complaint", near), ("refund", 0.06), ("invoice", 0.05)))
    assert offered == ["complaint", "invoice"]  # ("refund" is no intent of the demo)


def test_greetings_thanks_and_goodbyes_are_never_offered(engine: DialogEngine) -> None:
    # "你好，我上周买的笔记本到现在还没发货": its 你好 had put "Greeting" among the buttons.
    offered = suggestions(
        engine.bot,
        ranking(("greet", 0.3), ("check_order", 0.2), ("goodbye", 0.1), ("thanks", 0.1)),
    )
    assert offered == ["check_order"]


@pytest.mark.parametrize(
    "lines",
    [
        ["你好，我那个东西到底怎么回事啊"],  # "Greeting" and "Goodbye" were its buttons
        ["how do i delete my account", "will my order history be gone too?"],  # "Goodbye"
    ],
)
async def test_small_talk_is_not_among_the_buttons_of_a_line_not_understood(
    engine: DialogEngine, lines: list[str]
) -> None:
    chat = Chat(engine)
    for line in lines:
        result = await chat.say(line)
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["handled_as"] == "fallback"
    offered = [b.payload for reply in result.replies for b in reply.buttons]
    assert not {"/greet", "/thanks", "/goodbye"} & set(offered)


def test_the_rule_follows_an_operators_threshold(engine: DialogEngine) -> None:
    strict = replace(engine.bot, classifier=engine.bot.classifier.with_threshold(0.6))
    # 0.2 is near the calibrated threshold, but far from an operator's 0.6.
    assert suggestions(engine.bot, ranking(("complaint", 0.2))) == ["complaint"]
    assert suggestions(strict, ranking(("complaint", 0.2))) == []


# ------------------------------------------------------------------ through the engine


# Lines a new customer writes that the demo bot does not understand, each offered "Make a
# complaint" / "投诉" or "Talk to a person" by the top-three rule before, on a faint score.
@pytest.mark.parametrize("line", ["嗨～", "等一下", "hmm"])
async def test_a_harmless_line_is_not_offered_a_complaint(engine: DialogEngine, line: str) -> None:
    result = await Chat(engine).say(line)
    titles = [b.title for r in result.replies for b in r.buttons]
    assert not {"Make a complaint", "投诉", "Talk to a person", "转人工客服"} & set(titles)
    assert not [e for e in result.events if e.type == "handoff.requested"]
