"""Tests of the NLU intent classifier on a small English + Chinese bot (no network, no timing)."""

from __future__ import annotations

import dataclasses

import pytest

from dialogs.nlu import IntentClassifier, IntentScore, Prediction

EXAMPLES: dict[str, list[str]] = {
    "greeting": [
        "hello",
        "hi there",
        "good morning",
        "hey, how are you?",
        "good evening",
        "你好",
        "早上好",
        "您好，在吗",
        "嗨，有人吗",
    ],
    "order_status": [
        "where is my order",
        "track my package",
        "has my order shipped yet",
        "when will my parcel arrive",
        "what is the status of my order",
        "我的订单到哪了",
        "查一下订单状态",
        "快递什么时候到",
        "我的包裹发货了吗",
    ],
    "refund": [
        "I want a refund",
        "give me my money back",
        "how do I return this item for a refund",
        "refund my purchase",
        "can I get reimbursed for this",
        "我要退款",
        "怎么申请退款",
        "退货退钱",
        "钱什么时候退给我",
    ],
}


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    return IntentClassifier.train(EXAMPLES)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hello!", "greeting"),
        ("hi, good morning to you", "greeting"),
        ("你好呀", "greeting"),
        ("my order hasn't arrived, where is it?", "order_status"),
        ("订单什么时候到", "order_status"),
        ("I'd like my money back please", "refund"),
        ("请帮我退款", "refund"),
    ],
)
def test_predicts_unseen_paraphrases_in_both_languages(
    classifier: IntentClassifier, text: str, intent: str
) -> None:
    prediction = classifier.predict(text)
    assert prediction.intent == intent
    assert prediction.confidence >= classifier.threshold


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("helo there", "greeting"),
        ("where is my pakage", "order_status"),
        ("refnd please", "refund"),
    ],
)
def test_tolerates_typos(classifier: IntentClassifier, text: str, intent: str) -> None:
    assert classifier.predict(text).intent == intent


@pytest.mark.parametrize(
    "text",
    ["asdkjh qwpoe zzxq", "what is the capital of france", "今天天气怎么样", "xkcd 42 lorem ipsum"],
)
def test_gibberish_and_unrelated_text_is_out_of_scope(
    classifier: IntentClassifier, text: str
) -> None:
    prediction = classifier.predict(text)
    assert prediction.intent is None
    assert prediction.confidence < classifier.threshold


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "😀🎉👍",
        "\x00\x01\x1b[31m\x7f",
        "\u200b\u200d\ufeff",
        "\ud800",
        "a" * 10_000,
    ],
)
def test_odd_input_never_crashes_and_is_out_of_scope(
    classifier: IntentClassifier, text: str
) -> None:
    prediction = classifier.predict(text)
    assert prediction.intent is None
    assert 0.0 <= prediction.confidence <= 1.0
    assert len(prediction.ranking) == 3


def test_very_long_relevant_input_is_still_classified(classifier: IntentClassifier) -> None:
    assert classifier.predict("where is my order? " * 600).intent == "order_status"


def test_control_characters_inside_text_are_ignored(classifier: IntentClassifier) -> None:
    assert classifier.predict("where\x00 is my\x1b order\u200b").intent == "order_status"


def test_ranking_is_sorted_and_confidences_are_probabilities(
    classifier: IntentClassifier,
) -> None:
    prediction = classifier.predict("I want my money back")
    confidences = [score.confidence for score in prediction.ranking]
    assert prediction.ranking[0].intent == prediction.intent == "refund"
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert sum(confidences) == pytest.approx(1.0, abs=1e-4)
    assert prediction.confidence == confidences[0]
    assert {score.intent for score in prediction.ranking} == set(EXAMPLES)


def test_ranking_lists_at_most_five_intents_and_at_least_three() -> None:
    examples = {f"intent_{i}": [f"example number {i} about topic {i}"] for i in range(8)}
    classifier = IntentClassifier.train(examples, word_vectors=False)
    assert len(classifier.predict("example about topic 3").ranking) == 5


def test_intents_and_default_threshold(classifier: IntentClassifier) -> None:
    assert classifier.intents == ("greeting", "order_status", "refund")
    assert 0.0 < classifier.threshold < 1.0


def test_threshold_is_configurable(classifier: IntentClassifier) -> None:
    strict = IntentClassifier.train(EXAMPLES, threshold=0.999)
    assert strict.threshold == 0.999
    assert strict.predict("hi there, good morning").intent is None

    lenient = classifier.with_threshold(0.0)
    assert lenient.threshold == 0.0
    assert lenient.predict("asdkjh qwpoe zzxq").intent in EXAMPLES
    assert classifier.predict("asdkjh qwpoe zzxq").intent is None  # the original is unchanged


