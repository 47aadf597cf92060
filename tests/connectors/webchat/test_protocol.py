"""Pure parts of the web chat channel: frames in and out, visitor tokens."""

from __future__ import annotations

import pytest

from connectors.webchat import protocol, tokens
from connectors.webchat.protocol import Hello, Read, SendMessage
from hub.errors import InputError
from hub.model import Button, Event, Outbound


def parse(data: object) -> protocol.ClientFrame:
    return protocol.parse_client_frame(data, max_text_length=20)


def test_client_frames_parse_into_values() -> None:
    assert parse({"type": "hello"}) == Hello()
    assert parse({"type": "hello", "token": "t", "conversation_id": "c", "last_seq": 4}) == Hello(
        token="t", conversation_id="c", last_seq=4
    )
    assert parse({"type": "message", "id": "c_1", "text": "Shipping", "payload": "/ship"}) == (
        SendMessage(id="c_1", text="Shipping", payload="/ship")
    )
    assert parse({"type": "read", "seq": 9}) == Read(seq=9)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1], "must be a JSON object"),
        ({"type": "shout"}, "unknown frame type 'shout'"),
        ({"type": "message", "text": "hi"}, "field 'id' must be 1-64 characters"),
        ({"type": "message", "id": "a b", "text": "hi"}, "field 'id' must be 1-64"),
        ({"type": "message", "id": "x" * 65, "text": "hi"}, "field 'id' must be 1-64"),
        ({"type": "message", "id": "1", "text": 5}, "field 'text' must be a string"),
        ({"type": "message", "id": "1", "text": "  "}, "field 'text' must not be empty"),
        ({"type": "message", "id": "1", "text": "x" * 21}, "longer than 20 characters"),
        ({"type": "hello", "last_seq": -1}, "'last_seq' must be a whole number"),
        ({"type": "hello", "last_seq": True}, "'last_seq' must be a whole number"),
        ({"type": "hello", "token": 3}, "field 'token' must be a string"),
        ({"type": "read", "seq": "3"}, "field 'seq' must be a whole number"),
    ],
)
def test_bad_client_frames_say_what_is_wrong(data: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse(data)


def test_decode_reports_the_column() -> None:
    with pytest.raises(InputError, match=r"not valid JSON.*column"):
        protocol.decode("{nope")


def test_message_ids_are_scoped_to_the_visitor_and_buttons_send_their_payload() -> None:
    message = SendMessage(id="c_1", text="Returns", payload="/faq_returns")
    inbound = protocol.to_inbound("webchat", "v_abc", message, received_at=1.0)
    assert inbound.message_id == "v_abc:c_1"
    assert inbound.identity == "webchat:v_abc"
    assert inbound.text == "/faq_returns"
    assert inbound.raw == {"client_id": "c_1", "button_title": "Returns"}


def event(type_: str, **data: object) -> Event:
    return Event(conversation_id="cv_1", seq=7, type=type_, at=100.0, data=data)


def test_logged_messages_become_frames_with_their_sequence() -> None:
    inbound = protocol.to_inbound(
        "webchat", "v_a", SendMessage(id="c_9", text="Returns", payload="/r"), received_at=1
    )
    frame = protocol.event_frame(event("message.in", **inbound.to_json()), channel="webchat")
    assert frame is not None
    assert frame["direction"] == "in"
    assert (frame["id"], frame["text"], frame["seq"]) == ("c_9", "Returns", 7)
    outbound = Outbound(text="<b>hi</b>", buttons=(Button(title="Yes", payload="/yes"),))
    frame = protocol.event_frame(
        event("message.out", delivery_id="dlv_1", outbound=outbound.to_json()), channel="webchat"
    )
    assert frame is not None
    assert frame["text"] == "<b>hi</b>"  # escaping is the widget's job: it uses textContent
    assert frame["buttons"] == [{"title": "Yes", "payload": "/yes"}]
    assert frame["conversation_id"] == "cv_1"


def test_customers_see_their_ticket_but_not_internal_events() -> None:
    assert protocol.event_frame(event("bot.turn"), channel="webchat") is None
    assert protocol.event_frame(event("delivery.delivered"), channel="webchat") is None
    status = protocol.event_frame(event("status.changed", to="queued"), channel="webchat")
    assert status is not None
    assert status["status"] == "queued"
    queued = protocol.event_frame(
        event(
            "handoff.queued",
            position=3,
            expected_wait=240,
            summary="angry customer, VIP",  # meant for agents only
        ),
        channel="webchat",
    )
    assert queued == {
        "type": "status",
        "conversation_id": "cv_1",
        "seq": 7,
        "at": 100.0,
        "event": "handoff.queued",
        "position": 3,
        "expected_wait": 240.0,
    }
    assigned = protocol.event_frame(
        event("handoff.assigned", agent={"name": "Mei", "email": "mei@example.com"}),
        channel="webchat",
    )
    assert assigned is not None
    assert assigned["agent"] == "Mei"
    assert "email" not in str(assigned)


@pytest.mark.parametrize(
    "kind",
    ["handoff.whisper", "handoff.note", "handoff.priority_changed"],
)
def test_agents_only_events_do_not_even_show_their_kind(kind: str) -> None:
    internal = event(kind, text="customer seems upset, 别提退款", agent_id="tom")
    assert protocol.event_frame(internal, channel="webchat") is None


def test_tokens_round_trip_and_refuse_tampering() -> None:
    secret = b"s" * 32
    visitor = tokens.new_visitor()
    token = tokens.issue(secret, visitor)
    assert tokens.verify(secret, token) == visitor
    other = tokens.new_visitor()
    forged = token.replace(visitor, other)
    for bad in (forged, token[:-2] + "AA", "wv1.v_x.sig", "", "garbage", token + "x"):
        with pytest.raises(tokens.TokenError):
            tokens.verify(secret, bad)
    with pytest.raises(tokens.TokenError, match="signature"):
        tokens.verify(b"another secret", token)
