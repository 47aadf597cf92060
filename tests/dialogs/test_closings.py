"""A mail's frame (salutation, sign-off, signature) is not read as the message: unit cases
and the demo bot's reading of whole mails, in English and Chinese."""

from __future__ import annotations

import pytest

from dialogs.closings import without_frame
from dialogs.engine import DialogEngine
from tests.dialogs.talk import DEMO_KNOWLEDGE, Chat, demo_engine


@pytest.mark.parametrize(
    ("text", "read"),
    [
        (
            "Hi,\n\nThe tracking says delivered but nothing arrived. Order 20261001.\n\n"
            "Thanks,\nAna Silva\nCustomer since 2019",
            "The tracking says delivered but nothing arrived. Order 20261001.",
        ),
        (
            "您好：\n收到的音箱外壳裂了，订单号 20261002。\n祝好！\n李雷",
            "收到的音箱外壳裂了，订单号 20261002。",
        ),
        ("The app crashes.\nThanks in advance!\nBob\nACME Ltd\nbob@acme.com", "The app crashes."),
        ("我想退货\n谢谢", "我想退货"),
        (
            "我的耳机没声音了\n\n王芳\n上海市浦东新区\n电话：138 0013 8000",
            "我的耳机没声音了\n\n王芳",
        ),
        # a number at the end is the customer's (an order), not a signature
        ("Where is my order?\n20261001", "Where is my order?\n20261001"),
        ("订单还没到\n订单号：20261003", "订单还没到\n订单号：20261003"),
        ("It won't charge.\nPhone: iPhone 15 Pro", "It won't charge.\nPhone: iPhone 15 Pro"),
        # nothing but the frame: the text as it is
        ("Thanks", "Thanks"),
        ("谢谢", "谢谢"),
        ("Thanks,\nAna", "Thanks,\nAna"),
        ("hi", "hi"),
        ("王经理您好：\n发票还没收到", "发票还没收到"),
        # a first line that ends in 您好 is not a salutation unless it names someone
        ("订单没到您好\n请帮我查一下", "订单没到您好\n请帮我查一下"),
        # a thank-you inside a sentence is the message
        (
            "Thanks for the quick reply! The screen is still black though.",
            "Thanks for the quick reply! The screen is still black though.",
        ),
    ],
)
def test_the_frame_is_taken_off(text: str, read: str) -> None:
    assert without_frame(text) == read


@pytest.fixture(scope="module")
def engine() -> DialogEngine:
    return demo_engine(knowledge=DEMO_KNOWLEDGE)


@pytest.mark.parametrize(
    ("mail", "intent"),
    [
        # the phone number of the signature had made this a question about phone support
        ("我的耳机没声音了，怎么办？\n\n王芳\n上海市浦东新区\n电话：138 0013 8000", "no_sound"),
        ("您好：\n收到的音箱外壳裂了，订单号 20261002。\n祝好！\n李雷", "damaged_delivery"),
        ("Hello,\n\nPlease cancel my order.\n\nKind regards\nTom Baker\nACME Ltd", "cancel_order"),
        ("Hi team,\n\nmy headphones have no sound at all\n\nCheers,\nJo", "no_sound"),
    ],
)
async def test_a_signed_mail_is_read_for_what_it_asks(
    engine: DialogEngine, mail: str, intent: str
) -> None:
    turn = Chat.event(await Chat(engine).say(mail), "bot.turn")
    assert turn is not None and turn["intent"] == intent
