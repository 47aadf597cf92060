"""What a customer says back to an answer that is neither a question nor a closing: a bare
yes ("yes", "是的", "有"), or that the answer missed ("that's not what I meant", "不是这个意思").

Read as questions, these found something: "是" and "是的" the bot's identity ("I'm the
Frontdesk assistant"), a lone "yes" "did you mean Payment methods or Goodbye?", "不是" an
article, and "no that's not what I meant" after the password answer the password answer
again. So:

- **a bare yes** is the answer to "Anything else I can do for you?" or a go-ahead after an
  answer: the bot asks what it is about (`go_ahead`), and nothing starts. ("ok", "好的" and
  a lone "no" close instead, `dialogs.closing_words`; a yes to a question the bot asked, a
  flow's or "Did this help?", is read there, before this.)
- **a rejection** of the answer just given: the bot says it misunderstood and offers the
  other readings of the customer's question as buttons (`misunderstood`), or asks to say it
  another way when there are none; it counts as a misunderstanding, so a second one in a row
  brings the offer of a person.

Only a message made of such words alone (`dialogs.made_of`): "yes, how do I return a
phone?" and "不是，我想问怎么退货" are questions and read as such.
"""

from __future__ import annotations

from dialogs.made_of import Phrases

__all__ = ["bare_yes", "rejects_answer"]

_YES = (
    "yes",
    "yeah",
    "yep",
    "yup",
    "ya",
    "sure",
    "of course",
    "yes please",
    "yes i do",
    "yes i have",
    "i do",
    "是",
    "是的",
    "是啊",
    "对",
    "对的",
    "有",
    "有的",
    "还有",
    "有问题",
    "还有问题",
    "还有一个问题",
    "还有个问题",
)
_YES_AROUND = ("please", "嗯", "嗯嗯", "啊", "呀", "哦", "的", "呢")

_REJECTING = (
    "that is not what i meant",
    "not what i meant",
    "i did not mean that",
    "i do not mean that",
    "that is not what i asked",
    "not what i asked",
    "not what i asked for",
    "that is not my question",
    "not my question",
    "that does not answer my question",
    "that did not answer my question",
    "you did not answer my question",
    "that is not it",
    "not that",
    "wrong answer",
    "that is wrong",
    "that is the wrong answer",
    "you misunderstood",
    "you misunderstood me",
    "you got it wrong",
    "that is irrelevant",
    "irrelevant",
    "不是这个意思",
    "我不是这个意思",
    "不是这个",
    "不是这样",
    "我不是问这个",
    "不是问这个",
    "我问的不是这个",
    "答非所问",
    "你理解错了",
    "理解错了",
    "你搞错了",
    "搞错了",
    "不对",
    "不是",
    "不是我要的",
    "不是我想问的",
    "没回答我的问题",
    "你没回答我的问题",
    "牛头不对马嘴",
    "文不对题",
)
_REJECTING_AROUND = (
    "no",
    "nope",
    "nah",
    "sorry",
    "but",
    "um",
    "hmm",
    "haha",
    "哦",
    "嗯",
    "啊",
    "呀",
    "了",
    "吧",
    "哎",
    "唉",
    "呃",
    "啦",
    "哈哈",
)

_YESES = Phrases(_YES, _YES_AROUND)
_REJECTIONS = Phrases(_REJECTING, _REJECTING_AROUND)


def bare_yes(text: str) -> bool:
    """Whether `text` is a yes and nothing more ("yes", "yep!", "是的", "有的")."""
    return _YESES.make(text)


def rejects_answer(text: str) -> bool:
    """Whether `text` only says the last answer missed ("no, that's not what I meant",
    "不是这个意思", "答非所问")."""
    return _REJECTIONS.make(text)
