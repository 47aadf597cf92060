"""The contact panel's service on both stores (SQLite and a real redis-server): audited
edits with who, when, old and new; validation that writes nothing; notes on the customer;
the customer's conversations on every channel, filtered by text in English and Chinese;
merge suggestions from verified data only."""

from __future__ import annotations

from typing import Any

import pytest

from hub.abc import TurnResult
from hub.contacts import MAX_TAGS, Contacts, parse_change
from hub.errors import InputError
from hub.identity import IdentityService
from hub.model import Inbound, Outbound
from hub.ports import Backend


def inbound(channel: str, sender: str, message_id: str, text: str, **extra: Any) -> Inbound:
    return Inbound(
        channel=channel, sender=sender, message_id=message_id, text=text, timestamp=1.0, **extra
    )


async def one_customer_two_channels(store: Backend, words: tuple[str, str]) -> tuple[str, str, str]:
    """A customer who wrote on the web chat, then (proven the same person) on Telegram."""
    web = await store.record_inbound(inbound("webchat", "v1", "w1", words[0]), now=10.0)
    await store.commit_turn(
        web.conversation.id,
        handled_seq=web.event.seq,
        result=TurnResult(replies=(Outbound(text="How can I help?"),)),
        now=11.0,
        lease=30,
    )
    tg = await store.record_inbound(inbound("telegram", "42", "t1", words[1]), now=20.0)
    await store.merge_customers(web.customer.id, tg.customer.id, reason={"kind": "code"}, now=30)
    return web.customer.id, web.conversation.id, tg.conversation.id


