"""The email channel end to end through real SMTP: smtplib → the hub's aiosmtpd receiver →
hub → bot → hub → aiosmtplib → a capturing SMTP relay, all on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import re
import smtplib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from connectors.email.threading import is_own, message_ids, plus_address
from hub.model import Event, EventType, Outbound
from tests.connectors.email.harness import (
    SUPPORT,
    MenuBot,
    Start,
    bounce_of,
    fixture,
    html_text,
    plain_text,
    reply_to,
)

ROOT_ANA = "CAJ1xK2fQm7yH8b0rder1042=pA@mail.gmail.com"


def of_type(events: list[Event], kind: str) -> list[Event]:
    return [event for event in events if event.type == kind]


async def test_a_new_mail_is_answered_in_the_customers_thread(start_hub: Start) -> None:
    env = await start_hub()
    await env.send(fixture("gmail_new.eml"), sender="ana.lima@gmail.com")

    [reply] = await env.relay.wait_for(1)
    return_path, envelope_recipients = env.relay.envelopes[0]
    assert envelope_recipients == ["ana.lima@gmail.com"]
    assert re.fullmatch(r"bounces\+[a-z2-7]{26}@example\.com", return_path)  # VERP
    assert reply["To"] == "ana.lima@gmail.com"
    assert reply["Subject"] == "Re: Order #1042 has not arrived"
    assert message_ids(reply["In-Reply-To"]) == [ROOT_ANA]
    assert message_ids(reply["References"]) == [ROOT_ANA]
    assert is_own(message_ids(reply["Message-ID"])[0], "example.com")
    assert reply["Reply-To"].addresses[0].addr_spec == plus_address(SUPPORT, ROOT_ANA)
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply.get_content_type() == "multipart/alternative"
    assert plain_text(reply).startswith("You said: Hello,\n\nI ordered a kettle ten days ago")
    assert "-- \nExample Support\nhttps://example.com/help" in plain_text(reply)
    assert "Example Support<br>" in html_text(reply)

    events = await env.events("email:ana.lima@gmail.com")
    [inbound] = of_type(events, EventType.MESSAGE_IN)
    assert inbound.data["thread_hint"] == ROOT_ANA
    assert inbound.data["raw"]["subject"] == "Order #1042 has not arrived"
    assert "Content-Type: multipart/alternative" in inbound.data["raw"]["source"]


async def test_lmtp_delivery_from_a_front_mail_server(start_hub: Start) -> None:
    env = await start_hub(inbound="lmtp")
    await env.send(fixture("chinese_gbk.eml"), lmtp=True, recipients=["support+cn@example.com"])
    [reply] = await env.relay.wait_for(1)
    assert reply["To"] == "wang.zhe@qq.com"
    assert reply["Subject"] == "Re: 订单还没有收到"


async def test_replies_and_an_agent_answer_stay_in_one_conversation(start_hub: Start) -> None:
    env = await start_hub()
    await env.send(fixture("gmail_new.eml"))
    await env.relay.wait_for(1)
    await env.send(fixture("gmail_reply.eml"))
    second = (await env.relay.wait_for(2))[1]

    events = await env.events("email:ana.lima@gmail.com")
    texts = [event.data["text"] for event in of_type(events, EventType.MESSAGE_IN)]
    assert texts[1] == (
        'It still shows "in transit" on the tracking page. Could you check with the courier?'
    )
    assert second["Subject"] == "Re: Order #1042 has not arrived"
    gmail_reply_id = "CAJ1xK2fR3ply9a0Z+kettle=Qw@mail.gmail.com"
    assert message_ids(second["In-Reply-To"]) == [gmail_reply_id]
    assert message_ids(second["References"])[0] == ROOT_ANA

    # Later an agent answers (the hub's send path); it threads like the bot's replies.
    conversation = await env.hub.latest_conversation("email:ana.lima@gmail.com")
    assert conversation is not None
    await env.hub.send(conversation.id, [Outbound(text="Hi Ana, Sam here. I called the courier.")])
    third = (await env.relay.wait_for(3))[2]
    assert plain_text(third).startswith("Hi Ana, Sam here.")
    assert message_ids(third["In-Reply-To"]) == [gmail_reply_id]
    assert message_ids(third["References"])[0] == ROOT_ANA

    # The customer answers the agent's mail: same conversation again.
    await env.send(reply_to(third, "Thank you!", sender="ana.lima@gmail.com"))
    await env.relay.wait_for(4)
    again = await env.hub.latest_conversation("email:ana.lima@gmail.com")
    assert again is not None and again.id == conversation.id

    # A new subject from the same sender opens a new conversation.
    new = EmailMessage()
    new["From"] = "Ana Lima <ana.lima@gmail.com>"
    new["To"] = SUPPORT
    new["Subject"] = "Invoice address"
    new["Message-ID"] = "<new-subject.1@mail.gmail.com>"
    new.set_content("Please change the invoice address.")
    await env.send(new.as_bytes())
    await env.relay.wait_for(5)
    other = await env.hub.latest_conversation("email:ana.lima@gmail.com")
    assert other is not None and other.id != conversation.id
    assert other.thread_hint == "new-subject.1@mail.gmail.com"


async def test_a_reply_that_lost_its_headers_threads_by_the_plus_address(
    start_hub: Start,
) -> None:
    env = await start_hub()
    await env.send(fixture("gmail_new.eml"))
    [first] = await env.relay.wait_for(1)
    bare = EmailMessage()
    bare["From"] = "ana.lima@gmail.com"
    bare["To"] = str(first["Reply-To"])
    bare["Subject"] = "kettle"
    bare["Message-ID"] = "<no-headers.1@mail.example.net>"
    bare.set_content("Any news?")
    await env.send(bare.as_bytes(), recipients=[first["Reply-To"].addresses[0].addr_spec])
    second = (await env.relay.wait_for(2))[1]
    events = await env.events("email:ana.lima@gmail.com")
    assert [e.data["text"] for e in of_type(events, EventType.MESSAGE_IN)][-1] == "Any news?"
    # The reply, not the last event: its delivery receipt may be logged after the relay has it.
    assert of_type(events, EventType.MESSAGE_OUT)[-1].data["outbound"]["text"] == (
        "You said: Any news?"
    )
    assert message_ids(second["References"])[0] == ROOT_ANA


async def test_a_number_reply_picks_the_numbered_option(start_hub: Start) -> None:
    env = await start_hub(bot=MenuBot())
    await env.send(fixture("gmail_new.eml"))
    [menu] = await env.relay.wait_for(1)
    assert "1. Track my order\n2. Ask for a refund\n3. Talk to a person" in plain_text(menu)
    assert "<li>Ask for a refund</li>" in html_text(menu)

    await env.send(reply_to(menu, "2", sender="ana.lima@gmail.com"))
    answer = (await env.relay.wait_for(2))[1]
    assert plain_text(answer).startswith("Chosen: /refund")
    events = await env.events("email:ana.lima@gmail.com")
    chosen = of_type(events, EventType.MESSAGE_IN)[-1]
    assert chosen.data["text"] == "/refund"
    assert chosen.data["raw"]["choice"] == {"number": 2, "title": "Ask for a refund", "text": "2"}


@pytest.mark.parametrize(
    ("name", "identity", "text", "root"),
    [
        (
            "outlook_reply.eml",
            "email:bob.meyer@outlook.com",
            "Here is the photo of the broken jar. I would prefer a refund, not a replacement."
            "\n\nBest regards,\nBob Müller-Meyer",
            "AM9PR03MB71561D2C0E6A9F2B3C4D5E6FA1B2C@AM9PR03MB7156.eurprd03.prod.outlook.com",
        ),
        (
            "apple_mail_reply.eml",
            "email:carla.rossi@icloud.com",
            "Yes please, send it to Via Roma 12, Milano. Grazie!",
            "6F1C2B9A-3D4E-4F50-8A61-B7C8D9E0F1A2@icloud.com",
        ),
        (
            "chinese_gbk.eml",
            "email:wang.zhe@qq.com",
            "你好，我的订单（编号 1042）还没有收到，收件人是王喆。请帮忙查一下。\n\n王喆",
            "tencent_5E1F2A3B4C5D6E7F8091A2B3C4D5E6F7A808@qq.com",
        ),
    ],
)
async def test_client_fixtures_through_smtp(
    start_hub: Start, name: str, identity: str, text: str, root: str
) -> None:
    env = await start_hub()
    await env.send(fixture(name))
    [reply] = await env.relay.wait_for(1)
    [inbound] = of_type(await env.events(identity), EventType.MESSAGE_IN)
    assert inbound.data["text"] == text
    assert inbound.data["thread_hint"] == root
    assert message_ids(reply["References"])[0] == root
    assert plain_text(reply).startswith(f"You said: {text}")


async def test_auto_replies_and_bounces_are_recorded_never_answered(start_hub: Start) -> None:
    env = await start_hub()
    await env.send(fixture("gmail_new.eml"))
    [reply] = await env.relay.wait_for(1)
    await env.send(fixture("auto_reply.eml"))
    # The bounce returns the headers of our reply to its VERP return path.
    return_path = env.relay.envelopes[0][0]
    bounce = bounce_of(reply, failed="ana.lima@gmail.com")
    await env.send(bounce, sender="", recipients=[return_path])
    # A person's mail afterwards is answered: everything before it has been handled.
    await env.send(fixture("apple_mail_reply.eml"))
    await env.relay.wait_for(2)
    assert len(env.relay.messages) == 2

    events = await env.events("email:ana.lima@gmail.com")
    noticed = of_type(events, EventType.MESSAGE_NOTICED)
    assert [event.data["raw"]["noise"] for event in noticed] == [
        "auto-submitted:auto-replied",
        "bounce",
    ]
    assert noticed[1].data["raw"]["failed_recipients"] == ["ana.lima@gmail.com"]
    assert noticed[1].data["raw"]["original_from"] == "mailer-daemon@mx.example.net"
    assert len(of_type(events, EventType.MESSAGE_OUT)) == 1


async def test_the_reply_rate_limit_breaks_autoresponder_loops(start_hub: Start) -> None:
    env = await start_hub(rate_limit_messages=2)
    for number in range(3):
        robot = EmailMessage()
        robot["From"] = "robot@example.net"
        robot["To"] = SUPPORT
        robot["Subject"] = f"Ticket {number}"  # no auto-reply headers: an unmarked robot
        robot["Message-ID"] = f"<robot.{number}@example.net>"
        robot.set_content("We received your message.")
        await env.send(robot.as_bytes())
    await env.send(fixture("apple_mail_reply.eml"))  # someone else is still answered
    await env.relay.wait_for(3)
    assert sorted(str(m["To"]) for m in env.relay.messages) == [
        "carla.rossi@icloud.com",
        "robot@example.net",
        "robot@example.net",
    ]
    latest = await env.events("email:robot@example.net")
    assert of_type(latest, EventType.MESSAGE_NOTICED)[0].data["raw"]["noise"] == "rate-limited"


async def test_the_hubs_own_mail_is_never_ingested(start_hub: Start) -> None:
    env = await start_hub()
    await env.send(fixture("gmail_new.eml"))
    await env.relay.wait_for(1)
    await env.send(env.relay.raw[0], sender=SUPPORT)  # our reply comes back (a loop)
    await env.send(fixture("apple_mail_reply.eml"))
    await env.relay.wait_for(2)
    assert await env.hub.store.find_customer("email:support@example.com") is None
    assert len(of_type(await env.events("email:ana.lima@gmail.com"), EventType.MESSAGE_IN)) == 1


async def test_bad_input_is_handled_and_replies_stay_well_formed(start_hub: Start) -> None:
    env = await start_hub(smtp_in={"max_message_bytes": 200_000})
    await env.send(fixture("malformed.eml"))
    [broken_reply] = await env.relay.wait_for(1)
    assert plain_text(broken_reply).startswith("You said: Hello, my invoice is wrong.")
    [inbound] = of_type(await env.events("email:broken@example.org"), EventType.MESSAGE_IN)
    assert inbound.data["attachments"][0]["name"] == "invoice.pdf"
    assert "CharsetFallback" in inbound.data["raw"]["defects"]

    await env.send(fixture("header_injection.eml"))
    injected = (await env.relay.wait_for(2))[1]
    raw_reply = env.relay.raw[1]
    assert env.relay.envelopes[1][1] == ["mallory@example.org"]
    assert injected["Bcc"] is None and injected["Cc"] is None
    assert injected["Subject"] == "Re: Hello Bcc: victim@example.net injected body"
    assert b"\r\nBcc:" not in raw_reply and b"\ninjected" not in raw_reply

    no_sender = b"To: support@example.com\r\nSubject: who am I\r\n\r\nhello\r\n"
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await env.send(no_sender, sender="")
    assert refused.value.smtp_code == 550

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        await env.send(fixture("gmail_new.eml"), recipients=["someone-else@example.com"])

    too_big = fixture("gmail_new.eml") + b"x" * 300_000
    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as large:
        await env.send(too_big)
    assert getattr(large.value, "smtp_code", 0) == 552

    # The receiver is still serving.
    await env.send(fixture("apple_mail_reply.eml"))
    await env.relay.wait_for(3)


async def test_a_30_mb_attachment_is_stored_as_metadata(start_hub: Start) -> None:
    env = await start_hub()
    payload = os.urandom(30 * 1024 * 1024)
    mail = EmailMessage()
    mail["From"] = "Ana Lima <ana.lima@gmail.com>"
    mail["To"] = SUPPORT
    mail["Subject"] = "The video of the problem"
    mail["Message-ID"] = "<big.1@mail.gmail.com>"
    mail.set_content("See the attached video.")
    mail.add_attachment(payload, maintype="video", subtype="mp4", filename="kettle.mp4")
    await env.send(mail.as_bytes())
    [reply] = await env.relay.wait_for(1, timeout=120)
    [inbound] = of_type(await env.events("email:ana.lima@gmail.com"), EventType.MESSAGE_IN)
    assert inbound.data["text"] == "See the attached video."
    assert inbound.data["attachments"] == [
        {
            "kind": "video",
            "name": "kettle.mp4",
            "mime_type": "video/mp4",
            "size": 30 * 1024 * 1024,
            "url": "",
            "ref": "",
        }
    ]
    assert "source" not in inbound.data["raw"]  # the bytes stay out of the log
    assert plain_text(reply).startswith("You said: See the attached video.")


async def test_relay_failures_retry_or_park(start_hub: Start) -> None:
    env = await start_hub()
    env.relay.refuse_next = ["451 4.3.0 try later"]
    await env.send(fixture("gmail_new.eml"))
    [delivered] = await env.relay.wait_for(1)
    assert delivered["Subject"] == "Re: Order #1042 has not arrived"

    env.relay.refuse_next = ["554 5.7.1 rejected by policy"]
    await env.send(fixture("apple_mail_reply.eml"))
    conversation = await env.hub.latest_conversation("email:carla.rossi@icloud.com")
    assert conversation is not None
    for _ in range(400):  # the outbox parks it after its attempt; look until it has
        parked = await env.hub.store.dead_letters(limit=10)
        if parked.items:
            break
        await asyncio.sleep(0.05)
    [dead] = parked.items
    assert dead.address == "carla.rossi@icloud.com"
    assert "554" in dead.last_error


async def test_the_demo_bot_troubleshoots_by_email_with_numbered_options(
    start_hub: Start, action_server: Any
) -> None:
    from dialogs.engine import DialogEngine

    demo = Path(__file__).resolve().parents[3] / "config" / "dialogs"
    env = await start_hub(bot=DialogEngine.from_path(demo, action_endpoint=action_server.url))
    first = EmailMessage()
    first["From"] = "li.na@example.net"
    first["To"] = SUPPORT
    first["Subject"] = "Phone is dead"
    first["Message-ID"] = "<dead-phone-1@example.net>"
    first.set_content("Hello, my device won't power on at all.")
    await env.send(first.as_bytes(), sender="li.na@example.net")

    [question] = await env.relay.wait_for(1)
    body = plain_text(question)
    assert "hold the power button for 10 seconds" in body
    assert "1. " in body and "2. " in body  # the yes/no buttons as a numbered list
    no_number = next(
        line.split(".")[0].strip()
        for line in body.splitlines()
        if line.strip()[:1].isdigit() and "no" in line.lower()
    )
    await env.send(
        reply_to(question, no_number, sender="li.na@example.net"), sender="li.na@example.net"
    )
    second = (await env.relay.wait_for(2))[1]
    assert "charger" in plain_text(second).lower()
    assert message_ids(second["References"])[0] == "dead-phone-1@example.net"


@pytest.mark.parametrize(
    ("body", "answered"),
    [
        (
            "Hello,\n\nPlease cancel my order, I ordered the wrong size.\n\nKind regards\n"
            "Tom Baker\nACME Ltd\nPhone: +44 20 7946 0000\n\n"
            "On Sun, 29 Nov 2026 at 10:02, Example Support <support@example.com> wrote:\n"
            "> How can we help?",
            "can be cancelled",
        ),
        (
            "我的耳机没声音了，怎么办？\n\n王芳\n上海市浦东新区\n电话：138 0013 8000\n\n"
            "在 2026年11月29日 星期日 10:02，Example Support <support@example.com> 写道：\n"
            "> 您好，请问还有什么可以帮您？",
            "调高音量",
        ),
    ],
)
async def test_a_signed_reply_with_its_quote_is_read_for_what_it_asks(
    start_hub: Start, body: str, answered: str
) -> None:
    """Through SMTP, the demo bot with its knowledge base: the quote ("wrote:", "写道："),
    the sign-off and the signature with its phone number are not read as the question."""
    from dialogs.engine import DialogEngine

    repo = Path(__file__).resolve().parents[3]
    env = await start_hub(
        bot=DialogEngine.from_path(
            repo / "config" / "dialogs", knowledge_path=repo / "config" / "knowledge"
        )
    )
    mail = EmailMessage()
    mail["From"] = "wang.fang@example.net"
    mail["To"] = SUPPORT
    mail["Subject"] = "Re: your question"
    mail["Message-ID"] = "<signed-1@example.net>"
    mail.set_content(body)
    await env.send(mail.as_bytes(), sender="wang.fang@example.net")
    [reply] = await env.relay.wait_for(1)
    assert answered in plain_text(reply)
