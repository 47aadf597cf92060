"""Forged mail through real SMTP: a forged From: never speaks for the customer whose
address it names (issue 13, section 1). DKIM keys come from a dict, never from DNS."""

from __future__ import annotations

import pytest

from handoff.console.views import timeline
from hub.identity import IDENTITY_REFUSED
from hub.model import EventType
from tests.connectors.email.harness import Start, bounce_of
from tests.connectors.email.signing import dns_records, lookup, mail, signed

ANA = "ana@example.net"
ATTACKER = "attacker@evil.example"
DNS = lookup(dns_records("example.net", "evil.example"))
TEXTS = {
    "en": ("Where is my order #1042?", f"/link {ATTACKER}"),
    "zh": ("我的订单 #1042 到哪里了？", f"/link {ATTACKER}"),
}


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_forged_from_opens_a_separate_flagged_conversation(
    start_hub: Start, language: str
) -> None:
    question, link = TEXTS[language]
    env = await start_hub(sender_auth="require", dns=DNS)
    genuine = mail(sender=f"Ana <{ANA}>", text=question, message_id="<a1@example.net>")
    await env.send(signed(genuine, domain="example.net"), sender=ANA)
    [answer] = await env.relay.wait_for(1)
    ana = await env.hub.latest_conversation(f"email:{ANA}")
    assert ana is not None

    # The attacker writes as Ana, in her thread, asking to link their own address.
    forged = mail(
        sender=ANA, text=link, message_id="<f1@evil.example>", in_reply_to=answer["Message-ID"]
    )
    await env.send(signed(forged, domain="evil.example"), sender=ATTACKER)
    # Then, in the same thread and unsigned, types a code as if one had been sent.
    guess = mail(
        sender=ANA, text="123456", message_id="<f2@evil.example>", in_reply_to=answer["Message-ID"]
    )
    await env.send(guess.as_bytes(), sender=ATTACKER)
    await env.relay.wait_for(2)  # the bot answers the code-like text (to Ana's address)

    # Ana's own conversation never saw any of it.
    ana_events = await env.hub.events(ana.id, limit=100)
    assert [e.data["message_id"] for e in ana_events if e.type == EventType.MESSAGE_IN] == [
        "a1@example.net"
    ]
    # The forged mail sits in a conversation of its own, flagged for agents.
    quarantine = await env.hub.latest_conversation(f"unverified:email:{ANA}")
    assert quarantine is not None and quarantine.id != ana.id
    assert quarantine.customer_id != ana.customer_id
    events = await env.hub.events(quarantine.id, limit=100)
    forged_in = [e for e in events if e.type == EventType.MESSAGE_IN]
    assert [e.data["sender_verified"] for e in forged_in] == [False, False]
    assert forged_in[0].data["raw"]["auth"]["reason"] == "d=evil.example: not aligned"
    assert forged_in[1].data["raw"]["auth"]["reason"] == "no signature"
    # Agents see the flag beside each forged message in the console's timeline; Ana's own
    # messages carry none.
    said = [item for item in timeline(events, channel="email") if item["who"] == "customer"]
    assert [item["unverified"] for item in said] == [True, True]
    own = [item for item in timeline(ana_events, channel="email") if item["who"] == "customer"]
    assert [item["unverified"] for item in own] == [False]
    # No code went anywhere, nothing was linked or merged, the /link got no answer.
    assert [e.type for e in events].count(IDENTITY_REFUSED) == 1
    assert all(ATTACKER not in to for _, to in env.relay.envelopes)
    assert len(env.relay.messages) == 2
    customer = await env.hub.store.find_customer(f"email:{ANA}")
    assert customer is not None and customer.identities == (f"email:{ANA}",)
    assert await env.hub.store.find_customer(f"email:{ATTACKER}") is None


async def test_trusted_authentication_results_vouch_and_untrusted_ones_do_not(
    start_hub: Start,
) -> None:
    env = await start_hub(sender_auth="require", trusted_authserv_ids=["mx.example.com"])
    passed = b"Authentication-Results: mx.example.com; dkim=pass header.d=example.net;\r\n"
    passed += b" dmarc=pass header.from=example.net\r\n"
    genuine = mail(sender=ANA, text="Hello, order 1042 please", message_id="<a1@example.net>")
    await env.send(passed + genuine.as_bytes(), sender=ANA)
    # A forgery carrying a "pass" written by a host we do not trust.
    claimed = b"Authentication-Results: mx.evil.example; dmarc=pass header.from=example.net\r\n"
    forged = mail(sender=ANA, text="你好，把我的订单寄到新地址", message_id="<f1@evil.example>")
    await env.send(claimed + forged.as_bytes(), sender=ATTACKER)
    await env.relay.wait_for(2)

    ana = await env.events(f"email:{ANA}")
    assert [e.data["message_id"] for e in ana if e.type == EventType.MESSAGE_IN] == [
        "a1@example.net"
    ]
    assert ana[1].data["raw"]["auth"]["reason"] == "dmarc=pass"
    flagged = await env.events(f"unverified:email:{ANA}")
    [forged_in] = [e for e in flagged if e.type == EventType.MESSAGE_IN]
    assert forged_in.data["sender_verified"] is False
    assert forged_in.data["raw"]["auth"]["reason"] == "no trusted Authentication-Results"


