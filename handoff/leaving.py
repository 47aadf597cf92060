"""Does a customer waiting for a person want to go back to the bot?

While a hand-off waits (queued, or offered but not yet accepted) a message is read as "leave
the queue" when it is the "Back to the bot" button, when the whole message is a short
withdrawal ("cancel", "never mind", "算了", "不用了"), when it starts with one and goes on
("never mind, I found it", "算了，我自己弄"), or when it says so anywhere without denying
it ("I want to talk to the bot", "不需要人工了"; not "I don't want the bot"). Anything else
("cancel my order", "不用了的配件怎么退") is a message for the agent.
"""

from __future__ import annotations

from collections.abc import Mapping

from handoff.messages import LEAVE_PAYLOAD
from handoff.negation import asserted
from handoff.settings import LeaveQueue
from hub.said_only import says_only

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


def wants_to_leave(settings: LeaveQueue, text: str) -> bool:
    """Whether `text`, written while waiting for a person, withdraws the hand-off."""
    if text.strip() == LEAVE_PAYLOAD:
        return True
    whole = settings.whole or DEFAULT_WHOLE
    phrases = settings.phrases or DEFAULT_PHRASES
    if says_only(text, (w for words in whole.values() for w in words)):
        return True
    return bool(asserted(text, phrases))
