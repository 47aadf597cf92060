"""Where a customer's message may hold more than one question: its sentences and clauses.

```python
split("Hi, where is my order? Also can I change the address?")
# (Sentence(text="hi, where is my order", clauses=("hi", "where is my order")),
#  Sentence(text="can i change the address", clauses=("can i change the address",)))
split("運費多少，另外幾天能到")
# (Sentence(text="运费多少", clauses=("运费多少",)), Sentence(text="几天能到", ...))
```

The text is normalized first (`hub.text.normalize`: Traditional → Simplified, full-width →
half-width, case folded), so one set of marks and words serves every spelling. Two strengths
of boundary, because they are not equally sure:

- a **sentence** ends at `? ! ; 。` (and `.` or `…`), or where a connective starts a new
  question: "also", "and also", "by the way", "and how/what/can/do …" in English; "另外",
  "还有", "顺便问一下", "以及", "此外" … in Chinese;
- a **clause** ends at a comma inside a sentence ("运费多少，几天能到", "hi, where is my
  order"). Commas also join the parts of one question ("if I order today, when will it
  arrive"), so the caller uses the clauses only when each of them reads as a question alone.

A mark is a boundary only where a sentence can end: followed by a space, the end of the text
or a Chinese character. So numbers ("1,200", "1.5"), addresses ("example.com/?id=3") and order
numbers ("A-1234?") are never cut. A Chinese connective counts only where jieba cuts it as
words of its own: "还有" in "还有配送时间" is "and", in "还有效吗" ("still valid?") it is not.
Nothing here decides whether the parts *are* questions: `dialogs.questions` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.memo import TextMemo
from hub.text import Segmenter, has_cjk, normalize

__all__ = ["MAX_PARTS", "Part", "Sentence", "split"]

#: A message cut into more parts than this is a story, not a list of questions: left whole.
MAX_PARTS = 6

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Where a mark may end a sentence or clause: before a space, the end, or a Chinese character.
_ENDS = f"(?=\\s|$|[{_CJK}])"
# After NFKC, "？！；，" are "?!;," and "…" is "..."; "。" stays itself.
_SENTENCE_MARK = re.compile(f"[?!;.]+{_ENDS}|。+")
_CLAUSE_MARK = re.compile(f",+{_ENDS}")
# Words that open an English question. "and" before one of them starts a new question ("how
# much is shipping and how long does it take"); elsewhere it joins ("returns and refunds").
_OPENERS = (
    "how|what|when|where|which|who|whom|whose|why|is|are|am|was|were|can|could|do|does|did"
    "|will|would|should|shall|may|might|has|have|any|anyone|anybody"
)
_OPENER = re.compile(rf"\s*(?:{_OPENERS})\b")
# English connectives, as whole words. "also" inside a question ("can I also pay by card")
# joins; only at a sentence's start or before an opener does it start a new question.
_EN_CONNECTIVE = re.compile(
    r"\b(?:and also|also|by the way|btw|besides|additionally|one more thing"
    r"|(?:i have )?(?:one more|another) question)\b,?"
)
_EN_AND = re.compile(rf"\b(?:oh and|and|plus)\s+(?=(?:{_OPENERS})\b)")
_EN_LEADING = re.compile(r"^(?:and|plus|so|oh)\b,?\s*")
# Chinese connectives ("我还想问一下运费" drops its "我" with the connective).
_ZH_CONNECTIVE = re.compile(
    r"我?还有(?:一个|个)?问题|另外(?:问一下|问下)?|我?还想问(?:一下|下)?|顺便(?:问一下|问下|说一下)?"
    r"|再问(?:一下|下)|还有(?:就是)?|以及|此外"
)
# A Chinese question: a question particle or word ("吗", "多少", "怎么", "哪" …).
_ZH_QUESTION = re.compile(
    r"[吗嘛呢几哪谁]|多少|多久|多长|多快|怎|什么|如何|为何|是否|能否|可否|有没有|是不是"
    r"|能不能|可不可以|会不会|要不要"
)
# The same characters in statements: "几乎没电了" (almost), "好几次" (several), "什么都没收到"
# (nothing), "怎么也开不了机" (however hard), "不怎么好用" (not very), "哪怕" (even if), "还没开机
# 呢" (not even … yet: 呢 after 还没/正在 ends a statement, "那退款呢" still asks).
_ZH_DECLARATIVE = re.compile(
    r"几乎|好几|十几|几十|几百|几千|什么[都也的]|没什么|不怎么|怎么[也都]|谁[都也]"
    r"|哪(?:儿|里)?[都也]|哪怕|多少(?:有点|有些|也)"
)
_ZH_STATEMENT_NE = re.compile(r"((?:还没有?|还不|还在|正在|才)[^，,。！？!?；;]{0,12})呢")
_WORDS = re.compile(f"[^\\W\\d_]|[{_CJK}]")  # a letter or a Chinese character
_TRIM = " ,.;:!?-~。、"

_SEGMENTER = Segmenter()


@dataclass(frozen=True, slots=True)
class Part:
    """A piece of a message (normalized); `asked`: phrased as a question — a question word
    or particle ("how …", "… 吗"), or a "?" after it."""

    text: str
    asked: bool


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of a message and its clauses (`(Part(text, asked),)` without a comma).
    `joined`: a connective stands right before or after it ("… also …", "另外…")."""

    text: str
    asked: bool
    clauses: tuple[Part, ...]
    joined: bool = False


