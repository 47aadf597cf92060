"""When the bot should stop, and how urgent it is: triggers and priority rules (pure).

Reasons a hand-off can record:

- ``human_request``   the customer asked for a person (an intent, or a phrase in en/zh)
- ``fallbacks``       N consecutive turns the bot did not understand
- ``negative_sentiment`` / ``falling_sentiment``  one very negative message, or a slide
- ``complaint_words`` / ``urgent_words``          configured words in either language, said
  and not denied ("不想投诉", "not urgent" do not count); when the bot answered the message
  with a confident FAQ or flow they yield to that answer, unless the message is strongly
  negative
- ``vip``             the customer carries a VIP tag
- ``repeat_contact``  the same issue (intent) in another conversation within N days
- ``flow``            a dialog flow's hand-off step
- ``reopened``        a reply soon after resolution
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from handoff.negation import asserted
from handoff.sentiment import mood
from handoff.settings import PRIORITIES, PriorityRule, Triggers, priority_number


@dataclass(frozen=True, slots=True, kw_only=True)
class Signals:
    """Everything one bot-owned turn tells the triggers."""

    text: str
    language: str
    intent: str = ""
    confidence: float = 1.0  # in the intent the bot acted on this turn (1.0: none new)
    answered: bool = False  # the bot answered this message from a confident FAQ or flow
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


ANSWERED_AS = frozenset({"faq", "flow", "interruption"})  # `handled_as` of a real answer


def find_words(text: str, words: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """Which of the configured words (any language) `text` says without denying them."""
    return asserted(text, words)


def answered(turn: Mapping[str, Any], *, human_intents: frozenset[str]) -> bool:
    """Whether a `bot.turn` event's data says the bot answered with one of its FAQs or
    flows (its own out-of-scope threshold already passed), not a fallback or a hand-off."""
    intent = turn.get("intent")
    return (
        bool(intent)
        and intent not in human_intents
        and str(turn.get("handled_as", "")) in ANSWERED_AS
    )


def asked_for_person(settings: Triggers, text: str, intent: str) -> bool:
    return intent in settings.human_intents or bool(find_words(text, settings.human_phrases))


def word_reasons(settings: Triggers, signals: Signals) -> list[str]:
    """`complaint_words` / `urgent_words`, unless a confident answer wins over them."""
    reasons = [
        reason
        for kind, reason in (("complaint", "complaint_words"), ("urgent", "urgent_words"))
        if signals.matched_words.get(kind)
    ]
    strongly_negative = bool(signals.scores) and signals.scores[-1] <= settings.words_despite_below
    if reasons and signals.answered and settings.answers_win and not strongly_negative:
        # "How long does a refund take? urgent" is a question the bot just answered; the
        # words alone are no reason to queue the customer (and as P1, ahead of real ones).
        return []
    return reasons


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
    reasons.extend(word_reasons(settings, signals))
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
    intent: str = "",
    confidence: float = 1.0,
) -> int:
    """The most urgent priority (1 = P1) any matching rule proposes (`default` otherwise),
    then made no more urgent than any matching cap allows (`no_higher_than`)."""
    best = default
    caps: list[int] = []
    for rule in rules:
        if not _matches(
            rule,
            reasons=reasons,
            tags=tags,
            score=score,
            complaints_90d=complaints_90d,
            intent=intent,
            confidence=confidence,
        ):
            continue
        if rule.no_higher_than is not None:
            caps.append(rule.no_higher_than)
            continue
        proposed = rule.priority
        if rule.use_flow_priority:
            proposed = _flow_priority(flow_priority, default)
        best = min(best, proposed)
    return max([best, *caps])


def _matches(
    rule: PriorityRule,
    *,
    reasons: Sequence[str],
    tags: frozenset[str],
    score: float,
    complaints_90d: int,
    intent: str,
    confidence: float,
) -> bool:
    return not (
        (rule.reasons and not rule.reasons & set(reasons))
        or (rule.tags and not rule.tags & tags)
        or (rule.intents and intent not in rule.intents)
        or (rule.complaints_90d and complaints_90d < rule.complaints_90d)
        or (rule.sentiment_below is not None and score >= rule.sentiment_below)
        or confidence < rule.min_confidence
    )


def _flow_priority(value: Any, default: int) -> int:
    if isinstance(value, str) and value in PRIORITIES:
        return priority_number(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 3:
        return value
    return default
