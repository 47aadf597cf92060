"""Pure pieces: a reply → WeChat's messages (text under 2,048 bytes, msgmenu, numbered
list, images by media id), and a push's fields → the hub's `Inbound`."""

from __future__ import annotations

import pytest

from connectors import choices
from connectors.wechat.parse import Ignored, parse_message
from connectors.wechat.render import MAX_TEXT_BYTES, render, split_text
from hub.errors import InputError
from hub.model import Attachment, Button, Outbound

APP = "wx1234567890abcdef"


@pytest.mark.parametrize("unit", ["The return policy. ", "退货政策说明。"])
def test_text_is_split_under_the_byte_limit_at_sentence_ends(unit: str) -> None:
    text = unit * 400
    parts = split_text(text)
    assert len(parts) > 1
    assert all(len(p.encode()) <= MAX_TEXT_BYTES for p in parts)
    assert all(p.endswith(unit.strip()[-1]) for p in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize(
    ("question", "yes", "no"), [("Did it help?", "Yes", "No"), ("有帮助吗？", "是", "否")]
)
def test_choices_become_a_msgmenu_whose_ids_map_back_to_the_payloads(
    question: str, yes: str, no: str
) -> None:
    buttons = (Button(title=yes, payload="/affirm#q2"), Button(title=no, payload="/deny#q2"))
    (menu,) = render(Outbound(text=question, buttons=buttons))
    assert menu["msgtype"] == "msgmenu"
    assert menu["msgmenu"]["head_content"] == question
    assert [i["content"] for i in menu["msgmenu"]["list"]] == [yes, no]
    assert [i["id"] for i in menu["msgmenu"]["list"]] == [
        choices.payload_token(b.payload, 0) for b in buttons
    ]


@pytest.mark.parametrize(("language", "hint"), [("en", "Reply 1, 2"), ("zh", "请回复 1、2")])
def test_more_choices_than_a_menu_holds_become_a_numbered_list(language: str, hint: str) -> None:
    question = "Pick a store" if language == "en" else "请选择门店"
    buttons = tuple(Button(title=f"S{n}", payload=f"/store{n}") for n in range(12))
    (message,) = render(Outbound(text=question, buttons=buttons))
    assert message["msgtype"] == "text"
    assert "1. S0" in message["text"]["content"] and "12. S11" in message["text"]["content"]
    assert hint in message["text"]["content"]


def test_an_image_wechat_knows_goes_as_an_image_others_as_links() -> None:
    out = Outbound(
        text="Here:",
        attachments=(
            Attachment(kind="image", ref="MEDIA_ID_1"),
            Attachment(kind="document", name="manual.pdf", url="https://example.com/m.pdf"),
        ),
    )
    text, image = render(out)
    assert text["text"]["content"] == "Here:\n\nmanual.pdf: https://example.com/m.pdf"
    assert image == {"msgtype": "image", "image": {"media_id": "MEDIA_ID_1"}}


def test_a_push_becomes_an_inbound_keyed_by_msgid_with_the_unionid_kept() -> None:
    fields = {
        "ToUserName": "gh_1",
        "FromUserName": "openid-1",
        "CreateTime": "1348831860",
        "MsgType": "text",
        "Content": "你好",
        "MsgId": "1234567890123456",
        "UnionId": "union-9",
    }
    inbound = parse_message(fields, app_id=APP)
    assert not isinstance(inbound, Ignored)
    assert inbound.identity == f"wechat:{APP}:openid-1"
    assert inbound.message_id == "1234567890123456"
    assert inbound.timestamp == 1348831860.0
    assert inbound.raw["unionid"] == "union-9"


def test_events_are_keyed_by_sender_and_time_and_unknown_ones_ignored() -> None:
    base = {"FromUserName": "o1", "CreateTime": "100", "MsgType": "event"}
    follow = parse_message({**base, "Event": "subscribe"}, app_id=APP)
    assert not isinstance(follow, Ignored)
    assert follow.message_id == "event:o1:100:subscribe" and "deep_link" not in follow.raw
    scan = parse_message({**base, "Event": "SCAN", "EventKey": "order_status"}, app_id=APP)
    assert not isinstance(scan, Ignored) and scan.raw["deep_link"] == "order_status"
    assert isinstance(parse_message({**base, "Event": "LOCATION"}, app_id=APP), Ignored)
    with pytest.raises(InputError):
        parse_message({**base, "CreateTime": "yesterday"}, app_id=APP)
