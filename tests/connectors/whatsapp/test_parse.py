"""Webhook JSON → `Inbound` and `Receipt` (pure), on Meta's documented shapes."""

from __future__ import annotations

import pytest

from connectors.whatsapp.parse import Receipt, parse_webhook
from hub.errors import InputError
from hub.model import Inbound, InboundKind
from tests.connectors.whatsapp.fake_graph import PHONE_NUMBER_ID
from tests.connectors.whatsapp.harness import NUMBER, fixture, message, webhook


def parse(body: object) -> list[Inbound | Receipt]:
    return parse_webhook(body, phone_number_id=PHONE_NUMBER_ID, received_at=1.0)


def test_the_documented_text_message() -> None:
    (inbound,) = parse(fixture("text_message"))
    assert isinstance(inbound, Inbound)
    assert inbound.identity == f"whatsapp:{NUMBER}"
    assert inbound.text == "Does it come in another color?"
    assert inbound.timestamp == 1749416383.0
    assert inbound.raw["profile_name"] == "Sheena Nelson"
    assert inbound.raw["phone"] == f"+{NUMBER}"


def test_the_documented_status() -> None:
    (receipt,) = parse(fixture("status_delivered"))
    assert isinstance(receipt, Receipt)
    assert (receipt.status, receipt.recipient) == ("delivered", NUMBER)


@pytest.mark.parametrize(
    ("kind", "content", "text", "attachment"),
    [
        (
            "image",
            {"caption": "破了", "mime_type": "image/jpeg", "sha256": "x", "id": "M1"},
            "破了",
            ("image", "M1"),
        ),
        (
            "document",
            {"filename": "receipt.pdf", "mime_type": "application/pdf", "sha256": "x", "id": "M2"},
            "",
            ("document", "M2"),
        ),
        (
            "audio",
            {"mime_type": "audio/ogg; codecs=opus", "sha256": "x", "id": "M3", "voice": True},
            "",
            ("audio", "M3"),
        ),
        (
            "location",
            {"latitude": 22.54, "longitude": 114.05, "name": "Shop", "address": "1 Road"},
            "Shop, 1 Road",
            ("location", ""),
        ),
        (
            "contacts",
            [
                {
                    "name": {"formatted_name": "Li Lei"},
                    "phones": [{"phone": "+86 138 0013 8000", "wa_id": "8613800138000"}],
                }
            ],
            "Li Lei",
            ("contact", "+8613800138000"),
        ),
    ],
)
def test_media_location_and_contacts_become_attachments(
    kind: str, content: object, text: str, attachment: tuple[str, str]
) -> None:
    (inbound,) = parse(webhook(message(1, kind, content)))
    assert isinstance(inbound, Inbound) and inbound.kind == InboundKind.MESSAGE
    assert inbound.text == text
    assert (inbound.attachments[0].kind, inbound.attachments[0].ref) == attachment


def test_a_reaction_and_an_unsupported_message_are_recorded_notices() -> None:
    reaction = message(1, "reaction", {"message_id": "wamid.OUT1", "emoji": "👍"})
    odd = message(2, "unsupported", {})
    broken = message(3, "text", {"body": 42})
    found = parse(webhook(reaction, odd, broken))
    assert [i.kind for i in found if isinstance(i, Inbound)] == [InboundKind.NOTICE] * 3
    assert found[0].raw["reaction"] == {"to": "wamid.OUT1", "emoji": "👍"}


@pytest.mark.parametrize("body", [[], {"object": "x"}, {"entry": "no"}, "text"])
def test_a_body_that_is_not_a_webhook_is_refused(body: object) -> None:
    with pytest.raises(InputError):
        parse(body)


def test_another_business_number_and_senders_without_an_id_are_left_out() -> None:
    other = fixture("text_message")
    other["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    assert parse(other) == []
    nameless = message(1, "text", {"body": "hi"})
    del nameless["id"]
    assert parse(webhook(nameless, message(2, "text", {"body": "x"}, sender="not-a-number"))) == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [({"text": "5", "payload": "/csat 5"}, "/csat 5"), ({"text": "非常满意"}, "非常满意")],
)
def test_a_template_quick_reply_button_gives_its_payload(
    content: dict[str, str], expected: str
) -> None:
    (inbound,) = parse(webhook(message(1, "button", content)))
    assert isinstance(inbound, Inbound) and inbound.text == expected


def test_a_location_that_is_not_a_number_is_a_notice() -> None:
    for where in ({"latitude": "north", "longitude": 1}, {"latitude": "nan", "longitude": 1}):
        (inbound,) = parse(webhook(message(1, "location", where)))
        assert isinstance(inbound, Inbound) and inbound.kind == InboundKind.NOTICE
