"""Pure parsing: recorded `.eml` files → what the hub is told."""

from __future__ import annotations

import base64
from email.message import EmailMessage

import pytest

from connectors.email.parse import MailRejected, decode_text, parse_mail
from connectors.email.quotes import strip_quotes
from tests.connectors.email.harness import fixture


def test_gmail_alternative_prefers_the_plain_part_and_strips_the_quote() -> None:
    mail = parse_mail(fixture("gmail_reply.eml"), domain="example.com")
    assert mail.text == (
        'It still shows "in transit" on the tracking page. Could you check with the courier?'
    )
    assert "wrote:" in mail.full_text  # the whole original stays in the raw payload
    assert mail.raw["text"] == mail.full_text
    assert mail.raw["in_reply_to"][0].startswith("fd.dlv_019a4f3c2b10a1b2c3d4e5.")
    assert mail.thread.source == "in-reply-to:own"


def test_outlook_latin1_quote_block_and_attachment_metadata() -> None:
    mail = parse_mail(fixture("outlook_reply.eml"), domain="example.com")
    assert mail.text.endswith("Best regards,\nBob Müller-Meyer")
    assert "________________________________" not in mail.text
    [photo] = mail.attachments
    assert (photo.kind, photo.name, photo.mime_type, photo.size) == (
        "image",
        "blender-jar.jpg",
        "image/jpeg",
        48,
    )


def test_apple_mail_signature_and_quote() -> None:
    mail = parse_mail(fixture("apple_mail_reply.eml"), domain="example.com")
    assert mail.text == "Yes please, send it to Via Roma 12, Milano. Grazie!"
    assert mail.sender == "carla.rossi@icloud.com" and mail.sender_name == "Carla Rossi"


def test_chinese_gbk_labelled_gb2312_with_encoded_word_headers() -> None:
    mail = parse_mail(fixture("chinese_gbk.eml"), domain="example.com")
    assert mail.subject == "订单还没有收到"
    assert mail.sender_name == "王喆"  # 喆 exists in GBK only, not in GB2312
    assert (
        mail.text == "你好，我的订单（编号 1042）还没有收到，收件人是王喆。请帮忙查一下。\n\n王喆"
    )
    assert "原始邮件" in mail.full_text
    assert not mail.defects


def test_html_only_mail_becomes_readable_text_and_inline_images_are_ignored() -> None:
    mail = parse_mail(fixture("html_only_newsletter.eml"), domain="example.com")
    assert mail.subject == "Question about your wholesale programme – Sunny Bakery"
    assert mail.text.startswith("Hello Example team!\n\nWe are a small bakery & café")
    assert "- wholesale prices\n- delivery to Lyon" in mail.text
    assert "about us (https://shop-owner.example/about)" in mail.text
    assert "alert" not in mail.text and "font-family" not in mail.text
    assert mail.attachments == ()
    assert mail.raw["html"].startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("name", "envelope_sender", "noise"),
    [
        ("auto_reply.eml", "ana.lima@gmail.com", "auto-submitted:auto-replied"),
        ("bounce.eml", "", "bounce"),
        ("bounce.eml", None, "bounce"),  # IMAP: no envelope, the report type tells
        ("gmail_new.eml", "ana.lima@gmail.com", ""),
    ],
)
def test_noise_is_classified(name: str, envelope_sender: str | None, noise: str) -> None:
    mail = parse_mail(fixture(name), domain="example.com", envelope_sender=envelope_sender)
    assert mail.noise == noise


def test_precedence_and_x_autoreply_headers_mark_noise() -> None:
    for header, value, reason in [
        ("Precedence", "list", "precedence:list"),
        ("Precedence", "junk", "precedence:junk"),
        ("X-Autoreply", "yes", "auto-reply"),
        ("Auto-Submitted", "auto-generated", "auto-submitted:auto-generated"),
        ("Auto-Submitted", "no", ""),
    ]:
        message = EmailMessage()
        message["From"] = "a@example.net"
        message["Message-ID"] = "<x@example.net>"
        message[header] = value
        message.set_content("hi")
        assert parse_mail(message.as_bytes(), domain="example.com").noise == reason, header


def test_a_bounce_names_the_failed_recipient() -> None:
    mail = parse_mail(fixture("bounce.eml"), domain="example.com", envelope_sender="")
    assert mail.raw["failed_recipients"] == ["ana.lima@gmail.com"]
    assert mail.attachments[0].mime_type == "text/rfc822-headers"


