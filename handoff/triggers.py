"""When the bot should stop, and how urgent it is: triggers and priority rules (pure).

Reasons a hand-off can record:

- ``human_request``   the customer asked for a person (an intent, or a phrase in en/zh)
- ``fallbacks``       N consecutive turns the bot did not understand
- ``negative_sentiment`` / ``falling_sentiment``  one very negative message, or a slide
- ``complaint_words`` / ``urgent_words``          configured words in either language
- ``vip``             the customer carries a VIP tag
- ``repeat_contact``  the same issue (intent) in another conversation within N days
- ``flow``            a dialog flow's hand-off step
- ``reopened``        a reply soon after resolution
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from handoff.sentiment import mood
from handoff.settings import PRIORITIES, PriorityRule, Triggers, priority_number


@dataclass(frozen=True, slots=True, kw_only=True)
class Signals:
    """Everything one bot-owned turn tells the triggers."""

    text: str
    language: str
    intent: str = ""
    fallback: bool = False  # this turn was not understood
    fallbacks: int = 0  # consecutive, this turn included
    scores: Sequence[float] = ()  # the customer's messages, oldest first, this one last
    tags: frozenset[str] = frozenset()
    repeat_of: str = ""  # an earlier conversation about the same intent, within the window
    flow_request: Mapping[str, Any] | None = None
    matched_words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def is_fallback(turn: Mapping[str, Any]) -> bool:
    """Whether a `bot.turn` event's data says the bot did not understand."""
    if "handled_as" in turn:
        return bool(turn["handled_as"] == "fallback")
    return not turn.get("intent")


@lru_cache(maxsize=256)
def _pattern(word: str) -> re.Pattern[str]:
    # Latin words match whole words ("urgent" not in "insurgent"); Chinese anywhere.
    if re.fullmatch(r"[\w' ]+", word, flags=re.ASCII):
        return re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", flags=re.ASCII)
    return re.compile(re.escape(word))


def find_words(text: str, words: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """Which of the configured words (any language) occur in `text`."""
    folded = text.casefold()
    found: list[str] = []
    for language_words in words.values():
        found.extend(w for w in language_words if w and _pattern(w).search(folded))
    return tuple(dict.fromkeys(found))


def asked_for_person(settings: Triggers, text: str, intent: str) -> bool:
    return intent in settings.human_intents or bool(find_words(text, settings.human_phrases))


def fired(settings: Triggers, signals: Signals) -> list[str]:
    """The reasons to hand off now, in a stable order (empty: let the bot go on)."""
    reasons: list[str] = []
    if asked_for_person(settings, signals.text, signals.intent):
        reasons.append("human_request")
    if signals.fallbacks >= settings.fallbacks:
        reasons.append("fallbacks")
    if signals.scores:
        current = signals.scores[-1]
        if current <= settings.sentiment_level:
            reasons.append("negative_sentiment")
        feeling = mood(signals.scores, window=settings.trend_window)
        window = signals.scores[-settings.trend_window :]
        if len(window) >= 3 and feeling.trend <= settings.sentiment_trend and current < 0:
            reasons.append("falling_sentiment")
    if signals.matched_words.get("complaint"):
        reasons.append("complaint_words")
    if signals.matched_words.get("urgent"):
        reasons.append("urgent_words")
    if signals.tags & settings.vip_tags and (
        settings.vip_mode == "immediate"
        or (settings.vip_mode == "on_fallback" and signals.fallback)
    ):
        reasons.append("vip")
    if signals.repeat_of:
        reasons.append("repeat_contact")
    if signals.flow_request is not None and settings.flow:
        reasons.append("flow")
    return reasons


def priority_for(
    rules: Sequence[PriorityRule],
    *,
    default: int,
    reasons: Sequence[str],
    tags: frozenset[str],
    score: float,
    complaints_90d: int,
    flow_priority: Any = None,
) -> int:
    """The most urgent priority (1 = P1) any matching rule proposes; `default` otherwise."""
    best = default
    for rule in rules:
        if rule.reasons and not rule.reasons & set(reasons):
            continue
        if rule.tags and not rule.tags & tags:
            continue
        if rule.complaints_90d and complaints_90d < rule.complaints_90d:
            continue
        if rule.sentiment_below is not None and score >= rule.sentiment_below:
            continue
        proposed = rule.priority
        if rule.use_flow_priority:
            proposed = _flow_priority(flow_priority, default)
        best = min(best, proposed)
    return best


def _flow_priority(value: Any, default: int) -> int:
    if isinstance(value, str) and value in PRIORITIES:
        return priority_number(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 3:
        return value
    return default
