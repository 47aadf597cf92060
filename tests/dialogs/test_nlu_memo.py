"""A classifier answers a repeated line from its memo: the same prediction as computing it."""

from __future__ import annotations

import pytest

from dialogs.nlu import _MEMO_LENGTH, _MEMO_SIZE, IntentClassifier
from tests.dialogs.test_nlu import EXAMPLES

LINES = [
    "where is my order",
    "Where IS  my order",  # case and spacing: the same normal form
    "ｗｈｅｒｅ ｉｓ ｍｙ ｏｒｄｅｒ",  # full-width: the same normal form
    "查一下订单状态",
    "查一下訂單狀態",  # Traditional: the same normal form
    "我要退款",
    "give me my money back",
    "the weather on mars",
    "",
]


@pytest.fixture(scope="module")
def trained() -> IntentClassifier:
    return IntentClassifier.train(EXAMPLES)


def fresh(classifier: IntentClassifier) -> IntentClassifier:
    """The same model with an empty memo."""
    return classifier.with_threshold(classifier.threshold)


@pytest.mark.parametrize("line", LINES)
def test_a_repeated_line_gets_the_prediction_computed_for_it(
    trained: IntentClassifier, line: str
) -> None:
    warm = fresh(trained)
    first = warm.predict(line)
    for _ in range(3):
        assert warm.predict(line) is first  # kept, not computed again
    assert fresh(trained).predict(line) == first


def test_lines_of_one_normal_form_share_one_prediction(trained: IntentClassifier) -> None:
    warm = fresh(trained)
    english = {warm.predict(line) for line in LINES[:3]}
    chinese = {warm.predict(line) for line in LINES[3:5]}
    assert len(english) == len(chinese) == 1
    assert english.pop().intent == "order_status"
    assert chinese.pop().intent == "order_status"


def test_every_line_is_right_after_the_memo_has_turned_over(trained: IntentClassifier) -> None:
    warm = fresh(trained)
    expected = {line: fresh(trained).predict(line) for line in LINES}
    for n in range(_MEMO_SIZE + 10):  # pushes every line above out of the memo
        warm.predict(f"question number {n}")
    assert {line: warm.predict(line) for line in LINES} == expected


def test_a_long_line_is_classified_without_being_kept(trained: IntentClassifier) -> None:
    line = "how do I return this item for a refund " * (_MEMO_LENGTH // 30)
    assert len(line) > _MEMO_LENGTH
    warm = fresh(trained)
    assert warm.predict(line) == fresh(trained).predict(line)
    assert warm.predict(line).intent == "refund"


def test_a_new_threshold_is_not_answered_from_the_old_memo(trained: IntentClassifier) -> None:
    line = "where is my order"
    assert trained.predict(line).intent == "order_status"
    strict = trained.with_threshold(1.0)
    assert strict.predict(line).intent is None
    assert trained.predict(line).intent == "order_status"
