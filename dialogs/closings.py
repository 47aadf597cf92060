"""What a message says without its letter-writing frame: the sign-off at the end ("Thanks,
Ana Silva", "祝好！\\n李雷"), the contact block under it ("电话：138 0013 8000"), and a
salutation alone on the first line ("Hi,", "您好：").

Mail carries them, and a customer's text is read better without them: "谢谢" at the end
of a problem is a sign-off, not a thank-you to answer, and a phone number in a signature
made "我的耳机没声音了" read as a question about phone support. Only the bot's reading
uses this (the log and the agents keep the text as written), and only whole lines at the
edges are taken, only when the message has something else to say.
"""

from __future__ import annotations

import re

from dialogs.folding import fold
from hub.memo import TextMemo

# A valediction alone on its line, in either language (as `fold` leaves it: NFKC, casefold,
# Traditional → Simplified).
_CLOSING = re.compile(
    r"^(?:thanks|thank you|thanks again|many thanks|thx|regards|best regards|kind regards"
    r"|warm regards|best wishes|best|cheers|sincerely|yours sincerely|yours truly|br"
    r"|谢谢|谢谢您|多谢|感谢|祝好|祝好运|此致|敬礼|此致敬礼|顺祝商祺|祝商祺|顺颂商祺|顺颂时祺|致礼|盼复)"
    r"\s*(?:in advance)?\s*[,，.。!！~～:：]*$"
)
# A salutation alone on the first line.
_SALUTATION = re.compile(
    r"^(?:hi|hello|hey|dear\s+[\w .'-]{1,40}|good (?:morning|afternoon|evening)"
    r"|你好|您好|各位好|亲|亲爱的[\w ]{0,10}|\w{1,4}(?:先生|女士|经理|老师)您好|客服您好)"
    r"\s*(?:there|team|all)?\s*[,，.。!！~～:：]*$"
)
# Lines of a contact block: a labelled phone or fax number, WeChat or address, a mail
# address, a web site. A bare number is not one: it may be the order number the customer
# ends with; nor is "Phone: iPhone 15 Pro", which says which phone.
_CONTACT = re.compile(
    r"^(?:电话|手机|座机|tel|phone|mobile|cell|fax|传真)\s*[:：]\s*\+?[\d ()-]{6,}$"
    r"|^(?:微信|wechat|地址|address)\s*[:：]"
    r"|^[\w.+-]+@[\w-]+\.[\w.]+$|^(?:https?://|www\.)\S+$"
)
SIGNATURE_LINES = 4  # at most this many lines after a valediction (name, title, company …)
SIGNATURE_CHARS = 60  # each at most this long


def without_frame(text: str) -> str:
    """`text` without its sign-off, signature and salutation lines; `text` itself when
    they are all there is."""
    # Every turn asks, and customers repeat short lines ("退货政策是什么"): kept for those.
    return _body_of(text)


def _without_frame(text: str) -> str:
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    end = _body_end(lines)
    start = 1 if lines and _SALUTATION.match(fold(lines[0])) else 0
    body = "\n".join(line for line in lines[start:end]).strip()
    return body or text


_body_of = TextMemo(_without_frame)


def _body_end(lines: list[str]) -> int:
    """Where the body ends: at a valediction with no more than a signature under it, else
    before a contact block at the very end."""
    last = len(lines)
    while last and not lines[last - 1]:
        last -= 1
    for i in range(last - 1, max(-1, last - 2 - SIGNATURE_LINES), -1):
        if _CLOSING.match(fold(lines[i])):
            tail = [line for line in lines[i + 1 : last] if line]
            if len(tail) <= SIGNATURE_LINES and all(len(t) <= SIGNATURE_CHARS for t in tail):
                return i
    end = last
    while end and (not lines[end - 1] or _CONTACT.search(fold(lines[end - 1]))):
        end -= 1
    if end < last and end and len(lines[end - 1]) <= 10 and not _ends_a_sentence(lines[end - 1]):
        end -= 1  # the name above the contact lines
    return end if end < last else last


def _ends_a_sentence(line: str) -> bool:
    return line[-1] in ".。!！?？"


__all__ = ["without_frame"]
