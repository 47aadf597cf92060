"""What real clients send, through real SMTP, asserted on the bytes on the wire (issue 13,
section 2): long Message-IDs, GBK in gb2312-labelled headers, auto-replies without
machine headers, a person's reply, line lengths, the Chinese clients' quote separators
(Outlook's, NetEase Mail Master's, Outlook in Traditional Chinese)."""

from __future__ import annotations

import re

import pytest

from connectors.email.render import CHOOSE_HINTS
from hub.abc import Turn, TurnResult
from hub.model import EventType, NewEvent, Outbound
from tests.connectors.email.harness import MenuBot, Start, fixture, html_text, plain_text
from tests.connectors.email.signing import mail

# ~100-character ids in the shapes Microsoft 365, Gmail and 163.com write them.
OUTLOOK = "TYZPR06MB6211B3C4D5E6F7A8B9C0D1E2F3A4B5C6D7E8F9A0B1C2D3E4@TYZPR06MB6211.apcprd06.prod.outlook.com"
OUTLOOK_2 = OUTLOOK.replace("B3C4", "C4D5")
GMAIL = (
    "CAJ1xK2fQm7yH8b0rder1042pAx9Lw3ZqR5tV7nB2mC4kD6fG8hJ0lN1pQ3sT5vX7zA9cE1gI3=pA@mail.gmail.com"
)
NETEASE = "AHYA3gBxJz2kL7Q8P9R0S1T2U3V4W5X6Y7Z8.1732860000123.JavaMail.wang.zhe@163.com"


def header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def wire_header(raw: bytes, name: str) -> str:
    """One header exactly as sent (unfolded only if it was folded)."""
    match = re.search(
        rb"^" + name.encode() + rb": ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", header_block(raw), re.M
    )
    assert match, f"no {name} in {header_block(raw)!r}"
    return match.group(1).decode("ascii")


@pytest.mark.parametrize(
    ("text", "subject"), [("Where is my order?", "Order 1042"), ("我的订单在哪里？", "订单 1042")]
)
async def test_long_message_ids_go_out_verbatim_on_bot_and_agent_replies(
    start_hub: Start, text: str, subject: str
) -> None:
    assert min(len(OUTLOOK), len(GMAIL), len(NETEASE)) >= 75
    env = await start_hub()
    first = mail(sender="bob@outlook.com", text=text, subject=subject, message_id=f"<{OUTLOOK}>")
    first["References"] = f"<{GMAIL}> <{NETEASE}>"
    await env.send(first.as_bytes(), sender="bob@outlook.com")
    await env.relay.wait_for(1)
    raw = env.relay.raw[0]
    assert wire_header(raw, "In-Reply-To") == f"<{OUTLOOK}>"
    assert wire_header(raw, "References") == f"<{GMAIL}> <{NETEASE}> <{OUTLOOK}>"
    ours = wire_header(raw, "Message-ID")

    # The customer answers our reply; from the second reply on References carries our id.
    second = mail(
        sender="bob@outlook.com", text=text, message_id=f"<{OUTLOOK_2}>", in_reply_to=ours
    )
    second.replace_header("References", f"<{GMAIL}> <{NETEASE}> <{OUTLOOK}> {ours}")
    await env.send(second.as_bytes(), sender="bob@outlook.com")
    await env.relay.wait_for(2)
    raw = env.relay.raw[1]
    assert wire_header(raw, "In-Reply-To") == f"<{OUTLOOK_2}>"
    assert wire_header(raw, "References").endswith(f"{ours} <{OUTLOOK_2}>")
    assert wire_header(raw, "Auto-Submitted") == "auto-replied"

    # An agent answers later, through the same hub.send the hand-off engine uses.
    conversation = await env.hub.latest_conversation("email:bob@outlook.com")
    assert conversation is not None
    agent = NewEvent(type="handoff.agent_message", data={"agent_id": "li", "agent_name": "Li"})
    await env.hub.send(conversation.id, [Outbound(text=text)], events=[agent])
    await env.relay.wait_for(3)
    raw = env.relay.raw[2]
    assert wire_header(raw, "In-Reply-To") == f"<{OUTLOOK_2}>"
    assert f"<{OUTLOOK_2}>" in wire_header(raw, "References")
    assert b"Auto-Submitted" not in header_block(raw)  # a person wrote it (RFC 3834)
    for sent in env.relay.raw:
        for name in ("Message-ID", "In-Reply-To", "References"):
            assert "=?" not in wire_header(sent, name)
        assert re.search(rb"^Message-ID: <fd\.[^\r\n]+>\r\n", sent, re.M)


async def test_gbk_only_characters_in_gb2312_headers_are_read_and_answered_cleanly(
    start_hub: Start,
) -> None:
    env = await start_hub()
    await env.send(fixture("outlook_zh_gbk_name.eml"), sender="wang.zhe@163.com")
    [reply] = await env.relay.wait_for(1)
    assert reply["Subject"] == "Re: 关于王喆的订单"
    assert "\ufffd" not in env.relay.raw[0].decode("utf-8", "replace").split("\r\n\r\n")[0]
    events = await env.events("email:wang.zhe@163.com")
    [inbound] = [e for e in events if e.type == EventType.MESSAGE_IN]
    assert inbound.data["raw"]["from_name"] == "王喆"
    assert inbound.data["raw"]["subject"] == "关于王喆的订单"
    # Outlook's Chinese "-----邮件原件-----" separator is cut with the quote under it.
    assert inbound.data["text"] == "你好，我是王喆。订单还没到。"


