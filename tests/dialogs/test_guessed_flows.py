"""A flow that asks for something is never started on a weak guess (below `WEAK_INTENT`): the
intent is offered as a button with the others, and one tap starts it. The demo bot with its
knowledge base and its real classifier; English and Chinese."""

from __future__ import annotations

import pytest

from dialogs.engine import DialogEngine
from dialogs.turns import WEAK_INTENT
from tests.dialogs.talk import DEMO_DIALOGS, REPO, Chat


@pytest.fixture(scope="module")
def demo() -> DialogEngine:
    return DialogEngine.from_path(DEMO_DIALOGS, knowledge_path=REPO / "config" / "knowledge")


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
