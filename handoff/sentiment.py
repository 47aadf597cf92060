"""Bilingual, offline sentiment: a score per customer message and a trend per conversation.

English uses VADER (a maintained lexicon-and-rules model shipped in its package); Chinese
uses the lexicon in `handoff.sentiment_zh`. Both give a compound score in (-1, 1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    SentimentIntensityAnalyzer,
)

from handoff import sentiment_zh

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
NEGATIVE_BELOW = -0.25  # a message scoring below this is labelled negative
POSITIVE_ABOVE = 0.25

_vader = SentimentIntensityAnalyzer()
# Customer-service adjustments to VADER's general lexicon: courtesy words are not praise
# ("please", "I'd like to"), and a few complaints it does not know.
_vader.lexicon.update(
    {
        "please": 0.0,
        "accept": 0.0,
        "rip-off": -2.5,
        "unbearable": -2.5,
        "overcharged": -2.0,
        "crashing": -1.5,
        "crashes": -1.5,
        "outage": -1.5,
        "outages": -1.5,
        "delayed": -1.2,
        "ignoring": -1.5,
        "nightmare": -2.5,
        "ridiculous": -2.0,
        "dead": -1.2,  # "my router is dead" reports a fault; it is not despair
    }
)
_COURTESY = re.compile(r"\b(?:i'd|i would|we'd|we would) like to\b", re.IGNORECASE)


def language_of(text: str) -> str:
    """ "zh" when the text has Chinese characters, else "en"."""
    return "zh" if _CJK.search(text) else "en"


@lru_cache(maxsize=4096)
def score(text: str) -> float:
    """Compound score in (-1, 1) for one message; cached, since summaries rescore history."""
    if not text.strip():
        return 0.0
    if language_of(text) == "zh":
        return round(sentiment_zh.score(text), 4)
    return round(float(_vader.polarity_scores(_COURTESY.sub("I want to", text))["compound"]), 4)


LABELS = ("negative", "neutral", "positive")


def label(value: float) -> str:
    if value < NEGATIVE_BELOW:
        return "negative"
    if value > POSITIVE_ABOVE:
        return "positive"
    return "neutral"


@dataclass(frozen=True, slots=True, kw_only=True)
class Mood:
    """How a conversation feels: the latest score, the trend, the lowest point."""

    current: float
    trend: float  # least-squares slope × (window − 1): the change across the window
    lowest: float
    scored: int

    @property
    def label(self) -> str:
        return label(self.current)

    @property
    def trend_label(self) -> str:
        if self.scored < 3:
            return "steady"
        return "falling" if self.trend < -0.2 else "rising" if self.trend > 0.2 else "steady"

    def to_json(self) -> dict[str, float | int | str]:
        return {
            "score": self.current,
            "label": self.label,
            "trend": round(self.trend, 4),
            "trend_label": self.trend_label,
            "lowest": self.lowest,
            "scored": self.scored,
        }


def mood(scores: Sequence[float], *, window: int = 4) -> Mood:
    """The mood over `scores` (oldest first); the trend looks at the last `window`."""
    if not scores:
        return Mood(current=0.0, trend=0.0, lowest=0.0, scored=0)
    recent = list(scores[-window:])
    return Mood(current=scores[-1], trend=_change(recent), lowest=min(scores), scored=len(scores))


def _change(values: Sequence[float]) -> float:
    n = len(values)
    if n < 2:
        return 0.0
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    num = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    den = sum((i - mean_x) ** 2 for i in range(n))
    return num / den * (n - 1)


def evaluate(rows: Iterable[tuple[str, str]]) -> dict[str, float]:
    """Accuracy on (label, text) rows: three-way, and negative-versus-rest."""
    total = right = negative_right = 0
    for expected, text in rows:
        got = label(score(text))
        total += 1
        right += got == expected
        negative_right += (got == "negative") == (expected == "negative")
    if not total:
        return {"count": 0, "accuracy": 0.0, "negative_accuracy": 0.0}
    return {
        "count": total,
        "accuracy": round(right / total, 4),
        "negative_accuracy": round(negative_right / total, 4),
    }
