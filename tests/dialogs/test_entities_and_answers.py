"""Pure functions behind understanding: entities, yes/no, options (English and Chinese)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from dialogs.affirm import is_question, opens_with_answer, polarity, still_failing
from dialogs.entities import EntityDef, builtin, extract
from dialogs.flows import Where
from dialogs.options import Option, choose

SUNDAY = date(2026, 11, 29)
WEDNESDAY = date(2026, 12, 2)
HERE = Where(path="test", line=1)


def values(name: str, text: str, today: date = SUNDAY) -> list[str]:
    return [found.value for found in extract(text, builtin(name), today=today)]


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("can you deliver it tomorrow?", SUNDAY, ["2026-11-30"]),
        ("明天能送到吗", SUNDAY, ["2026-11-30"]),
        ("後天", SUNDAY, ["2026-12-01"]),  # Traditional
        ("下周一来取", SUNDAY, ["2026-11-30"]),
        ("下周一来取", WEDNESDAY, ["2026-12-07"]),
        ("next Monday please", WEDNESDAY, ["2026-12-07"]),
        ("on Friday", WEDNESDAY, ["2026-12-04"]),
        ("星期五", WEDNESDAY, ["2026-12-04"]),
        ("last monday", WEDNESDAY, ["2026-11-30"]),
        ("delivered on 2026-11-18", SUNDAY, ["2026-11-18"]),
        ("12月3日到货", SUNDAY, ["2026-12-03"]),
        ("Dec 3rd or 5 December", SUNDAY, ["2026-12-03", "2026-12-05"]),
        ("2026-02-30", SUNDAY, []),
        ("no date here", SUNDAY, []),
    ],
)
def test_dates_in_english_and_chinese(text: str, today: date, expected: list[str]) -> None:
    assert values("date", text, today) == expected


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("time", "call me at 3pm", ["15:00"]),
        ("time", "下午3点半", ["15:30"]),
        ("time", "晚上八点", ["20:00"]),
        ("time", "at 09:45", ["09:45"]),
        ("amount", "I was charged ¥25 twice", ["25 CNY"]),
        ("amount", "扣了25块钱", ["25 CNY"]),
        ("amount", "it cost 19.99 dollars", ["19.99 USD"]),
        ("number", "I want 3 of them", ["3"]),
        ("number", "买两个", ["2"]),
        ("number", "1,200.50 total", ["1200.5"]),
        ("email", "mail me at Ana@Example.COM.", ["ana@example.com"]),
        ("email", "我的邮箱是ｌｉ＠ｅｘａｍｐｌｅ．ｃｎ", ["li@example.cn"]),  # full-width
        ("phone", "call +86 138 0013 8000 please", ["+8613800138000"]),
        ("phone", "我的电话13800138000", ["13800138000"]),
        ("phone", "call 12345", []),
    ],
)
def test_built_in_entities(name: str, text: str, expected: list[str]) -> None:
    assert values(name, text) == expected


def test_regex_and_lookup_entities() -> None:
    order = EntityDef(name="order", where=HERE, pattern=re.compile(r"(?<!\d)\d{4,12}(?!\d)"))
    assert [f.value for f in extract("where is my order 20261001?", order, today=SUNDAY)] == [
        "20261001"
    ]
    device = EntityDef(
        name="device",
        where=HERE,
        lookup={"phone": "phone", "手机": "phone", "smart watch": "watch", "watch": "watch"},
    )
    found = extract("My Smart Watch and my 手机", device, today=SUNDAY)
    assert [(f.value, f.text) for f in found] == [("watch", "smart watch"), ("phone", "手机")]
    assert extract("watchful", device, today=SUNDAY) == []  # whole words only in English


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my order is 2026 1001", [("20261001", "2026 1001")]),
        ("订单号：2026－1001", [("20261001", "2026-1001")]),  # full-width dash, folded
        ("orders 20261001 and 2026-1002", [("20261001", "20261001"), ("20261002", "2026-1002")]),
    ],
)
def test_a_regex_entity_leaves_out_what_it_ignores(
    text: str, expected: list[tuple[str, str]]
) -> None:
    grouped = re.compile(r"(?<![\d-])\d{4}[ -]\d{4}(?![\d-])|(?<!\d)\d{8}(?!\d)")
    order = EntityDef(name="order", where=HERE, pattern=grouped, ignore=" -")
    assert [(f.value, f.text) for f in extract(text, order, today=SUNDAY)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "开机了",
        "开了",
        "亮了",
        "開機了",
        "是的",
        "好",
        "可以",
        "看得到",
        "yes",
        "Yep!",
        "yes it did",
        "it works now",
        "ＯＫ",
        "你好，开机了",
        "Good evening, yes it works",
        "不好意思，开机了",
        "no problem",
        "not bad",
    ],
)
def test_yes_in_the_customers_own_words(text: str) -> None:
    assert polarity(text) == "yes"


@pytest.mark.parametrize(
    "text",
    [
        "没有",
        "没亮",
        "没有亮",
        "沒亮",
        "看不到",
        "还是不行",
        "没反应",
        "不用了",
        "no",
        "no still nothing",
        "nope",
        "it didn't",
        "not really",
        "您好，没有",
        "hello, no",
        "不好意思，还是没亮",
        "没问题，但是还是没亮",
        "no problem, still won't turn on",
    ],
)
def test_no_in_the_customers_own_words(text: str) -> None:
    assert polarity(text) == "no"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "banana",
        "kkkk",
        "不知道",
        "I don't know",
        "可以退货吗",
        "你们几点开门",
        "what is your refund policy",
        "😀",
        "x" * 500,
        # greetings, though "好" and "good" are yes words
        "你好",
        "您好！",
        "你們好",
        "早上好",
        "good morning",
        "Good evening!",
    ],
)
def test_neither_yes_nor_no(text: str) -> None:
    assert polarity(text) is None


@pytest.mark.parametrize(
    ("text", "opens"),
    [
        ("no, not really", True),
        ("Hi, yes it helped", True),
        ("没有帮助，耳机还是没声音", True),
        ("有帮助，谢谢", True),
        ("蓝牙耳机右边突然不响了", False),  # a no (不) inside a description
        ("快递送来的音箱外壳裂了", False),  # a yes (了) inside one
        ("the speaker arrived cracked, no sound", False),
        ("", False),
    ],
)
def test_a_message_that_opens_with_its_answer(text: str, opens: bool) -> None:
    assert opens_with_answer(text) is opens


def test_questions() -> None:
    assert (
        is_question("可以退货吗") and is_question("怎么退货") and is_question("how do I return it")
    )
    assert not is_question("开机了") and not is_question("no still nothing")


YES_NO = [
    Option(value="yes", titles=("Yes", "是")),
    Option(value="no", titles=("No", "否"), words=("still dead",)),
]


@pytest.mark.parametrize(
    ("text", "chosen"),
    [
        ("YES", "yes"),
        ("否。", "no"),
        ("still dead", "no"),
        ("开机了", "yes"),
        ("no still nothing", "no"),
        ("Yess", "yes"),
        ("banana", None),
        ("", None),
    ],
)
def test_choosing_a_yes_no_option(text: str, chosen: str | None) -> None:
    assert choose(text, YES_NO) == chosen


def test_choosing_by_title_typo_or_by_the_buttons_intent() -> None:
    options = [
        Option(value="check my order", titles=("Try another number", "换一个订单号")),
        Option(value="/talk_to_human", titles=("Talk to a human", "转人工客服")),
    ]
    assert choose("try anther number", options) == "check my order"
    assert choose("换个订单号", options) == "check my order"
    assert choose("I want a real person", options, intent="talk_to_human") == "/talk_to_human"
    assert choose("I want a real person", options) is None


@pytest.mark.parametrize(
    ("text", "failing"),
    [
        ("I already updated it, still crashes", True),
        ("tried that, no luck", True),
        ("it doesn't work", True),
        ("已经更新过了还是闪退", True),
        ("试过了，没用", True),
        ("試過了，還是一樣", True),  # Traditional
        ("yes it works now", False),
        ("thanks, that fixed it", False),
        ("开机了", False),
        ("好了，谢谢", False),
    ],
)
def test_still_failing(text: str, failing: bool) -> None:
    assert still_failing(text) is failing
