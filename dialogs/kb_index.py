"""Finding the passage of the knowledge base that answers a customer's line.

Articles are cut into passages (a heading and the paragraphs under it, a few hundred
characters each). Each language has its own BM25 index (`bm25s`) over the passages' words —
Chinese segmented with jieba exactly as the NLU does (`hub.text.tokenize`), plus the
character bigrams of every Chinese run so a differently segmented query still meets its
passage. The ten best BM25 passages are re-ranked with the word vectors the NLU already
loads (cosine of averaged static embeddings), which lets "my screen cracked" meet a
passage that says "broken display".

**Confidence.** A raw BM25 score grows with the length of the query, so it is divided by the
best score the query could reach — each query word's IDF × (k1 + 1), words the index has
never seen counted as rare (a question about the weather is mostly unknown words and gets a
low confidence, not a high one from its one known word); Chinese bigrams the index has never
seen count for nothing (most straddle two words). The confidence is
w × that coverage + (1 − w) × the cosine, w = 0.7 in English and 0.85 in Chinese. The threshold under which the bot falls back as
before is derived per language when the index is built (`calibrate`), from lines the bot
must not answer — its `out_of_scope` examples: the threshold sits just above the score the
95th percentile of them reach, never below `MIN_THRESHOLD`.

**One word is not enough near the threshold.** A passage that clears the threshold by less
than `ONE_WORD_MARGIN` on the strength of one word of a question that has more ("courier
never showed up" → the customs article, for its "courier"; "物流三天没更新了" → software
updates, for its 更新) is not given as the answer: the bot falls back to its "did you
mean" choices (an agent still sees the article among the console's suggestions). A line
of one word, or a passage found by more of its words or by a clear margin, is answered as
before.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dialogs.kb_articles import Article
from dialogs.nlu_features import Floats
from hub.terms import split_terms, terms
from hub.text import CJK_MARKS, has_cjk, tokenize

log = logging.getLogger("frontdesk.dialogs.kb")

K1 = 1.5  # bm25s' default; the coverage bound below uses the same k1
CANDIDATES = 10
#: Share of the BM25 coverage in the confidence (the rest is the cosine), per language:
#: chosen on the validation split of bench/data/knowledge-bilingual (docs/knowledge.md).
#: The word vectors know Chinese less well, so they weigh less there.
BM25_WEIGHT = {"en": 0.7, "zh": 0.85}
MIN_THRESHOLD = 0.15
DEFAULT_THRESHOLD = 0.2  # when the bot has no out-of-scope examples in a language
#: How far above its threshold a passage met by one word of a longer question must be to
#: answer it: chosen on the validation splits (`docs/knowledge.md`, "One word").
ONE_WORD_MARGIN = 0.03
PASSAGE_CHARS = {"en": 600, "zh": 260}
#: Words that frame a question rather than say what it is about, beside the search's stop
#: words (`hub.terms`, which hold the English ones): left out of the queries and of the
#: articles' listed questions (`what_is_asked`).
_QUESTION_FRAME = (
    "怎么办 什么 什么时候 时候 多久 多少 多长时间 为什么 怎么样 哪里 哪儿 哪些 "
    "是不是 能不能 可不可以 有没有 要不要 吗 呢 了 怎么 可以 请问"
)
QUESTION_FRAME = frozenset(_QUESTION_FRAME.split())

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
# A line that starts a line of its own inside a paragraph: a list item, a table row, a heading.
_OWN_LINE = re.compile(r"\s*(?:[-*+]\s|\d+[.)]\s|\||#{1,6}\s)")
_CJK_END = re.compile(f"[{CJK_MARKS}]$")
_CJK_START = re.compile(f"[{CJK_MARKS}]")


@dataclass(frozen=True, slots=True)
class Passage:
    """A piece of an article small enough to quote in a chat."""

    article: str
    lang: str
    heading: str  # the section's heading, "" for the text before the first one
    text: str  # the Markdown shown to the customer
    position: int  # the passage's index within its article and language (its URL anchor)


@dataclass(frozen=True, slots=True)
class Hit:
    """A passage and how sure the index is that it answers the line."""

    passage: Passage
    confidence: float
    bm25: float
    cosine: float


class Embedder(Protocol):
    """What re-ranking needs of `dialogs.nlu_features.WordVectors`."""

    def embed(self, text: str) -> Floats: ...
    def embed_many(self, texts: Sequence[str]) -> Floats: ...


def split_passages(article: Article, lang: str) -> list[Passage]:
    """The article's text in `lang` as passages: a heading with what follows, cut to size."""
    limit = PASSAGE_CHARS.get(lang, 600)
    passages: list[Passage] = []
    heading = ""
    chunk: list[str] = []

    def flush() -> None:
        text = "\n\n".join(chunk).strip()
        if text:
            passages.append(Passage(article.id, lang, heading, text, len(passages)))
        chunk.clear()

    for block in re.split(r"\n\s*\n", article.bodies[lang]):
        block = block.strip()
        if not block:
            continue
        first, _, rest = block.partition("\n")
        heading_match = _HEADING.match(first)
        if heading_match:
            flush()
            heading = heading_match.group(2).strip()
            block = rest.strip()
            if not block:
                continue
        block = unwrap(block)
        if chunk and sum(map(len, chunk)) + len(block) > limit:
            flush()
        chunk.append(block)
    flush()
    return passages


