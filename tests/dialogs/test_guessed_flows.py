"""A flow that asks for something is never started on a weak guess (below `WEAK_INTENT`): the
intent is offered as a button with the others, and one tap starts it. The demo bot with its
knowledge base and its real classifier; English and Chinese."""

from __future__ import annotations

import pytest

from dialogs.engine import DialogEngine
from dialogs.turns import WEAK_INTENT
from tests.dialogs.talk import DEMO_KNOWLEDGE, Chat, demo_engine


@pytest.fixture(scope="module")
def demo() -> DialogEngine:
    return demo_engine(knowledge=DEMO_KNOWLEDGE)


@pytest.mark.parametrize(
    ("text", "guess", "prompt"),
    [
        # Read alone as an order lookup, weakly: the customer wants their money back.
        ("where's my money, it's been a month", "check_order", "What's your order number?"),
        ("太离谱了，退款等了三个星期还没到", "check_order", "请提供您的订单号"),
    ],
)
async def test_a_weak_guess_at_a_flow_is_a_button_not_a_question(
    demo: DialogEngine, text: str, guess: str, prompt: str
) -> None:
    assert guess in demo.bot.triggers  # a flow, which asks for the order number first
    prediction = demo.bot.classifier.predict(text)
    assert prediction.intent == guess and prediction.confidence < WEAK_INTENT
    chat = Chat(demo)
    result = await chat.say(text)
    assert not any(prompt in reply for reply in Chat.texts(result))
    payloads = [b.payload for reply in result.replies for b in reply.buttons]
    assert payloads[0] == f"/{guess}"  # the guess first, with the likely others
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and (turn["handled_as"], turn["flow"]) == ("fallback", "")
    tapped = await chat.say(payloads[0])  # one tap confirms it
    assert any(prompt in reply for reply in Chat.texts(tapped))
    assert chat.state["flow"]


@pytest.mark.parametrize(
    ("before", "text"),
    [
        # After another answer, an order number alone (the classifier guesses the order
        # lookup at 0.12–0.28, or not at all): the lookup runs with it, not "did you mean".
        ("my parcel never arrived", "#20261001"),
        ("my parcel never arrived", "sorry, it's 20261001"),
        ("how long does delivery take", "2026 1001"),
        ("发货要多久", "不好意思，是20261001"),
        ("支持哪些付款方式", "＃２０２６１００１"),  # full-width
    ],
)
async def test_a_weak_guess_at_a_flow_starts_it_when_the_message_answers_its_first_question(
    demo: DialogEngine, before: str, text: str
) -> None:
    prediction = demo.bot.classifier.predict(text)
    assert prediction.confidence < WEAK_INTENT
    chat = Chat(demo)
    await chat.say(before)
    result = await chat.say(text)
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and (turn["handled_as"], turn["intent"]) == ("flow", "check_order")
    # The flow asked nothing: it went on to the lookup with the number it was given.
    assert chat.state["slots"]["order_id"] == "20261001"
    assert not any("order number?" in r or "请提供您的订单号" in r for r in Chat.texts(result))


@pytest.mark.parametrize(
    "text",
    [
        # A weak guess without the value is still a button (the rule above), and a flow that
        # hands off is never entered on a guess, number or not.
        "where's my money, it's been a month",
        "太离谱了，退款等了三个星期还没到",
    ],
)
async def test_without_the_answer_a_weak_guess_stays_a_button(
    demo: DialogEngine, text: str
) -> None:
    chat = Chat(demo)
    turn = Chat.event(await chat.say(text), "bot.turn")
    assert turn is not None and turn["handled_as"] == "fallback"
    assert not chat.state["flow"]
