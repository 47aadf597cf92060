"""Sentiment: accuracy on the labelled customer-service sets, and the Chinese rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff import sentiment
from handoff.sentiment_zh import score as zh_score

DATA = Path(__file__).parent / "data"


def labelled(language: str) -> list[tuple[str, str]]:
    rows = []
    for line in (DATA / f"sentiment_{language}.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, text = line.split("\t")
            rows.append((label, text))
    return rows


@pytest.mark.parametrize("language", ["en", "zh"])
def test_labelled_sets_are_large_and_balanced(language: str) -> None:
    rows = labelled(language)
    assert len(rows) >= 200
    counts = {label: sum(1 for lab, _ in rows if lab == label) for label in sentiment.LABELS}
    assert min(counts.values()) >= 60, counts
    assert all(sentiment.language_of(text) == language for _, text in rows)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_accuracy_on_the_labelled_set(language: str) -> None:
    report = sentiment.evaluate(labelled(language))
    # Measured 0.94 (en) and 0.93 (zh) three-way; negative-vs-rest is what triggers use.
    assert report["accuracy"] >= 0.85, report
    assert report["negative_accuracy"] >= 0.9, report


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("好", "positive"),
        ("不好", "negative"),  # negation flips
        ("服务很差", "negative"),
        ("不是很差", "positive"),  # negated negative leans positive, damped
        ("别再给我发这些没用的回复", "negative"),  # the negation's scope ends before 没用
        ("能帮我看看付款成功了吗？", "neutral"),  # a question, not praise
        ("请问发票在哪里？", "neutral"),
        ("没问题，谢谢", "positive"),
    ],
)
def test_chinese_rules(text: str, expected: str) -> None:
    assert sentiment.label(sentiment.score(text)) == expected, sentiment.score(text)


def test_intensifiers_scale_and_exclamations_add() -> None:
    assert zh_score("非常差") < zh_score("差") < 0
    assert zh_score("有点差") > zh_score("差")
    assert zh_score("太差了！！！") < zh_score("太差了")


def test_mood_trend() -> None:
    falling = sentiment.mood([0.6, 0.2, -0.3, -0.7])
    assert falling.trend_label == "falling" and falling.lowest == -0.7
    assert sentiment.mood([0.1, 0.1, 0.1]).trend_label == "steady"
    assert sentiment.mood([]).scored == 0


@pytest.mark.parametrize(
    "text",
    [
        "不急，慢慢来",  # patience, not a slow service
        "不着急，慢慢处理就行",
        "我想退款",  # a request, not anger
        "退款要多久到账？",
        "I don't want to complain, how do I redeem my points?",
        "it's not urgent, where is my order?",
        "我不想投诉，只是想问一下积分怎么兑换",
    ],
)
def test_calm_requests_and_denied_complaints_are_not_negative(text: str) -> None:
    assert sentiment.label(sentiment.score(text)) != "negative", sentiment.score(text)


@pytest.mark.parametrize(
    "text", ["骗子！马上给我退款", "This is a scam, I want a refund now!", "退款拖了一个月，太慢了"]
)
def test_angry_refund_demands_stay_negative(text: str) -> None:
    assert sentiment.score(text) <= -0.5, sentiment.score(text)