def unwrap(block: str) -> str:
    """One Markdown paragraph as a chat shows it: the line breaks an editor wrapped it at are
    soft (a space, or nothing between Chinese characters), since a quoted passage otherwise
    breaks mid-sentence in every chat window. A list item, a table row, a heading or a line
    after a hard break (two trailing spaces) still starts a line of its own."""
    lines = block.split("\n")
    text = lines[0]
    for line in lines[1:]:
        if _OWN_LINE.match(line) or text.endswith("  "):
            text = f"{text.rstrip()}\n{line}"
            continue
        line = line.strip()
        if not line:
            continue
        text = text.rstrip()
        glue = "" if _CJK_END.search(text) and _CJK_START.match(line) else " "
        text = f"{text}{glue}{line}"
    return text


class LanguageIndex:
    """BM25 over one language's passages, with their vectors for re-ranking."""

    def __init__(
        self,
        lang: str,
        passages: Sequence[Passage],
        titles: Mapping[str, str],
        vectors: Embedder | None,
        asked: Mapping[Passage, Sequence[str]] | None = None,
    ) -> None:
        self.passages = tuple(passages)
        self._weight = BM25_WEIGHT.get(lang, 0.7)
        # A passage is found by its article's title, its heading, its text and the questions
        # the operator listed for it (`questions:` in the article: how customers ask, in
        # their words, which the answer itself seldom uses: "手机丢了怎么办" for "查找设备").
        asked = asked or {}
        documents = [
            with_questions(terms(f"{titles[p.article]} {p.heading} {p.text}"), asked.get(p, ()))
            for p in self.passages
        ]
        # Imported here: bm25s brings SciPy (~30 MiB), which a hub without a knowledge
        # base (the echo bot, a bot with no articles) never needs.
        import bm25s  # type: ignore[import-untyped]

        self._retriever = bm25s.BM25(k1=K1)
        self._retriever.index(documents, show_progress=False)
        # Each passage's distinct words: its document frequencies, and the words a question
        # meets in it (`words_met`).
        self._words = {p: frozenset(d) for p, d in zip(self.passages, documents, strict=True)}
        frequency: dict[str, int] = {}
        for words in self._words.values():
            for word in words:
                frequency[word] = frequency.get(word, 0) + 1
        count = len(documents)
        self._idf = {w: _idf(df, count) for w, df in frequency.items()}
        self._rare = _idf(1, count)
        self._vectors = vectors
        self._matrix = (
            vectors.embed_many([f"{titles[p.article]} {p.text}" for p in self.passages])
            if vectors is not None
            else None
        )

    def search(self, query: str, k: int = 3) -> list[Hit]:
        words, bigrams = split_terms(what_is_asked(query))
        if not (words or bigrams) or not self.passages:
            return []
        scores = self._retriever.get_scores(words + bigrams)
        # Unknown words count as rare (they lower the confidence); unknown bigrams count for
        # nothing: most straddle two words ("价了") and say nothing about the question.
        known_bigrams = {b for b in bigrams if b not in words}
        bound = (
            sum(self._idf.get(w, self._rare) for w in set(words))
            + sum(self._idf.get(b, 0.0) for b in known_bigrams)
        ) * (K1 + 1)
        if bound <= 0.0:
            return []
        if scores.size > CANDIDATES:  # O(n) selection of the candidates, then sort those
            top = np.argpartition(-scores, CANDIDATES)[:CANDIDATES]
            top = top[np.argsort(-scores[top])]
        else:
            top = np.argsort(-scores)
        top = top[scores[top] > 0]
        if top.size == 0:
            return []
        cosines = np.zeros(top.size, dtype=np.float32)
        if self._vectors is not None and self._matrix is not None:
            cosines = self._matrix[top] @ self._vectors.embed(query)
        hits = [
            Hit(
                passage=self.passages[int(i)],
                confidence=self._weight * min(1.0, float(scores[i]) / bound)
                + (1.0 - self._weight) * max(0.0, float(c)),
                bm25=float(scores[i]),
                cosine=float(c),
            )
            for i, c in zip(top, cosines, strict=True)
        ]
        hits.sort(key=lambda hit: hit.confidence, reverse=True)
        # One hit per article: the best passage speaks for it.
        best: dict[str, Hit] = {}
        for hit in hits:
            best.setdefault(hit.passage.article, hit)
        return list(best.values())[:k]

    def words_met(self, query: str, passage: Passage) -> tuple[int, int]:
        """(how many of the question's words the passage has, how many it has): a Chinese
        word segmented otherwise than in the passage counts when one of its character pairs
        is there, as the search itself meets it."""
        words = set(split_terms(what_is_asked(query))[0])
        found = self._words.get(passage, frozenset())
        met = sum(
            1
            for w in words
            if w in found or (has_cjk(w) and any(w[i : i + 2] in found for i in range(len(w) - 1)))
        )
        return met, len(words)


