"""The demo bot over made-up messages that join real questions with marks and connectives
(`hypothesis`, English and Chinese): a turn never fails, says something, answers at most
`MAX_QUESTIONS` questions (and a flow's question, or a fallback), lists in `bot.turn` what it
answered; and a message with nothing to cut at is answered exactly as with splitting off."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.engine import DialogEngine
from dialogs.questions import MAX_QUESTIONS
from tests.dialogs.talk import Chat, demo_engine

QUESTIONS = [
    "how much is shipping",
    "how long does delivery take",
    "where is my order",
    "can I change the delivery address",
    "what are your opening hours",
    "can I pay with a credit card",
    "how do I reset my password",
    "what is your refund policy",
    "运费多少",
    "几天能到",
    "我的订单到哪了",
    "能改收货地址吗",
    "你们几点开门",
    "可以用信用卡付款吗",
    "密碼忘了怎麼辦",  # Traditional
    "怎么退款",
]
JOINS = ["? ", "？", ". ", "。", ", ", "，", "? also ", " and also ", "？另外", "，还有", " "]
EXAMPLES = settings(max_examples=60, deadline=None, database=None)


@pytest.fixture(scope="module")
def engines() -> tuple[DialogEngine, DialogEngine]:
    demo = demo_engine()
    unsplit = replace(demo.bot.settings, split_confidence=1.0)  # every message read whole
    return demo, DialogEngine(replace(demo.bot, settings=unsplit))


def messages() -> st.SearchStrategy[str]:
    """One to four questions, joined by any of `JOINS`, maybe ending with a mark."""
    questions = st.lists(st.sampled_from(QUESTIONS), min_size=1, max_size=4)
    joins = st.lists(st.sampled_from(JOINS), min_size=3, max_size=3)
    ends = st.sampled_from(["", "?", "？", "!", "~"])

    def build(parts: list[str], between: list[str], end: str) -> str:
        text = parts[0]
        for join, part in zip(between, parts[1:], strict=False):
            text += join + part
        return text + end

    return st.builds(build, questions, joins, ends)


@EXAMPLES
@given(messages())
def test_a_turn_answers_each_question_at_most_once(
    engines: tuple[DialogEngine, DialogEngine], message: str
) -> None:
    demo, _ = engines
    chat = Chat(demo)
    result = asyncio.run(chat.say(message))
    texts = chat.texts(result)
    assert texts and all(text.strip() for text in texts)
    assert len(texts) == len(set(texts))  # no answer twice
    turn = chat.event(result, "bot.turn")
    assert turn is not None
    asked = turn.get("questions", [])
    assert len(asked) <= MAX_QUESTIONS
    assert len({q["intent"] for q in asked}) == len(asked)
    # One reply per question answered, and a flow's own question after them at most.
    assert len(texts) <= max(len(asked), 1) + 1


@EXAMPLES
@given(st.sampled_from(QUESTIONS), st.sampled_from(["", "?", "？"]))
def test_one_question_is_answered_as_without_splitting(
    engines: tuple[DialogEngine, DialogEngine], question: str, end: str
) -> None:
    demo, unsplit = engines
    chat, before = Chat(demo), Chat(unsplit)
    result = asyncio.run(chat.say(question + end))
    expected = asyncio.run(before.say(question + end))
    assert chat.texts(result) == before.texts(expected)
    assert chat.event(result, "bot.turn") == before.event(expected, "bot.turn")
    assert chat.state == before.state
