"""A customer who drops what the bot is asking: "never mind", "forget it", "算了", "取消".

In the middle of a flow such a message was read as an answer: "never mind" as a no (the
troubleshooting went on to its next question), "算了" as the Chinese yes it resembles (the
flow recorded the device as fixed). Now, unless it is exactly one of the options offered
(a "Cancel" button), it leaves the flow, and any flow it had interrupted, and the bot says
so (`left_flow`). Only unmistakable withdrawals count: "不用了" or "no need" also answer a
yes/no question ("need a call back?"), so they are read as answers.
"""

from __future__ import annotations

from hub.said_only import says_only

WITHDRAWALS: tuple[str, ...] = (
    "never mind",
    "nevermind",
    "forget it",
    "forget about it",
    "cancel",
    "cancel that",
    "cancel it",
    "stop",
    "stop it",
    "leave it",
    "doesn't matter",
    "it doesn't matter",
    "not anymore",
    "算了",
    "算了吧",
    "取消",
    "没事了",
    "不弄了",
    "不查了",
    "以后再说",
    "不管了",
)


def withdraws(text: str) -> bool:
    """Whether `text` drops the question being asked (see the module's text)."""
    return says_only(text, WITHDRAWALS)


__all__ = ["WITHDRAWALS", "withdraws"]
