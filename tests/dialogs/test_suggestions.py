"""A new customer's first lines: a greeting is greeted, "are you a bot?" is answered honestly,
and a misunderstood line is never offered the complaint queue on a faint resemblance
(`dialogs/suggestions.py`)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dialogs.engine import DialogEngine
from dialogs.nlu import IntentScore
from dialogs.suggestions import HANDOFF_GUESS_SHARE, suggestions
from tests.dialogs.talk import DEMO_DIALOGS, Chat


@pytest.fixture(scope="module")
def engine() -> DialogEngine:
    return DialogEngine.from_path(DEMO_DIALOGS)


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
    assert offered == ["goodbye", "opening_hours"]
    # The same faint score for a person's queue on request: not offered either.
    assert suggestions(bot, ranking(("talk_to_human", faint), ("greet", faint))) == ["greet"]


def test_a_complaint_near_the_threshold_is_still_offered(engine: DialogEngine) -> None:
    bot = engine.bot
    near = HANDOFF_GUESS_SHARE * bot.classifier.threshold_for("complaint") * 1.1
    offered = suggestions(bot, ranking(("complaint", near), ("thanks", 0.06), ("invoice", 0.05)))
    assert offered == ["complaint", "thanks", "invoice"]


def test_the_rule_follows_an_operators_threshold(engine: DialogEngine) -> None:
    strict = replace(engine.bot, classifier=engine.bot.classifier.with_threshold(0.6))
    # 0.2 is near the calibrated threshold, but far from an operator's 0.6.
    assert suggestions(engine.bot, ranking(("complaint", 0.2))) == ["complaint"]
    assert suggestions(strict, ranking(("complaint", 0.2))) == []


# ------------------------------------------------------------------ through the engine


@pytest.mark.parametrize(
    ("line", "greeting"),
    [
        ("嗨～", "您好"),
        ("嗨，你好", "您好"),
        ("哈罗", "您好"),
        ("hey hey", "Hello"),
        ("Hi!! 👋", "Hello"),
    ],
)
async def test_a_greeting_is_greeted_without_buttons(
    engine: DialogEngine, line: str, greeting: str
) -> None:
    result = await Chat(engine).say(line)
    (reply,) = result.replies
    assert reply.text.startswith(greeting) and reply.buttons == ()


@pytest.mark.parametrize(
    ("line", "said", "button"),
    [
        ("are you a bot?", '"agent"', "Talk to a person"),
        ("is this a real person or an AI", '"agent"', "Talk to a person"),
        ("你们是机器人吗", "「人工」", "转人工客服"),
        ("是机器人在回复吗", "「人工」", "转人工客服"),
    ],
)
async def test_are_you_a_bot_is_answered_honestly_and_queues_nobody(
    engine: DialogEngine, line: str, said: str, button: str
) -> None:
    chat = Chat(engine)
    result = await chat.say(line)
    (reply,) = result.replies
    assert said in reply.text
    assert [b.title for b in reply.buttons] == [button]
    assert not [e for e in result.events if e.type == "handoff.requested"]
    # The way it names works: one word reaches a person.
    result = await chat.say(said.strip('"「」'))
    assert [e.data["reason"] for e in result.events if e.type == "handoff.requested"] == [
        "customer_request"
    ]


# Each of these was offered "Make a complaint" / "投诉" by the top-three rule before.
@pytest.mark.parametrize("line", ["emmm", "never mind", "等一下", "我朋友推荐来的"])
async def test_a_harmless_line_is_not_offered_a_complaint(engine: DialogEngine, line: str) -> None:
    result = await Chat(engine).say(line)
    titles = [b.title for r in result.replies for b in r.buttons]
    assert titles  # still a fallback with suggestions: the rule only drops the complaint
    assert not {"Make a complaint", "投诉", "Talk to a person", "转人工客服"} & set(titles)
