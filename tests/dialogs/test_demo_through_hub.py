"""The demo bot end to end: api channel → hub → dialog engine (+ rasa-sdk actions) → hub →
signed callback. Every demo flow, in English and Chinese, plus bad input at the edge."""

from __future__ import annotations

import pytest

from tests.dialogs.through_hub import Customer, texts
from tests.support import api_auth, channel_auth


async def test_greeting_hours_policies_and_goodbye(client, receiver) -> None:
    ana = Customer(client, receiver, "ana")
    assert "Frontdesk assistant" in texts(await ana.say("hello"))
    assert "10:00–21:00" in texts(await ana.say("what are your opening hours?"))
    assert "30 days" in texts(await ana.say("how do I return a product"))
    assert "100 points" in texts(await ana.say("how do I redeem my points"))
    assert "welcome" in texts(await ana.say("thank you"))
    assert "Goodbye" in texts(await ana.say("bye"))


async def test_order_status_through_the_real_action_server(client, receiver) -> None:
    bo = Customer(client, receiver, "bo")
    assert "order number" in texts(await bo.say("where is my order?"))
    assert "8 digits" in texts(await bo.say("1234", replies=2))
    shipped = await bo.say("20261001")
    assert "has shipped with SF Express" in texts(shipped)
    assert "not find" in texts(await bo.say("check my order") + await bo.say("99999999"))
    turns = [e for e in await bo.events() if e["type"] == "bot.turn"]
    assert turns[-1]["data"]["slots"]["order_status"] == "not_found"


async def test_power_troubleshooting_hands_off_with_what_was_tried(client, receiver) -> None:
    cy = Customer(client, receiver, "cy")
    first = await cy.say("my phone won't turn on", replies=2)
    assert [b["payload"] for b in first[-1]["buttons"]] == ["yes#q1", "no#q1"]
    assert "charging light" in texts(await cy.say("no"))
    assert "different charger" in texts(await cy.say("no"))
    assert "hardware team" in texts(await cy.say("no"))
    handoff = [e for e in await cy.events() if e["type"] == "handoff.requested"]
    assert len(handoff) == 1
    data = handoff[0]["data"]
    assert (data["reason"], data["skill"], data["priority"]) == (
        "device_wont_power_on",
        "hardware",
        "P2",
    )
    answered = [t["step"] for t in data["tried"] if "answer" in t]
    assert answered == ["hold_power", "check_light", "other_charger"]
    conversation = await client.get(
        f"/api/v1/conversations/{cy.conversation_id}", headers=api_auth()
    )
    assert (await conversation.json())["status"] == "queued"


@pytest.mark.parametrize(
    ("sender", "problem", "ask", "told"),
    [
        ("gus", "tracking says delivered but nothing came", "order number", "courier"),
        ("hui", "物流显示已签收，可是我没收到东西", "订单号", "快递公司"),
    ],
)
async def test_a_parcel_that_never_came_goes_to_a_person_with_its_order_number(
    client, receiver, sender: str, problem: str, ask: str, told: str
) -> None:
    customer = Customer(client, receiver, sender)
    assert ask in texts(await customer.say(problem))
    handed = texts(await customer.say("20261001"))
    assert told in handed and "20261001" in handed
    (handoff,) = [e for e in await customer.events() if e["type"] == "handoff.requested"]
    data = handoff["data"]
    assert (data["reason"], data["skill"], data["priority"]) == (
        "delivery_problem",
        "general",
        "P2",
    )
    assert data["slots"]["order_id"] == "20261001"  # the agent has it without asking
    conversation = await client.get(
        f"/api/v1/conversations/{customer.conversation_id}", headers=api_auth()
    )
    assert (await conversation.json())["status"] == "queued"


async def test_power_troubleshooting_fixed(client, receiver) -> None:
    di = Customer(client, receiver, "di")
    await di.say("my device won't power on", replies=2)
    assert "working again" in texts(await di.say("yes"))


@pytest.mark.parametrize(
    ("sender", "problem", "dropped", "told", "then", "answer"),
    [
        ("ida", "my phone won't turn on", "never mind", "leave that", "bye", "Goodbye"),
        ("jun", "我的手机开不了机", "算了", "先到这里", "再见", "再见"),
    ],
)
async def test_a_dropped_troubleshooting_is_not_recorded_as_fixed(
    client, receiver, sender: str, problem: str, dropped: str, told: str, then: str, answer: str
) -> None:
    customer = Customer(client, receiver, sender)
    await customer.say(problem, replies=2)
    assert told in texts(await customer.say(dropped))
    turns = [e["data"] for e in await customer.events() if e["type"] == "bot.turn"]
    assert turns[-1]["handled_as"] == "left_flow" and turns[-1]["flow"] == ""
    assert "power_outcome" not in turns[-1]["slots"]
    assert answer in texts(await customer.say(then))


