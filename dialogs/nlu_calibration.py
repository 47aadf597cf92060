"""The out-of-scope threshold of a bot, derived from the bot's own examples at training time.

A constant cannot fit every bot: confidences spread over 5 intents look nothing like those over
50, and a bot whose examples overlap is less sure of everything. So each bot measures itself:

1. **Held-back examples.** The examples are dealt into folds (each intent's examples in turn,
   after a seeded shuffle); a classifier trained without a fold scores that fold. Small bots use
   `FOLDS` folds; a bot with more than `LARGE_BOT` examples holds back one fold only (a fifth,
   or about `LARGE_HOLD_OUT` examples for a very large bot), so calibrating costs one extra fit
   instead of five. Intents with a
   single example stay in training and are never held back.
2. **Out-of-scope examples.** Lines the operator lists under the `out_of_scope` intent are
   one more class of the classifier (`dialogs.nlu.OUT_OF_SCOPE`), dealt into the same folds:
   each is scored by a classifier trained on the others (a large bot, which holds back one
   fold, scores a fifth of them). A line the classifier finds nearest to that class scores
   0.0: no threshold answers it.
3. **The rule.** Candidate thresholds are the observed confidences. Only thresholds that
   turn away at most `MAX_REJECTED` of the held-back in-scope examples the classifier got
   right are allowed (turning away one it got wrong is a gain: suggestions beat a wrong
   answer); among them, with out-of-scope examples, the one with the best balanced accuracy
   (in-scope answered correctly + out-of-scope turned away, each as a share); without them,
   the highest allowed one.
   The result is kept within [`FLOOR`, `CEILING`].

Operators can still set `nlu_threshold` for the bot or per intent; those override this.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Calibration", "HeldBack", "Trainer", "calibrate", "choose_threshold", "held_back"]

FOLDS = 5
LARGE_BOT = 3000
LARGE_HOLD_OUT = 1500
#: At most this share of the held-back in-scope examples that were understood may be turned
#: away (turning away a misunderstood one is a gain: it gets suggestions, not a wrong answer).
MAX_REJECTED = 0.10
FLOOR = 0.05
CEILING = 0.9
SEED = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldBack:
    """One held-back example as a classifier trained without it saw it."""

    text: str
    intent: str | None  # the true intent; None for an out-of-scope example
    predicted: str  # the best intent
    confidence: float
    second: str  # the runner-up intent ("" with fewer than two)


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """The derived threshold and what it costs on the held-back examples (shares in [0, 1])."""

    threshold: float
    folds: int
    in_scope: int  # held-back in-scope examples scored
    out_of_scope: int  # out-of-scope examples scored
    accuracy: float  # held-back in-scope answered correctly with no threshold
    accepted_correct: float  # … answered correctly with the threshold
    rejected: float  # held-back in-scope understood but turned away by the threshold
    oos_caught: float | None  # out-of-scope turned away (None without such examples)


# (intent → examples, out-of-scope lines) → scorer
Trainer = Callable[[Mapping[str, Sequence[str]], Sequence[str]], "Scorer"]
Scorer = Callable[[str], tuple[str, float, str]]  # text → (best, confidence, runner-up)


def held_back(
    examples: Mapping[str, Sequence[str]],
    out_of_scope: Sequence[str],
    train: Trainer,
    *,
    folds: int | None = None,
) -> tuple[list[HeldBack], int]:
    """Score held-back examples (and each out-of-scope one) with a classifier that was
    trained without them; returns the scores and the number of classifiers trained.

    With `folds` given, every example is held back once (k-fold cross-validation, as
    `frontdesk dialogs evaluate` does); otherwise as the module docstring says."""
    rng = np.random.default_rng(SEED)
    total = sum(len(v) for v in examples.values())
    if folds is not None:
        rounds = folds = max(2, folds)
    elif total <= LARGE_BOT:
        rounds = folds = FOLDS
    else:
        folds, rounds = max(FOLDS, round(total / LARGE_HOLD_OUT)), 1
    # An intent with a single example is never held back (fold -1).
    fold_of = {
        intent: _dealt(len(texts), folds, rng) if len(texts) >= 2 else [-1] * len(texts)
        for intent, texts in examples.items()
    }
    oos_fold = _dealt(len(out_of_scope), folds, rng)
    found: list[HeldBack] = []
    for fold in range(rounds):
        kept = {
            intent: [t for t, f in zip(texts, fold_of[intent], strict=True) if f != fold]
            for intent, texts in examples.items()
        }
        if any(not texts for texts in kept.values()):
            continue  # cannot happen with ≥ 2 examples per held-back intent; be safe
        score = train(kept, [t for t, f in zip(out_of_scope, oos_fold, strict=True) if f != fold])
        for intent, texts in examples.items():
            for text, f in zip(texts, fold_of[intent], strict=True):
                if f == fold:
                    best, confidence, second = score(text)
                    found.append(
                        HeldBack(
                            text=text,
                            intent=intent,
                            predicted=best,
                            confidence=confidence,
                            second=second,
                        )
                    )
        for text in (t for t, f in zip(out_of_scope, oos_fold, strict=True) if f == fold):
            best, confidence, second = score(text)
            found.append(
                HeldBack(
                    text=text, intent=None, predicted=best, confidence=confidence, second=second
                )
            )
    return found, rounds


def _dealt(count: int, folds: int, rng: np.random.Generator) -> list[int]:
    """The fold of each of `count` lines, dealt in turn after a seeded shuffle."""
    position = np.empty(count, dtype=np.int64)
    position[rng.permutation(count)] = np.arange(count)
    return [int(p) % folds for p in position]


def choose_threshold(scored: Sequence[HeldBack], *, folds: int) -> Calibration:
    """Apply the rule in the module docstring to held-back scores."""
    inside = [s for s in scored if s.intent is not None]
    outside = [s for s in scored if s.intent is None]
    conf_in = np.array([s.confidence for s in inside], dtype=np.float64)
    correct = np.array([s.predicted == s.intent for s in inside], dtype=bool)
    conf_out = np.array([s.confidence for s in outside], dtype=np.float64)

    def cost(threshold: float) -> tuple[float, float, float | None]:
        accepted = conf_in >= threshold
        rejected = float(np.mean(~accepted[correct])) if correct.any() else 0.0
        accepted_correct = float(np.mean(accepted & correct)) if len(inside) else 0.0
        caught = float(np.mean(conf_out < threshold)) if len(outside) else None
        return accepted_correct, rejected, caught

    candidates = sorted({FLOOR, *np.round(conf_in, 6).tolist(), *np.round(conf_out, 6).tolist()})
    allowed = [t for t in candidates if FLOOR <= t <= CEILING and cost(t)[1] <= MAX_REJECTED]
    if not allowed:
        threshold = FLOOR
    elif outside:
        # Ties go to the lowest threshold: it answers the most customers.
        threshold = max(allowed, key=lambda t: (cost(t)[0] + (cost(t)[2] or 0.0), -t))
    else:
        threshold = allowed[-1]
    accepted_correct, rejected, caught = cost(threshold)
    return Calibration(
        threshold=round(float(threshold), 4),
        folds=folds,
        in_scope=len(inside),
        out_of_scope=len(outside),
        accuracy=float(np.mean(correct)) if len(inside) else 0.0,
        accepted_correct=accepted_correct,
        rejected=rejected,
        oos_caught=caught,
    )


def calibrate(
    examples: Mapping[str, Sequence[str]],
    out_of_scope: Sequence[str],
    train: Trainer,
) -> tuple[Calibration, list[HeldBack]]:
    """The calibrated threshold of a bot, and the held-back scores it was derived from."""
    scored, folds = held_back(examples, out_of_scope, train)
    return choose_threshold(scored, folds=folds), scored
