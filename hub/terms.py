"""The words a text is searched by, in English and Chinese: what the knowledge base indexes
and matches, and what reports group customer lines by.

NLU tokens (`hub.text.tokenize`: normalised, Traditional → Simplified, Chinese segmented with
jieba) without stop words, English words stemmed (Snowball: "trading" meets "trade"), plus the
character bigrams of every Chinese run so a differently segmented line still meets its match.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from hub.text import has_cjk, normalize, tokenize

_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{2,}")
# Words that say nothing about what a line is about: kept out of queries, indexes and groups.
_STOP_WORDS = (
    "a am an and are at be been but by can could did do does for from had has have hello "
    "here hi how i if in is it its me my no not of on or our please should so thanks that "
    "the there this to was we were what when where which who why will with would you your "
    "一下 也 了 什么 会 你 你们 可以 吗 吧 呢 和 啊 在 如何 "
    "就 怎么 怎样 您 我 是 有 的 能 要 请 请问 这个 那个 都"
)
_STOP = frozenset(_STOP_WORDS.split())


@functools.cache
def _stemmer() -> Any:
    import snowballstemmer  # type: ignore[import-untyped, unused-ignore]

    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def stem_word(word: str) -> str:
    # "trading" meets "trade", "batteries" meets "battery"; Chinese has no inflection.
    stem: str = _stemmer().stemWord(word) if word.isascii() and word.isalpha() else word
    return stem


def terms(text: str) -> list[str]:
    """The words BM25 matches on: NLU tokens without stop words (English stemmed), plus
    Chinese bigrams."""
    words, bigrams = split_terms(text)
    return words + bigrams


def split_terms(text: str) -> tuple[list[str], list[str]]:
    """(words, Chinese character bigrams) of `text`, as `terms` joins them."""
    words = [stem_word(w) for w in tokenize(text) if w not in _STOP and (len(w) > 1 or has_cjk(w))]
    bigrams: list[str] = []
    normalized = normalize(text)
    if has_cjk(normalized):
        for run in _CJK_RUN.findall(normalized):
            bigrams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return words, bigrams
