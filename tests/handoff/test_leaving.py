"""Which messages, written while waiting for a person, withdraw the hand-off (en + zh)."""

from __future__ import annotations

import pytest

from handoff.leaving import wants_to_leave
from handoff.messages import LEAVE_PAYLOAD
from handoff.settings import LeaveQueue, load_settings
from tests.support import REPO

SHIPPED = load_settings(REPO / "config" / "handoff.yaml").leave
DEFAULTS = LeaveQueue()  # a handoff.yaml without `leave_queue:` gets the built-in words

LEAVE = [
    LEAVE_PAYLOAD,
    "cancel",
    "Cancel.",
    "cancel please",
    "never mind",
    "Never mind, I want to talk to the bot",
    "nevermind!",
    "never mind, I found it myself",
    "forget it",
    "I want to talk to the bot",
    "can I go back to the bot?",
    "I don't need a person anymore",
    "算了",
    "算了吧",
    "算了，我自己弄",
    "不用了",
    "不用了，谢谢",
    "不用了哈",
    "不需要人工了",
    "不用转人工了，我自己看看",
    "取消",
    "返回机器人",
    "不等了",
    "ＣＡＮＣＥＬ",
]
STAY = [
    "cancel my order",
    "can you cancel the order for me",
    "I want to cancel my subscription",
    "never had this problem before",
    "I don't want to talk to the bot",
    "no",
    "ok",
    "thanks",
    "my order number is 20261001",
    "不用了的配件怎么退？",
    "取消订单",
    "我要取消订单",
    "我不想跟机器人聊",
    "好的",
    "谢谢",
    "status",
    "",
]


@pytest.mark.parametrize("settings", [SHIPPED, DEFAULTS], ids=["shipped", "defaults"])
@pytest.mark.parametrize("text", LEAVE)
def test_withdrawals(settings: LeaveQueue, text: str) -> None:
    assert wants_to_leave(settings, text), text


@pytest.mark.parametrize("settings", [SHIPPED, DEFAULTS], ids=["shipped", "defaults"])
@pytest.mark.parametrize("text", STAY)
def test_messages_for_the_agent(settings: LeaveQueue, text: str) -> None:
    assert not wants_to_leave(settings, text), text
