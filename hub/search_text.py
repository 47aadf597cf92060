"""What the conversation search indexes and how a query matches it: one set of pure rules
that both stores' indexes call (`hub.search_sqlite`, `hub.search_redis`).

Text is folded first (NFKC and case, so full-width `ＡＰＰ` is `app`; Traditional Chinese to
Simplified with OpenCC `t2s`, so `禮品卡` and `礼品卡` are one word), then cut into tokens:

- a run of letters or digits is one token (`refund`, `20261001`);
- a run of Chinese characters becomes its overlapping pairs plus its last character
  (`礼品卡` → `礼品 品卡 卡`), so any two or more characters are found as a phrase of pairs
  and a single character as the start of a token — no dictionary, no segmentation mistakes.

A query is the same tokens, every one required (AND): a word of three letters or more
matches as a prefix (`refund` finds `refunded`), a shorter one as a whole word, a Chinese
run as a phrase. Nothing the user types is passed to a query language: FTS5 syntax
(`"`, `*`, `NEAR(`) is just punctuation or a word here.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opencc import OpenCC

__all__ = [
    "MAX_QUERY",
    "MAX_TERMS",
    "Query",
    "QueryError",
    "Term",
    "customer_body",
    "event_body",
    "event_text",
    "fold",
    "parse_query",
    "snippet",
    "tokens",
]

MAX_QUERY = 200  # characters a query may have
MAX_TERMS = 8  # words (or Chinese runs) a query may have
MAX_INDEXED = 4000  # characters of one message that are indexed
PREFIX_MIN = 3  # a Latin word this long or longer matches as a prefix

# Events whose text is searchable, and where that text is in their data.
MESSAGE_TYPES = ("message.in", "message.edited", "message.out", "handoff.note")
TICKET_TYPE = "handoff.requested"
INDEXED_TYPES = (*MESSAGE_TYPES, TICKET_TYPE)

_CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_CJK = re.compile(f"[{_CJK_CHARS}]")
_TOKEN = re.compile(f"[{_CJK_CHARS}]+|[^\\W_{_CJK_CHARS}]+")
_WORD_CHAR = re.compile(f"[^\\W_{_CJK_CHARS}]")


class QueryError(ValueError):
    """The query cannot be searched; the message says why (shown to the agent as a 400)."""


@functools.cache
def _t2s() -> OpenCC:
    from opencc import OpenCC

    return OpenCC("t2s")


_t2s_lock = threading.Lock()  # one OpenCC converter, possibly used from SQLite's thread


def _simplified(text: str) -> str:
    if not _CJK.search(text):
        return text
    with _t2s_lock:
        converted: str = _t2s().convert(text)
    return converted


def fold(text: str) -> str:
    """The form text is indexed and searched in: NFKC, case folded, Simplified Chinese."""
    return _simplified(unicodedata.normalize("NFKC", text).casefold())


def _run_tokens(run: str) -> list[str]:
    if not _CJK.match(run):
        return [run]
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]


def tokens(text: str) -> list[str]:
    """The tokens of `text` (folded here), in order."""
    out: list[str] = []
    for run in _TOKEN.findall(fold(text[:MAX_INDEXED])):
        out.extend(_run_tokens(run))
    return out


# ---------------------------------------------------------------------------- documents


def event_text(event_type: str, data: Mapping[str, Any]) -> str:
    """The searchable text of a logged event ("" for an event that has none)."""
    if event_type in ("message.in", "message.edited", "handoff.note"):
        return str(data.get("text") or "")
    if event_type == "message.out":
        outbound = data.get("outbound")
        return str(outbound.get("text") or "") if isinstance(outbound, Mapping) else ""
    if event_type == TICKET_TYPE:
        # The short ticket number customers quote (#1042), skill, intent and reasons.
        parts = [str(data.get(k) or "") for k in ("ticket_number", "skill", "intent")]
        parts.extend(str(r) for r in data.get("reasons") or ())
        return " ".join(p.replace("_", " ") for p in parts if p)
    return ""


def event_body(event_type: str, data: Mapping[str, Any]) -> str:
    """What the index stores for an event: its tokens, space-separated."""
    return " ".join(tokens(event_text(event_type, data)))


def customer_text(data: Mapping[str, Any]) -> str:
    """A customer as the search sees them: name and other attributes, identities (without
    the channel: `email:ana@example.com` is found by `ana`), tags."""
    parts: list[str] = []
    attributes = data.get("attributes") or {}
    if isinstance(attributes, Mapping):
        parts.extend(str(v)[:200] for v in attributes.values() if isinstance(v, str | int))
    for identity in data.get("identities") or ():
        parts.append(str(identity).partition(":")[2] or str(identity))
    parts.extend(str(tag) for tag in data.get("tags") or ())
    return " ".join(parts)


def customer_body(data: Mapping[str, Any]) -> str:
    return " ".join(tokens(customer_text(data)))


# ---------------------------------------------------------------------------- queries


@dataclass(frozen=True, slots=True)
class Term:
    """One required part of a query: `tokens` in a row (a Chinese run of two or more
    characters), one whole token, or a token prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False

    def fts(self) -> str:
        # Tokens hold only letters, digits or Chinese characters: quoting is enough.
        return f'"{" ".join(self.tokens)}"' + ("*" if self.prefix else "")

    def found_in(self, body: Sequence[str]) -> bool:
        if self.prefix:
            return any(t.startswith(self.tokens[0]) for t in body)
        n = len(self.tokens)
        if n == 1:
            return self.tokens[0] in body
        return any(tuple(body[i : i + n]) == self.tokens for i in range(len(body) - n + 1))