@pytest.mark.parametrize(
    ("sender", "new_text", "quoted"),
    [
        (  # NetEase Mail Master (163.com): a dashed line, then a table of the original
            "wang.fang@163.com",
            "我的耳机左边没声音了",
            "---- 回复的原邮件 ----\n| 发件人 | Frontdesk<support@example.com> |\n"
            "| 日期 | 2026年11月30日 10:02 |\n| 主题 | 回复：耳机问题 |\n请问是哪一边？",
        ),
        (  # Outlook in Traditional Chinese
            "chen@example.tw",
            "已經開機了，謝謝",
            "寄件者: Frontdesk <support@example.com>\n寄件日期: 2026年11月30日 上午 10:02\n"
            "收件者: 陳小姐 <chen@example.tw>\n主旨: 回覆: 無法開機\n\n設備開機了嗎？",
        ),
    ],
)
async def test_chinese_clients_quoted_history_is_not_read_as_the_message(
    start_hub: Start, sender: str, new_text: str, quoted: str
) -> None:
    env = await start_hub()
    reply = mail(sender=sender, text=f"{new_text}\n\n{quoted}\n", subject="回复：耳机问题")
    await env.send(reply.as_bytes(), sender=sender)
    await env.relay.wait_for(1)
    [inbound] = [e for e in await env.events(f"email:{sender}") if e.type == EventType.MESSAGE_IN]
    assert inbound.data["text"] == new_text


async def test_a_subject_that_cannot_be_decoded_is_not_echoed(start_hub: Start) -> None:
    env = await start_hub()
    broken = mail(sender="li@example.cn", text="你好", message_id="<b1@example.cn>")
    del broken["Subject"]
    source = broken.as_bytes().replace(
        b"To:", b"Subject: =?x-unknown?B?" + b"\xff\xfe" * 3 + b"?=\nTo:", 1
    )
    source = b"Subject: \xb6\xa9\xb5\xa5\xff\xff\r\n" + source  # raw 8-bit, not UTF-8
    await env.send(source, sender="li@example.cn")
    [reply] = await env.relay.wait_for(1)
    assert "\ufffd" not in str(reply["Subject"])


AUTO_REPLIES = [
    ("自动回复: 订单 1042", "您好，我目前休假，11月30日返回。"),
    ("Automatic reply: Order 1042", "Thanks for your message."),
    ("Out of Office", "Back on Monday."),
    ("休假", "我正在休假，紧急事务请联系同事。"),
    ("Abwesenheitsnotiz: Bestellung 1042", "Vielen Dank."),
    ("Re: Order 1042", "I am currently out of the office until Monday."),
    ("Re: 订单 1042", "这是一封自动回复邮件，请勿回复。"),
    ("AW: Bestellung", "Ich bin bis 30.11. nicht im Büro."),
]


@pytest.mark.parametrize(("subject", "text"), AUTO_REPLIES)
async def test_auto_replies_without_machine_headers_are_never_answered(
    start_hub: Start, subject: str, text: str
) -> None:
    env = await start_hub()
    robot = mail(sender="li@example.cn", text=text, subject=subject, message_id="<oof@x.cn>")
    await env.send(robot.as_bytes(), sender="li@example.cn")
    person = mail(
        sender="li@example.cn",
        text="还在吗？ Still there?",
        message_id="<p@x.cn>",
        in_reply_to="<oof@x.cn>",
    )
    await env.send(person.as_bytes(), sender="li@example.cn")
    [answer] = await env.relay.wait_for(1)
    assert "Still there?" in plain_text(answer)
    events = await env.events("email:li@example.cn")
    noticed = [e for e in events if e.type == EventType.MESSAGE_NOTICED]
    assert [e.data["raw"]["noise"][:11] for e in noticed] == ["auto-reply:"]
    assert len(env.relay.messages) == 1


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("Out of office hours delivery?", "Can you deliver at night?"),
        ("休假期间能发货吗", "能发货吗？"),
    ],
)
async def test_a_person_asking_about_holidays_is_answered(
    start_hub: Start, subject: str, text: str
) -> None:
    env = await start_hub()
    await env.send(mail(sender="li@example.cn", text=text, subject=subject).as_bytes())
    await env.relay.wait_for(1)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_encoded_body_lines_stay_within_76_characters(
    start_hub: Start, language: str
) -> None:
    env = await start_hub()  # the echo bot sends the long text back
    text = "我想退货，" * 60 if language == "zh" else "I would like a refund, " + "é" * 300
    await env.send(mail(sender="li@example.cn", text=text).as_bytes())
    await env.relay.wait_for(1)
    raw = env.relay.raw[0]
    assert re.findall(rb"Content-Transfer-Encoding: (?:base64|quoted-printable)", raw)
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76


@pytest.mark.parametrize(
    ("text", "hint"), [("How can we help?", CHOOSE_HINTS["en"]), ("请选择：", CHOOSE_HINTS["zh"])]
)
async def test_the_numbered_choice_hint_speaks_the_replys_language(
    start_hub: Start, text: str, hint: str
) -> None:
    class Menu(MenuBot):
        async def handle(self, turn: Turn) -> TurnResult:
            return TurnResult(replies=(Outbound(text=text, buttons=self.BUTTONS),))

    env = await start_hub(bot=Menu())
    await env.send(mail(sender="li@example.cn", text="hi").as_bytes())
    [reply] = await env.relay.wait_for(1)
    assert hint in plain_text(reply) and hint in html_text(reply)
    other = CHOOSE_HINTS["zh" if hint == CHOOSE_HINTS["en"] else "en"]
    assert other not in plain_text(reply)
