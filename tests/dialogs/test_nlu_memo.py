"""A classifier answers a repeated line from its memo: the same prediction as computing it."""

from __future__ import annotations

import pytest

from dialogs.nlu import _MEMO_LENGTH, _MEMO_SIZE, IntentClassifier

EXAMPLES = {
    "hours": ["what are your opening hours", "when are you open", "营业时间是几点", "几点开门"],
    "refund": ["what is your refund policy", "I want my money back", "退货政策是什么", "怎么退款"],
    "points": ["how do I redeem my points", "use my reward points", "积分怎么兑换", "积分能换什么"],
}

LINES = [
    "what are your opening hours",
    "What are  your OPENING hours",  # case and spacing: the same normal form
    "Ｗｈａｔ ａｒｅ ｙｏｕｒ ｏｐｅｎｉｎｇ ｈｏｕｒｓ",  # full-width: the same normal form
    "退货政策是什么",
    "退貨政策是什麼",  # Traditional: the same normal form
    "积分怎么兑换",
    "how do i redeem my points",
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
    assert english.pop().intent == "hours"
    assert chinese.pop().intent == "refund"


def test_every_line_is_right_after_the_memo_has_turned_over(trained: IntentClassifier) -> None:
    warm = fresh(trained)
    expected = {line: fresh(trained).predict(line) for line in LINES}
    for n in range(_MEMO_SIZE + 10):  # pushes every line above out of the memo
        warm.predict(f"question number {n}")
    assert {line: warm.predict(line) for line in LINES} == expected


def test_a_long_line_is_classified_without_being_kept(trained: IntentClassifier) -> None:
    line = "what is your refund policy " * (_MEMO_LENGTH // 20)
    assert len(line) > _MEMO_LENGTH
    warm = fresh(trained)
    assert warm.predict(line) == fresh(trained).predict(line)
    assert warm.predict(line).intent == "refund"


def test_a_new_threshold_is_not_answered_from_the_old_memo(trained: IntentClassifier) -> None:
    line = "what are your opening hours"
    assert trained.predict(line).intent == "hours"
    strict = trained.with_threshold(1.0)
    assert strict.predict(line).intent is None
    assert trained.predict(line).intent == "hours"