def test_malformed_mime_degrades_and_says_so() -> None:
    mail = parse_mail(fixture("malformed.eml"), domain="example.com")
    assert mail.text == "Hello, my invoice is wrong."
    assert mail.message_id.endswith("@missing-message-id")
    again = parse_mail(fixture("malformed.eml"), domain="example.com")
    assert again.message_id == mail.message_id  # stable: a re-fetch is a duplicate
    assert {"CharsetFallback", "MissingMessageId"} <= set(mail.defects)
    assert [a.name for a in mail.attachments] == ["invoice.pdf"]


def test_header_injection_in_names_and_subjects_is_neutralised() -> None:
    mail = parse_mail(fixture("header_injection.eml"), domain="example.com")
    assert mail.sender == "mallory@example.org"
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert "\n" not in mail.sender_name and "\r" not in mail.sender_name


def test_mail_without_any_sender_is_refused() -> None:
    with pytest.raises(MailRejected):
        parse_mail(b"Subject: hi\r\n\r\nbody\r\n", domain="example.com")
    with pytest.raises(MailRejected):
        parse_mail(b"From: not an address\r\n\r\nbody\r\n", domain="example.com")
    mail = parse_mail(
        b"Subject: hi\r\n\r\nbody\r\n", domain="example.com", envelope_sender="x@y.org"
    )
    assert mail.sender == "x@y.org"


def test_the_hubs_own_mail_is_recognised() -> None:
    message = EmailMessage()
    message["From"] = "support@example.com"
    message["Message-ID"] = "<fd.dlv_1.abc@example.com>"
    message.set_content("You said: hi")
    assert parse_mail(message.as_bytes(), domain="example.com").own
    assert not parse_mail(fixture("gmail_new.eml"), domain="example.com").own


@pytest.mark.parametrize(
    ("text", "charset"),
    [
        ("繁體中文的訂單查詢", "big5"),
        ("简体中文", "gb2312"),
        ("Grüße", "iso-8859-1"),
        ("ok", "utf-8"),
    ],
)
def test_charsets_decode(text: str, charset: str) -> None:
    encoded = text.encode(charset)
    assert decode_text(encoded, charset) == (text, True)
    message = EmailMessage()
    message["From"] = "a@example.net"
    message["Subject"] = f"=?{charset}?B?{base64.b64encode(encoded).decode()}?="
    message["Content-Type"] = f"text/plain; charset={charset}"
    message["Content-Transfer-Encoding"] = "base64"
    data = message.as_bytes() + b"\n" + base64.encodebytes(encoded)
    parsed = parse_mail(data, domain="example.com")
    assert (parsed.subject, parsed.text) == (text, text)


def test_unknown_or_lying_charsets_fall_back_without_failing() -> None:
    assert decode_text("héllo".encode(), "x-no-such-charset") == ("héllo", False)
    assert decode_text("中文".encode("gb18030"), "us-ascii") == ("中文", False)
    text, exact = decode_text(b"\xff\xfe\xfa", "utf-8")
    assert not exact and text


def test_quote_stripping_keeps_a_message_that_is_only_a_quote() -> None:
    assert strip_quotes("> all quoted") == "> all quoted"
    assert strip_quotes("Hi\n\n> history\n> more") == "Hi"  # no "wrote:" line above it
    assert strip_quotes("> q1\nanswer 1\n> q2\nanswer 2\n\n> tail") == (
        "> q1\nanswer 1\n> q2\nanswer 2"
    )  # inline answers keep their context
    assert strip_quotes("好的\n\n-----原始邮件-----\n发件人: a") == "好的"
    # Gmail's attribution in Chinese; the same words in a sentence are the customer's
    assert (
        strip_quotes("好的\n\n在 2026年11月29日 10:02，客服 <s@example.com> 写道：\n> 您好")
        == "好的"
    )
    assert strip_quotes("他在信里写道：已经发货") == "他在信里写道：已经发货"
    assert (  # Apple Mail's, without 在
        strip_quotes("收到了\n\n2026年11月29日 下午3:02，客服 <s@example.com> 写道：\n\n> 您好")
        == "收到了"
    )
    assert strip_quotes("说明书上写道：\n请勿进水") == "说明书上写道：\n请勿进水"
    assert (
        strip_quotes("OK\n\n发自我的iPhone\n\n------------------ 原始邮件 ------------------")
        == "OK"
    )


