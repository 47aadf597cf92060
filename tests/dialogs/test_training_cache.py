"""Trained classifiers kept on disk (`dialogs/training_cache.py`): read back instead of
trained again, never trusted when damaged, foreign or made by other code."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from dialogs import training, training_cache
from dialogs.nlu import IntentClassifier
from tests.dialogs.test_nlu import EXAMPLES

LINES = ["where is my parcel now", "我要退钱", "hello there"]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FRONTDESK_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(training, "_cache", type(training._cache)())
    return tmp_path / "nlu"


def train_again(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Forget this process's classifiers and count the trainings that follow."""
    monkeypatch.setattr(training, "_cache", type(training._cache)())
    trainings: list[int] = []
    trained = training._trained

    def counting(*args: object) -> IntentClassifier:
        trainings.append(1)
        return trained(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(training, "_trained", counting)
    return trainings


def bot() -> dict[str, list[str]]:
    return {**EXAMPLES, "out_of_scope": ["tell me a joke", "讲个笑话", "明天天气怎么样"]}


def test_a_restart_reads_the_classifier_instead_of_training(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = training.train(bot(), word_vectors=False)
    assert len(list(folder.glob("*.classifier"))) == 1
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    trainings = train_again(monkeypatch)
    again = training.train(bot(), word_vectors=False)
    assert trainings == []
    assert again.threshold == first.threshold and again.calibration == first.calibration
    for line in LINES:
        assert again.predict(line) == first.predict(line)
    # Another bot is another file.
    training.train({**bot(), "thanks": ["thank you", "谢谢"]}, word_vectors=False)
    assert trainings == [1]


def test_a_damaged_file_is_trained_again_and_replaced(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    training.train(bot(), word_vectors=False)
    (kept,) = folder.glob("*.classifier")
    kept.write_bytes(kept.read_bytes()[:100])
    trainings = train_again(monkeypatch)
    classifier = training.train(bot(), word_vectors=False)
    assert trainings == [1] and classifier.predict("我要退钱").intent == "refund"
    assert kept.stat().st_size > 100  # replaced by the new training


def test_a_file_someone_else_owns_is_never_unpickled(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    training.train(bot(), word_vectors=False)
    trainings = train_again(monkeypatch)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(folder).st_uid + 1)
    training.train(bot(), word_vectors=False)
    assert trainings == [1]


def test_other_code_or_libraries_never_read_an_old_classifier(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    training.train(bot(), word_vectors=False)
    trainings = train_again(monkeypatch)
    monkeypatch.setattr(training_cache, "_fingerprint", lambda: "another release")
    training.train(bot(), word_vectors=False)
    assert trainings == [1]


def test_a_cache_that_cannot_be_written_is_warned_about_and_training_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("FRONTDESK_CACHE_DIR", str(blocker))
    monkeypatch.setattr(training_cache, "_warned", [])
    train_again(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="frontdesk.dialogs"):
        classifier = training.train(bot(), word_vectors=False)
    assert classifier.predict("where is my parcel now").intent == "order_status"
    assert "each start trains again" in caplog.text


def test_only_the_latest_classifiers_are_kept(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(training_cache, "KEEP", 2)
    first = bot()
    training.train(first, word_vectors=False)
    for n in range(3):
        training.train({**first, "thanks": [f"thank you {n}", "谢谢"]}, word_vectors=False)
    assert len(list(folder.glob("*.classifier"))) == 2
    assert [p.name for p in folder.iterdir()] == [p.name for p in folder.glob("*.classifier")]
