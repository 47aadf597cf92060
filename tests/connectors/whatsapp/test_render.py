"""`Outbound` → WhatsApp messages (pure), and the shared choice helpers."""

from __future__ import annotations

import pytest

from connectors.choices import chosen, numbered_list, payload_token, shorten
from connectors.whatsapp.render import render, template
from hub.model import Attachment, Button, Outbound
from tests.connectors.whatsapp.fake_graph import check, choices_of

TEMPLATES = {"frontdesk_agent_reply"}


def buttons(*titles: str) -> tuple[Button, ...]:
    return tuple(Button(title=title, payload=f"choice-{i}") for i, title in enumerate(titles))


def test_long_text_is_split_under_4096_at_paragraphs_and_whatsapp_accepts_every_part() -> None:
    text = "\n\n".join(f"Paragraph {n}: " + "word " * 300 for n in range(8))
    messages = render(Outbound(text=text))
    assert len(messages) > 1
    assert all(
        check({"messaging_product": "whatsapp", "to": "1", **m}, TEMPLATES) == "" for m in messages
    )
    assert " ".join(m["text"]["body"] for m in messages).split() == text.split()


@pytest.mark.parametrize(
    ("titles", "expected"),
    [
        (("Yes", "No, it stays dark all the time"), ["Yes", "No, it stays dark…"]),
        (
            ("是", "不是，一直都是黑屏而且按电源键也没有任何反应"),
            ["是", "不是，一直都是黑屏而且按电源键也没有任…"],
        ),
    ],
)
def test_up_to_three_choices_are_reply_buttons_with_titles_of_20(
    titles: tuple[str, ...], expected: list[str]
) -> None:
    (message,) = render(Outbound(text="Is the light on?", buttons=buttons(*titles)))
    assert message["interactive"]["type"] == "button"
    assert [c["title"] for c in choices_of(message)] == expected
    assert all(len(title) <= 20 for title in expected)
    assert [c["id"] for c in choices_of(message)] == ["choice-0", "choice-1"]


@pytest.mark.parametrize(
    ("question", "label"), [("Pick a topic", "Choose"), ("请选择主题", "选择")]
)
def test_four_to_ten_choices_are_a_list_whose_long_titles_keep_the_full_text_in_the_description(
    question: str, label: str
) -> None:
    many = buttons("Orders", "Payments", "Shipping and delivery times abroad", "Returns", "Account")
    (message,) = render(Outbound(text=question, buttons=many))
    assert check({"messaging_product": "whatsapp", "to": "1", **message}, TEMPLATES) == ""
    assert message["interactive"]["action"]["button"] == label
    rows = choices_of(message)
    assert len(rows) == 5
    assert rows[2]["title"] == "Shipping and delivery…"
    assert rows[2]["description"] == "Shipping and delivery times abroad"


@pytest.mark.parametrize(
    ("question", "hint"), [("Which store?", "Reply 1, 2, 3"), ("哪家门店？", "请回复 1、2、3")]
)
def test_more_than_ten_choices_are_a_numbered_list_and_a_typed_number_picks_one(
    question: str, hint: str
) -> None:
    many = buttons(*(f"Store {n}" for n in range(1, 13)))
    (message,) = render(Outbound(text=question, buttons=many))
    body = message["text"]["body"]
    assert "1. Store 1" in body and "12. Store 12" in body
    assert hint in body
    assert chosen("12", many) == many[11]
    assert chosen("２", many) == many[1]  # a full-width digit from a Chinese keyboard
    assert chosen("第3个", many) == many[2]
    assert chosen("13", many) is None and chosen("I want 2", many) is None


def test_a_long_button_body_goes_first_as_text_and_the_buttons_carry_the_last_part() -> None:
    messages = render(Outbound(text="a " * 800, buttons=buttons("Yes", "No")))
    assert [m["type"] for m in messages] == ["text", "interactive"]
    assert len(messages[1]["interactive"]["body"]["text"]) <= 1024


def test_a_payload_too_long_for_an_id_travels_as_a_token() -> None:
    long = "/handoff" + '{"reason": "x"}' * 30
    (message,) = render(Outbound(text="?", buttons=(Button(title="Person", payload=long),)))
    (choice,) = choices_of(message)
    assert choice["id"] == payload_token(long, 0) and len(choice["id"]) < 64


def test_attachments_with_a_link_are_sent_as_media() -> None:
    outbound = Outbound(
        text="Your invoice",
        attachments=(Attachment(kind="document", name="invoice.pdf", url="https://x.test/i.pdf"),),
    )
    text, document = render(outbound)
    assert text["text"]["body"] == "Your invoice"
    assert document == {
        "type": "document",
        "document": {"link": "https://x.test/i.pdf", "filename": "invoice.pdf"},
    }


def test_a_template_parameter_is_one_line() -> None:
    message = template("frontdesk_agent_reply", "en", "Hi!\n\nYour   refund\tis on its way.")
    (parameter,) = message["template"]["components"][0]["parameters"]
    assert parameter["text"] == "Hi! · Your refund is on its way."


def test_shorten_and_numbered_list() -> None:
    assert shorten("short", 20) == "short"
    assert len(shorten("x" * 50, 20)) == 20
    assert numbered_list("", buttons("A"), "en").endswith("Reply 1")
