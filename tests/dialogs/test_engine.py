"""The engine's policies, turn by turn: flows, slots, interruptions, timeouts, fallbacks,
hand-offs, templates and bad input. Real engine, real classifier, small bots on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.engine import DialogEngine
from hub.model import ConversationStatus, split_question
from tests.dialogs.talk import Chat, demo_engine, write_bot

SMALL_BOT = """\
settings:
  max_fallbacks: 2
  flow_timeout: 60
slots:
  name:
    type: text
    max_length: 40
  email:
    type: email
    max_attempts: 2
    invalid: {en: "That is not an email address.", zh: "这不是邮箱地址。"}
  size:
    type: choice
    choices:
      - value: small
        title: {en: Small, zh: 小}
      - value: large
        title: {en: Large, zh: 大}
        words: [big, huge]
intents:
  sign_up:
    title: {en: Sign up, zh: 注册}
    examples: [sign me up, I want to register, create an account, 注册账号, 我要注册]
  order_shirt:
    examples: [I want a shirt, order a t-shirt, buy a shirt, 买衬衫]
  escalate:
    examples: [get me a manager, escalate this now, 找经理]
faq:
  hours:
    title: {en: Opening hours, zh: 营业时间}
    examples: [when are you open, opening hours, 营业时间, 几点开门]
    answer: {en: "We are open 9 to 5, {{ customer.attributes.name }}.", zh: 我们九点到五点营业。}
flows:
  signup:
    intent: sign_up
    steps:
      - id: ask_name
        ask: name
        prompt: {en: "What is your name?", zh: 您叫什么名字？}
      - id: ask_email
        ask: email
        prompt: {en: "Hi {{ slots.name }}! Your email?", zh: "{{ slots.name }}您好！邮箱是？"}
        on_fail: no_email
      - say: {en: "Registered {{ slots.email }}.", zh: "已注册 {{ slots.email }}。"}
      - tag: registered
      - end
      - id: no_email
        say: Never mind the email.
  shirt:
    intent: order_shirt
    steps:
      - ask: size
        prompt: {en: Which size?, zh: 什么尺码？}
      - branch: slots.size == 'large'
        then: big
      - say: A small shirt it is.
      - end
      - id: big
        say: A large shirt it is.
  manager:
    intent: escalate
    steps:
      - handoff: {reason: manager_requested, skill: escalations, priority: P1}