@pytest.mark.parametrize(
    ("sender", "ask", "thanks", "welcome", "number", "shipped", "not_said"),
    [
        ("kai", "where is my order?", "thanks", "You're welcome!", "it's 2026 1001",
         "has shipped", ("Anything else", "back to where")),
        ("lan", "我的订单到哪了", "谢谢", "不客气！", "订单号 2026-1001", "已由",
         ("还有其他", "继续刚才")),
    ],
)  # fmt: skip
async def test_thanks_while_asked_for_the_order_number_and_the_number_in_two_groups(
    client,
    receiver,
    sender: str,
    ask: str,
    thanks: str,
    welcome: str,
    number: str,
    shipped: str,
    not_said: tuple[str, ...],
) -> None:
    customer = Customer(client, receiver, sender)
    prompt = texts(await customer.say(ask))
    aside = await customer.say(thanks, replies=2)
    assert [reply["text"] for reply in aside] == [welcome, prompt]
    assert not any(phrase in texts(aside) for phrase in not_said)
    assert shipped in texts(await customer.say(number))
    turns = [e["data"] for e in await customer.events() if e["type"] == "bot.turn"]
    assert turns[-1]["slots"]["order_id"] == "20261001"


@pytest.mark.parametrize(
    ("sender", "problem", "heard", "wait", "fixed"),
    [
        ("mo", "my phone won't turn on", "ok, let me try", "Take your time", "working again"),
        ("nan", "我的手机开不了机", "好的，我试试", "不着急", "恢复正常"),
    ],
)
async def test_ok_to_an_instruction_waits_and_its_buttons_still_answer(
    client, receiver, sender: str, problem: str, heard: str, wait: str, fixed: str
) -> None:
    customer = Customer(client, receiver, sender)
    first = await customer.say(problem, replies=2)
    yes = first[-1]["buttons"][0]["payload"]
    (waiting,) = await customer.say(heard)
    assert wait in waiting["text"] and not waiting["buttons"]
    assert fixed in texts(await customer.say(yes))
    turns = [e["data"] for e in await customer.events() if e["type"] == "bot.turn"]
    assert [t["handled_as"] for t in turns[-2:]] == ["slot_wait", "slot"]
    assert turns[-1]["slots"]["power_outcome"] == "fixed"


@pytest.mark.parametrize(
    ("sender", "ask", "shipped", "corrected", "prepared"),
    [
        ("ola", "where is my order?", "has shipped", "sorry, wrong number: it's 20261002",
         "Order 20261002 is being prepared"),
        ("pei", "我的订单到哪了", "已由", "不好意思输错了，是20261002", "订单 20261002 正在备货"),
    ],
)  # fmt: skip
async def test_a_corrected_order_number_is_looked_up_after_the_first_answer(
    client, receiver, sender: str, ask: str, shipped: str, corrected: str, prepared: str
) -> None:
    customer = Customer(client, receiver, sender)
    await customer.say(ask)
    assert shipped in texts(await customer.say("20261001"))
    assert prepared in texts(await customer.say(corrected))
    turns = await customer.turns()
    assert turns[-1]["handled_as"] == "flow_again"
    assert turns[-1]["slots"]["order_id"] == "20261002"


@pytest.mark.parametrize(
    ("sender", "said", "ask", "shipped"),
    [
        ("quinn", "there is an issue with my order", "what about your order", "has shipped"),
        ("rui", "关于订单的问题", "订单遇到了什么问题", "已由"),
    ],
)
async def test_a_problem_with_an_order_gets_the_order_topics_then_the_one_tapped(
    client, receiver, sender: str, said: str, ask: str, shipped: str
) -> None:
    customer = Customer(client, receiver, sender)
    (menu,) = await customer.say(said)
    assert ask in menu["text"] and len(menu["buttons"]) == 4
    assert "help centre" not in menu["text"] and "帮助中心" not in menu["text"]
    await customer.say(menu["buttons"][0]["payload"])  # the order status: its number, please
    assert shipped in texts(await customer.say("20261001"))


