"""What real customers write, through the real path (api channel → hub → dialog engine →
rasa-sdk action server → signed callback), in English and Chinese: order numbers inside
sentences, yes/no in their own words, stale buttons, the offer of a person."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.dialogs.through_hub import Customer, payloads, texts

# --------------------------------------------------------------------------- entities


@pytest.mark.parametrize(
    ("sentence", "answer"),
    [
        ("where is my order 20261001", "has shipped with SF Express"),
        # The carrier by its Chinese name in a Chinese answer.
        ("我的订单20261001到哪了", "已由顺丰速运发出"),
    ],
)
async def test_an_order_number_in_the_sentence_goes_straight_to_the_lookup(
    client, receiver, sentence: str, answer: str
) -> None:
    an = Customer(client, receiver, f"an-{len(sentence)}")
    replies = await an.say(sentence)
    assert len(replies) == 1, texts(replies)  # no "What's your order number?"
    assert answer in texts(replies)
    # The demo's dates follow the calendar: never "should arrive by" a day already past.
    assert (date.today() + timedelta(days=2)).isoformat() in texts(replies)
    (turn,) = await an.turns()
    assert turn["slots"]["order_id"] == "20261001"
    assert turn["entities"]["order_number"] == ["20261001"]


@pytest.mark.parametrize(
    ("sentence", "button", "handed_over"),
    [
        ("my order 20261003 hasn't arrived", "I didn't receive it", "look into order 20261003"),
        ("帮我查下订单20261003", "我没有收到", "就订单 20261003 与快递公司核实"),
    ],
)
async def test_a_delivered_order_that_did_not_arrive_is_one_tap_from_a_person(
    client, receiver, sentence: str, button: str, handed_over: str
) -> None:
    # The lookup says "delivered"; the customer says it never came: the action's button
    # carries the order number into the delivery-problem flow, which does not ask again.
    di = Customer(client, receiver, f"di-{len(sentence)}")
    (delivered,) = await di.say(sentence)
    (offered,) = delivered["buttons"]
    assert offered["title"] == button
    replies = await di.say(offered["payload"])
    assert handed_over in texts(replies)
    (handoff,) = await di.handoffs()
    assert handoff["reason"] == "delivery_problem"
    assert "20261003" in await di.summary_text()


@pytest.mark.parametrize(
    ("sentence", "answer"),
    [
        ("my order 99999999 hasn't arrived", "could not find an order with the number 99999999"),
        ("订单99999999还没到", "没有找到订单号为 99999999 的订单"),
    ],
)
async def test_an_unknown_order_number_in_the_sentence_is_looked_up_and_not_found(
    client, receiver, sentence: str, answer: str
) -> None:
    bo = Customer(client, receiver, f"bo-{len(sentence)}")
    replies = await bo.say(sentence)
    assert answer in texts(replies)
    assert "8 位数字，例如" not in texts(replies) and "for example" not in texts(replies)
    turns = await bo.turns()
    assert turns[-1]["slots"]["order_status"] == "not_found"


@pytest.mark.parametrize(
    ("sentence", "quoted", "prompt", "answer"),
    [
        (
            "my order 1234 hasn't arrived",
            "“1234” is not an order number",
            "order number",
            "it's 20261002",
        ),
        ("我的订单1234还没到", "“1234”不是有效的订单号", "请提供您的订单号", "订单号是20261002"),
    ],
)
async def test_a_wrong_order_number_is_quoted_back_then_read_from_the_next_sentence(
    client, receiver, sentence: str, quoted: str, prompt: str, answer: str
) -> None:
    cy = Customer(client, receiver, f"cy-{len(sentence)}")
    replies = await cy.say(sentence, replies=2)
    assert quoted in replies[0]["text"]
    assert prompt in replies[1]["text"]
    # The answer to "what's your order number?" is a sentence with the number inside.
    assert "20261002" in texts(await cy.say(answer))
    assert (await cy.turns())[-1]["slots"]["order_status"] == "processing"


# --------------------------------------------------------------------------- yes / no


@pytest.mark.parametrize(
    ("opening", "yes", "fixed"),
    [
        ("我的手机开不了机", "开机了", "恢复正常"),
        ("手机开不了机", "开了", "恢复正常"),
        ("手機開不了機", "開機了", "恢复正常"),  # Traditional
        ("my phone won't turn on", "yes it did", "working again"),
    ],
)
async def test_a_natural_yes_fixes_the_device_and_a_later_summary_knows(
    client, receiver, opening: str, yes: str, fixed: str
) -> None:
    di = Customer(client, receiver, f"di-{yes}")
    await di.say(opening, replies=2)
    assert fixed in texts(await di.say(yes))
    # Later the customer asks for a person: the hand-off carries what the bot learnt.
    await di.say("转人工" if opening.isascii() is False else "talk to a human")
    (handoff,) = await di.handoffs()
    assert handoff["slots"]["on_after_hold"] == "yes"
    assert handoff["slots"]["power_outcome"] == "fixed"
    assert handoff["slots"]["device"] == "phone"
    # …and so does the summary the agent reads.
    summary = await di.summary_text()
    # (slots are shown with their human labels, never as raw ids)
    assert "Power outcome: fixed" in summary and "Turns on after holding power: yes" in summary


@pytest.mark.parametrize(
    ("opening", "answers", "asks"),
    [
        (
            "平板电脑开不了机",
            ["没有亮", "看不到", "还是不行"],
            ["充电指示灯", "换一个充电器", "硬件客服"],
        ),
        (
            "我的平板开不了机",
            ["没亮", "没有", "没反应"],
            ["充电指示灯", "换一个充电器", "硬件客服"],
        ),
        (
            "my tablet won't turn on",
            ["no still nothing", "nope, nothing", "still no light"],
            ["charging light", "different charger", "hardware team"],
        ),
    ],
)
async def test_natural_noes_walk_the_troubleshooting_to_the_hardware_team(
    client, receiver, opening: str, answers: list[str], asks: list[str]
) -> None:
    ed = Customer(client, receiver, f"ed-{answers[0]}")
    await ed.say(opening, replies=2)
    for answer, asked in zip(answers, asks, strict=True):
        replies = await ed.say(answer)
        assert asked in texts(replies), (answer, texts(replies))
        assert "doesn't look right" not in texts(replies) and "格式" not in texts(replies)
    (handoff,) = await ed.handoffs()
    assert handoff["reason"] == "device_wont_power_on"
    assert handoff["slots"]["device"] == "tablet"
    assert [t["answer"] for t in handoff["tried"] if "answer" in t] == ["no", "no", "no"]


@pytest.mark.parametrize(
    ("opening", "typed", "then"),
    [
        ("my phone won't turn on", "Yess", "working again"),  # a typo of a button title
        ("手机开不了机", "否。", "充电指示灯"),
    ],
)
async def test_button_titles_typed_loosely_are_understood(
    client, receiver, opening: str, typed: str, then: str
) -> None:
    fa = Customer(client, receiver, f"fa-{typed}")
    await fa.say(opening, replies=2)
    assert then in texts(await fa.say(typed))


# --------------------------------------------------------------------------- stale buttons


@pytest.mark.parametrize(
    ("opening", "unclear", "expired", "light"),
    [
        ("my phone won't turn on", "banana", "This question has expired", "charging light"),
        ("手机开不了机", "香蕉", "这个问题已过期", "充电指示灯"),
    ],
)
async def test_a_button_of_an_earlier_copy_of_a_question_has_expired(
    client, receiver, opening: str, unclear: str, expired: str, light: str
) -> None:
    gu = Customer(client, receiver, f"gu-{unclear}")
    first = (await gu.say(opening, replies=2))[-1]
    again = (await gu.say(unclear, replies=2))[-1]  # not an answer: the question is re-asked
    old_yes, new_no = payloads(first)[0], payloads(again)[1]
    assert old_yes != payloads(again)[0]
    stale = await gu.say(old_yes)
    assert expired in texts(stale)
    turns = await gu.turns()
    assert turns[-1]["handled_as"] == "expired"
    assert "on_after_hold" not in turns[-1]["slots"]  # nothing changed
    assert light in texts(await gu.say(new_no))  # the current copy still answers


# --------------------------------------------------------------------------- a person?


@pytest.mark.parametrize(
    ("lost", "gibberish", "question", "answer"),
    [
        (["xyzzy plugh", "qwerty asdf"], "zzzz", "what are your opening hours", "10:00–21:00"),
        (["啊啊啊啊", "呃呃呃"], "哦哦哦", "你们几点开门", "10:00–21:00"),
    ],
)
async def test_the_offer_of_a_person_hands_off_only_on_a_yes(
    client, receiver, lost: list[str], gibberish: str, question: str, answer: str
) -> None:
    ha = Customer(client, receiver, f"ha-{gibberish}")
    await ha.say(lost[0])
    offer = await ha.say(lost[1])
    assert payloads(offer[0])[0].startswith("/handoff_accept")
    again = await ha.say(gibberish)  # not a yes: asked once more, nobody is queued
    assert payloads(again[0])[0].startswith("/handoff_accept")
    assert answer in texts(await ha.say(question))  # a question the bot knows is answered
    assert await ha.handoffs() == []
    assert await ha.status() == "bot"


@pytest.mark.parametrize(
    ("lost", "yes", "queued"),
    [
        # Nobody is online: the queue's message, not "someone will be with you shortly".
        (["xyzzy plugh", "qwerty asdf"], "yes please", "Leave your message here"),
        (["啊啊啊啊", "呃呃呃"], "好的", "请直接留言"),
    ],
)
async def test_a_typed_yes_to_the_offer_hands_off(
    client, receiver, lost: list[str], yes: str, queued: str
) -> None:
    io = Customer(client, receiver, f"io-{yes}")
    for line in lost:
        await io.say(line)
    assert queued in texts(await io.say(yes))
    (handoff,) = await io.handoffs()
    assert handoff["reason"] == "fallback"


# --------------------------------------------------------------------------- no hand-off on a guess


@pytest.mark.parametrize(
    ("text", "in_flow", "button"),
    [
        ("the staff member was nice", "the staff member was nice", "Make a complaint"),
        # (The demo now answers gift cards: "你们卖不卖礼品卡" is no guess any more.)
        ("服务员态度还行", "你们卖不卖礼品卡", "投诉"),
    ],
)
async def test_a_guess_at_a_complaint_offers_it_as_a_button_and_queues_nobody(
    client, receiver, text: str, in_flow: str, button: str
) -> None:
    jo = Customer(client, receiver, f"jo-{len(text)}")
    replies = await jo.say(text)
    assert button in [b["title"] for b in replies[0]["buttons"]]
    assert await jo.handoffs() == [] and await jo.status() == "bot"
    # Inside a flow too: not read as an answer ("卖不卖" is a question), not a P1 hand-off.
    await jo.say("手机开不了机" if not text.isascii() else "my phone won't turn on", replies=2)
    await jo.say(in_flow, replies=2)
    assert await jo.handoffs() == []
    assert "on_after_hold" not in (await jo.turns())[-1]["slots"]


# --------------------------------------------------------------------------- a story's question


@pytest.mark.parametrize(
    ("story", "answer", "handoff"),
    [
        (
            "My headphones were due on Monday and the tracking has not moved since. I will just "
            "buy a pair in town. How do I cancel my order?",
            "Orders that have not shipped can be cancelled",
            None,
        ),
        (
            "昨天晚上冲动买了一个音箱，今天朋友说送我一个旧的，订单还没发货，请问订单怎么取消",
            "未发货的订单可在",
            None,
        ),
        (
            "The courier dumped my parcel in the rain and was rude when I called. This is the "
            "third time. How do I make a formal complaint?",
            "passing this to a senior member of our team",
            "complaint",
        ),
        (
            "快递员把包裹扔在楼下就走了，打电话还被骂了一顿，这不是第一次了，我要怎么投诉他",
            "我马上为您转接资深客服专员处理",
            "complaint",
        ),
    ],
)
async def test_a_story_told_around_one_question_gets_that_question_answered(
    client, receiver, story: str, answer: str, handoff: str | None
) -> None:
    ki = Customer(client, receiver, f"ki-{len(story)}")
    replies = await ki.say(story)
    assert answer in texts(replies)
    handoffs = await ki.handoffs()
    assert [h["reason"] for h in handoffs] == ([handoff] if handoff else [])


# --------------------------------------------------------------------------- a follow-up


@pytest.mark.parametrize(
    ("question", "follow_up", "intent", "said_above", "queued"),
    [
        (
            "can I cancel the order I placed this morning?",
            "and if it has already shipped?",
            "cancel_order",
            "As I said above:",
            "Leave your message here",
        ),
        ("礼品卡有有效期吗", "那余额用不完怎么办", "gift_cards", "如上所说：", "请直接留言"),
    ],
)
async def test_a_follow_up_is_read_after_the_question_it_follows(
    client, receiver, question: str, follow_up: str, intent: str, said_above: str, queued: str
) -> None:
    # The topic lives in the conversation's state, which the hub stores between turns.
    lu = Customer(client, receiver, f"lu-{len(question)}")
    first = await lu.say(question)
    again = await lu.say(follow_up, replies=3)
    # The same FAQ answers again, said to be the answer just read, and a person is offered:
    # the bot has nothing more on the topic, and pasting it again alone is a loop.
    assert [r["text"] for r in again[:2]] == [said_above, texts(first)]
    assert payloads(again[2])[0].startswith("/handoff_accept")
    turns = await lu.turns()
    assert [(t["intent"], t.get("follow_up", False), t.get("repeated", False)) for t in turns] == [
        (intent, False, False),
        (intent, True, True),
    ]
    assert await lu.handoffs() == []  # offered, not queued
    assert queued in texts(await lu.say(payloads(again[2])[0]))  # one tap brings a person
    (handoff,) = await lu.handoffs()
    assert handoff["reason"] == "fallback"
    # The agent reads what the customer was told, and that it was told twice.
    assert f"Answered: {intent} ×2" in await lu.summary_text()