def _questions_by_passage(
    articles: Sequence[Article], passages: Sequence[Passage], lang: str
) -> dict[Passage, list[str]]:
    """Each article's `questions:` in `lang`, given to the passage that answers them: the
    section whose heading shares the most words with the question, else the lead passage
    (as `KnowledgeIndex.passage_of` chooses what to quote)."""
    asked: dict[Passage, list[str]] = {}
    for article in articles:
        own = [p for p in passages if p.article == article.id]
        if not own:
            continue
        title = set(split_terms(article.title(lang))[0])
        for question in article.questions.get(lang, ()):
            asked.setdefault(best_by_heading(own, question, title), []).append(question)
    return asked


def with_questions(words: list[str], questions: Sequence[str]) -> list[str]:
    """A passage's words and those of its listed questions that it does not say itself: the
    questions bring the customer's words, not more weight to the passage's own (with them,
    "旧数据线和充电器你们回收吗" found the charger section twice over, not recycling)."""
    own = set(words)
    return words + [t for q in questions for t in terms(what_is_asked(q)) if t not in own]


def what_is_asked(question: str) -> str:
    """`question` without the words that frame any question ("what should I do", "怎么办",
    "什么时候"), so that the words (and the Chinese character pairs) it is indexed and searched
    by say what it asks about. An article's listed question kept them, and "那洗澡的时候能戴
    吗" met "预订的商品什么时候扣款" by 时候; a query kept them, and "手机丢了怎么办" lost
    confidence for its 怎么办, which no passage says."""
    runs: list[list[str]] = [[]]
    for token in tokenize(question):
        if token in QUESTION_FRAME or not terms(token):
            runs.append([])
        else:
            runs[-1].append(token)
    # Chinese words stay joined within a run (their pairs across a word boundary count),
    # English ones apart.
    return " ".join(
        "".join(run) if all(has_cjk(t) for t in run) else " ".join(run) for run in runs if run
    )


def best_by_heading(passages: Sequence[Passage], query: str, titles: set[str]) -> Passage:
    """Of `passages` (one article's or a few, lead passage first), the one whose heading
    shares the most words with `query`, the titles' words aside (every passage shares
    them); the first when no heading does."""
    asked = set(split_terms(query)[0]) - titles
    best, shared = passages[0], 0
    for passage in passages:
        words = set(split_terms(passage.heading)[0]) - titles if passage.heading else set()
        if len(words & asked) > shared:
            best, shared = passage, len(words & asked)
    return best


