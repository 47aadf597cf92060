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

import re
import unicodedata

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
    "不了",
    "不",  # a lone no, as "no"
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

# A thumbs-up or a smile says the same ("👍", "🙏", "好的👌", WeChat's "[强]" and "[抱拳]"):
# read as text they were "didn't understand", and two of them offered a person. A negative
# one ("👎", "😡", "[流泪]") is not a closing.
_NEGATIVE_EMOJI = frozenset("👎😡😠😤😭😢💢🤬😞☹🙁😒😔😩😫💔🙄😑😣😖😓😰😱")
_WECHAT_CODE = re.compile(r"\[([^\[\]\s]{1,4})\]")
_WECHAT_POSITIVE = frozenset(
    [
        "强",
        "抱拳",
        "OK",
        "ok",
        "握手",
        "微笑",
        "愉快",
        "耶",
        "胜利",
        "玫瑰",
        "爱心",
        "鼓掌",
        "嘿哈",
        "合十",
        "拥抱",
        "太阳",
        "可爱",
        "呲牙",
        "憨笑",
        "偷笑",
        "害羞",
        "好的",
        "赞",
        "奸笑",
        "机智",
        "庆祝",
        "礼物",
        "红包",
        "月亮",
        "咖啡",
        "啤酒",
        "蛋糕",
        "转圈",
        "跳跳",
    ]
)
_EMOJI_JOINERS = "\u200d\ufe0f\ufe0e"
_WAVE = "\U0001f44b"  # 👋
# Where emoji live (the symbol blocks, dingbats, arrows and stars), and a WeChat code's "[".
_MAYBE_EMOJI = re.compile("[\u2190-\u2bff\u3030\u303d\u3297\u3299\U0001f000-\U0001faff\\[]")


def waves(text: str) -> bool:
    """Whether `text` is nothing but a wave ("👋", "👋🏻"): a hello, not a closing."""
    rest = text.strip()
    return bool(rest) and all(c == _WAVE or c in _EMOJI_JOINERS or _skin_tone(c) for c in rest)


def closes(text: str) -> bool:
    """Whether `text` says nothing but that the customer is done, or has taken it in."""
    if waves(text):
        return False
    words, emoji = _without_emoji(text)
    if emoji is None:
        return False  # a negative one
    return _CLOSINGS.make(words) if words.strip() else emoji


def emoji_answer(text: str) -> str | None:
    """ "yes" for a message of friendly emoji alone ("👍", "[强]"), "no" for one of unhappy
    ones ("👎", "😡"): how "Did this help?" is often answered. None otherwise."""
    words, emoji = _without_emoji(text)
    if emoji is True and not words.strip():
        return "yes"
    if emoji is None and text.strip() and all(c in _NEGATIVE_EMOJI or c.isspace() for c in text):
        return "no"
    return None


def _without_emoji(text: str) -> tuple[str, bool | None]:
    """`text` without its emoji and WeChat emoji codes, and whether it had any (None: one
    of them was negative, or a code not known to be friendly)."""
    if not _MAYBE_EMOJI.search(text):  # most messages: no character to look at one by one
        return text, False
    found = False
    for code in _WECHAT_CODE.findall(text):
        if code not in _WECHAT_POSITIVE:
            return text, None
        found = True
    kept = []
    for char in _WECHAT_CODE.sub(" ", text):
        if char in _NEGATIVE_EMOJI:
            return text, None
        if unicodedata.category(char) == "So" or char in _EMOJI_JOINERS or _skin_tone(char):
            found = True
            kept.append(" ")
        else:
            kept.append(char)
    return "".join(kept), found


def _skin_tone(char: str) -> bool:
    return 0x1F3FB <= ord(char) <= 0x1F3FF


__all__ = ["closes", "emoji_answer", "waves"]
