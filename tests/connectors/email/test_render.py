"""Pure rendering: an `Outbound` → a threaded, well-formed `EmailMessage`."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from connectors.email.render import (
    CHOOSE_HINTS,
    ReplyContext,
    Sender,
    choice_number,
    html_template,
    render_reply,
    reply_subject,
)
from connectors.email.threading import message_ids, root_from_own
from hub.model import Attachment, Button, Delivery, Outbound

ROOT = "CAJ1xK2fQm7yH8b0rder1042=pA@mail.gmail.com"
SENDER = Sender(address="support@example.com", name="Example Support", signature="Example")


def delivery(outbound: Outbound, address: str = "ana@example.net") -> Delivery:
    return Delivery(
        id="dlv_019a4f3c2b10a1b2c3d4e5",
        conversation_id="con_1",
        seq=3,
        channel="email",
        address=address,
        thread_hint=ROOT,
        outbound=outbound,
    )


def reparse(message: EmailMessage) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    assert isinstance(part, EmailMessage)
    return str(part.get_content()).replace("\r\n", "\n")


def test_threading_headers() -> None:
    context = ReplyContext(subject="Order", parent_id="parent@x", references=(ROOT, "mid@x"))
    message = reparse(
        render_reply(delivery(Outbound(text="Hi")), sender=SENDER, context=context, now=0)
    )
    assert message["Subject"] == "Re: Order"
    assert message_ids(message["In-Reply-To"]) == ["parent@x"]
    assert message_ids(message["References"]) == [ROOT, "mid@x", "parent@x"]
    own = message_ids(message["Message-ID"])[0]
    assert root_from_own(own, "example.com") == ROOT
    assert message["Reply-To"].addresses[0].addr_spec.startswith("support+")
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Frontdesk-Delivery"] == "dlv_019a4f3c2b10a1b2c3d4e5"
    raw = render_reply(delivery(Outbound(text="Hi")), sender=SENDER, context=context, now=0)
    assert "=?utf-8?" not in str(raw.as_bytes())  # long ids stay ids, never encoded-words


def test_buttons_become_a_numbered_list_and_the_html_is_escaped() -> None:
    outbound = Outbound(
        text="Pick one <script>alert(1)</script>\n\nSecond paragraph",
        buttons=(Button(title="Track & trace", payload="/t"), Button(title="<b>", payload="/b")),
        attachments=(Attachment(kind="document", name="Invoice", url="https://x.example/i.pdf"),),
    )
    message = reparse(
        render_reply(delivery(outbound), sender=SENDER, context=ReplyContext(), now=0)
    )
    text = body(message, "plain")
    assert "1. Track & trace\n2. <b>\n\nReply with the number of your choice." in text
    assert "- Invoice: https://x.example/i.pdf" in text
    assert text.endswith("-- \nExample\n")
    html = body(message, "html")
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "<li>Track &amp; trace</li>" in html and "<li>&lt;b&gt;</li>" in html
    assert message["Subject"] == "Re: Your request"  # no subject known: the default


def test_injected_subjects_and_names_cannot_add_headers() -> None:
    context = ReplyContext(subject="Hello\r\nBcc: victim@example.net", parent_id="bad\r\nX: y")
    sender = Sender(address="support@example.com", name="Support\r\nBcc: v@example.net")
    raw = render_reply(
        delivery(Outbound(text="Hi")), sender=sender, context=context, now=0
    ).as_bytes()
    message = reparse(
        render_reply(delivery(Outbound(text="Hi")), sender=sender, context=context, now=0)
    )
    assert message["Bcc"] is None and message["X"] is None
    assert message["In-Reply-To"] is None
    assert b"\nBcc:" not in raw


@pytest.mark.parametrize(
    "address", ["", "not-an-address", "a@b.example, c@d.example", "a@b.example\r\nBcc: c@d"]
)
def test_an_unusable_recipient_is_refused(address: str) -> None:
    with pytest.raises(ValueError):
        render_reply(
            delivery(Outbound(text="Hi"), address), sender=SENDER, context=ReplyContext(), now=0
        )


def test_subject_prefixes_do_not_stack() -> None:
    assert reply_subject("Re: Order", "x") == "Re: Order"
    assert reply_subject("RE: Order", "x") == "RE: Order"
    assert reply_subject("回复：订单", "x") == "回复：订单"
    assert reply_subject("", "Your request") == "Re: Your request"


def test_choice_numbers() -> None:
    assert [choice_number(t) for t in ["2", " 2. ", "#3", "２", "option 1", "2)"]] == [
        2, 2, 3, 2, 1, 2
    ]  # fmt: skip
    assert [choice_number(t) for t in ["2 apples", "", "twenty", "123"]] == [None] * 4


def test_a_custom_html_template_is_autoescaped() -> None:
    template = html_template("<p>{{ paragraphs[0][0] }}</p>")
    sender = Sender(address="support@example.com", html_template=template)
    message = reparse(
        render_reply(
            delivery(Outbound(text="<i>x</i>")), sender=sender, context=ReplyContext(), now=0
        )
    )
    assert body(message, "html").strip() == "<p>&lt;i&gt;x&lt;/i&gt;</p>"


def test_a_persons_reply_is_not_auto_submitted_and_the_bots_is() -> None:
    bot = render_reply(delivery(Outbound(text="Hi")), sender=SENDER, context=ReplyContext(), now=0)
    person = render_reply(
        delivery(Outbound(text="Hi, Li here")),
        sender=SENDER,
        context=ReplyContext(automatic=False),
        now=0,
    )
    assert bot["Auto-Submitted"] == "auto-replied"
    assert person["Auto-Submitted"] is None
    assert person["X-Auto-Response-Suppress"] == "All"


@pytest.mark.parametrize("text", ["退款" * 400, "Refund " + "é" * 800])
def test_encoded_body_lines_are_at_most_76_characters(text: str) -> None:
    message = render_reply(
        delivery(Outbound(text=text)), sender=SENDER, context=ReplyContext(), now=0
    )
    source = message.as_bytes()
    assert b"Content-Transfer-Encoding: base64" in source or b"quoted-printable" in source
    assert max(len(line) for line in source.split(b"\r\n\r\n", 1)[1].split(b"\r\n")) <= 76
    assert body(reparse(message), "plain").startswith(text)


def test_long_message_ids_are_not_encoded_when_flattened() -> None:
    parent = "TYZPR06MB6211B3C4D5E6F7A8B9C0D1E2F3A4B5C6D7E8F9A0B1C2@TYZPR06MB6211.apcprd06.prod.outlook.com"
    context = ReplyContext(subject="订单", parent_id=parent, references=(ROOT,))
    source = render_reply(
        delivery(Outbound(text="好的")), sender=SENDER, context=context, now=0
    ).as_bytes()
    assert f"\r\nIn-Reply-To: <{parent}>\r\n".encode() in source
    assert f"\r\nReferences: <{ROOT}> <{parent}>\r\n".encode() in source


@pytest.mark.parametrize(
    ("text", "hint"),
    [("Pick one:", CHOOSE_HINTS["en"]), ("请选择：", CHOOSE_HINTS["zh"])],
)
def test_the_choice_hint_is_in_the_replys_language(text: str, hint: str) -> None:
    buttons = (Button(title="A", payload="/a"), Button(title="B", payload="/b"))
    message = reparse(
        render_reply(
            delivery(Outbound(text=text, buttons=buttons)),
            sender=SENDER,
            context=ReplyContext(),
            now=0,
        )
    )
    assert hint in body(message, "plain") and hint in body(message, "html")


def test_a_subject_we_could_not_decode_is_not_echoed() -> None:
    assert reply_subject("Re: 订单 \ufffd\ufffd", "Your request") == "Re: Your request"
    assert reply_subject("bad \udcb6\udca9", "您的请求") == "Re: 您的请求"
    assert reply_subject("关于王喆的订单", "Your request") == "Re: 关于王喆的订单"
