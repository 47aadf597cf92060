"""Tests of `hub.memo.Memo`: each key computed once while kept, least recently used out first."""

from __future__ import annotations

import threading

import pytest

from hub.memo import TEXT_MEMO_LENGTH, TEXT_MEMO_SIZE, Memo, TextMemo


class Counting:
    """A pure function that counts how often it really ran, per key."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, key: str) -> str:
        self.calls.append(key)
        return key.upper()


def test_a_key_is_computed_once_while_kept() -> None:
    memo: Memo[str, str] = Memo(maxsize=4)
    upper = Counting()
    assert [memo.get(k, upper) for k in ["a", "b", "a", "a", "b"]] == ["A", "B", "A", "A", "B"]
    assert upper.calls == ["a", "b"]
    assert (memo.hits, memo.misses, len(memo)) == (3, 2, 2)


def test_the_least_recently_used_key_leaves_first() -> None:
    memo: Memo[str, str] = Memo(maxsize=2)
    upper = Counting()
    memo.get("a", upper)
    memo.get("b", upper)
    memo.get("a", upper)  # "a" is now more recent than "b"
    memo.get("c", upper)  # so "b" leaves
    assert len(memo) == 2
    memo.get("a", upper)
    memo.get("b", upper)
    assert upper.calls == ["a", "b", "c", "b"]


def test_chinese_and_english_keys_are_kept_apart() -> None:
    memo: Memo[str, str] = Memo(maxsize=8)
    languages = {"积分怎么兑换": "zh", "how do i redeem my points": "en"}
    for text, lang in languages.items():
        assert memo.get(text, languages.__getitem__) == lang
    assert memo.get("积分怎么兑换", lambda _: "other") == "zh"
    assert memo.get("how do i redeem my points", lambda _: "other") == "en"


def test_a_failing_computation_keeps_nothing() -> None:
    memo: Memo[str, str] = Memo(maxsize=2)

    def fail(key: str) -> str:
        raise ValueError(key)

    with pytest.raises(ValueError, match="x"):
        memo.get("x", fail)
    assert len(memo) == 0
    assert memo.get("x", str.upper) == "X"


@pytest.mark.parametrize("maxsize", [0, -1])
def test_a_memo_keeps_at_least_one(maxsize: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Memo(maxsize=maxsize)


def test_threads_sharing_a_memo_get_the_right_values_and_keep_it_bounded() -> None:
    memo: Memo[int, int] = Memo(maxsize=16)
    wrong: list[tuple[int, int]] = []

    def work(offset: int) -> None:
        for i in range(2_000):
            key = (i * 7 + offset) % 40
            value = memo.get(key, lambda k: k * k)
            if value != key * key:
                wrong.append((key, value))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert len(memo) == 16
    assert memo.hits + memo.misses == 8_000


@pytest.mark.parametrize("line", ["what is your refund policy", "退货政策是什么"])
def test_a_text_memo_reads_a_short_line_once_and_a_long_text_every_time(line: str) -> None:
    upper = Counting()
    read = TextMemo(upper)
    assert [read(line), read(line)] == [line.upper()] * 2
    assert upper.calls == [line]
    long_text = line * (TEXT_MEMO_LENGTH // len(line) + 1)
    assert [read(long_text), read(long_text)] == [long_text.upper()] * 2
    assert upper.calls == [line, long_text, long_text]  # not kept: its size is unbounded
    for n in range(TEXT_MEMO_SIZE + 10):
        read(f"{line} {n}")
    assert read.cache_info().currsize == TEXT_MEMO_SIZE