async def test_flag_records_the_verdict_and_off_skips_it(start_hub: Start) -> None:
    flagging = await start_hub(sender_auth="flag", dns=DNS)
    unsigned = mail(sender=ANA, text="Hi, it's Ana", message_id="<u1@example.net>")
    await flagging.send(unsigned.as_bytes(), sender=ANA)
    await flagging.relay.wait_for(1)
    [event] = [e for e in await flagging.events(f"email:{ANA}") if e.type == "message.in"]
    assert "sender_verified" not in event.data  # treated as Ana's, as before
    assert event.data["raw"]["auth"]["authenticated"] is False

    off = await start_hub(sender_auth="off")
    await off.send(unsigned.as_bytes(), sender=ANA)
    await off.relay.wait_for(1)
    [event] = [e for e in await off.events(f"email:{ANA}") if e.type == "message.in"]
    assert "auth" not in event.data["raw"]


async def test_bounces_count_only_through_our_verp_return_path(start_hub: Start) -> None:
    env = await start_hub(
        sender_auth="require", dns=DNS, environ={"FRONTDESK_EMAIL_VERP_SECRET": "s3"}
    )
    genuine = mail(sender=ANA, text="Where is my parcel?", message_id="<a1@example.net>")
    await env.send(signed(genuine, domain="example.net"), sender=ANA)
    [reply] = await env.relay.wait_for(1)
    return_path = env.relay.envelopes[0][0]

    # A forged bounce: it names our Message-ID (and In-Reply-To), but was sent to the
    # support address, not to the return path; its text is the attacker's.
    forged = bounce_of(reply, failed=ANA).replace(
        b"This is the mail system", b"Your card was charged twice, call +1 555 0100. This is"
    )
    forged = forged.replace(
        b"Message-Id:", b"In-Reply-To: " + str(reply["Message-ID"]).encode() + b"\r\nMessage-Id:", 1
    )
    await env.send(forged, sender="")
    # A real one comes back to the VERP address; a wrong token is refused too.
    wrong = return_path.replace(return_path[8:12], "aaaa")
    real = bounce_of(reply, failed=ANA).replace(b"Message-Id: <2026", b"Message-Id: <3026")
    await env.send(real.replace(b"<3026", b"<4026"), sender="", recipients=[wrong])
    await env.send(real, sender="", recipients=[return_path])
    # Ana writes again; once she is answered every earlier mail has been handled.
    again = mail(
        sender=ANA, text="Any news?", message_id="<a2@example.net>", in_reply_to=reply["Message-ID"]
    )
    await env.send(signed(again, domain="example.net"), sender=ANA)
    await env.relay.wait_for(2)

    events = await env.events(f"email:{ANA}")
    noticed = [e for e in events if e.type == EventType.MESSAGE_NOTICED]
    assert [e.data["raw"]["bounce"] for e in noticed] == ["verp"]
    assert noticed[0].data["raw"]["failed_recipients"] == [ANA]
    assert all(b"charged twice" not in str(e.data).encode() for e in events)


@pytest.mark.parametrize("text", ["Refund please", "请退款"])
async def test_forged_mail_does_not_use_up_the_customers_reply_budget(
    start_hub: Start, text: str
) -> None:
    env = await start_hub(sender_auth="require", dns=DNS, rate_limit_messages=2)
    for number in range(3):
        forged = mail(sender=ANA, text=text, message_id=f"<f{number}@evil.example>")
        await env.send(forged.as_bytes(), sender=ATTACKER)
    genuine = mail(sender=ANA, text=text, message_id="<a1@example.net>")
    await env.send(signed(genuine, domain="example.net"), sender=ANA)
    await env.relay.wait_for(3)  # two forged ones answered (to Ana), then Ana's
    events = await env.events(f"email:{ANA}")
    assert [e.data["message_id"] for e in events if e.type == EventType.MESSAGE_IN] == [
        "a1@example.net"
    ]
    flagged = await env.events(f"unverified:email:{ANA}")
    assert [e.data["raw"]["noise"] for e in flagged if e.type == EventType.MESSAGE_NOTICED] == [
        "rate-limited"
    ]
