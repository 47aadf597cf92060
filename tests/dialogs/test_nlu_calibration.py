"""The out-of-scope threshold is derived per bot from its own examples, and can be overridden."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from dialogs.loader import load_bot
from dialogs.nlu import IntentClassifier
from dialogs.nlu_calibration import FLOOR, Calibration, HeldBack, choose_threshold, held_back
from dialogs.training import better_calibrated, train
from tests.dialogs.talk import demo_bot, write_bot
from tests.dialogs.test_nlu import EXAMPLES

OUT_OF_SCOPE = [
    "what's the weather tomorrow",
    "tell me a joke",
    "who won the football game",
    "how tall is the eiffel tower",
    "今天天气怎么样",
    "讲个笑话",
    "谁赢了足球比赛",
    "埃菲尔铁塔有多高",
]


def scored(intent: str | None, predicted: str, confidence: float) -> HeldBack:
    return HeldBack(text="x", intent=intent, predicted=predicted, confidence=confidence, second="")


def test_without_out_of_scope_lines_the_highest_threshold_within_the_rejection_budget() -> None:
    # 20 understood examples at 0.50 … 0.88, two misunderstood at 0.3: at most 10 % of the
    # understood ones (2) may be turned away, so the threshold is the third lowest of them.
    rows = [scored("a", "a", 0.5 + 0.02 * i) for i in range(20)]
    rows += [scored("a", "b", 0.3), scored("b", "a", 0.3)]
    calibration = choose_threshold(rows, folds=5)
    assert calibration.threshold == pytest.approx(0.54)
    assert calibration.rejected == pytest.approx(0.10)
    assert calibration.oos_caught is None
    assert calibration.in_scope == 22 and calibration.folds == 5


def test_out_of_scope_lines_pick_the_best_balanced_threshold_within_the_budget() -> None:
    rows = [scored("a", "a", 0.6 + 0.01 * i) for i in range(20)]
    rows += [scored(None, "a", c) for c in (0.1, 0.2, 0.3, 0.55, 0.7)]
    calibration = choose_threshold(rows, folds=5)
    # 0.6 catches 4 of 5 out-of-scope lines and turns away nothing understood.
    assert calibration.threshold == pytest.approx(0.6)
    assert calibration.oos_caught == pytest.approx(0.8)
    assert calibration.rejected == 0.0


def test_a_bot_with_no_confident_examples_gets_the_floor() -> None:
    assert choose_threshold([scored("a", "b", 0.01)], folds=2).threshold == FLOOR


def test_every_example_is_held_back_once_in_k_fold() -> None:
    seen: list[str] = []

    def train_subset(
        subset: Mapping[str, Sequence[str]], out_of_scope: Sequence[str]
    ) -> Callable[[str], tuple[str, float, str]]:
        def score(text: str) -> tuple[str, float, str]:
            # A classifier must never score a line it was trained on.
            assert all(text not in texts for texts in [*subset.values(), out_of_scope])
            seen.append(text)
            return "a", 0.5, "b"

        return score

    examples = {"a": [f"a{i}" for i in range(7)], "b": [f"b{i}" for i in range(5)], "c": ["c0"]}
    rows, rounds = held_back(examples, ["oos0", "oos1"], train_subset, folds=3)
    assert rounds == 3
    # Every example of an intent with two or more is held back exactly once; "c0" never.
    assert sorted(seen) == sorted([*examples["a"], *examples["b"], "oos0", "oos1"])
    assert {r.intent for r in rows} == {"a", "b", None}


def test_thresholds_are_derived_per_bot_from_its_examples() -> None:
    small = train(EXAMPLES)
    assert small.calibration is not None
    assert small.threshold == small.calibration.threshold
    assert small.calibration.rejected <= 0.10
    with_oos = train({**EXAMPLES, "out_of_scope": OUT_OF_SCOPE})
    assert with_oos.calibration is not None
    assert with_oos.calibration.out_of_scope == len(OUT_OF_SCOPE)
    assert with_oos.calibration.oos_caught is not None
    # `out_of_scope` is no intent: nothing is ever predicted as it.
    assert "out_of_scope" not in with_oos.intents
    assert with_oos.predict("讲个笑话吧").ranking[0].intent != "out_of_scope"
    # Two different bots, two different thresholds (neither is a global constant).
    demo = demo_bot().classifier
    assert demo.calibration is not None
    assert demo.threshold != small.threshold


def test_operators_override_the_threshold_per_bot_and_per_intent(tmp_path: Path) -> None:
    folder = write_bot(
        tmp_path / "bot",
        bot="""
        settings:
          nlu_threshold: 0.42
        faq:
          greet:
            examples: [hello, hi there, good morning, 你好, 早上好]
            answer: {en: Hello!, zh: 您好！}
          refund:
            nlu_threshold: 0.93
            examples: [I want a refund, give me my money back, 我要退款, 怎么退款]
            answer: {en: Refunds take 5 days., zh: 退款需要 5 天。}
        """,
    )
    classifier = load_bot(folder).classifier
    assert classifier.threshold == 0.42
    assert classifier.calibration is None  # given, not derived
    assert classifier.threshold_for("greet") == 0.42
    assert classifier.threshold_for("refund") == 0.93
    prediction = classifier.predict("refund please")
    if prediction.ranking[0].intent == "refund" and prediction.confidence < 0.93:
        assert prediction.intent is None


def test_an_intent_threshold_outside_the_unit_interval_is_a_located_problem(
    tmp_path: Path,
) -> None:
    from dialogs.yamlsource import DialogsInvalid

    folder = write_bot(
        tmp_path / "bot",
        bot="""
        faq:
          greet:
            nlu_threshold: 1.5
            examples: [hello, hi]
            answer: Hello!
          bye:
            examples: [bye, see you]
            answer: Bye!
        """,
    )
    with pytest.raises(DialogsInvalid) as raised:
        load_bot(folder)
    located = [p.located() for p in raised.value.problems]
    assert any(p.endswith("bot.yml:4: must be between 0 and 1 (got 1.5)") for p in located)


def test_a_line_without_known_ngrams_still_gets_suggestions_from_the_embedding() -> None:
    chinese_only = {
        intent: [e for e in examples if not e.isascii()] for intent, examples in EXAMPLES.items()
    }
    classifier = IntentClassifier.train(chinese_only)
    # No character or word of this line occurs in any example: only the embedding places it.
    prediction = classifier.predict("hello, good morning")
    # Never decided by the embedding alone: out of scope, with a ranking to suggest from.
    assert prediction.intent is None
    assert prediction.confidence == 0.0
    assert all(score.confidence > 0.0 for score in prediction.ranking)
    # Nothing at all to go on: no ranking worth showing.
    assert all(s.confidence == 0.0 for s in classifier.predict("😀🎉").ranking)


def test_single_chinese_characters_suggest_but_never_decide() -> None:
    classifier = IntentClassifier.train(
        {
            "abroad": ["能发到香港吗", "可以寄到香港吗", "do you ship to Hong Kong"],
            "greet": ["你好", "早上好", "hello"],
        },
        threshold=0.0,
    )
    # "香蕉" (banana) shares only the character "香" with "香港": a suggestion at most.
    banana = classifier.predict("香蕉")
    assert banana.intent is None and banana.confidence == 0.0
    assert banana.ranking[0].intent == "abroad"
    # Two characters in a row are evidence enough.
    assert classifier.predict("香港").intent == "abroad"


@pytest.fixture
def kinds(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each classifier `dialogs.training` fits is a large one, in order."""
    from dialogs import training

    seen: list[bool] = []
    fit = training.fit

    def recording_fit(*args: object, **kwargs: object) -> IntentClassifier:
        classifier = fit(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(classifier.is_large)
        return classifier

    monkeypatch.setattr(training, "fit", recording_fit)
    return seen


def test_a_bot_is_calibrated_on_models_of_its_own_kind(kinds: list[bool]) -> None:
    # A bot of 1,120 examples is a large bot by its size (`large_by_size`), but four fifths
    # of it are not: calibrated on small models, its threshold came from confidences on
    # another scale than its own (0.199 where its own scale gave 0.32 for the demo bot with
    # four more intents), and out-of-scope lines were answered. Between that size and
    # `LARGE_BOT` both kinds are calibrated, and the bot is the kind that did better.
    from dialogs import nlu
    from tests.dialogs.test_nlu_large_bot import large_bot

    examples = {intent: lines[:35] for intent, lines in large_bot().items()}
    size = sum(map(len, examples.values()))
    assert nlu.large_by_size(size) and not nlu.large_by_size(size * 4 // 5)
    classifier = train(examples, word_vectors=False)
    assert classifier.calibration is not None
    # Five held-back folds of each kind, each as that kind, then the bot as the one chosen.
    assert kinds[:10] == [True] * 5 + [False] * 5
    assert kinds[10:] == [classifier.is_large]
    # A part trained for itself is small; told the whole's kind, large.
    part = {intent: lines[:28] for intent, lines in examples.items()}
    assert not IntentClassifier.train(part, word_vectors=False).is_large
    assert IntentClassifier.train(part, word_vectors=False, large=True).is_large


def test_a_small_bot_is_calibrated_as_its_size_says(kinds: list[bool]) -> None:
    train({**EXAMPLES, "out_of_scope": OUT_OF_SCOPE}, word_vectors=False)
    assert kinds == [False] * 6


def a_calibration(*, accuracy: float, accepted_correct: float, oos: float | None) -> Calibration:
    return Calibration(
        threshold=0.2,
        folds=5,
        in_scope=1000,
        out_of_scope=100 if oos is not None else 0,
        accuracy=accuracy,
        accepted_correct=accepted_correct,
        rejected=0.05,
        oos_caught=oos,
    )


def test_a_kind_that_catches_a_line_or_two_more_does_not_beat_a_more_accurate_one() -> None:
    """With 100 out-of-scope lines, one line is a point of the objective, and how the
    examples fell into folds alone moves a line or two: within that, accuracy decides."""
    accurate = a_calibration(accuracy=0.87, accepted_correct=0.83, oos=0.95)
    catches_one_more = a_calibration(accuracy=0.85, accepted_correct=0.83, oos=0.96)
    assert not better_calibrated(catches_one_more, accurate)
    assert better_calibrated(accurate, catches_one_more)
    # Two lines' worth is still a tie; beyond it, the objective decides again.
    catches_two_more = a_calibration(accuracy=0.85, accepted_correct=0.83, oos=0.97)
    assert not better_calibrated(catches_two_more, accurate)
    catches_five_more = a_calibration(accuracy=0.85, accepted_correct=0.83, oos=1.0)
    assert better_calibrated(catches_five_more, accurate)
    assert not better_calibrated(accurate, catches_five_more)


def test_without_out_of_scope_lines_the_objective_alone_decides() -> None:
    # In-scope shares are measured on every held-back example: no allowance for noise.
    answers_more = a_calibration(accuracy=0.85, accepted_correct=0.84, oos=None)
    more_accurate = a_calibration(accuracy=0.87, accepted_correct=0.835, oos=None)
    assert better_calibrated(answers_more, more_accurate)
    assert not better_calibrated(more_accurate, answers_more)