@dataclass(frozen=True, slots=True)
class Query:
    text: str  # as typed (trimmed)
    terms: tuple[Term, ...]
    runs: tuple[str, ...]  # the folded words and Chinese runs, for highlighting

    def fts(self) -> str:
        """The FTS5 MATCH expression: every term required."""
        return " AND ".join(term.fts() for term in self.terms)

    def matches(self, body: str) -> bool:
        """Whether an indexed body (space-separated tokens) matches every term."""
        words = body.split()
        return all(term.found_in(words) for term in self.terms)


def parse_query(text: str) -> Query:
    """A query from what an agent typed; `QueryError` when there is nothing to search or
    too much of it."""
    text = text.strip()
    if not text:
        raise QueryError("type something to search for")
    if len(text) > MAX_QUERY:
        raise QueryError(f"a search is at most {MAX_QUERY} characters")
    runs: list[str] = []
    for run in _TOKEN.findall(fold(text)):
        if run not in runs:
            runs.append(run)
    if not runs:
        raise QueryError("the search has no letters, digits or Chinese characters")
    if len(runs) > MAX_TERMS:
        raise QueryError(f"a search has at most {MAX_TERMS} words")
    terms: list[Term] = []
    for run in runs:
        if _CJK.match(run):
            pairs = _run_tokens(run)
            terms.append(Term((run,), prefix=True) if len(run) == 1 else Term(tuple(pairs[:-1])))
        else:
            terms.append(Term((run,), prefix=len(run) >= PREFIX_MIN))
    return Query(text=text, terms=tuple(terms), runs=tuple(runs))


# ---------------------------------------------------------------------------- snippets

SNIPPET_BEFORE = 40
SNIPPET_LENGTH = 160


@functools.lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    return unicodedata.normalize("NFKC", char).casefold()


def _folded_chars(text: str) -> list[str]:
    """`text` folded one character at a time, so positions map back to the original."""
    if text.isascii():  # NFKC leaves ASCII alone, its case folding is lower(), no Chinese
        return list(text.lower())
    # Messages repeat their characters: each is normalised once per process, not per hit.
    parts = [_fold_char(c) for c in text]
    joined = "".join(parts)
    simplified = _simplified(joined)
    if len(simplified) == len(joined):
        out, at = [], 0
        for part in parts:
            out.append(simplified[at : at + len(part)])
            at += len(part)
        return out
    return [_simplified(part) for part in parts]  # a phrase conversion changed the length


def _spans(folded: str, query: Query) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for run in query.runs:
        for found in re.finditer(re.escape(run), folded):
            start, end = found.span()
            if not _CJK.match(run):
                # A word matches at the start of a word, and lights up to the word's end.
                if start and _WORD_CHAR.match(folded[start - 1]):
                    continue
                if len(run) < PREFIX_MIN and end < len(folded) and _WORD_CHAR.match(folded[end]):
                    continue
                while end < len(folded) and _WORD_CHAR.match(folded[end]):
                    end += 1
            spans.append((start, end))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(text: str, query: Query) -> list[tuple[str, bool]]:
    """A window of `text` around its first match, as (piece, is_match) pairs: the caller
    marks the matches up (the console with `<mark>` elements filled by `textContent`)."""
    text = " ".join(text[:MAX_INDEXED].split())
    chars = _folded_chars(text)
    # Where each original character starts in the folded text.
    starts: list[int] = []
    at = 0
    for piece in chars:
        starts.append(at)
        at += len(piece)
    folded = "".join(chars)
    spans = _spans(folded, query)

    def original(position: int) -> int:
        # The first original character whose folded form starts at or after `position`.
        low, high = 0, len(starts)
        while low < high:
            mid = (low + high) // 2
            if starts[mid] < position:
                low = mid + 1
            else:
                high = mid
        return low

    marks = [(original(s), max(original(s) + 1, original(e))) for s, e in spans]
    first = marks[0][0] if marks else 0
    begin = max(0, first - SNIPPET_BEFORE)
    end = min(len(text), begin + SNIPPET_LENGTH)
    pieces: list[tuple[str, bool]] = []
    if begin:
        pieces.append(("…", False))
    cursor = begin
    for start, stop in marks:
        start, stop = max(start, cursor), min(stop, end)
        if start >= end:
            break
        if stop <= start:
            continue
        if start > cursor:
            pieces.append((text[cursor:start], False))
        pieces.append((text[start:stop], True))
        cursor = stop
    if cursor < end:
        pieces.append((text[cursor:end], False))
    if end < len(text):
        pieces.append(("…", False))
    return pieces


def joined(pieces: Iterable[tuple[str, bool]]) -> str:
    """A snippet as plain text (logs, tests)."""
    return "".join(piece for piece, _ in pieces)
