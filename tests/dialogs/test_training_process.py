"""Training in a process of its own (`dialogs.training_process`, a hub's engine): the same
classifier and the same errors as training in the process that loads the bot.

Each test starts one training process (a few seconds); the tests' own bots otherwise train
in their own process. A real hub doing this is `tests/hub/test_lean_start.py`.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from pathlib import Path

import pytest

from dialogs import training, training_cache
from dialogs.loader import load_bot
from dialogs.yamlsource import DialogsInvalid
from tests.dialogs.talk import write_bot

EXAMPLES = {
    "opening_hours": [
        "when do you open",
        "what are your opening hours",
        "are you open on sunday",
        "你们几点开门",
        "营业时间是什么时候",
        "周日营业吗",
    ],
    "refund": [
        "I want my money back",
        "how do I get a refund",
        "can I return this for a refund",
        "我要退款",
        "怎么申请退款",
        "可以退货退款吗",
    ],
    "delivery": [
        "where is my parcel",
        "when will my order arrive",
        "track my delivery",
        "我的包裹在哪里",
        "订单什么时候到",
        "查一下物流",
    ],
    training.OUT_OF_SCOPE: ["who won the football", "写一首诗", "what's the weather"],
}
LINES = ["what time do you open on saturday", "我想退钱", "my package has not come", "讲个笑话"]


def test_a_classifier_trained_apart_predicts_as_one_trained_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nothing read from disk either: both must be trained.
    monkeypatch.setattr(training_cache, "load", lambda key: None)
    apart = training.train(EXAMPLES, in_child=True)
    # A fresh cache: the same examples would otherwise return the classifier just trained.
    monkeypatch.setattr(training, "_cache", OrderedDict())
    here = training.train(EXAMPLES)
    assert apart is not here
    assert apart.calibration is not None and apart.calibration == here.calibration
    assert apart.threshold == here.threshold
    assert [apart.predict(line) for line in LINES] == [here.predict(line) for line in LINES]
    # What crosses between the processes is the weights, not the word-vector table (16 MB).
    assert len(pickle.dumps(here)) < 1_000_000


def test_a_bad_bot_trained_apart_reads_as_one_trained_here(tmp_path: Path) -> None:
    # Every intent needs an example that is not blank once normalized; a zero-width space
    # passes the checks and fails the fit.
    folder = write_bot(
        tmp_path,
        bot="""\
        version: 1
        faq:
          hello:
            examples: ["hello", "你好"]
            answer: {en: "Hi!", zh: "你好！"}
          blank:
            examples: ["\\u200b"]
            answer: {en: "Never said", zh: "从未说过"}
        """,
    )
    with pytest.raises(DialogsInvalid) as here:
        load_bot(folder)
    with pytest.raises(DialogsInvalid) as apart:
        load_bot(folder, train_in_child=True)
    assert [p.located() for p in apart.value.problems] == [
        f"{folder / 'bot.yml'}:1: cannot train intents: every intent needs a non-blank"
        " example, and at least two intents"
    ]
    assert [p.located() for p in apart.value.problems] == [p.located() for p in here.value.problems]
