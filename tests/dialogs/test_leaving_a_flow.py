"""A customer drops a flow ("never mind", "算了") or says goodbye in the middle of one: the
flow ends, nothing is recorded as answered, and the bot does not ask again. A "Cancel"
option the flow offers is still an answer. Real engine, the demo bot and a small bot."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.engine import DialogEngine
from tests.dialogs.talk import DEMO_DIALOGS, Chat, write_bot

CASES = [
    # (opening, what the customer says, what the bot says)
    ("my phone won't turn on", "never mind", "let's leave that there"),
    ("my phone won't turn on", "Forget it, I'll take it to the store.", "let's leave that there"),
    ("我的手机开不了机", "算了", "这件事先到这里"),
    ("我的手机开不了机", "算了吧，我自己去店里问", "这件事先到这里"),
    ("我的手機開不了機", "取消", "这件事先到这里"),
]


@pytest.fixture(scope="module")
def demo() -> DialogEngine:
    return DialogEngine.from_path(DEMO_DIALOGS)


@pytest.mark.parametrize(("opening", "said", "reply"), CASES)
async def test_a_withdrawal_leaves_the_flow(
    demo: DialogEngine, opening: str, said: str, reply: str
) -> None:
    chat = Chat(demo)
    await chat.say(opening)
    assert chat.state["flow"] == "power_troubleshooting"
    result = await chat.say(said)
    (text,) = Chat.texts(result)
    assert reply in text
    assert chat.state["flow"] == "" and chat.state["stack"] == []
    # "算了" had been read as the yes it resembles: the device recorded as fixed.
    assert "on_after_hold" not in chat.state["slots"]
    assert "power_outcome" not in chat.state["slots"]
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["handled_as"] == "left_flow"
    assert chat.state["tried"][-1]["left"] is True


@pytest.mark.parametrize(
    ("opening", "bye", "goodbye"),
    [("my phone won't turn on", "bye", "Goodbye"), ("我的手机开不了机", "再见", "再见")],
)
async def test_a_goodbye_ends_the_flow_without_asking_again(
    demo: DialogEngine, opening: str, bye: str, goodbye: str
) -> None:
    chat = Chat(demo)
    await chat.say(opening)
    texts = Chat.texts(await chat.say(bye))
    assert len(texts) == 1 and goodbye in texts[0]
    assert chat.state["flow"] == ""


@pytest.mark.parametrize(
    ("opening", "answer"), [("my phone won't turn on", "no"), ("我的手机开不了机", "没有")]
)
async def test_a_plain_answer_still_answers(demo: DialogEngine, opening: str, answer: str) -> None:
    chat = Chat(demo)
    await chat.say(opening)
    await chat.say(answer)
    assert chat.state["flow"] == "power_troubleshooting"
    assert chat.state["slots"]["on_after_hold"] == "no"


CANCEL_BOT = """\
slots:
  next:
    type: choice
    choices:
      - value: keep
        title: {en: Keep my order, zh: 保留订单}
      - value: cancel
        title: {en: Cancel, zh: 取消}
intents:
  late_order:
    examples: [my order is late, the parcel is late, 订单迟到了, 包裹晚了]
faq:
  hello:
    examples: [hi, hello, 你好]
    answer: {en: Hello!, zh: 您好！}
flows:
  late:
    intent: late_order
    steps:
      - ask: next
        prompt: {en: Keep the order or cancel it?, zh: 保留订单还是取消？}
      - say: {en: "Noted: {{ slots.next }}.", zh: "已记录：{{ slots.next }}。"}
"""


@pytest.mark.parametrize(
    ("opening", "cancel"), [("/late_order", "Cancel"), ("/late_order", "取消")]
)
async def test_an_offered_cancel_option_is_an_answer(
    tmp_path: Path, opening: str, cancel: str
) -> None:
    chat = Chat(DialogEngine.from_path(write_bot(tmp_path, bot=CANCEL_BOT)))
    await chat.say(opening)
    result = await chat.say(cancel)
    assert Chat.texts(result) == ["Noted: cancel." if cancel == "Cancel" else "已记录：cancel。"]
