"""The "did you mean" buttons of a message the bot did not understand.

A wrong guess at a question costs the customer one tap. A wrong guess at an intent whose flow
starts with a hand-off (a complaint, "talk to a person") costs more: "Make a complaint" offered
to someone who said "嗨～" reads as if they had complained, and one tap puts a harmless line in
a person's queue — at P1 for a complaint. So such an intent is offered only when the line came
near to being understood as it: a confidence of at least `HANDOFF_GUESS_SHARE` of the threshold
that intent needs to be answered. The threshold is the bot's own (calibrated per bot, or an
operator's `nlu_threshold`), so the rule holds for a small crisp bot and a large overlapping one.

Nor are greetings, thanks and goodbyes offered: "did you mean Greeting?" under "你好，我上周买的
笔记本到现在还没发货" (its 你好) or "Goodbye" beside "Order status" help nobody who was not
understood.
"""

from __future__ import annotations

from collections.abc import Iterable

from dialogs.flows import Bot, Handoff
from dialogs.nlu import IntentScore

__all__ = [
    "HANDOFF_GUESS_SHARE",
    "MAX_SUGGESTIONS",
    "MIN_CANDIDATE_CONFIDENCE",
    "SMALL_TALK",
    "hands_off",
    "suggestions",
]

#: Intents that are courtesy, not questions: never answered beside questions
#: (`dialogs.questions`), never offered as "did you mean".
SMALL_TALK = frozenset({"greet", "thanks", "goodbye"})

#: No intent is offered below this confidence (a flat ranking is no evidence).
MIN_CANDIDATE_CONFIDENCE = 0.05
#: A hand-off intent is offered at this share of its answering threshold, or above.
HANDOFF_GUESS_SHARE = 0.5
MAX_SUGGESTIONS = 3


def hands_off(bot: Bot, intent: str) -> bool:
    """Whether `intent` starts a flow whose first step is a hand-off."""
    flow = bot.flows.get(bot.triggers.get(intent, ""))
    return flow is not None and isinstance(flow.steps[0], Handoff)


def suggestions(bot: Bot, ranking: Iterable[IntentScore]) -> list[str]:
    """The intents to offer for a message ranked `ranking` (best first), at most three."""
    offered: list[str] = []
    for score in ranking:
        if (
            not bot.handles(score.intent)
            or score.confidence < MIN_CANDIDATE_CONFIDENCE
            or score.intent in SMALL_TALK
        ):
            continue
        if hands_off(bot, score.intent) and score.confidence < (
            HANDOFF_GUESS_SHARE * bot.classifier.threshold_for(score.intent)
        ):
            continue
        offered.append(score.intent)
        if len(offered) == MAX_SUGGESTIONS:
            break
    return offered