NETEASE_REPLY = """我的耳机左边没声音了

---- 回复的原邮件 ----
| 发件人 | Frontdesk<support@example.com> |
| 日期 | 2026年11月30日 10:02 |
| 收件人 | 王芳<wang@163.com> |
| 主题 | 回复：耳机问题 |
请问是哪一边？
"""
OUTLOOK_ZH_TW_REPLY = """已經開機了，謝謝

寄件者: Frontdesk <support@example.com>
寄件日期: 2026年11月30日 上午 10:02
收件者: 陳小姐 <chen@example.tw>
主旨: 回覆: 無法開機

設備開機了嗎？
"""


@pytest.mark.parametrize(
    ("mail_text", "new_text"),
    [
        (NETEASE_REPLY, "我的耳机左边没声音了"),  # NetEase Mail Master (163.com, 126.com)
        ("附上照片\n\n---- 转发的原邮件 ----\n| 发件人 | 快递 <kd@example.cn> |", "附上照片"),
        (OUTLOOK_ZH_TW_REPLY, "已經開機了，謝謝"),  # Outlook in Traditional Chinese
        ("好的\n\n-----原始郵件-----\n寄件者: Frontdesk", "好的"),
        ("收到\n\n在 2026年11月30日 週一 10:02，客服 <s@example.com> 寫道：\n> 您好", "收到"),
        # The same words in the customer's own lines are kept:
        ("寄件人: 我自己\n这一行是正文", "寄件人: 我自己\n这一行是正文"),
        ("他在信裡寫道：已經發貨", "他在信裡寫道：已經發貨"),
    ],
)
def test_chinese_clients_quote_headers_are_cut(mail_text: str, new_text: str) -> None:
    assert strip_quotes(mail_text) == new_text


QQ_PLAIN_REPLY = """好的，谢谢


------------------&nbsp;原始邮件&nbsp;------------------
发件人: "客服"<support@example.com>;
发送时间: 2026年11月30日(星期一) 上午10:02
收件人: "我"<me@qq.com>;
主题: 回复：订单

您好，订单已发货。
"""


@pytest.mark.parametrize(
    ("mail_text", "new_text"),
    [
        # QQ Mail's plain-text part writes the separator's spaces as "&nbsp;", literally,
        (QQ_PLAIN_REPLY, "好的，谢谢"),
        # … and its HTML part, read as text, as no-break spaces.
        ("好的\n\n------------------\xa0原始邮件\xa0------------------\n发件人: a", "好的"),
        # Thunderbird (zh-CN) dates the attribution with slashes and names no address.
        ("好的\n\n在 2026/11/30 10:02, 客服 写道:\n> 您好", "好的"),
        ("收到了\n\n在 2026-11-30 10:02, 客服 寫道:\n> 您好", "收到了"),
        # WeChat Work puts a bare dash line above its "发件人：" block: not left behind.
        ("好的\n\n----------\n发件人：客服 <s@example.com>\n时间：2026年11月30日 10:02", "好的"),
        # Gmail's forward: the customer's own line, without the dangling separator.
        (
            "Can you help with this?\n\n---------- Forwarded message ---------\n"
            "From: Courier <noreply@courier.example>\nDate: Mon, Nov 30, 2026\n\nNot delivered.",
            "Can you help with this?",
        ),
        # A separator between the customer's own lines stays; so does a date in prose.
        ("first point\n----------\nsecond point", "first point\n----------\nsecond point"),
        (
            "说明书 2026/11/30 版上写道：充满电要两小时",
            "说明书 2026/11/30 版上写道：充满电要两小时",
        ),
    ],
)
def test_more_clients_quote_headers_and_separators_are_cut(mail_text: str, new_text: str) -> None:
    assert strip_quotes(mail_text) == new_text


@pytest.mark.parametrize(
    "app_line",
    [
        "发自网易邮箱大师",  # NetEase Mail Master
        "发自我的 iPad",
        "從我的 iPhone 傳送",  # iOS in Traditional Chinese
        "发自我的荣耀手机",
        "从 Windows 版邮件发送",
        "获取 Outlook for Android",
        "Sent from Yahoo Mail on Android",
        "Sent from Yahoo Mail for iPhone",
        "Sent with Proton Mail secure email.",
    ],
)
def test_mail_apps_lines_under_the_text_are_cut(app_line: str) -> None:
    assert strip_quotes(f"退款到了吗？\n\n{app_line}") == "退款到了吗？"
    assert strip_quotes(f"Has my refund arrived?\n\n{app_line}\n") == "Has my refund arrived?"


