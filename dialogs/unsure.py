"""An answer that says the customer does not have what is asked: "I don't know my order
number", "where do I find it?", "我不记得订单号了", "订单号在哪里看".

Read as an answer it was only invalid ("“I don't know my order number” is not an order
number"), asked again, and after `max_attempts` given up. A slot with `help` (where to find
the value, what else to give) now says that instead, asks again, and does not count the
message as a failed attempt. Only answers that do not fill the slot are read this way.
"""

from __future__ import annotations

import re

from hub.text import normalize

_UNSURE = re.compile(
    r"\b(?:(?:i\s+)?(?:do\s+not|don't|dont|didn't|did\s+not)\s+(?:know|remember|have|get)"
    r"|not\s+sure|no\s+idea|(?:can\s*not|can't|cant|could\s+not|couldn't)\s+(?:find|see|remember)"
    r"|where\s+(?:do|can|would|should)\s+i\s+(?:find|get|see|look)|where\s+is\s+(?:it|that|this)"
    r"|forgot|forgotten|lost\s+(?:it|the)|what\s+is\s+(?:an?\s+|the\s+|my\s+)?\w+\s+number"
    r"|what\s+(?:does|do)\s+(?:it|that|this)\s+mean)\b"
    r"|不知道|不记得|记不得|记不清|忘了|忘记|找不到|没找到|不清楚|没有收到|在哪|哪里看|哪里找|哪儿看"
    r"|怎么查|怎么找|从哪|是什么"
)


def unsure(text: str) -> bool:
    """Whether `text` says the customer does not have, or cannot find, what is asked."""
    return _UNSURE.search(normalize(text)) is not None


__all__ = ["unsure"]
