"""A large bot (more than 3,000 examples): its own embedding axes, one held-back fold."""

from __future__ import annotations

import random

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
