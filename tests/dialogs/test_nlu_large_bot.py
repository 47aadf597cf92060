"""A large bot (more than 3,000 examples): its own embedding axes, one held-back fold."""

from __future__ import annotations

import random

import pytest

from dialogs import nlu
from dialogs.nlu import IntentClassifier
from dialogs.nlu_calibration import LARGE_BOT
from dialogs.training import train

VERBS = ["check", "change", "cancel", "track", "renew", "upgrade", "repair", "return"]
THINGS = ["order", "parcel", "subscription", "invoice", "phone", "laptop", "plan", "account"]
FILLERS = ["please", "asap", "today", "for me", "now", "thanks", "quickly", "if you can", ""]


def large_bot() -> dict[str, list[str]]:
    rng = random.Random(7)
    examples: dict[str, list[str]] = {}
    for verb in VERBS:
        for thing in THINGS[:4]:
            lines = {
                f"{rng.choice(['i want to', 'can you', 'help me', 'how do i'])} {verb} my "
                f"{thing} {rng.choice(FILLERS)} {rng.choice(FILLERS)} {n}"
                for n in range(100)
            }
            examples[f"{verb}_{thing}"] = sorted(lines)
    return examples


def test_a_large_bot_trains_calibrates_on_one_fold_and_understands() -> None:
    examples = large_bot()
    total = sum(len(v) for v in examples.values())
    assert total > LARGE_BOT
    classifier = train(examples)
    calibration = classifier.calibration
    assert calibration is not None
    assert calibration.folds == 1  # one held-back fold, not five
    assert 0.15 * total <= calibration.in_scope <= 0.25 * total
    assert classifier.predict("can you cancel my parcel now").intent == "cancel_parcel"
    assert classifier.predict("how do i renew my subscription").intent == "renew_subscription"
    assert 0.05 <= classifier.threshold <= 0.9


def test_fitting_intents_in_groups_gives_the_svms_of_one_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One-vs-rest, each intent's SVM is the same however the other intents are labelled, so
    # fitting them in groups (which bounds the solver's memory) changes no weight.
    examples = dict(list(large_bot().items())[:7])
    examples["track_order"] = [
        "track my order",
        "where is my order",
        "我的订单到哪了",
        "查一下订单",
    ]
    whole = IntentClassifier.train(examples)
    monkeypatch.setattr(nlu, "_FIT_GROUP", 3)  # 8 intents: groups of 3, 3 and 2
    grouped = IntentClassifier.train(examples)
    for line in ["can you change my parcel now", "i want to check my order", "我的订单到哪了"]:
        a, b = whole.predict(line), grouped.predict(line)
        assert a.ranking[0].intent == b.ranking[0].intent
        assert a.confidence == pytest.approx(b.confidence, abs=0.02)
    assert grouped.predict("我的订单到哪了").ranking[0].intent == "track_order"


def test_a_large_bot_leaves_out_words_of_one_example_a_small_bot_keeps() -> None:
    examples = large_bot()
    examples["check_order"] = [*examples["check_order"], "check my order zyxwv", "查订单啊"]
    large = IntentClassifier.train(examples)
    small = IntentClassifier.train(
        {k: v[:5] for k, v in examples.items()}
        | {"check_order": ["check my order zyxwv", "查订单啊"]}
    )
    assert large.predict("check my order please").intent == "check_order"
    assert large.predict("查订单").ranking[0].intent == "check_order"
    # A word of one example is no feature of a large bot: the line is known only to the word
    # vectors, which suggest but never decide (confidence 0) …
    assert large.predict("zyxwv").confidence == 0.0
    # … while a small bot, whose words are mostly rare, keeps it.
    assert small.predict("zyxwv").ranking[0].intent == "check_order"
    assert small.predict("zyxwv").confidence > 0.0
    # A large bot also leaves out the character n-grams of more than 5 % of its examples
    # (" my " is in nearly all of them); its words stay, however frequent.
    assert " my " not in large._vocabulary.index
    assert "\x00my" in large._vocabulary.index
    assert " my " in small._vocabulary.index

    # Nor does it keep character 5-grams (a fifth of the solver's work on CLINC150); the small
    # bot keeps them.
    def char_lengths(classifier: IntentClassifier) -> set[int]:
        return {len(term) for term in classifier._vocabulary.index if term[0] != "\x00"}

    assert max(char_lengths(large)) == 4
    assert max(char_lengths(small)) == 5
    assert "\x00cancel" in large._vocabulary.index


def test_a_large_bot_scales_confidence_by_the_nearest_example(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A line sharing an intent's words but near none of its examples is less sure in a large
    # bot than the softmax alone says; a line like the examples keeps its confidence (English
    # and Chinese); the ranking is unchanged; a small bot does not scale at all.
    examples = large_bot()
    examples["track_order"] = [*examples["track_order"], "我的订单到哪了", "查一下我的订单"]
    large = IntentClassifier.train(examples)
    small = IntentClassifier.train({k: v[:5] for k, v in examples.items()})
    near = ["can you cancel my parcel now", "我的订单到哪了"]
    far = "cancel parcel bananas weather purple dinosaur"
    lines = [*near, far]
    scaled = {line: large.predict(line) for line in lines}
    small_before = {line: small.predict(line) for line in lines}
    monkeypatch.setattr(nlu._VectorBlock, "nearness", lambda *_: 1.0)
    plain = {line: large.predict(line) for line in lines}
    for line in lines:
        assert scaled[line].ranking[0].intent == plain[line].ranking[0].intent
        assert small.predict(line) == small_before[line]
    for line in near:
        assert scaled[line].confidence == pytest.approx(plain[line].confidence, rel=0.05)
    assert scaled[far].confidence < 0.8 * plain[far].confidence
