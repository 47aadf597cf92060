"""Separate the customer's new text from the quoted history and the signature (pure).

`mail-parser-reply` knows the Gmail, Outlook and Apple Mail quote headers in many
languages; the Chinese clients' separators (Foxmail/QQ's ``-----原始邮件-----``, Outlook's
``-----邮件原件-----`` and ``发件人:`` block, NetEase Mail Master's ``---- 回复的原邮件 ----``
table, Thunderbird's "在 2026/11/30 10:02, X 写道:", and their Traditional forms:
``-----原始郵件-----``, Outlook zh-TW's ``寄件者:`` block, ``寫道：``) are cut here first,
because the library only recognises part of them.
Signatures are cut here too, conservatively: the library's own signature rule takes any
line starting with "- " for one, which would eat a customer's bullet list.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from mailparser_reply import EmailReplyParser  # type: ignore[import-untyped]

log = logging.getLogger("frontdesk.connectors.email")

MAX_SCANNED = 100_000
LANGUAGES = ("en", "zh", "de", "fr", "es", "it", "nl", "ja", "ko")

# QQ Mail's plain-text part spells the spaces of its separator as "&nbsp;", literally.
_GAP = r"(?:\s|&nbsp;)*"
_CHINESE_SEPARATORS = (
    re.compile(rf"^{_GAP}-{{3,}}{_GAP}原始[邮郵]件{_GAP}-{{3,}}{_GAP}$", re.MULTILINE),
    re.compile(r"^\s*-{3,}\s*[邮郵]件原件\s*-{3,}\s*$", re.MULTILINE),  # Outlook (zh-CN, zh-TW)
    re.compile(r"^\s*-{3,}\s*Original\s+Message\s*-{3,}\s*$", re.MULTILINE | re.IGNORECASE),
    re.compile(r"^\s*-{3,}\s*[转轉][发發]的[邮郵]件\s*-{3,}\s*$", re.MULTILINE),
    # NetEase Mail Master (163.com, 126.com): "---- 回复的原邮件 ----" above a table of the
    # original's sender, date, recipient and subject; "转发的原邮件" when forwarding.
    re.compile(r"^\s*-{2,}\s*(?:回[复覆]|[转轉][发發])的原[邮郵]件\s*-{2,}\s*$", re.MULTILINE),
)
# The attribution above the quote in Chinese: Gmail's "在 2026年11月29日 星期日 10:02，X <x@y>
# 写道：", Apple Mail's "2026年11月29日 下午3:02，X <x@y> 写道：", Thunderbird's "在 2026/11/29
# 10:02, X 写道:". It must name an address or a date: "说明书上写道：" ending a customer's own
# line is not one.
_CHINESE_ATTRIBUTION = re.compile(
    r"^\s*(?:在\s*)?.{0,150}?(?:<[^<>\s]+@[^<>\s]+>|\d{4}\s*年|\d{4}[/-]\d{1,2}[/-]\d{1,2})"
    r".{0,150}?[写寫]道\s*[:：]\s*$",
    re.MULTILINE,
)
# An Outlook-style header block in Chinese: "发件人:" (zh-TW: "寄件者:") followed within a
# few lines by a date/recipient/subject field. A lone "发件人" in prose is not a separator.
_CHINESE_HEADER_BLOCK = re.compile(
    r"^\s*(?:[发發]件人|寄件者|寄件人)\s*[:：].*\n(?:.*\n){0,3}?"
    r"\s*(?:[发發]送[时時][间間]|寄件日期|日期|[时時][间間]|收件人|收件者|主[题題]|主旨)\s*[:：]",
    re.MULTILINE,
)
# The lines mail apps add under what was written: iOS ("发自我的iPhone", zh-TW "從我的 iPhone
# 傳送"), Android makers ("发自我的华为手机"), Outlook ("Get Outlook for iOS", "获取 Outlook for
# Android"), Windows Mail ("从 Windows 版邮件发送"), NetEase Mail Master ("发自网易邮箱大师"),
# Yahoo and Proton. Each is a whole line of its own, as the app writes it.
_SIGNATURE = re.compile(
    r"^(?:-- ?|__+|Sent from my \w+.*|Sent from (?:Mail|Outlook) for .*|Get Outlook for .*"
    r"|Sent from Yahoo Mail (?:on|for) .*|Sent with Proton ?Mail .*"
    r"|[发發]自我的\s*[\w ]{1,20}|[从從]我的\s*[\w ]{1,20}?\s*(?:发送|傳送|發送)|[发發]自网易[邮郵]箱\w{0,4}"
    r"|[从從]\s*Windows\s*版[邮郵]件[发發]送|[获獲]取\s*Outlook for .*"
    r"|Von meinem \w+ gesendet.*|Envoyé de mon \w+.*)\s*$",
    re.MULTILINE | re.IGNORECASE,
)


def strip_quotes(text: str, *, languages: tuple[str, ...] = LANGUAGES) -> str:
    """The new part of a reply: quoted history, forwarded headers and signature removed.

    Falls back to the whole text (trimmed) when stripping would leave nothing, so a
    message that is *only* a quote still reaches the bot.
    """
    # The new text is at the top; the regex-heavy parser need not read megabytes of history.
    text = text.replace("\r\n", "\n").replace("\r", "\n")[:MAX_SCANNED]
    cut = _cut_chinese(text)
    try:
        reply = EmailReplyParser(languages=list(languages)).read(text=cut)
        body = reply.replies[0].content if reply.replies else cut
    except Exception:  # the parser is regex-heavy; bad input must not lose the message
        log.warning("quote stripping failed; keeping the whole text", exc_info=True)
        body = cut
    body = _cut_trailing_separators(_cut_trailing_quote(_cut_signature(body))).strip()
    return body or text.strip()


def _cut_trailing_quote(text: str) -> str:
    """A ``>`` block at the end is history even without an "On … wrote:" line above it;
    quotes between the customer's own lines (inline answers) stay."""
    return _cut_trailing_lines(text, lambda line: line.lstrip().startswith(">"))


# A line that only separates ("----------", "________", "---------- Forwarded message
# ---------"): left at the end once what it introduced was cut (WeChat Work puts a bare dash
# line above its "发件人：" block, Gmail one around "Forwarded message").
_SEPARATOR_LINE = re.compile(r"^\s*(?:[-_=*]{3,}|-{2,}[^\n]{0,60}?-{2,})\s*$")


def _cut_trailing_separators(text: str) -> str:
    return _cut_trailing_lines(text, lambda line: _SEPARATOR_LINE.match(line) is not None)


def _cut_trailing_lines(text: str, cut: Callable[[str], bool]) -> str:
    """`text` without the lines at its end that `cut` takes, or that are blank."""
    lines = text.rstrip().split("\n")
    end = len(lines)
    while end and (not lines[end - 1].strip() or cut(lines[end - 1])):
        end -= 1
    return "\n".join(lines[:end])


def _cut_chinese(text: str) -> str:
    end = len(text)
    for pattern in (*_CHINESE_SEPARATORS, _CHINESE_HEADER_BLOCK, _CHINESE_ATTRIBUTION):
        match = pattern.search(text)
        if match and match.start() < end:
            end = match.start()
    return text[:end]


def _cut_signature(text: str) -> str:
    match = _SIGNATURE.search(text)
    return text[: match.start()] if match else text


__all__ = ["strip_quotes"]
