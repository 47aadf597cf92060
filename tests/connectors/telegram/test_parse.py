"""Recorded update JSON → what the hub receives (pure functions, no network)."""

from __future__ import annotations

import pytest

from connectors.telegram.parse import ButtonPress, Ignored, parse_update
from hub.errors import InputError
from hub.model import Inbound, InboundKind
from tests.connectors.telegram.harness import CHAT, fixture


def parse(name: str, **kwargs) -> object:
    return parse_update(fixture(name), received_at=1.5, **kwargs)


def test_text_message() -> None:
    inbound = parse("text_message")
    assert isinstance(inbound, Inbound)
    assert inbound.identity == f"telegram:{CHAT}"
    assert (inbound.text, inbound.message_id, inbound.kind) == (
        "What are your opening hours?",
        f"{CHAT}:41",
        InboundKind.MESSAGE,
    )
    assert inbound.timestamp == 1795339200
    assert inbound.thread_hint == ""  # continues the customer's current conversation
    assert inbound.raw["update"] == fixture("text_message")


def test_edit_has_its_own_id_and_kind() -> None:
    inbound = parse("edited_message")
    assert isinstance(inbound, Inbound)
    assert inbound.kind == InboundKind.EDIT
    assert inbound.message_id == f"{CHAT}:41:edit:1795339260"
    assert inbound.text == "What are your opening hours on Sunday?"


@pytest.mark.parametrize(
    ("text", "payload"),
    [("/start ref-7f3a9c", "ref-7f3a9c"), ("/start", None), ("/start@frontdesk_bot x1", "x1")],
)
def test_start_keeps_the_deep_link_out_of_the_text(text: str, payload: str | None) -> None:
    update = fixture("start_deep_link")
    update["message"]["text"] = text
    inbound = parse_update(update, received_at=0)
    assert isinstance(inbound, Inbound)
    assert inbound.text == "/start"
    assert inbound.raw.get("deep_link") == payload


def test_callback_query() -> None:
    press = parse("callback_query")
    assert isinstance(press, ButtonPress)
    assert (press.query_id, press.chat_id, press.message_id, press.data) == (
        "4242424242424242421",
        CHAT,
        1001,
        "hours",
    )
    inbound = press.inbound("hours")
    assert (inbound.text, inbound.message_id, inbound.timestamp) == (
        "hours",
        "callback:4242424242424242421",
        1.5,
    )


def test_contact_becomes_a_phone_number() -> None:
    inbound = parse("contact")
    assert isinstance(inbound, Inbound)
    assert inbound.text == "+8613800138000"
    assert inbound.raw["contact"] == {"phone": "+8613800138000", "own": True}
    (card,) = inbound.attachments
    assert (card.kind, card.name, card.ref) == ("contact", "Ana Silva", "+8613800138000")


def test_someone_elses_contact_is_not_their_own() -> None:
    update = fixture("contact")
    update["message"]["contact"]["user_id"] = 5
    inbound = parse_update(update, received_at=0)
    assert isinstance(inbound, Inbound)
    assert inbound.raw["contact"]["own"] is False


@pytest.mark.parametrize(
    ("name", "kind", "ref", "text"),
    [
        ("photo", "image", "AgACAgQAAxkBAAIBQ2VhLarge", "My receipt"),
        ("document", "document", "BQACAgQAAxkBAAIBRGVhDoc", ""),
        ("voice", "audio", "AwACAgQAAxkBAAIBRWVhVoice", ""),
        ("sticker", "sticker", "CAACAgIAAxkBAAIBRmVhSticker", ""),
    ],
)
def test_media_is_attachment_metadata(name: str, kind: str, ref: str, text: str) -> None:
    inbound = parse(name)
    assert isinstance(inbound, Inbound)
    (attachment,) = inbound.attachments
    assert (attachment.kind, attachment.ref, inbound.text) == (kind, ref, text)
    assert attachment.url == ""  # the file itself stays at Telegram


def test_document_keeps_name_type_and_size() -> None:
    inbound = parse("document")
    assert isinstance(inbound, Inbound)
    (document,) = inbound.attachments
    assert (document.name, document.mime_type, document.size) == (
        "invoice-2026-11.pdf",
        "application/pdf",
        48213,
    )


def test_groups_are_ignored_unless_allowed() -> None:
    ignored = parse("group_message")
    assert isinstance(ignored, Ignored) and "allow_groups" in ignored.reason
    inbound = parse("group_message", allow_groups=True)
    assert isinstance(inbound, Inbound) and inbound.sender == "-1001234567890"


@pytest.mark.parametrize(
    ("name", "reason"),
    [("poll_answer", "poll_answer"), ("my_chat_member_blocked", "kicked")],
)
def test_other_update_types_are_ignored(name: str, reason: str) -> None:
    ignored = parse(name)
    assert isinstance(ignored, Ignored) and reason in ignored.reason


def test_messages_from_bots_and_service_messages_are_ignored() -> None:
    update = fixture("text_message")
    update["message"]["from"]["is_bot"] = True
    assert isinstance(parse_update(update, received_at=0), Ignored)
    update = fixture("text_message")
    del update["message"]["text"]
    update["message"]["new_chat_title"] = "x"
    assert isinstance(parse_update(update, received_at=0), Ignored)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a JSON object"),
        ({"message": {}}, "integer 'update_id'"),
        ({"update_id": True, "message": {}}, "integer 'update_id'"),
        ({"update_id": 1, "message": {"message_id": 1}}, "malformed"),
        ({"update_id": 1, "callback_query": 7}, "malformed"),
    ],
)
def test_malformed_updates_are_input_errors(data: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_update(data, received_at=0)


def test_an_unreadable_field_inside_a_sound_envelope_is_malformed_not_an_error() -> None:
    from connectors.telegram.parse import Malformed

    update = fixture("text_message")
    update["message"]["text"] = 42  # not text
    parsed = parse_update(update, received_at=7.0)
    assert isinstance(parsed, Malformed)
    assert (parsed.chat_id, parsed.update_id) == (CHAT, update["update_id"])
    notice = parsed.notice(received_at=7.0)
    assert notice.kind == InboundKind.NOTICE and notice.identity == f"telegram:{CHAT}"
    assert notice.raw["update"] == update and "TypeError" in notice.raw["malformed"]

    press = fixture("callback_query")
    press["callback_query"]["from"] = "Ana"
    parsed = parse_update(press, received_at=7.0)
    assert isinstance(parsed, Malformed) and parsed.query_id == "4242424242424242421"

    group = fixture("group_message")
    group["message"]["text"] = ["你好"]
    assert isinstance(parse_update(group, received_at=0), Ignored)  # not ours to record


@pytest.mark.parametrize(
    "chat", [None, {"type": "private"}, {"id": "987654321", "type": "private"}, {"id": True}]
)
def test_a_message_without_a_chat_id_is_an_input_error(chat: object) -> None:
    update = fixture("text_message")
    update["message"]["chat"] = chat
    with pytest.raises(InputError, match="has no chat"):
        parse_update(update, received_at=0)
