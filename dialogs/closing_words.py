"""A message that closes what was said rather than asking: "no, that's all", "ok", "got it",
"never mind", "没有了", "好的", "算了", "就这些".

After an answer ("Our stores are open 10:00–21:00 …") or "Anything else I can do for you?",
customers close with a word or two, and read as a question those words found something:
"好的" the store-pickup article, "no that is all" and a lone "no" the no-sound article,
"没有了" a delivery-problem flow ("请提供订单号"), "never mind" and "算了" "didn't get that".
A message made of nothing but such words gets `closing` ("Alright! If anything else comes
up, just write here.") and nothing starts; a thank-you among them is left to the bot's
`thanks`. Only where no question of the bot's is open: a
flow's ask, "Did this help?" and the offer of a person read their own answers first.
"""

from __future__ import annotations

from dialogs.made_of import Phrases

_CLOSING = (
    "no",
    "nope",
    "nah",
    "no thanks",
    "no thank you",
    "that is all",
    "that is it",
    "that will be all",
    "nothing else",
    "nothing more",
    "all good",
    "all set",
    "i am good",
    "i am fine",
    "ok",
    "okay",
    "okey",
    "k",
    "kk",
    "got it",
    "great",
    "perfect",
    "cool",
    "alright",
    "sounds good",
    "understood",
    "i see",
    "noted",
    "never mind",
    "nevermind",
    "没有了",
    "没了",
    "没有",
    "没有别的了",
    "没别的了",
    "没其他问题了",
    "没什么了",
    "不用了",
    "不用",
    "好的",
    "好",
    "好吧",
    "好滴",
    "好嘞",
    "行",
    "知道了",
    "明白了",
    "明白",
    "了解",
    "收到",
    "懂了",
    "算了",
    "就这些",
    "就这样",
)
# No thanks among them: "好的谢谢", "ok thanks" are a thank-you, which the bot's own `thanks`
# answers ("You're welcome!").
_AROUND = (
    "then",
    "for now",
    "so",
    "yes",
    "yeah",
    "嗯",
    "嗯嗯",
    "哦",
    "噢",
    "那",
    "啦",
    "了",
    "哈",
    "呀",
    "啊",
    "吧",
)

_CLOSINGS = Phrases(_CLOSING, _AROUND)


def closes(text: str) -> bool:
    """Whether `text` says nothing but that the customer is done, or has taken it in."""
    return _CLOSINGS.make(text)


__all__ = ["closes"]