@pytest.mark.parametrize(
    "text",
    [
        "我的手机是从我的朋友那里买的，发送不了短信",  # the words inside a sentence
        "Yahoo Mail sent my order confirmation to spam",
        "来自网易的邮件我都收不到",
        "从我的手机发送邮件总是失败",  # a line that opens like an app's
        "发自我的内心地说，你们的服务太差了",
    ],
)
def test_the_same_words_in_a_customers_own_line_stay(text: str) -> None:
    assert strip_quotes(f"你好\n{text}") == f"你好\n{text}"


def test_gbk_only_characters_in_gb2312_labelled_headers_decode_as_gb18030() -> None:
    mail = parse_mail(fixture("outlook_zh_gbk_name.eml"), domain="example.com")
    assert mail.subject == "关于王喆的订单"
    assert mail.sender_name == "王喆"
    headers = dict(mail.raw["headers"])
    assert headers["Subject"] == "关于王喆的订单" and "\ufffd" not in headers["From"]
    # Outlook's Chinese separator "-----邮件原件-----" starts the quote.
    assert mail.text == "你好，我是王喆。订单还没到。"
    assert "邮件原件" in mail.full_text


@pytest.mark.parametrize(
    ("subject", "text", "noise"),
    [
        ("自动回复: 订单", "谢谢", "auto-reply:subject"),
        ("【自动回复】订单", "谢谢", "auto-reply:subject"),
        ("Automatic reply: Order", "Thanks", "auto-reply:subject"),
        ("Out of Office: Order", "Back Monday", "auto-reply:subject"),
        ("休假", "谢谢", "auto-reply:subject"),
        ("Abwesenheitsnotiz: Bestellung", "Danke", "auto-reply:subject"),
        ("Re: Order", "I'm out of the office until Monday.", "auto-reply:body"),
        ("Re: 订单", "您好，我目前休假，12月1日回来。", "auto-reply:body"),
        ("AW: Bestellung", "Ich bin derzeit nicht im Büro.", "auto-reply:body"),
        # Traditional Chinese and full-width forms read as their ordinary spelling:
        ("Re: 訂單", "這是一封自動回覆郵件，請勿回覆。", "auto-reply:body"),
        ("回覆: 訂單", "此為自動回覆，請勿直接回覆本郵件。", "auto-reply:body"),
        ("（自動回復）訂單", "謝謝", "auto-reply:subject"),
        ("Re: Order", "This is an automated response.", "auto-reply:body"),
        # Notices that say what they are in words of their own:
        ("Re: 订单问题", "您的来信已收到。此邮件为系统自动发送，请勿直接回复。", "auto-reply:body"),
        ("RE: 订单", "【自动回复】您好，我已收到您的邮件", "auto-reply:body"),
        ("Re: 订单", "本人出差中，紧急事宜请致电 010-12345678", "auto-reply:body"),
        ("Re: Order 1042", "I will be out of office until Monday.", "auto-reply:body"),
        (
            "Re: Order",
            "I am away until 5 December with limited access to email.",
            "auto-reply:body",
        ),
        ("Re: Order", "I am on parental leave until March.", "auto-reply:body"),
        ("Re: Order", "This mailbox is not monitored. Please do not reply.", "auto-reply:body"),
        # People, who must be answered:
        ("Re: Order", "Hi, I am out of office hours? When do you open?", ""),
        ("Re: 订单", "我出差了，下周回来再说退款的事", ""),
        ("Re: 订单", "我休假了，回来再买", ""),
        ("Re: Order", "I will be away from my desk, can you call me instead?", ""),
        ("Re: Order", "Can I reply to this email with my order number?", ""),
        ("Out of office hours delivery?", "Can you deliver at night?", ""),
        ("休假期间能发货吗", "能发货吗？", ""),
        ("Re: Order", "I got an automatic reply from you, but no answer.", ""),
        ("Re: 订单", "我收到了你们的自动回复，但没人回答。", ""),
        ("Re: 訂單", "我收到了你們的自動回覆，但沒有人回答。", ""),
    ],
)
def test_auto_replies_are_recognised_by_subject_and_text(
    subject: str, text: str, noise: str
) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "li@example.cn", "s@example.com", subject
    message.set_content(text)
    assert parse_mail(message.as_bytes(), domain="example.com").noise == noise
