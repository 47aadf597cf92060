"""The negation-aware word matcher on lines customers write (en + zh): a trigger word
counts when it is said, not when it is denied."""

from __future__ import annotations

import pytest

from handoff.negation import asserted, occurrences
from handoff.settings import load_settings
from tests.support import REPO

SETTINGS = load_settings(REPO / "config" / "handoff.yaml").triggers
COMPLAINT, URGENT = SETTINGS.complaint_words, SETTINGS.urgent_words
HUMAN = SETTINGS.human_phrases

# Said: each line must fire its kind of word.
SAID = [
    ("complaint", "I want to make a complaint about the courier"),
    ("complaint", "I'm going to complain to consumer protection"),
    ("complaint", "This is a scam. Refund now!"),
    ("complaint", "I don't know who else to ask, so I'm filing a complaint"),
    ("complaint", "No, I really want to complain"),
    ("complaint", "not happy at all, I want to complain"),
    ("complaint", "Nobody answered my emails and I will complain"),
    ("complaint", "I will call my lawyer"),
    ("urgent", "URGENT: my card was charged twice"),
    ("urgent", "It doesn't turn on, urgent!"),
    ("urgent", "my phone won't charge and it's urgent"),
    ("urgent", "no it's urgent"),
    ("urgent", "I can't log in. I need it right now"),
    ("urgent", "please call me asap"),
    ("complaint", "我要投诉"),
    ("complaint", "我要投诉你们的快递员"),
    ("complaint", "再不处理我就打12315"),
    ("complaint", "不满意，要投诉"),
    ("complaint", "我不管，我要投诉"),
    ("complaint", "你们这是骗子吧"),
    ("urgent", "很急，订单还没到"),
    ("urgent", "手机不开机，急"),
    ("urgent", "手机不开机急死了"),
    ("urgent", "开不了机急死了"),
    ("urgent", "麻烦马上帮我处理"),
    ("urgent", "紧急！路由器冒烟了"),
    ("urgent", "不能用了，赶紧看看"),
]

# Denied: none of these may fire.
DENIED = [
    "I don't want to complain, how do I redeem my points?",
    "I'm not complaining, just asking about the warranty",
    "Not a complaint, just a question about my invoice",
    "I'd never sue you, I just want my order",
    "it's not urgent, where is my order",
    "no emergency, whenever you have time",
    "not really urgent but my screen flickers",
    "nothing urgent, how much is shipping to Canada?",
    "It's not urgent at all",
    "I don’t want to file a complaint",
    "我不想投诉，只是想问一下积分怎么兑换",
    "不急，慢慢来",
    "不着急，订单到哪了",
    "没那么急，下周能到就行",
    "不是很急，礼品卡怎么用",
    "一点也不急",
    "并不紧急",
    "不用马上回复",
    "不需要立刻处理，有空再看",
    "我没有要投诉的意思",
    "别急，我就问问",
    "不打算起诉，只想退货",
    # Taken back later in the message.
    "how do I complain about… no wait I just want the hours",
    "I want to file a complaint. Scratch that, where is my order?",
    "我想投诉一下…算了，问下你们几点开门",
    "我要投诉！不对不对，我是想问营业时间",
]


@pytest.mark.parametrize(("kind", "text"), SAID)
def test_words_said_fire(kind: str, text: str) -> None:
    words = COMPLAINT if kind == "complaint" else URGENT
    assert asserted(text, words), text


@pytest.mark.parametrize("text", DENIED)
def test_words_denied_do_not_fire(text: str) -> None:
    assert asserted(text, COMPLAINT) == () and asserted(text, URGENT) == (), text
    # … because they are denied, not because they are missing.
    assert any(o.negated for o in occurrences(text, COMPLAINT) + occurrences(text, URGENT))


def test_a_word_said_once_plainly_counts_even_if_denied_elsewhere() -> None:
    text = "not a complaint about you, but a complaint about the courier"
    assert asserted(text, COMPLAINT) == ("complaint",)
    assert [o.negated for o in occurrences(text, COMPLAINT)] == [True, False]


def test_a_retraction_takes_back_only_what_came_before_it() -> None:
    assert asserted("never mind the hours, I want to complain", COMPLAINT) == ("complain",)
    assert asserted("算了，我要投诉", COMPLAINT) == ("投诉",)
    # A fault is not a correction: "尺码不对" leaves the complaint standing.
    assert asserted("我要投诉，尺码不对", COMPLAINT) == ("投诉",)


def test_requests_for_a_person_read_the_sentence_too() -> None:
    assert asserted("can I talk to a human please", HUMAN)
    assert asserted("我要转人工", HUMAN)
    assert asserted("I don't want to talk to a human, just tell me the price", HUMAN) == ()
    assert asserted("不用转人工，我自己看看", HUMAN) == ()


def test_whole_words_only_and_full_width_text() -> None:
    assert asserted("the insurgents", URGENT) == ()
    assert asserted("ＵＲＧＥＮＴ：my order", URGENT) == ("urgent",)
    assert asserted("非常紧急，打１２３１５", COMPLAINT) == ("12315",)
