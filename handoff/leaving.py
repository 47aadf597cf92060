"""Does a customer waiting for a person want to go back to the bot?

While a hand-off waits (queued, or offered but not yet accepted) a message is read as "leave
the queue" when it is the "Back to the bot" button, when the whole message is a short
withdrawal ("cancel", "never mind", "算了", "不用了"), when it starts with one and goes on
("never mind, I found it", "算了，我自己弄"), or when it says so anywhere without denying
it ("I want to talk to the bot", "不需要人工了"; not "I don't want the bot"). Anything else
("cancel my order", "不用了的配件怎么退") is a message for the agent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from handoff.messages import LEAVE_PAYLOAD
from handoff.negation import asserted, normalise
from handoff.settings import LeaveQueue

DEFAULT_WHOLE: Mapping[str, tuple[str, ...]] = {
    "en": (
        "cancel",
        "never mind",
        "nevermind",
        "forget it",
        "not anymore",
        "stop waiting",
        "cancel that",
        "cancel it",
        "cancel the request",
        "cancel my request",
        "i'll wait for the bot",
    ),
    "zh": ("算了", "不用了", "取消", "不需要了", "不要了", "不等了", "没事了", "算了吧", "取消吧"),
}
DEFAULT_PHRASES: Mapping[str, tuple[str, ...]] = {
    "en": (
        "talk to the bot",
        "speak to the bot",
        "back to the bot",
        "chat with the bot",
        "go back to the bot",
        "don't need a person",
        "don't need an agent",
        "don't need a human",
        "no longer need a person",
        "cancel the handoff",
        "cancel the hand-off",
    ),
    "zh": (
        "不需要人工",
        "不用人工",
        "不要人工",
        "不用转人工",
        "不需要转人工",
        "取消人工",
        "取消转人工",
        "返回机器人",
        "回到机器人",
        "跟机器人聊",
        "和机器人聊",
        "找机器人",
    ),
}
# Courtesy and particles around a withdrawal: "cancel please", "算了吧谢谢", "不用了哈".
_COURTESY = re.compile(r"\b(?:please|pls|thanks|thank you|ok|okay)\b|[谢谢哈啊呀吧嗯哦了的]+$")
_PUNCTUATION = re.compile(r"[\s,.;:!?，。；：！？、…~～'\"]+")
_OPENER_END = re.compile(r"[,.;:!?，。；：！？—-]")


def wants_to_leave(settings: LeaveQueue, text: str) -> bool:
    """Whether `text`, written while waiting for a person, withdraws the hand-off."""
    if text.strip() == LEAVE_PAYLOAD:
        return True
    whole = settings.whole or DEFAULT_WHOLE
    phrases = settings.phrases or DEFAULT_PHRASES
    wholes = {_bare(w) for words in whole.values() for w in words}
    folded = normalise(text).strip()
    if _bare(folded) in wholes:
        return True
    opener = _OPENER_END.split(folded, maxsplit=1)
    if len(opener) == 2 and opener[1].strip() and _bare(opener[0]) in wholes:
        return True
    return bool(asserted(text, phrases))


def _bare(text: str) -> str:
    """A message without courtesy words, particles and punctuation, for a whole-message match."""
    text = _PUNCTUATION.sub(" ", normalise(text)).strip()
    for _ in range(3):  # "算了吧谢谢" → "算了吧" → "算了" is a whole match either way
        stripped = _COURTESY.sub("", text).strip()
        if stripped == text or not stripped:
            break
        text = stripped
    return " ".join(text.split())
