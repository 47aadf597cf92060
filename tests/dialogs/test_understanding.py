"""What real customers write, understood by the demo bot (issue 12, "What was seen").

Two kinds of check:
* the lines of the report, in both languages, through the real path (api channel → hub →
  dialog engine → hub → signed callback);
* the project's held-out bilingual set (`bench/data/frontdesk-bilingual`, never trained on)
  through the dialog engine, turn by turn as the hub runs it: accuracy floors per language,
  out-of-scope lines turned away, no hand-off from an FAQ question. Floors, not exact figures,
  so that an honest improvement elsewhere never breaks this test.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from dialogs.engine import DialogEngine
from dialogs.messages import DEFAULT_MESSAGES
from tests.dialogs.talk import REPO, Chat, demo_engine
from tests.dialogs.through_hub import Customer, texts

HELD_OUT = REPO / "bench" / "data" / "frontdesk-bilingual"


def read(name: str) -> list[dict[str, str]]:
    with (HELD_OUT / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


# (what the customer wrote, text the answer must contain). Each one went wrong before: a P1
# complaint hand-off, the power-on flow, order status, or a fallback without suggestions.
# (Lines that a hand-off keyword caught, such as "退款要多久到账？", are the triggers' tests.)
REPORTED = [
    ("你们卖不卖礼品卡", "礼品卡"),
    ("你們賣不賣禮品卡", "礼品卡"),  # Traditional
    ("我买的手机到哪了", "订单号"),
    ("我買的手機到哪了", "订单号"),
    ("衣服不想要了，怎么退", "30 天内"),
    ("升级系统后特别费电", "耗电"),
    ("升級系統後特別費電", "耗电"),
    ("我登不进App了", "锁定"),
    ("the battery on my watch dies after 3 hours", "battery"),
    ("my password reset email never came", "spam"),
    ("I was charged twice", "refunded automatically"),
    ("can I change the delivery address", "Change address"),
    ("how much is shipping to Canada?", "Canada"),
    ("do you sell gift cards?", "gift cards from"),
]


@pytest.mark.parametrize(("line", "answer"), REPORTED)
async def test_reported_lines_through_the_hub(client, receiver, line: str, answer: str) -> None:
    customer = Customer(client, receiver, f"c{REPORTED.index((line, answer))}")
    replies = await customer.say(line)
    assert answer in texts(replies)
    events = await customer.events()
    assert not [e for e in events if e["type"] == "handoff.requested"]
    turn = next(e for e in events if e["type"] == "bot.turn")["data"]
    assert turn["flow"] in ("", "order_status")  # never the power-on flow


# Common questions the demo bot fell back on (or answered as opening hours, or a login
# problem) until it had these intents; none of these lines is a training example.
CONTACT_AND_ACCOUNT = [
    ("is there a number I can ring to speak to your support team?", "contact_us", "+1 555 0100"),
    ("有没有客服邮箱，我想发邮件说明情况", "contact_us", "support@example.com"),
    (
        "I switched to a new mobile number, how do I update it on my account",
        "change_contact_details",
        "Account → Profile",
    ),
    ("我换邮箱了，账户绑定的邮箱在哪里改", "change_contact_details", "个人资料"),
    (
        "please close my account for good, I don't shop here anymore",
        "account_deletion",
        "Delete account",
    ),
    ("我不想用了，怎么注销账户", "account_deletion", "注销账户"),
    ("is the green Pixel 8 in stock at the moment?", "stock_availability", "Notify me"),
    ("黑色 128G 的那款手机现在有货吗", "stock_availability", "到货通知"),
]


@pytest.mark.parametrize(("line", "intent", "answer"), CONTACT_AND_ACCOUNT)
async def test_contact_and_account_questions_through_the_hub(
    client, receiver, line: str, intent: str, answer: str
) -> None:
    customer = Customer(client, receiver, f"ca{CONTACT_AND_ACCOUNT.index((line, intent, answer))}")
    replies = await customer.say(line)
    assert answer in texts(replies)
    events = await customer.events()
    turn = next(e for e in events if e["type"] == "bot.turn")["data"]
    assert turn["intent"] == intent
    assert not [e for e in events if e["type"] == "handoff.requested"]


@pytest.mark.parametrize(
    ("line", "lang"),
    [("we won!", "en"), ("who won the champions league final", "en"), ("欧冠决赛谁赢了", "zh")],
)
async def test_unrelated_lines_start_no_flow(client, receiver, line: str, lang: str) -> None:
    customer = Customer(client, receiver, f"u-{lang}-{len(line)}")
    replies = await customer.say(line)
    turn = next(e for e in await customer.events() if e["type"] == "bot.turn")["data"]
    assert turn["handled_as"] == "fallback"
    assert turn["flow"] == ""
    # Suggestions, or none for a line near nothing the bot knows: either is a fallback.
    said = texts(replies)
    assert DEFAULT_MESSAGES["fallback"][lang] in said or DEFAULT_MESSAGES["rephrase"][lang] in said


@pytest.fixture(scope="module")
def engine() -> DialogEngine:
    return demo_engine()


async def understood(engine: DialogEngine, line: str) -> dict[str, object]:
    """The bot.turn data of `line` said as the first message of a conversation."""
    result = await Chat(engine).say(line)
    turn = next(e for e in result.events if e.type == "bot.turn")
    handoff = any(e.type == "handoff.requested" for e in result.events)
    return {**turn.data, "handoff": handoff}


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_held_out_lines_are_answered_in_both_languages(
    engine: DialogEngine, lang: str
) -> None:
    rows = read(f"test_{lang}.tsv")
    assert len(rows) >= 200
    turns = [await understood(engine, row["text"]) for row in rows]
    correct = sum(t["intent"] == row["intent"] for t, row in zip(turns, rows, strict=True))
    turned_away = sum(t["intent"] is None for t in turns)
    # Measured 93.2 % (en) and 91.2 % (zh) answered correctly, 3.1 / 4.8 % turned away
    # (this test's own count, 37 intents; 92.3 / 89.7 % and 5.0 / 6.9 % with 33).
    assert correct / len(rows) >= 0.85
    assert turned_away / len(rows) <= 0.10
    # A question the bot has an answer for never lands in the complaint queue, and very
    # rarely with a person ("gotta go, talk later" reads as "talk to a person").
    faq_rows = [
        (t, row)
        for t, row in zip(turns, rows, strict=True)
        # a parcel that never came or a wrong item goes to a person by design
        if row["intent"] not in ("talk_to_human", "complaint", "delivery_problem")
    ]
    assert not [row["text"] for t, row in faq_rows if t["intent"] == "complaint"]
    assert len([row["text"] for t, row in faq_rows if t["handoff"]]) <= 2


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_held_out_out_of_scope_lines_are_turned_away(engine: DialogEngine, lang: str) -> None:
    rows = read(f"oos_{lang}.tsv")
    assert len(rows) >= 80
    turns = [await understood(engine, row["text"]) for row in rows]
    caught = sum(t["handled_as"] == "fallback" for t in turns)
    # Measured 90 % (en) and 82 % (zh) (84 / 81 % before out-of-scope lines were a class).
    assert caught / len(rows) >= 0.65


async def test_chinese_is_understood_about_as_well_as_english(engine: DialogEngine) -> None:
    accuracy = {}
    for lang in ("en", "zh"):
        rows = read(f"test_{lang}.tsv")
        turns = [await understood(engine, row["text"]) for row in rows]
        ranked = sum(t["intent"] == row["intent"] for t, row in zip(turns, rows, strict=True))
        accuracy[lang] = ranked / len(rows)
    assert accuracy["zh"] >= accuracy["en"] - 0.05


def test_the_held_out_set_is_not_trained_on() -> None:
    bot = demo_engine().bot
    examples = {e.casefold() for i in bot.intents.values() for e in i.examples}
    held_out = [r["text"] for f in ("test_en", "test_zh") for r in read(f"{f}.tsv")]
    held_out += [r["text"] for f in ("oos_en", "oos_zh") for r in read(f"{f}.tsv")]
    assert not [t for t in held_out if t.casefold() in examples]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "a" * 10_000,
        "😀🎉👍",
        "\x00\x07\x1b[2J",
        "\ud800\udfff",
        "\u202eredro ym si erehw\u202c",
        "啊" * 500,
        "20261001",
        "?!。，",
        "https://example.com/track?order=20261001",
    ],
)
async def test_bad_input_gets_a_reply_never_an_exception(engine: DialogEngine, text: str) -> None:
    result = await Chat(engine).say(text)
    assert result.replies
    assert all(r.text for r in result.replies)


def test_held_out_folder_is_documented() -> None:
    assert (HELD_OUT / "README.md").exists()
    assert Path(HELD_OUT / "test_zh.tsv").read_text(encoding="utf-8").count("\n") >= 200
