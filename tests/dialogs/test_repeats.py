"""A follow-up that gets the answer the customer has just read is told so, and offered a
person (`Turn._repeats`). The demo bot with its knowledge base, its real classifier; English
and Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.engine import DialogEngine
from dialogs.state import Topic
from tests.dialogs.talk import DEMO_KNOWLEDGE, Chat, demo_engine, write_bot

SAID_ABOVE = {"en": "As I said above:", "zh": "如上所说："}
OFFER = {
    "en": "If that doesn't answer your question, would you like me to bring in a person from"
    " our team?",
    "zh": "如果这没有解答您的问题，需要为您转接人工客服吗？",
}


@pytest.fixture(scope="module")
def demo() -> DialogEngine:
    return demo_engine(knowledge=DEMO_KNOWLEDGE)


def buttons(chat: Chat) -> list[str]:
    assert chat.last is not None
    return [b.payload for reply in chat.last.replies for b in reply.buttons]


@pytest.mark.parametrize(
    ("lang", "question", "follow_up", "intent"),
    [
        ("en", "can I pay with paypal?", "and with apple pay?", "payment_methods"),
        ("zh", "可以用支付宝吗", "微信支付呢", "payment_methods"),
    ],
)
async def test_the_same_faq_again_is_said_to_be_the_one_above_and_a_person_offered(
    demo: DialogEngine, lang: str, question: str, follow_up: str, intent: str
) -> None:
    chat = Chat(demo)
    (answer,) = Chat.texts(await chat.say(question))
    again = await chat.say(follow_up, wait=20.0)
    assert Chat.texts(again) == [SAID_ABOVE[lang], answer, OFFER[lang]]
    assert buttons(chat)[0].startswith("/handoff_accept")
    turn = Chat.event(again, "bot.turn")
    assert turn is not None
    assert (turn["intent"], turn["handled_as"], turn.get("repeated")) == (intent, "faq", True)
    # The topic goes on: asked a third time, the same is said once more.
    third = await chat.say(follow_up, wait=20.0)
    assert Chat.texts(third) == [SAID_ABOVE[lang], answer, OFFER[lang]]


@pytest.mark.parametrize(
    ("lang", "question", "follow_up", "article"),
    [
        (
            "en",
            "do you have a student discount?",
            "does it apply to laptops too?",
            "student-discount",
        ),
        ("zh", "学生有优惠吗", "笔记本也可以吗", "student-discount"),
    ],
)
async def test_the_same_passage_again_asks_about_a_person_instead_of_did_this_help(
    demo: DialogEngine, lang: str, question: str, follow_up: str, article: str
) -> None:
    chat = Chat(demo)
    first = await chat.say(question)
    (quoted,) = Chat.texts(first)
    again = await chat.say(follow_up, wait=20.0)
    said_above, passage, offer = Chat.texts(again)
    assert (said_above, offer) == (SAID_ABOVE[lang], OFFER[lang])
    # The same passage, without its "Did this help?": one question at a time.
    assert passage.strip() and passage in quoted and passage != quoted
    assert buttons(chat)[0].startswith("/handoff_accept")
    answered = Chat.event(again, "kb.answered")
    assert answered is not None and answered["article"] == article  # quoted, and logged so
    turn = Chat.event(again, "bot.turn")
    assert turn is not None and turn.get("repeated") is True


@pytest.mark.parametrize(
    ("question", "follow_up", "no", "declined"),
    [
        ("can I pay with paypal?", "and with apple pay?", "no thanks", "No problem"),
        ("可以用支付宝吗", "微信支付呢", "不用了", "好的，我们继续"),
    ],
)
async def test_a_no_to_the_offer_keeps_the_bot(
    demo: DialogEngine, question: str, follow_up: str, no: str, declined: str
) -> None:
    chat = Chat(demo)
    await chat.say(question)
    await chat.say(follow_up)
    result = await chat.say(no)
    assert declined in "\n".join(Chat.texts(result))
    assert chat.status.value == "bot"


@pytest.mark.parametrize(
    ("question", "follow_up", "next_question"),
    [
        (
            "is the watch waterproof?",
            "can I wear it in the shower?",
            "can I swim with it?",
        ),
        # (Since the articles' listed questions are indexed, "这个手表防水吗" gets the lead
        # passage and "那游泳可以戴吗" the swimming one: new, so no offer; "潜水也可以吗" is
        # answered by the swimming passage again.)
        ("这个手表可以戴着游泳吗", "潜水也可以吗", "那进水了呢"),
    ],
)
async def test_a_question_leaning_on_the_answer_is_answered_while_the_offer_waits(
    demo: DialogEngine, question: str, follow_up: str, next_question: str
) -> None:
    # Not "I'm having trouble understanding": the knowledge base answers it after the topic.
    chat = Chat(demo)
    await chat.say(question)
    await chat.say(follow_up)
    assert buttons(chat)[0].startswith("/handoff_accept")  # the offer of a person waits
    result = await chat.say(next_question)
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["handled_as"] == "knowledge"
    assert Chat.event(result, "kb.answered") is not None


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("thanks", "thanks again"),  # two welcomes, not "as I said above"
        ("谢谢", "谢谢你"),
        ("how do I reset my password", "怎么重置密码"),  # the answer in the other language
    ],
)
async def test_small_talk_and_the_other_language_are_no_repeat(
    demo: DialogEngine, first: str, then: str
) -> None:
    chat = Chat(demo)
    await chat.say(first)
    result = await chat.say(then)
    assert len(Chat.texts(result)) == 1
    assert not set(Chat.texts(result)) & {*SAID_ABOVE.values(), *OFFER.values()}
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and "repeated" not in turn


@pytest.mark.parametrize(
    ("question", "again"),
    [("can I pay with paypal?", "can I pay with paypal?"), ("可以用支付宝吗", "可以用支付宝吗")],
)
async def test_asked_again_after_the_follow_up_window_it_is_simply_answered(
    demo: DialogEngine, question: str, again: str
) -> None:
    chat = Chat(demo)
    first = Chat.texts(await chat.say(question))
    later = await chat.say(again, wait=demo.bot.settings.follow_up_window + 1)
    assert Chat.texts(later) == first
    immediately = await chat.say(again)  # within the window of that answer: a repeat
    assert Chat.texts(immediately)[0] in SAID_ABOVE.values()


def test_the_answer_is_kept_with_the_topic_and_an_older_state_reads_without_it() -> None:
    topic = Topic(text="可以用支付宝吗", intent="payment_methods", at=5.0, answer="faq:x:zh")
    assert Topic.from_json(topic.to_json()) == topic
    older = {"text": "可以用支付宝吗", "intent": "payment_methods", "article": "", "at": 5.0}
    assert Topic.from_json(older) == Topic(text="可以用支付宝吗", intent="payment_methods", at=5.0)
    assert Topic.from_json({**older, "answer": 3}) == Topic(
        text="可以用支付宝吗", intent="payment_methods", at=5.0
    )


@pytest.mark.parametrize(
    ("text", "small_talk"),
    [("thanks", True), ("谢谢", True), ("hello", True), ("how do I reset my password", False)],
)
async def test_small_talk_is_marked_as_such_in_the_turn(
    demo: DialogEngine, text: str, small_talk: bool
) -> None:
    # The hand-off summary lists what the bot answered, courtesy left out.
    turn = Chat.event(await Chat(demo).say(text), "bot.turn")
    assert turn is not None and turn.get("small_talk", False) is small_talk


HOURS = """
faq:
  hours:
    title: {{en: Opening hours, zh: 营业时间}}
    examples: [what are your opening hours, when are you open, 你们几点开门, 营业时间]
    answer: {{en: "{en}", zh: "{zh}"}}
  shipping:
    title: {{en: Shipping costs, zh: 运费}}
    examples: [how much is shipping, delivery fee, 运费多少, 包邮吗]
    answer: {{en: Free over 99., zh: 满 99 包邮。}}
"""


@pytest.mark.parametrize(
    ("lang", "question"), [("en", "when are you open"), ("zh", "你们几点开门")]
)
async def test_an_answer_the_operator_has_edited_since_is_no_repeat(
    tmp_path: Path, lang: str, question: str
) -> None:
    """A hot reload changed the text: the customer has not read the new one yet."""
    before = {"en": "We open at 9.", "zh": "9 点开门。"}
    after = {"en": "We now open at 8.", "zh": "现在 8 点开门。"}
    chat = Chat(DialogEngine.from_path(write_bot(tmp_path / "v1", bot=HOURS.format(**before))))
    assert Chat.texts(await chat.say(question)) == [before[lang]]
    chat.engine = DialogEngine.from_path(write_bot(tmp_path / "v2", bot=HOURS.format(**after)))
    assert Chat.texts(await chat.say(question)) == [after[lang]]
    assert Chat.texts(await chat.say(question))[0] == SAID_ABOVE[lang]  # now it is one
