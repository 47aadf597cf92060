"""Cutting a message into sentences and clauses (`dialogs.splitting`), before anything is
classified: marks, connectives, what is never cut, and what reads as a question."""

from __future__ import annotations

import pytest

from dialogs.splitting import MAX_PARTS, Part, Sentence, split


def texts(message: str) -> list[list[str]]:
    return [[clause.text for clause in sentence.clauses] for sentence in split(message)]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # Question marks, full stops and exclamation marks end sentences; commas end clauses.
        (
            "Hi, where is my order? Can I change the address?",
            [["hi", "where is my order"], ["can i change the address"]],
        ),
        ("我的订单到哪了？能改地址吗？", [["我的订单到哪了"], ["能改地址吗"]]),
        ("运费多少，几天能到", [["运费多少", "几天能到"]]),
        (
            "I want to cancel. What is your refund policy!",
            [["i want to cancel"], ["what is your refund policy"]],
        ),
        ("我想取消订单。退款多久到账！", [["我想取消订单"], ["退款多久到账"]]),
        (
            "where is my order... how much is shipping",
            [["where is my order"], ["how much is shipping"]],
        ),
        ("运费多少；几点开门", [["运费多少"], ["几点开门"]]),
    ],
)
def test_marks_end_sentences_and_clauses(message: str, expected: list[list[str]]) -> None:
    assert texts(message) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # English: a connective at a sentence's start, or before a question word.
        (
            "where is my order? also can I change the address",
            [["where is my order"], ["can i change the address"]],
        ),
        (
            "where is my order also can I change the address",
            [["where is my order"], ["can i change the address"]],
        ),
        (
            "is shipping free? and also, do you ship abroad",
            [["is shipping free"], ["do you ship abroad"]],
        ),
        (
            "is shipping free, by the way are you open today",
            [["is shipping free"], ["are you open today"]],
        ),
        (
            "how much is shipping and how long does it take",
            [["how much is shipping"], ["how long does it take"]],
        ),
        # Chinese: where jieba cuts the connective as words of its own.
        ("我的订单到哪了另外能改地址吗", [["我的订单到哪了"], ["能改地址吗"]]),
        ("运费多少？还有几点开门", [["运费多少"], ["几点开门"]]),
        ("包邮吗？顺便问一下周末营业吗", [["包邮吗"], ["周末营业吗"]]),
        ("密码忘了怎么办，以及怎么改地址", [["密码忘了怎么办"], ["怎么改地址"]]),
        ("运费多少，此外几天能到", [["运费多少"], ["几天能到"]]),
    ],
)
def test_connectives_start_a_new_sentence(message: str, expected: list[list[str]]) -> None:
    assert texts(message) == expected


@pytest.mark.parametrize(
    "message",
    [
        "returns and refunds",  # "and" joins unless a question word follows it
        "can I also pay by card",  # "also" inside a question joins
        "这个优惠券还有效吗",  # "还有" is no connective inside "还 / 有效"
        "where is my order",
        "我的订单到哪了",
        "",
        "?!。…",
    ],
)
def test_one_part_stays_whole(message: str) -> None:
    (sentence,) = split(message)
    assert len(sentence.clauses) == 1


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "where is order A-1234? also how much is shipping",
            [["where is order a-1234"], ["how much is shipping"]],
        ),
        ("I paid 1,200.50 yuan. where is it", [["i paid 1,200.50 yuan"], ["where is it"]]),
        (
            "see https://example.com/orders?id=20261001&x=1.5 and what is this",
            [["see https://example.com/orders?id=20261001&x=1.5"], ["what is this"]],
        ),
        ("订单A-1234到哪了？另外运费多少", [["订单 a-1234 到哪了"], ["运费多少"]]),
        # A comma before a digit may be a thousands separator: "20261001,1" is not cut.
        ("订单20261001,1.5公斤,运费多少", [["订单 20261001,1.5 公斤", "运费多少"]]),
    ],
)
def test_numbers_addresses_and_order_ids_are_never_cut(
    message: str, expected: list[list[str]]
) -> None:
    assert texts(message) == expected


def test_traditional_and_full_width_are_read_as_simplified() -> None:
    assert texts("運費多少，另外幾天能到？") == [["运费多少"], ["几天能到"]]
    assert texts("我的訂單到哪了？還有能改地址嗎") == [["我的订单到哪了"], ["能改地址吗"]]
    assert texts("WHERE IS MY ORDER？ALSO CAN I CHANGE IT") == [
        ["where is my order"],
        ["can i change it"],
    ]


def test_what_reads_as_a_question_and_what_a_connective_joins() -> None:
    assert split("I was charged twice. Can I get a refund?") == (
        Sentence("i was charged twice", False, (Part("i was charged twice", False),)),
        Sentence("can i get a refund", True, (Part("can i get a refund", True),)),
    )
    statement, question = split("我手机开不了机。另外运费多少")
    assert (statement.asked, statement.joined) == (False, True)
    assert (question.asked, question.joined) == (True, True)
    # A "?" after a sentence makes its last clause a question, not its first.
    (sentence,) = split("hello, shipping cost?")
    assert sentence.clauses == (Part("hello", False), Part("shipping cost", True))


@pytest.mark.parametrize(
    ("message", "asked"),
    [
        # The question words and particles of Chinese also make statements.
        ("收到的平板屏幕裂了，还没开机呢，怎么处理", [False, False, True]),
        ("手机几乎没电了，好几次都这样，能修吗", [False, False, True]),
        ("什么都没收到，客服怎么也打不通，退款多久到账", [False, False, True]),
        ("才买了两个月呢，不怎么好用，可以退吗", [False, False, True]),
        # … and still ask where they ask.
        ("那退款呢，还要多久呢，几天能到", [True, True, True]),
        # English: a clause asks with a question word or a question mark.
        (
            "The screen cracked, I have not even turned it on, what should I do?",
            [False, False, True],
        ),
    ],
)
def test_which_clauses_ask(message: str, asked: list[bool]) -> None:
    assert [clause.asked for sentence in split(message) for clause in sentence.clauses] == asked


def test_a_message_of_many_parts_is_left_whole() -> None:
    message = ", ".join(["what"] * (MAX_PARTS + 1))
    (sentence,) = split(message)
    assert sentence.clauses == (Part(sentence.text, True),)


@pytest.mark.parametrize(
    "message",
    [
        "Hi, where is my order? Can I change the address?",
        "你好，我的订单到哪了？能改地址吗？",
    ],
)
def test_a_line_split_again_under_another_limit_gets_that_limits_answer(message: str) -> None:
    # The cutting is remembered for a short line; the limit must still be each call's own.
    for _ in range(2):
        assert len(split(message, max_parts=2)) == 1
        assert [len(s.clauses) for s in split(message)] == [2, 1]
        assert len(split(message, max_parts=2)) == 1