def _idf(df: int, count: int) -> float:
    # bm25s' default ("lucene") IDF, so the bound matches the scores it returns.
    return math.log(1 + (count - df + 0.5) / (df + 0.5))


class KnowledgeIndex:
    """All articles, searchable per language, with a calibrated threshold per language."""

    def __init__(
        self,
        articles: Sequence[Article],
        *,
        vectors: Embedder | None = None,
        negatives: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.articles = {article.id: article for article in articles}
        self._indexes: dict[str, LanguageIndex] = {}
        for lang in ("en", "zh"):
            passages = [
                passage
                for article in articles
                if lang in article.bodies
                for passage in split_passages(article, lang)
            ]
            if passages:
                titles = {a.id: a.title(lang) for a in articles}
                asked = _questions_by_passage(articles, passages, lang)
                self._indexes[lang] = LanguageIndex(lang, passages, titles, vectors, asked)
        self.thresholds = calibrate(self, negatives or {})

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._indexes)

    def __len__(self) -> int:
        return sum(len(index.passages) for index in self._indexes.values())

    def search(self, query: str, lang: str, k: int = 3) -> list[Hit]:
        """The best `k` passages in `lang` (in the other language if `lang` has none)."""
        index = self._indexes.get(lang) or next(iter(self._indexes.values()), None)
        return index.search(query, k) if index is not None else []

    def passage_of(self, query: str, lang: str, articles: Sequence[str]) -> Passage | None:
        """The passage of `articles` to quote for `query`, once an intent has said they
        answer it: the section whose heading shares the most words with the query
        ("the sound keeps cutting out" → "Crackling or cutting out"), else the lead passage
        (the summary before the first heading) of the first article; in `lang`, or the
        other language if it has none. The articles' titles do not count: every passage
        of an article shares them, and the intent has chosen the articles already. None
        when the index has none of them."""
        wanted = [a for a in articles if a in self.articles]
        index = self._indexes.get(lang) or next(iter(self._indexes.values()), None)
        if not wanted or index is None:
            return None
        passages = [p for a in wanted for p in index.passages if p.article == a]
        if not passages:
            return None
        titles = {
            w for a in wanted for w in split_terms(self.articles[a].title(passages[0].lang))[0]
        }
        return best_by_heading(passages, query, titles)

    def answer(self, query: str, lang: str, *, read_alone: bool = True) -> Hit | None:
        """The passage to answer with, or None when nothing reaches the threshold.
        `read_alone=False`: `query` is a line joined to the question before it (a follow-up
        read in context), whose own words are few among the earlier ones', so one word met
        is not held against it (`ONE_WORD_MARGIN`)."""
        hits = self.search(query, lang, k=1)
        if not hits:
            return None
        hit = hits[0]
        threshold = self.thresholds.get(hit.passage.lang, DEFAULT_THRESHOLD)
        if hit.confidence < threshold:
            return None
        if read_alone and hit.confidence < threshold + ONE_WORD_MARGIN:
            met, words = self._indexes[hit.passage.lang].words_met(query, hit.passage)
            if met < 2 <= words:  # one word of a longer question, barely over the line
                return None
        return hit


def calibrate(index: KnowledgeIndex, negatives: Mapping[str, Iterable[str]]) -> dict[str, float]:
    """Per language: just above what 95 % of the lines the bot must not answer reach."""
    thresholds: dict[str, float] = {}
    for lang in index.languages:
        scores = sorted(
            hits[0].confidence if (hits := index.search(line, lang, k=1)) else 0.0
            for line in negatives.get(lang, ())
        )
        if len(scores) < 5:
            thresholds[lang] = DEFAULT_THRESHOLD
            continue
        percentile = scores[min(len(scores) - 1, math.ceil(0.95 * len(scores)) - 1)]
        thresholds[lang] = round(max(MIN_THRESHOLD, percentile + 0.01), 4)
    log.info("knowledge base thresholds: %s", thresholds)
    return thresholds
