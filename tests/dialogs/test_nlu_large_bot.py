"""A large bot (more than 3,000 examples): its own embedding axes, one held-back fold."""

from __future__ import annotations

import math
import random

import numpy as np
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


def bilingual_large_bot() -> dict[str, list[str]]:
    """`large_bot` with two Chinese examples of tracking an order."""
    examples = large_bot()
    examples["track_order"] = [*examples["track_order"], "我的订单到哪了", "查一下我的订单"]
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
    examples = bilingual_large_bot()
    large = IntentClassifier.train(examples)
    small = IntentClassifier.train({k: v[:5] for k, v in examples.items()})
    near = ["can you cancel my parcel now", "我的订单到哪了"]
    far = "cancel parcel bananas weather purple dinosaur"
    lines = [*near, far]
    scaled = {line: large.predict(line) for line in lines}
    small_before = {line: small.predict(line) for line in lines}
    monkeypatch.setattr(nlu._VectorBlock, "nearness", lambda *_: 1.0)
    # Copies with empty memos (a classifier keeps the predictions it made).
    large, small = large.with_threshold(large.threshold), small.with_threshold(small.threshold)
    plain = {line: large.predict(line) for line in lines}
    for line in lines:
        assert scaled[line].ranking[0].intent == plain[line].ranking[0].intent
        assert small.predict(line) == small_before[line]
    for line in near:
        assert scaled[line].confidence == pytest.approx(plain[line].confidence, rel=0.05)
    assert scaled[far].confidence < 0.8 * plain[far].confidence


def test_naive_bayes_weights_are_each_intents_log_probabilities_of_its_terms() -> None:
    from scipy import sparse  # type: ignore[import-untyped, unused-ignore]

    # Two intents over three terms: intent 0's rows use terms 0 and 1, intent 1's term 2.
    rows = sparse.csr_matrix(
        np.array([[1.0, 0.5, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    )
    weights = nlu._naive_bayes(rows, [0, 0, 1], 2)
    assert weights.shape == (3, 2)  # (terms, intents), like the n-gram weights
    assert np.exp(weights).sum(axis=0) == pytest.approx([1.0, 1.0], abs=1e-5)
    assert weights[0, 0] > weights[1, 0] > weights[2, 0]  # intent 0: term 0 most of all
    assert weights[2, 1] > weights[0, 1]


def test_a_large_bot_adds_naive_bayes_and_the_nearest_example_vote_a_small_bot_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    examples = bilingual_large_bot()
    small_examples = {k: v[:5] for k, v in examples.items()}
    lines = ["can you cancel my parcel now", "我的订单到哪了", "renew subscription"]
    large = IntentClassifier.train(examples)
    small = IntentClassifier.train(small_examples)
    monkeypatch.setattr(nlu, "_NB_WEIGHT", 0.0)
    monkeypatch.setattr(nlu, "_VOTE_WEIGHT", 0.0)
    large_without = IntentClassifier.train(examples)
    small_without = IntentClassifier.train(small_examples)
    for line in lines:
        assert small.predict(line) == small_without.predict(line)
    # Both scores favour the intent the line is like, so its confidence grows (English and
    # Chinese alike); the intent stays the same.
    for line, intent in zip(lines[:2], ["cancel_parcel", "track_order"], strict=True):
        with_both, without = large.predict(line), large_without.predict(line)
        assert with_both.ranking[0].intent == without.ranking[0].intent == intent
        assert with_both.confidence > without.confidence
    assert not np.array_equal(large._ngram_weights, large_without._ngram_weights)
    np.testing.assert_array_equal(small._ngram_weights, small_without._ngram_weights)


def test_the_nearest_example_vote_looks_only_at_the_best_intents_so_far(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    examples = large_bot()
    classifier = IntentClassifier.train(examples)
    block = classifier._vectors
    assert block is not None and block.examples is not None
    # Every intent has 100 examples: no padding, one row per example.
    assert block.examples.shape == (len(examples), 100, nlu._PROJECTED)
    embedding = block.embed("can you cancel my parcel now")
    cancel = classifier.intents.index("cancel_parcel")
    scores = np.zeros(len(examples), dtype=np.float32)
    scores[[cancel, 0]] = 1.0  # the two best intents so far
    monkeypatch.setattr(nlu, "_VOTE_INTENTS", 2)
    nearest = block.nearest(embedding, scores)
    assert nearest is not None
    assert nearest[cancel] > 0.9  # an example of it says nearly the same
    assert np.count_nonzero(nearest) <= 2
    assert set(np.flatnonzero(nearest).tolist()) <= {cancel, 0}
    assert block.nearest(np.zeros_like(embedding), scores) is None  # no word vector


def test_one_huge_intent_keeps_an_even_sample_for_the_vote() -> None:
    examples = large_bot()
    # 32 intents of 100 examples; one more of 2,000: the width is capped at 4 × the mean.
    examples["chat"] = [f"just chatting about item {n} today" for n in range(2000)]
    classifier = IntentClassifier.train(examples)
    block = classifier._vectors
    assert block is not None and block.examples is not None
    mean = sum(len(v) for v in examples.values()) / len(examples)
    assert block.examples.shape[1] == math.ceil(nlu._NEAREST_WIDTH * mean) < 2000
    chat = classifier.intents.index("chat")
    assert np.all(np.linalg.norm(block.examples[chat], axis=1) > 0.99)  # all rows real
    assert classifier.predict("just chatting about item 1999 today").intent == "chat"


def test_a_large_bots_looser_solver_tolerance_keeps_its_predictions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Large bots stop the SVM solver at liblinear's own tolerance (a third of the passes on
    # CLINC150); the intents and, nearly, the confidences are those of the tight tolerance, in
    # English and Chinese. Small bots keep the tight one: their weights do not change at all.
    examples = bilingual_large_bot()
    small_examples = {k: v[:5] for k, v in examples.items()}
    loose = IntentClassifier.train(examples)
    small = IntentClassifier.train(small_examples)
    monkeypatch.setattr(nlu, "_LARGE_TOL", nlu._TOL)
    tight = IntentClassifier.train(examples)
    lines = [
        "can you cancel my parcel now",
        "how do i renew my subscription",
        "help me repair my laptop today",
        "我的订单到哪了",
        "查一下我的订单",
        "cancel parcel bananas weather purple dinosaur",
    ]
    for line in lines:
        a, b = loose.predict(line), tight.predict(line)
        assert a.ranking[0].intent == b.ranking[0].intent, line
        assert a.confidence == pytest.approx(b.confidence, abs=0.02), line
    monkeypatch.setattr(nlu, "_LARGE_TOL", 0.5)
    np.testing.assert_array_equal(
        IntentClassifier.train(small_examples)._ngram_weights, small._ngram_weights
    )


def test_training_runs_on_one_blas_thread_throughout(monkeypatch: pytest.MonkeyPatch) -> None:
    # The principal axes of a large bot's embeddings took ten times the CPU on two BLAS
    # threads spinning on a shared machine as on one; the SVM fit had its own limit already.
    from threadpoolctl import (  # type: ignore[import-untyped, unused-ignore]
        threadpool_info,
        threadpool_limits,
    )

    seen: list[int] = []
    fit = nlu._VectorBlock.fit

    def recording_fit(*args: object, **kwargs: object) -> object:
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return fit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(nlu._VectorBlock, "fit", recording_fit)
    with threadpool_limits(limits=2, user_api="blas"):  # the caller's setting, whatever it is
        IntentClassifier.train(large_bot())
    assert seen and set(seen) == {1}