async def test_chinese_conversation(client, receiver) -> None:
    li = Customer(client, receiver, "li")
    assert "您好" in texts(await li.say("你好"))
    assert "订单号" in texts(await li.say("我的订单到哪了"))
    assert "已由" in texts(await li.say("20261001"))
    reply = await li.say("手机开不了机", replies=2)
    assert "长按电源键" in texts(reply)
    assert [b["title"] for b in reply[-1]["buttons"]] == ["是", "否"]
    assert "30 天内" in texts(await li.say("可以退货吗", replies=3))  # interruption + re-ask
    assert "充电指示灯" in texts(await li.say("没反应"))


@pytest.mark.parametrize(
    ("sender", "message", "answer", "ask", "shipped"),
    [
        (
            "fay",
            "hi, where is my order? also can I change the delivery address?",
            "change the address in the app",
            "order number",
            "has shipped with SF Express",
        ),
        ("fang", "你好，我的订单到哪了？另外能改收货地址吗", "修改地址", "订单号", "已由"),
    ],
)
async def test_two_questions_in_one_message_get_both_answers(
    client, receiver, sender: str, message: str, answer: str, ask: str, shipped: str
) -> None:
    fa = Customer(client, receiver, sender)
    first, second = await fa.say(message, replies=2)
    assert answer in first["text"] and ask in second["text"]
    assert shipped in texts(await fa.say("20261001"))
    turns = await fa.turns()
    assert [q["intent"] for q in turns[0]["questions"]] == ["change_address", "check_order"]
    assert turns[-1]["slots"]["order_status"] == "shipped" and "questions" not in turns[-1]


async def test_talk_to_a_human_and_complaint(client, receiver) -> None:
    mo = Customer(client, receiver, "mo")
    await mo.say("I want to speak to a person")
    ed = Customer(client, receiver, "ed")
    assert "senior member" in texts(await ed.say("I want to make a complaint"))
    for customer, reason, priority in ((mo, "customer_request", "P3"), (ed, "complaint", "P1")):
        handoff = [e for e in await customer.events() if e["type"] == "handoff.requested"]
        assert handoff[0]["data"]["reason"] == reason
        assert handoff[0]["data"]["priority"] == priority


async def test_fallbacks_then_offer_of_a_person(client, receiver) -> None:
    jo = Customer(client, receiver, "jo")
    first = await jo.say("vvvv wwww kkkk")
    assert "Did you mean" in texts(first) or "another way" in texts(first)
    offer = await jo.say("xyzzy plugh qwerty")
    payloads = [b["payload"] for b in offer[0]["buttons"]]
    assert payloads == ["/handoff_accept#q1", "/handoff_decline#q1"]
    await jo.say(payloads[0])
    handoff = [e for e in await jo.events() if e["type"] == "handoff.requested"]
    assert handoff[0]["data"]["reason"] == "fallback"


@pytest.mark.parametrize(
    "text",
    [
        "a" * 10_000,
        "😀😀😀",
        "order 订单 help",
        "hi\x00\x1b[2J\u202e",
        "{{ 7*7 }}{% raw %}",
        "\u202eredro ym si erehw\u202c",
        "哈" * 500,
        "20261001",
        "?!。…—!!",
        "https://example.com/orders?id=20261001",
        "#q1",
        "yes#q99",
        "/start#q1",
    ],
    ids=[
        "10k",
        "emoji",
        "mixed",
        "control",
        "injection",
        "rtl",
        "500-same",
        "only-order-number",
        "only-punctuation",
        "only-url",
        "bare-question-mark",
        "stale-mark",
        "marked-start",
    ],
)
async def test_bad_input_through_the_hub(client, receiver, text: str) -> None:
    ka = Customer(client, receiver, "ka")
    replies = await ka.say(text)
    assert replies and all(r["text"] for r in replies)
    assert "49" not in texts(replies)


async def test_empty_text_is_refused_at_the_edge_and_attachments_get_an_answer(
    client, receiver
) -> None:
    response = await client.post(
        "/api/v1/channels/api/messages",
        json={"id": "empty-1", "sender": "em", "text": ""},
        headers=channel_auth(),
    )
    assert response.status == 422
    response = await client.post(
        "/api/v1/channels/api/messages",
        json={
            "id": "pic-1",
            "sender": "em",
            "attachments": [{"kind": "image", "url": "https://x/y.png"}],
        },
        headers=channel_auth(),
    )
    assert response.status == 202
    replies = await receiver.wait_for(1)
    assert "only read text" in replies[0]["text"]