"""


@pytest.fixture
def engine(tmp_path: Path) -> DialogEngine:
    return DialogEngine.from_path(write_bot(tmp_path, bot=SMALL_BOT))


async def test_a_flow_collects_slots_and_renders_them(engine: DialogEngine) -> None:
    chat = Chat(engine)
    result = await chat.say("/sign_up")
    assert Chat.texts(result) == ["What is your name?"]
    result = await chat.say("Ana")
    assert Chat.texts(result) == ["Hi Ana! Your email?"]
    result = await chat.say("ANA@Example.com")
    assert Chat.texts(result) == ["Registered ana@example.com."]
    assert chat.state["flow"] == ""
    assert chat.state["tags"] == ["registered"]
    assert Chat.event(result, "customer.tagged") == {"tag": "registered"}
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["slots"]["email"] == "ana@example.com"


async def test_invalid_answers_are_asked_again_then_on_fail(engine: DialogEngine) -> None:
    chat = Chat(engine)
    await chat.say("/sign_up")
    await chat.say("Ana")
    result = await chat.say("not an address")
    assert Chat.texts(result) == ["That is not an email address.", "Hi Ana! Your email?"]
    result = await chat.say("still@not")
    assert Chat.texts(result) == ["Never mind the email."]
    assert chat.state["flow"] == ""


async def test_choice_buttons_words_numbers_and_branch(engine: DialogEngine) -> None:
    chat = Chat(engine)
    result = await chat.say("/order_shirt")
    assert [(b.title, b.payload) for b in result.replies[0].buttons] == [
        ("Small", "small#q1"),
        ("Large", "large#q1"),
    ]
    assert Chat.texts(await chat.say("huge")) == ["A large shirt it is."]
    await chat.say("/order_shirt")
    assert Chat.texts(await chat.say("1")) == ["A small shirt it is."]
    await chat.say("/order_shirt")
    assert Chat.texts(await chat.say("大")) == ["A large shirt it is."]


async def test_interruption_by_a_faq_then_back_to_the_step(engine: DialogEngine) -> None:
    chat = Chat(engine)
    await chat.say("/sign_up")
    await chat.say("Ana")
    result = await chat.say("/hours")
    assert Chat.texts(result) == [
        "We are open 9 to 5, Ana.",
        "Now, back to where we were.",
        "Hi Ana! Your email?",
    ]
    assert chat.state["flow"] == "signup" and chat.state["step"] == "ask_email"
    assert Chat.texts(await chat.say("ana@example.com")) == ["Registered ana@example.com."]


async def test_interruption_by_another_flow_resumes_the_first(engine: DialogEngine) -> None:
    chat = Chat(engine)
    await chat.say("/sign_up")
    result = await chat.say("/order_shirt")  # a button from an earlier message
    assert Chat.texts(result) == ["Which size?"]
    assert chat.state["stack"] == [{"flow": "signup", "step": "ask_name"}]
    result = await chat.say("small")
    assert Chat.texts(result) == [
        "A small shirt it is.",
        "Now, back to where we were.",
        "What is your name?",
    ]
    assert Chat.texts(await chat.say("Bo")) == ["Hi Bo! Your email?"]


async def test_typed_interruption_in_the_demo_troubleshooting_flow() -> None:
    chat = Chat(demo_engine())
    await chat.say("my phone won't turn on")
    await chat.say("no")
    result = await chat.say("what is your refund policy?")
    texts = Chat.texts(result)
    assert "30 days" in texts[0] and "charging light" in texts[-1]
    assert chat.state["flow"] == "power_troubleshooting"
    assert chat.state["step"] == "check_light"


@pytest.mark.parametrize(
    ("opening", "greeting", "greeted_back", "prompt"),
    [
        ("my phone won't turn on", "good morning", "Hello! I'm still here.", "Did the"),
        ("我的手机开不了机", "你好", "您好，我还在。", "设备开机了吗"),
    ],
)
async def test_a_greeting_is_not_a_yes_to_the_demo_flows_question(
    opening: str, greeting: str, greeted_back: str, prompt: str
) -> None:
    """A greeting holds a yes word ("你好": 好; "good morning": good), but it is no answer:
    the bot greets back (its `in_flow` line, not the opening's introduction) and asks its
    question again, the step not taken."""
    chat = Chat(demo_engine())
    await chat.say(opening)
    step, slots = chat.state["step"], dict(chat.state["slots"])
    texts = Chat.texts(await chat.say(greeting))
    assert len(texts) == 2 and texts[0] == greeted_back and prompt in texts[1]
    assert chat.state["flow"] == "power_troubleshooting" and chat.state["step"] == step
    assert chat.state["slots"] == slots


async def test_an_idle_flow_times_out(engine: DialogEngine) -> None:
    chat = Chat(engine)
    await chat.say("/sign_up")
    result = await chat.say("Ana", wait=61)
    texts = Chat.texts(result)
    assert texts[0] == "It's been a while, so I've closed our earlier conversation."
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["timed_out"] == "signup"
    assert chat.state["flow"] != "signup" or chat.state["step"] == "ask_name"
    assert "name" not in chat.state["slots"]


async def test_within_the_timeout_the_flow_goes_on(engine: DialogEngine) -> None:
    chat = Chat(engine)
    await chat.say("/sign_up")
    assert Chat.texts(await chat.say("Ana", wait=59)) == ["Hi Ana! Your email?"]


async def test_fallback_offers_candidates_then_a_person(engine: DialogEngine) -> None:
    chat = Chat(engine)
    result = await chat.say("zzzz qqqq xxxx")
    assert chat.state["fallbacks"] == 1
    turn = Chat.event(result, "bot.turn")
    assert turn is not None and turn["intent"] is None and turn["handled_as"] == "fallback"
    assert all(b.payload.startswith("/") for b in result.replies[0].buttons)
    assert len(result.replies[0].buttons) <= 3
    result = await chat.say("vvvv wwww kkkk")
    assert [b.payload for b in result.replies[0].buttons] == [
        "/handoff_accept#q1",
        "/handoff_decline#q1",
    ]
    assert result.status is None
    result = await chat.say("/handoff_accept")
    assert result.status is ConversationStatus.QUEUED
    handoff = Chat.event(result, "handoff.requested")
    assert handoff is not None and handoff["reason"] == "fallback"


async def test_an_understood_message_resets_the_fallback_count(engine: DialogEngine) -> None:
    chat = Chat(engine)
    await chat.say("zzzz qqqq xxxx")
    await chat.say("/hours")
    assert chat.state["fallbacks"] == 0
    result = await chat.say("vvvv wwww kkkk")
    assert not any("/handoff_accept" in b.payload for b in result.replies[0].buttons)


async def test_declining_the_offer_goes_on_with_the_bot(engine: DialogEngine) -> None:
    chat = Chat(engine)
    await chat.say("zzzz qqqq xxxx")
    await chat.say("vvvv wwww kkkk")
    result = await chat.say("no")
    assert result.status is None and chat.state["fallbacks"] == 0
    assert Chat.event(result, "handoff.requested") is None


async def test_handoff_step_carries_what_was_tried(engine: DialogEngine) -> None:
    chat = Chat(engine)
    await chat.say("/sign_up")
    await chat.say("Ana")
    result = await chat.say("/escalate")
    assert result.status is ConversationStatus.QUEUED and result.priority == 1
    handoff = Chat.event(result, "handoff.requested")
    assert handoff is not None
    assert handoff["reason"] == "manager_requested"
    assert handoff["skill"] == "escalations" and handoff["priority"] == "P1"
    assert handoff["slots"] == {"name": "Ana"}
    assert {
        "flow": "signup",
        "step": "ask_name",
        "asked": "What is your name?",
        "answer": "Ana",
    } in (handoff["tried"])
    assert Chat.texts(result) == [
        "I'm connecting you with a member of our team. Someone will be with you shortly."
    ]


async def test_customer_text_is_never_evaluated_as_a_template(engine: DialogEngine) -> None:
    chat = Chat(engine)
    await chat.say("/sign_up")
    result = await chat.say("{{ 7*7 }}")
    assert Chat.texts(result) == ["Hi {{ 7*7 }}! Your email?"]
    result = await chat.say("{% for x in range(3) %}x{% endfor %}")
    assert "That is not an email address." in Chat.texts(result)


async def test_sandbox_blocks_unsafe_operator_templates(tmp_path: Path) -> None:
    unsafe = SMALL_BOT.replace(
        'answer: {en: "We are open 9 to 5, {{ customer.attributes.name }}.", zh: 我们九点到五点营业。}',
        "answer: \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"",
    )
    chat = Chat(DialogEngine.from_path(write_bot(tmp_path, bot=unsafe)))
    result = await chat.say("/hours")
    assert Chat.texts(result) == ["Sorry, something went wrong on our side."]


async def test_language_is_detected_per_message_and_kept(engine: DialogEngine) -> None:
    chat = Chat(engine)
    result = await chat.say("我要注册")
    assert Chat.texts(result) == ["您叫什么名字？"]
    assert chat.state["lang"] == "zh"
    result = await chat.say("安娜")
    assert Chat.texts(result) == ["安娜您好！邮箱是？"]
    result = await chat.say("ana@example.com")  # no Chinese, but Latin letters: English now
    assert Chat.texts(result) == ["Registered ana@example.com."]
    await chat.say("/hours")
    await chat.say("营业时间")
    assert chat.state["lang"] == "zh"
    await chat.say("12345")  # digits only: the language stays
    assert chat.state["lang"] == "zh"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "a" * 10_000,
        "😀🎉🔥",
        "help 帮助 ayuda مساعدة",
        "hello\x00\x07\x1b[31m\u202e world",
        "{{ config }}{% raw %}",
        "\ud800",
    ],
    ids=["empty", "blank", "10k", "emoji", "mixed", "control", "injection", "surrogate"],
)
async def test_bad_input_is_answered_politely(engine: DialogEngine, text: str) -> None:
    chat = Chat(engine)
    result = await chat.say(text)
    assert result.replies, "every message gets an answer"
    assert all(reply.text for reply in result.replies)
    assert all("{{" not in reply.text for reply in result.replies)
    # and the conversation goes on normally afterwards (a "/intent" payload keeps the
    # conversation's language, Chinese after the mixed-script message)
    answer = Chat.texts(await chat.say("/hours"))[0]
    assert answer.startswith("我们九点" if chat.state["lang"] == "zh" else "We are open")


async def test_state_from_an_older_bot_is_tolerated(engine: DialogEngine) -> None:
    chat = Chat(engine)
    chat.state = {"flow": "gone", "step": "x", "slots": "not a dict", "stack": [{"flow": 1}]}
    result = await chat.say("/hours")
    assert Chat.texts(result)[0].startswith("We are open")
    assert chat.state["flow"] == ""


async def test_a_chosen_button_keeps_the_conversation_language() -> None:
    chat = Chat(demo_engine())
    asked = await chat.say("我的手机开不了机")
    question = asked.replies[-1]
    payloads = {button.payload for button in question.buttons}
    assert "长按电源键" in question.text and payloads
    no = next(p for p in payloads if split_question(p)[0] in ("no", "n", "否"))
    answer = await chat.say(no)  # the payload is ASCII; the customer wrote Chinese
    assert "充电" in Chat.texts(answer)[-1]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \t\n ",
        "a" * 10_000,
        "😀🎉👍",
        "\x00\x07\x1b[2J",
        "\ud800\udfff lone surrogates \udc00",
        "\u202e\u2066 rtl override \u2069",
        "啊" * 500,
        "20261001",
        "?!。…",
        "https://example.com/a?b=c",
        "yes#q999",
        "/start#q1",
        "/handoff_accept#q7",
    ],
)
async def test_bad_input_in_a_flow_and_outside_gets_a_sensible_reply(text: str) -> None:
    engine = demo_engine()
    for opening in ("", "我的手机开不了机"):
        chat = Chat(engine)
        if opening:
            await chat.say(opening)
        result = await chat.say(text)
        assert result.replies and all(r.text for r in result.replies)
        assert result.status is None  # nobody is queued by noise
