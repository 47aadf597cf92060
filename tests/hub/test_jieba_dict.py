"""jieba over a compact copy of its dictionary cuts every text exactly as jieba does.

`hub.jieba_dict` keeps jieba's 349,045 words in a trie and an array (3 MB) instead of jieba's
dict of every word and prefix (62 MiB). These compare it with stock jieba: every entry of
jieba's dict (words, prefixes and frequencies), the cuts of every Chinese line the project has
(the NLU's test set, the demo bot's dialogs, the tests' own lines) and of generated lines mixing
Chinese with Latin words, digits and punctuation, in all four of jieba's modes; words added at
run time; the cache file; and what the NLU's tokenizer costs a process.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.jieba_dict import CompactTokenizer, compact_tokenizer, default_dictionary, tokenizer_for

REPO = Path(__file__).resolve().parents[2]
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
CORPUS = [
    *sorted((REPO / "bench" / "data" / "frontdesk-bilingual").glob("*.tsv")),
    *sorted((REPO / "bench" / "data" / "knowledge-bilingual").rglob("*")),
    *sorted((REPO / "config" / "dialogs").rglob("*.yml")),
    *sorted((REPO / "tests").rglob("*.py")),
]
LATIN = ["app", "iPhone", "WiFi", "order", "SKU-42", "vip", "ok", "email", "tracking", "PayPal"]
PUNCTUATION = list(",.!?;:()[]-_/#&%+ ，。！？、：；（）【】「」《》…—")


def corpus_lines() -> list[str]:
    lines: set[str] = set()
    for path in CORPUS:
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            lines.update(line.strip() for line in text.splitlines() if _CJK.search(line))
    return sorted(lines)


def mixed_lines(chinese: list[str], count: int) -> list[str]:
    """Chinese pieces of the corpus with Latin words, digits and punctuation between them."""
    draw = random.Random(16)
    runs = [run for line in chinese for run in re.findall(r"[\u4e00-\u9fff]+", line)]
    lines = []
    for _ in range(count):
        parts = []
        for _ in range(draw.randint(2, 8)):
            kind = draw.random()
            if kind < 0.5:
                run = draw.choice(runs)
                start = draw.randrange(len(run))
                parts.append(run[start : start + draw.randint(1, 12)])
            elif kind < 0.7:
                parts.append(draw.choice(LATIN))
            elif kind < 0.85:
                parts.append(str(draw.randint(0, 100_000)))
            else:
                parts.append(draw.choice(PUNCTUATION))
        lines.append(draw.choice(["", " "]).join(parts))
    return lines


@pytest.fixture(scope="module")
def stock() -> Any:
    import jieba  # type: ignore[import-untyped, unused-ignore]

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def all_cuts(tokenizer: Any, line: str) -> tuple[list[str], ...]:
    return (
        tokenizer.lcut(line),  # what the NLU uses
        tokenizer.lcut(line, HMM=False),
        tokenizer.lcut(line, cut_all=True),
        tokenizer.lcut_for_search(line),
    )


def test_every_entry_of_jiebas_dictionary_is_kept_with_its_frequency(stock: Any) -> None:
    compact = compact_tokenizer()
    assert compact.total == stock.total
    # jieba's dict holds every word with its frequency and every prefix of one with 0.
    lost = [word for word, count in stock.FREQ.items() if compact.FREQ.get(word) != count]
    assert lost == []
    assert all(word in compact.FREQ for word in stock.FREQ)
    # Nor does it know more: extended words and strangers are not in it.
    strangers = [word + "鿿" for word in list(stock.FREQ)[::97]] + ["", "x", "frontdesk"]
    assert [word for word in strangers if word in compact.FREQ] == []
    assert {compact.FREQ.get(word, -1) for word in strangers} == {-1}


def test_the_projects_chinese_lines_are_cut_as_jieba_cuts_them(stock: Any) -> None:
    lines = corpus_lines()
    assert len(lines) > 1500  # the corpus really was read
    compact = compact_tokenizer()
    different = [line for line in lines if all_cuts(compact, line) != all_cuts(stock, line)]
    assert different == []


def test_mixed_lines_and_english_are_cut_as_jieba_cuts_them(stock: Any) -> None:
    lines = mixed_lines(corpus_lines(), 3000)
    lines += ["where is my parcel", "I can't log in to the app since 3.2.1", "refund #A-1 (50%)"]
    compact = compact_tokenizer()
    different = [line for line in lines if all_cuts(compact, line) != all_cuts(stock, line)]
    assert different == []
    assert compact.lcut("where is my parcel") == ["where", " ", "is", " ", "my", " ", "parcel"]


def fresh(cache: Path) -> CompactTokenizer:
    """A tokenizer of its own (words added to it stay out of the process's)."""
    return tokenizer_for(default_dictionary().read_bytes(), cache)


def test_words_added_at_run_time_are_cut_as_jieba_cuts_them(stock: Any, tmp_path: Path) -> None:
    import jieba

    theirs = jieba.Tokenizer()
    theirs.initialize()
    ours = fresh(tmp_path)
    lines = ["我想买礼品卡包装盒和云端小助手", "台中将会下雨", "please wrap 礼品卡包装盒 as a gift"]
    for tokenizer in (theirs, ours):
        tokenizer.add_word("礼品卡包装盒")
        tokenizer.add_word("云端小助手", freq=50, tag="n")
        tokenizer.suggest_freq(("中", "将"), tune=True)
    assert [all_cuts(ours, line) for line in lines] == [all_cuts(theirs, line) for line in lines]
    assert ours.lcut(lines[0])[-1] == "云端小助手"
    assert ours.total == theirs.total
    # The process's tokenizer never saw those words.
    assert "云端小助手" not in compact_tokenizer().lcut(lines[0])


SMALL = "礼品 30 n\n礼品卡 20 n\n卡 5 n\n包装 10 v\n礼品 40 n\n装盒 0 n\n"


def test_a_dictionary_of_its_own_cuts_as_jieba_with_that_dictionary(tmp_path: Path) -> None:
    import jieba

    # A word listed twice (its last frequency, both in the total) and one listed with 0.
    path = tmp_path / "small.txt"
    path.write_text(SMALL, encoding="utf-8")
    theirs = jieba.Tokenizer(str(path))
    theirs.initialize()
    ours = tokenizer_for(path.read_bytes(), tmp_path / "cache")
    lines = ["礼品卡包装盒", "礼品包装", "卡卡礼品", "装盒礼品卡 vip 9"]
    assert [all_cuts(ours, line) for line in lines] == [all_cuts(theirs, line) for line in lines]
    assert ours.total == theirs.total == 105
    assert {word: ours.FREQ.get(word) for word in theirs.FREQ} == theirs.FREQ


def cache_files(directory: Path) -> Iterator[str]:
    return (path.name for path in sorted(directory.iterdir()))


def test_the_cache_follows_the_dictionary_and_survives_a_damaged_file(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before = tokenizer_for(SMALL.encode(), cache)
    [name] = cache_files(cache)
    assert before.lcut("礼品卡") == ["礼品卡"]
    # Read back from the file, the same.
    assert tokenizer_for(SMALL.encode(), cache).lcut("礼品卡") == ["礼品卡"]
    # An edited dictionary (礼品卡 now rare, 礼品 and 卡 common) is built anew, not read stale.
    edited = SMALL.replace("礼品卡 20", "礼品卡 1").replace("卡 5", "卡 500")
    assert tokenizer_for(edited.encode(), cache).lcut("礼品卡") == ["礼品", "卡"]
    assert len(list(cache_files(cache))) == 2
    # A file cut short, in its header or in its trie, is rebuilt, and cuts are still right.
    whole = (cache / name).read_bytes()
    # So is one with a byte changed (the trie would load, and cut wrongly).
    flipped = whole[:-60] + bytes([whole[-60] ^ 0xFF]) + whole[-59:]
    for damaged in (whole[:40], whole[: len(whole) // 2], whole[:-1], flipped):
        (cache / name).write_bytes(damaged)
        assert tokenizer_for(SMALL.encode(), cache).lcut("礼品卡") == ["礼品卡"]
        assert (cache / name).read_bytes() == whole
    # A cache that cannot be written (a file where the folder should be) costs a build only.
    blocked = tmp_path / "blocked"
    blocked.write_text("", encoding="utf-8")
    assert tokenizer_for(SMALL.encode(), blocked / "cache").lcut("礼品卡") == ["礼品卡"]


MEASURE = """
import json, sys, tracemalloc
tracemalloc.start()
from hub.text import tokenize
words = tokenize("你们卖不卖礼品卡") + tokenize("do you sell gift cards")
print(json.dumps({"traced": tracemalloc.get_traced_memory()[0], "words": words,
                  "pkg_resources": "pkg_resources" in sys.modules}))
"""


def test_the_nlu_tokenizer_costs_a_process_a_few_megabytes() -> None:
    # A fresh interpreter: what cutting one English and one Chinese line costs, all told
    # (imports, OpenCC, jieba's HMM tables and dictionary), as Python's allocator counts it
    # (6 MB; the trie's own 1.2 MB is the C++ library's, outside that count).
    # jieba's own dict alone was 53 MiB of it.
    done = subprocess.run(
        [sys.executable, "-c", MEASURE],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    measured = json.loads(done.stdout)
    assert measured["words"] == [
        "你们",
        "卖不卖",
        "礼品",
        "卡",
        "do",
        "you",
        "sell",
        "gift",
        "cards",
    ]
    assert measured["traced"] < 12 * 2**20, measured["traced"]
    # jieba's `pkg_resources` import (10 MiB, 0.1 s) is kept out.
    assert measured["pkg_resources"] is False