def split(text: str, *, max_parts: int = MAX_PARTS) -> tuple[Sentence, ...]:
    """The sentences of `text` that say something (letters or Chinese), in order; a message
    of one part, or of more than `max_parts`, is returned as one sentence."""
    # A turn splits its message twice (for its questions, and for a story around one), with
    # two limits: the cutting is done once and kept for a short line, the limit applied here.
    whole, sentences = _sentences(text)
    parts = sum(len(s.clauses) for s in sentences)
    if parts < 2 or parts > max_parts:
        return whole
    return sentences


def _cut_sentences(text: str) -> tuple[tuple[Sentence], tuple[Sentence, ...]]:
    """`text` as one sentence, and cut into its sentences (`()` when it has no mark or
    connective to cut at)."""
    normalized = normalize(text)
    text = normalized.strip(_TRIM)
    whole = Part(text, _asked(text, question_mark=normalized.rstrip().endswith("?")))
    single = (Sentence(whole.text, whole.asked, (whole,)),)
    if not _may_split(normalized):
        return single, ()
    sentences: list[Sentence] = []
    connective_before = False
    for chunk, mark, connective_after in _cut(normalized, _sentence_bounds(normalized)):
        pieces = _CLAUSE_MARK.split(chunk)
        clauses = [
            # Only the last clause is the one a "?" after the sentence ends.
            Part(tidy, _asked(tidy, question_mark=i == len(pieces) - 1 and "?" in mark))
            for i, piece in enumerate(pieces)
            if (tidy := _tidy(piece))
        ]
        sentence = _tidy(chunk)
        if sentence:
            sentences.append(
                Sentence(
                    sentence,
                    any(c.asked for c in clauses),
                    tuple(clauses),
                    connective_before or connective_after,
                )
            )
        connective_before = connective_after
    return single, tuple(sentences)


_sentences = TextMemo(_cut_sentences)


def _asked(part: str, *, question_mark: bool) -> bool:
    """Whether `part` (tidied) reads as a question; `question_mark`: a "?" follows it."""
    if question_mark or _OPENER.match(part) is not None:
        return True
    if not has_cjk(part):
        return False
    plain = _ZH_DECLARATIVE.sub("", _ZH_STATEMENT_NE.sub(r"\1", part))
    return _ZH_QUESTION.search(plain) is not None


def _may_split(normalized: str) -> bool:
    # Most messages have no mark or connective at all: no need to look any further.
    return bool(
        _SENTENCE_MARK.search(normalized.rstrip(_TRIM))
        or "," in normalized
        or _EN_CONNECTIVE.search(normalized)
        or _EN_AND.search(normalized)
        or (has_cjk(normalized) and _ZH_CONNECTIVE.search(normalized))
    )


def _sentence_bounds(text: str) -> list[tuple[int, int, bool]]:
    """The spans that end one sentence and start the next, each with whether it is a
    connective (not a mark)."""
    spans = [(*m.span(), False) for m in _SENTENCE_MARK.finditer(text)]
    spans += [(*m.span(), True) for m in _EN_AND.finditer(text)]
    for match in _EN_CONNECTIVE.finditer(text):
        if _starts_sentence(text, match.start()) or _OPENER.match(text, match.end()):
            spans.append((*match.span(), True))
    if has_cjk(text):
        edges = _word_edges(text)
        spans += [
            (*m.span(), True)
            for m in _ZH_CONNECTIVE.finditer(text)
            if m.start() in edges and m.end() in edges
        ]
    return sorted(spans)


def _starts_sentence(text: str, at: int) -> bool:
    before = text[:at].rstrip()
    return not before or before[-1] in ",.;:!?。"


def _word_edges(text: str) -> set[int]:
    """Offsets where jieba starts or ends a word inside the Chinese runs of `text`."""
    edges: set[int] = set()
    for run in re.finditer(f"[{_CJK}]+", text):
        at = run.start()
        edges.add(at)
        for word in _SEGMENTER.tokens(run.group()):
            at += len(word)
            edges.add(at)
    return edges


def _cut(text: str, spans: list[tuple[int, int, bool]]) -> list[tuple[str, str, bool]]:
    """(chunk, the marks after it, whether a connective follows it), in order; adjacent
    boundaries ("? also") merge into one."""
    chunks: list[tuple[str, str, bool]] = []
    start, end_marks, connective = 0, "", False
    pending: str | None = None
    for begin, end, is_connective in spans:
        if begin < start:  # overlapping matches: the first one cut already
            continue
        chunk = text[start:begin]
        if pending is not None and not _tidy(chunk):
            # Nothing between two boundaries ("? also"): they are one boundary.
            end_marks += text[begin:end]
            connective = connective or is_connective
        else:
            if pending is not None:
                chunks.append((pending, end_marks, connective))
            pending, end_marks, connective = chunk, text[begin:end], is_connective
        start = end
    if pending is not None:
        chunks.append((pending, end_marks, connective))
    chunks.append((text[start:], "", False))
    return chunks


def _tidy(part: str) -> str:
    """A part without its edge punctuation and a leading "and"/"so"; "" when it says nothing."""
    part = _EN_LEADING.sub("", part.strip(_TRIM)).strip(_TRIM)
    return part if _WORDS.search(part) else ""