async def test_edits_are_audited_with_who_when_old_and_new(store: Backend) -> None:
    contacts = Contacts(store)
    customer, _ = await store.ensure_customer("telegram:42", now=1.0)
    await store.update_customer(customer.id, attributes={"tier": "silver"}, now=2.0)
    change = parse_change(
        {
            "name": "Ana Li",
            "tags": ["vip", "重要客户"],
            "attributes": {"tier": "gold", "plan": "pro"},
        }
    )
    contact = await contacts.edit(customer.id, change, actor="mei", now=100.0)
    view = contact.to_json()
    assert view["name"] == "Ana Li" and view["tags"] == ["vip", "重要客户"]
    assert {f["key"]: f["value"] for f in view["crm"]}["tier"] == "gold"
    assert view["attributes"] == {"plan": "pro"}
    trail = [e for e in await store.audit_trail(customer.id) if e["action"] != "customer.note"]
    by_field = {e["field"]: e for e in trail}
    assert by_field["tier"] | {"at": 0} == {
        "action": "customer.attribute_changed",
        "field": "tier",
        "old": "silver",
        "new": "gold",
        "actor": "mei",
        "at": 0,
    }
    assert by_field["tier"]["at"] == 100.0
    assert (by_field["name"]["old"], by_field["name"]["new"]) == (None, "Ana Li")
    assert (by_field["tags"]["old"], by_field["tags"]["new"]) == ([], ["vip", "重要客户"])
    # The same values again change nothing and audit nothing; a deletion is audited.
    await contacts.edit(customer.id, change, actor="tom", now=101.0)
    assert len(await store.audit_trail(customer.id)) == len(trail)
    await contacts.edit(
        customer.id, parse_change({"attributes": {"plan": None}}), actor="tom", now=102.0
    )
    last = (await store.audit_trail(customer.id))[-1]
    assert (last["field"], last["old"], last["new"], last["actor"]) == ("plan", "pro", None, "tom")
    stored = await store.get_customer(customer.id)
    assert stored is not None and "plan" not in stored.attributes


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"tags": ["two words"]}, "may not contain spaces"),
        ({"tags": ["x" * 33]}, "1–32 characters"),
        ({"tags": [f"t{i}" for i in range(MAX_TAGS + 1)]}, "at most 30 tags"),
        ({"tags": "vip"}, "must be a list"),
        ({"attributes": {"Tier": "gold"}}, "must start with a-z"),
        ({"attributes": {"等级": "gold"}}, "must start with a-z"),
        ({"attributes": {"unverified": "x"}}, "cannot be edited here"),
        ({"attributes": {"tier": 3}}, "must be a string or null"),
        ({"attributes": {"tier": "x" * 501}}, "at most 500"),
        ({"name": "a\u0000b"}, "printable"),
        ({"colour": "red"}, "unknown field"),
    ],
)
def test_bad_edits_are_refused_with_a_clear_400(body: dict[str, Any], problem: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_change(body)
    assert refused.value.status == 400 and problem in refused.value.message


async def test_notes_in_both_languages_newest_first_and_gone_on_erasure(store: Backend) -> None:
    contacts = Contacts(store)
    customer, _ = await store.ensure_customer("email:ana@example.com", now=1.0)
    await contacts.add_note(customer.id, "Prefers email", actor="mei", now=10.0)
    await contacts.add_note(customer.id, "  喜欢电话联系  ", actor="lin", now=11.0)
    notes = await contacts.notes(customer.id)
    assert [(n["text"], n["actor"], n["at"]) for n in notes] == [
        ("喜欢电话联系", "lin", 11.0),
        ("Prefers email", "mei", 10.0),
    ]
    with pytest.raises(InputError) as empty:
        await contacts.add_note(customer.id, "   ", actor="mei", now=12.0)
    assert empty.value.status == 400
    with pytest.raises(InputError) as missing:
        await contacts.add_note("cus_missing", "x", actor="mei", now=12.0)
    assert missing.value.status == 404
    assert await store.erase_customer(customer.id, now=20.0)
    assert await contacts.notes(customer.id) == []


@pytest.mark.parametrize(
    ("words", "query"),
    [
        (("my router is broken", "where is my order"), "ROUTER"),
        (("路由器坏了", "我的订单在哪"), "订单"),
    ],
)
async def test_every_conversation_on_every_channel_filtered_by_text(
    store: Backend, words: tuple[str, str], query: str
) -> None:
    contacts = Contacts(store)
    customer_id, web_conv, tg_conv = await one_customer_two_channels(store, words)
    rows = await contacts.conversations(customer_id)
    assert [(r["id"], r["channels"]) for r in rows] == [
        (tg_conv, ["telegram"]),
        (web_conv, ["webchat"]),
    ]
    assert rows[1]["preview"] == words[0] and rows[1]["messages"] == 2
    found = await contacts.conversations(customer_id, query)
    expected = web_conv if query == "ROUTER" else tg_conv
    assert [r["id"] for r in found] == [expected]
    assert await contacts.conversations(customer_id, "nothing like this") == []
    conversation, events = await contacts.transcript(customer_id, tg_conv)
    assert conversation.channel == "telegram"
    assert [e.data.get("text") for e in events if e.type == "message.in"] == [words[1]]
    other, _ = await store.ensure_customer("email:bo@example.com", now=1.0)
    with pytest.raises(InputError) as not_theirs:
        await contacts.transcript(other.id, tg_conv)
    assert not_theirs.value.status == 404
    with pytest.raises(InputError):
        await contacts.conversations(customer_id, "x" * 201)


async def test_merge_suggestions_come_only_from_verified_data(store: Backend) -> None:
    contacts = Contacts(store)
    identity = IdentityService(store, clock=lambda: 50.0)
    # Ana proved ana+shop@ by a code; another record proved ana@ (the same mailbox).
    ana = await store.record_inbound(inbound("telegram", "42", "t1", "hi"), now=1.0)
    await identity.link(ana.customer.id, "email:ana+shop@example.com", proof={"kind": "code"})
    plain, _ = await store.ensure_customer("email:ana@example.com", now=2.0)
    # Unproven: a mail whose sender failed DMARC, and a claim typed in a chat.
    spoof = await store.record_inbound(
        inbound("email", "ana+shop@example.com", "m1", "hello", sender_verified=False), now=3.0
    )
    assert spoof.customer.identities == ("unverified:email:ana+shop@example.com",)
    await identity.note_claim(ana.customer.id, "email:boss@example.com")
    boss, _ = await store.ensure_customer("email:boss@example.com", now=4.0)

    suggested = (await contacts.contact(ana.customer.id)).suggestions
    assert [(s["customer_id"], s["reason"]) for s in suggested] == [(plain.id, "same_mailbox")]
    # The spoofed sender's record suggests nothing: its identity is not proven.
    assert (await contacts.contact(spoof.customer.id)).suggestions == []
    assert boss.id not in {s["customer_id"] for s in suggested}
    view = (await contacts.contact(ana.customer.id)).to_json()
    marks = {(i["identity"], i["verified"]) for i in view["identities"]}
    assert ("email:boss@example.com", False) in marks  # the claim, shown as unverified
    assert ("email:ana+shop@example.com", True) in marks
    spoof_view = (await contacts.contact(spoof.customer.id)).to_json()
    assert spoof_view["identities"][0]["verified"] is False

    # A CRM (trusted) vouching for an identity another record proved: suggested, not merged.
    crm, _ = await store.ensure_customer("crm:A1", now=5.0)
    tg = await store.record_inbound(inbound("telegram", "77", "t2", "hi"), now=6.0)
    await store.append_audit(
        crm.id, {"action": "customer.upserted", "conflicts": ["telegram:77"]}, now=7.0
    )
    suggested = (await contacts.contact(crm.id)).suggestions
    assert [(s["customer_id"], s["reason"]) for s in suggested] == [(tg.customer.id, "crm")]
