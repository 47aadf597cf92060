"""A short question that leans on the one before is read after it (`dialogs.topic`). The demo
bot with its knowledge base, its real classifier; English and Chinese."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from dialogs.engine import DialogEngine
from dialogs.loader import load_bot
from dialogs.topic import MAX_TOPIC_TEXT, Topic, points_back
from tests.dialogs.talk import (
    DEMO_KNOWLEDGE,
    Chat,
    demo_bot,
    demo_engine,
    write_bot,
)


@pytest.fixture(scope="module")
def demo() -> DialogEngine:
    return demo_engine(knowledge=DEMO_KNOWLEDGE)


async def ask_twice(
    engine: DialogEngine, first: str, then: str, *, wait: float = 20.0
) -> tuple[dict[str, Any], dict[str, Any] | None, list[str]]:
    """Say `first`, then `then` `wait` seconds later: the second turn's `bot.turn`, the article
    it quoted (`kb.answered`) and its replies."""
    chat = Chat(engine)
    await chat.say(first)
    result = await chat.say(then, wait=wait)
    turn = chat.event(result, "bot.turn")
    assert turn is not None
    return turn, chat.event(result, "kb.answered"), chat.texts(result)


@pytest.mark.parametrize(
    ("first", "then", "intent", "answer"),
    [
        # Alone: the customs article (0.28, "shipped"); after the question: cancel_order.
        (
            "can I cancel the order I placed this morning?",
            "and if it has already shipped?",
            "cancel_order",
            "Orders that have not shipped can be cancelled",
        ),
        # Alone: the sound problems' article ("headphones"); after the question: the discount.
        (
            "is there a student discount?",
            "does it work on headphones too?",
            "student_discount",
            "",
        ),
        # Alone: nothing understood (an article about water, 0.06); after it: gift cards.
        ("礼品卡有有效期吗", "那余额用不完怎么办", "gift_cards", ""),
        # Alone: nothing; after the question: the return policy.
        ("买的手表不喜欢能退吗", "拆封了呢", "refund_policy", ""),
        # Alone: the instalments article by its "pay"; but the answer names WeChat Pay.
        ("can I pay with alipay", "and wechat pay?", "payment_methods", "WeChat Pay"),
        # Alone: a goodbye, faintly (0.19); built on the last question, it is one.
        ("可以用支付宝吗", "那银联呢", "payment_methods", "银联"),
        # Read after its question, 0.30 only; the answer says "质量问题 1 年内可换新". Alone:
        # the software-updates article by its 问题.
        ("超过30天还能退吗", "如果是质量问题呢", "refund_policy", "质量问题"),
        ("can I return it after 30 days", "what if it's faulty?", "refund_policy", "Faulty"),
    ],
)
async def test_a_follow_up_of_an_faq_is_answered_by_that_faq(
    demo: DialogEngine, first: str, then: str, intent: str, answer: str
) -> None:
    turn, _, replies = await ask_twice(demo, first, then)
    assert (turn["intent"], turn.get("follow_up")) == (intent, True)
    assert turn["handled_as"] in {"faq", "knowledge"}
    assert answer in "\n".join(replies)


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("is the sports watch waterproof?", "can I wear it in the shower?"),
        ("这款手表防水吗", "那洗澡的时候能戴吗"),
    ],
)
async def test_a_follow_up_of_an_article_is_answered_from_that_article(
    demo: DialogEngine, first: str, then: str
) -> None:
    turn, quoted, _ = await ask_twice(demo, first, then)
    assert quoted is not None and quoted["article"] == "water-resistance"
    assert turn.get("follow_up") is True


@pytest.mark.parametrize(
    ("first", "then"),
    [
        # Read after "do you deliver to Japan?", it is shipping abroad again (0.7); alone and
        # after the question the knowledge base gives it the same article: its own question.
        ("do you deliver to Japan?", "will I need to pay import duties?"),
        ("你们可以寄到韩国吗", "还要另外交关税吗"),
    ],
)
async def test_a_neighbouring_question_with_an_article_of_its_own_gets_that_article(
    demo: DialogEngine, first: str, then: str
) -> None:
    turn, quoted, _ = await ask_twice(demo, first, then)
    assert quoted is not None and quoted["article"] == "customs-duties"
    assert "follow_up" not in turn


@pytest.mark.parametrize(
    ("first", "then", "intent"),
    [
        # A new question read at 0.36 says nothing of the address: it is not more of it.
        ("收货地址写错了，能改吗", "刚下的单我不要了", "cancel_order"),
        # Thanks are never more of a topic, even with "it" in them.
        ("how much is shipping?", "cool, appreciate it", "thanks"),
        ("运费多少钱", "好的谢谢", "thanks"),
        # A line out of scope, with no word pointing back, is still out of scope.
        ("how much is shipping?", "who won the world cup in 2018", None),
        ("礼品卡有有效期吗", "世界杯谁是冠军", None),
        # Nor after an article: the knowledge base is not asked with the topic's words.
        ("is the sports watch waterproof?", "who won the world cup in 2018", None),
        ("这款手表防水吗", "世界杯谁是冠军", None),
    ],
)
async def test_a_new_question_or_small_talk_is_not_more_of_the_topic(
    demo: DialogEngine, first: str, then: str, intent: str | None
) -> None:
    turn, _, _ = await ask_twice(demo, first, then)
    assert turn["intent"] == intent and "follow_up" not in turn


@pytest.mark.parametrize(
    ("text", "points"),
    [
        ("and to Germany?", True),
        ("what if it already shipped?", True),
        ("那发货以后呢", True),
        ("老師也有嗎", True),  # Traditional: 也
        ("how do I reset my password", False),
        ("刚下的单我不要了", False),
    ],
)
def test_words_that_point_back(text: str, points: bool) -> None:
    assert points_back(text) is points


@pytest.mark.parametrize(
    ("first", "then", "intent"),
    [
        ("how much is shipping?", "how do I reset my password?", "password_reset"),
        ("运费多少钱", "密码忘了怎么重置", "password_reset"),
    ],
)
async def test_a_question_understood_alone_is_read_alone(
    demo: DialogEngine, first: str, then: str, intent: str
) -> None:
    turn, _, _ = await ask_twice(demo, first, then)
    assert turn["intent"] == intent and "follow_up" not in turn


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("can I cancel the order I placed this morning?", "and if it has already shipped?"),
        ("礼品卡有有效期吗", "那余额用不完怎么办"),
    ],
)
async def test_the_topic_lasts_the_follow_up_window_and_can_be_turned_off(
    demo: DialogEngine, first: str, then: str
) -> None:
    window = demo.bot.settings.follow_up_window
    turn, _, _ = await ask_twice(demo, first, then, wait=window + 1)
    assert "follow_up" not in turn
    off = DialogEngine(
        replace(demo.bot, settings=replace(demo.bot.settings, follow_up_window=0.0)),
        knowledge=demo.knowledge,
    )
    turn, _, _ = await ask_twice(off, first, then, wait=1.0)
    assert "follow_up" not in turn


def test_the_window_is_a_setting(tmp_path: Any) -> None:
    folder = write_bot(
        tmp_path / "bot",
        bot="""
        settings:
          follow_up_window: 0
        faq:
          hours:
            examples: [when are you open, opening hours]
            answer: {en: "9 to 5"}
          shipping:
            examples: [how much is shipping, delivery cost]
            answer: {en: "Free over 50"}
        """,
    )
    assert load_bot(folder).settings.follow_up_window == 0.0
    assert demo_bot().settings.follow_up_window == 300.0


def test_a_kept_topic_is_read_back_tolerantly() -> None:
    topic = Topic(text="x" * 500, intent="gift_cards", article="", at=12.0)
    assert Topic.from_json(topic.to_json()) == replace(topic, text="x" * MAX_TOPIC_TEXT)
    for damaged in (None, "gift_cards", {"text": "", "at": 1.0}, {"text": "hi", "at": "now"}):
        assert Topic.from_json(damaged) is None
