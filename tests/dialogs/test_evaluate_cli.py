"""`frontdesk dialogs evaluate`: k-fold cross-validation of a bot's examples, per language."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.cli import EXIT_FAILED, EXIT_INVALID, main
from dialogs.evaluation import evaluate
from tests.dialogs.talk import write_bot

BOT = """
faq:
  greet:
    examples: [hello, hi there, good morning, hey, "<script>alert(1)</script> hi",
               你好, 早上好, 您好, 嗨]
    answer: {en: Hello!, zh: 您好！}
  refund:
    examples: [I want a refund, give me my money back, refund please, how do I get a refund,
               我要退款, 怎么退款, 退钱, 申请退款]
    answer: {en: Refunds take 5 days., zh: 退款需要 5 天。}
  order:
    examples: [where is my order, track my parcel, has it shipped, order status,
               我的订单到哪了, 查订单, 发货了吗, 快递到哪了]
    answer: {en: It ships today., zh: 今天发货。}
intents:
  out_of_scope:
    examples: [tell me a joke, what's the weather, 讲个笑话, 今天天气怎么样]
"""


@pytest.fixture
def bot(tmp_path: Path) -> Path:
    return write_bot(tmp_path / "bot", bot=BOT)


def test_markdown_report_per_language(bot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(bot), "--folds", "4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# NLU evaluation")
    assert "- **folds**: 4" in out
    assert "calibrated threshold" in out
    for section in ("## en", "## zh"):
        assert section in out
    assert "| greet | 5 |" in out  # five English greetings
    assert "| greet | 4 |" in out  # four Chinese ones
    assert "out-of-scope caught" in out
    assert "Confusion (rows: true, columns: predicted)" in out
    assert "out_of_scope" not in out.split("## en")[1]  # calibration lines are no intent


def test_html_report_is_escaped(bot: Path, tmp_path: Path) -> None:
    report = tmp_path / "nlu.html"
    assert main(["evaluate", str(bot), "--report", str(report)]) == 0
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "<table>" in page and "<h2>zh</h2>" in page
    assert "<script>" not in page


def test_markdown_report_file(bot: Path, tmp_path: Path) -> None:
    report = tmp_path / "nlu.md"
    assert main(["evaluate", str(bot), "--report", str(report)]) == 0
    assert "## zh" in report.read_text(encoding="utf-8")


def test_bad_arguments(bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(bot), "--folds", "1"]) == EXIT_INVALID
    assert "--folds" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "missing")]) == EXIT_INVALID
    assert "no such file" in capsys.readouterr().err
    unwritable = tmp_path / "no-such-dir" / "report.md"
    assert main(["evaluate", str(bot), "--report", str(unwritable)]) == EXIT_FAILED
    assert "cannot write" in capsys.readouterr().err


def test_confused_pairs_and_claimed_examples() -> None:
    examples = {
        "a": ["open the door", "open the gate", "open it", "please open"],
        "b": ["open the window", "close the door", "close the gate", "close it"],
        "c": ["打开门", "开门", "把门打开", "开一下门"],
    }
    result = evaluate(examples, folds=2, word_vectors=False)
    assert result.folds == 2
    by_lang = {r.lang: r for r in result.languages}
    assert set(by_lang) == {"en", "zh"}
    en = by_lang["en"]
    assert en.examples == 8
    assert sum(f.support for f in en.intents) == 8
    misses = [s for s in en.claimed if s.predicted != s.intent]
    assert misses == list(en.claimed)
    assert (
        sum(n for _, _, n in en.confused)
        == sum(count for true, row in en.confusion.items() for p, count in row.items() if p != true)
        or len(en.confused) == 10
    )


def test_examples_shared_once_normalized() -> None:
    examples = {"a": ["退货", "return it", "send back"], "b": ["退貨", "keep it", "hold on"]}
    result = evaluate(examples, folds=2, word_vectors=False)
    assert result.shared == (("退貨", "a", "b"),)