@pytest.mark.parametrize("threshold", [-0.1, 1.5, float("nan")])
def test_threshold_outside_unit_interval_is_rejected(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        IntentClassifier.train(EXAMPLES, threshold=threshold)


def test_works_without_word_vectors() -> None:
    classifier = IntentClassifier.train(EXAMPLES, word_vectors=False)
    assert classifier.predict("where is my ordr").intent == "order_status"
    assert classifier.predict("我要退款啊").intent == "refund"


def test_two_intents() -> None:
    examples = {"yes": ["yes", "sure", "ok", "是的"], "no": ["no", "nope", "never", "不要"]}
    classifier = IntentClassifier.train(examples)
    assert classifier.predict("yes sure").intent == "yes"
    assert classifier.predict("不要不要").intent == "no"


@pytest.mark.parametrize(
    "examples",
    [{}, {"only": ["one intent"]}, {"a": ["fine"], "b": ["", "   "]}],
)
def test_too_few_usable_examples_is_an_error(examples: dict[str, list[str]]) -> None:
    with pytest.raises(ValueError, match="intent"):
        IntentClassifier.train(examples)


def test_value_types_are_frozen_slotted_keyword_only(classifier: IntentClassifier) -> None:
    prediction = classifier.predict("hello")
    for value in (prediction, prediction.ranking[0]):
        assert dataclasses.is_dataclass(value)
        assert not hasattr(value, "__dict__")
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.confidence = 0.5  # type: ignore[misc]
    with pytest.raises(TypeError):
        IntentScore("greeting", 0.5)  # type: ignore[call-arg]
    assert isinstance(prediction, Prediction)


def test_training_is_deterministic() -> None:
    first = IntentClassifier.train(EXAMPLES).predict("I'd like my money back please")
    second = IntentClassifier.train(EXAMPLES).predict("I'd like my money back please")
    assert first == second


def test_two_intents_confidences_are_complementary() -> None:
    examples = {"yes": ["yes", "sure", "ok", "是的"], "no": ["no", "nope", "never", "不要"]}
    prediction = IntentClassifier.train(examples).predict("sure, ok")
    assert prediction.intent == "yes"
    assert sum(score.confidence for score in prediction.ranking) == pytest.approx(1.0, abs=1e-4)


OUT_OF_SCOPE_LINES = [
    "what's the weather tomorrow",
    "tell me a joke",
    "who won the football match",
    "recommend a good film",
    "how do I cook rice",
    "明天天气怎么样",
    "讲个笑话",
    "昨晚球赛谁赢了",
    "推荐一部好看的电影",
    "米饭怎么煮",
]


@pytest.fixture(scope="module")
def with_class() -> IntentClassifier:
    return IntentClassifier.train(EXAMPLES, threshold=0.0, out_of_scope=OUT_OF_SCOPE_LINES)


@pytest.mark.parametrize(
    "text", ["will it rain tomorrow, what's the weather", "明天会下雨吗，天气怎么样"]
)
def test_a_line_nearest_the_out_of_scope_lines_is_out_of_scope_at_any_threshold(
    with_class: IntentClassifier, text: str
) -> None:
    # Threshold 0 answers anything by confidence; the class still turns these away.
    prediction = with_class.predict(text)
    assert prediction.intent is None and prediction.confidence == 0.0
    # The class is no intent: never ranked, so never suggested.
    assert "out_of_scope" not in [score.intent for score in prediction.ranking]
    assert len(prediction.ranking) == min(5, len(EXAMPLES))


@pytest.mark.parametrize(
    ("text", "intent"), [("where is my parcel now", "order_status"), ("我要退钱", "refund")]
)
def test_the_out_of_scope_class_leaves_the_intents_their_lines(
    with_class: IntentClassifier, text: str, intent: str
) -> None:
    assert with_class.predict(text).intent == intent
    assert with_class.intents == tuple(EXAMPLES)


def test_the_out_of_scope_class_survives_the_trip_between_processes(
    with_class: IntentClassifier,
) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(with_class))
    assert copy.intents == with_class.intents
    assert copy.predict("明天会下雨吗，天气怎么样").intent is None


def test_out_of_scope_names_the_lines_not_an_intent() -> None:
    with pytest.raises(ValueError, match="out_of_scope"):
        IntentClassifier.train(
            {**EXAMPLES, "out_of_scope": ["tell me a joke"]}, out_of_scope=["讲个笑话"]
        )
