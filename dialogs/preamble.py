"""A message that only announces a question: "I have a problem", "can u help me", "我有个问题",
"我想问下", "您好，想咨询一下"; or that names a subject without the question about it: "I have
a problem with my order", "我的订单有问题", "关于订单的问题".

Read as a question, such a message has one or two content words ("problem", "help", 问题),
and the knowledge base answered it with whatever article shares them: "I have a problem"
got "Installing software updates", "我有个问题" the firmware article, "can u help me"
"Buying for a business". Nothing was asked yet, so the bot says `go_ahead` and waits for
the question. Only messages made of nothing but such phrases, greetings and courtesy words
count: "I have a problem with my order" or "我有个问题，订单还没到" are read as questions.
"""

from __future__ import annotations

import functools

from dialogs.made_of import Phrases
from hub.text import normalize

# Phrases that announce a question or ask for help without saying with what.
_ANNOUNCING = (
    "i have a question",
    "i have a quick question",
    "i have a problem",
    "i have an issue",
    "i have a small problem",
    "i got a question",
    "i have got a question",
    "got a question",
    "quick question",
    "a question",
    "one question",
    "question",
    "i need help",
    "i need some help",
    "need help",
    "need some help",
    "i need assistance",
    "i need some assistance",
    "help",
    "help me",
    "help needed",
    "can you help me",
    "can you help",
    "could you help me",
    "can you help me out",
    "can u help me",
    "can u help",
    "can someone help me",
    "someone help me",
    "can i ask something",
    "can i ask you something",
    "can i ask a question",
    "i want to ask something",
    "i would like to ask something",
    "i would like to ask a question",
    "我有个问题",
    "我有一个问题",
    "我有个小问题",
    "我有问题",
    "有个问题",
    "有个小问题",
    "问个问题",
    "想问个问题",
    "我想问个问题",
    "我想问一下",
    "我想问下",
    "想问一下",
    "想问下",
    "问一下",
    "请问",
    "请问一下",
    "咨询一下",
    "想咨询一下",
    "我想咨询一下",
    "咨询个事",
    "想咨询个事",
    "有个事",
    "有件事",
    "有个事想问问",
    "有点事想问问",
    "帮我一下",
    "能帮我一下吗",
    "可以帮我一下吗",
    "帮个忙",
    "帮帮我",
    "求助",
    "我需要帮助",
    "需要帮助",
    "麻烦问一下",
    "打扰一下",
)
# Said around them without asking anything ("hi, quick question", "您好，想咨询一下", "在吗？").
_AROUND = (
    "hi",
    "hello",
    "hey",
    "hi there",
    "hello there",
    "good morning",
    "good afternoon",
    "good evening",
    "please",
    "pls",
    "plz",
    "thanks",
    "thank you",
    "sorry",
    "excuse me",
    "um",
    "so",
    "ok",
    "anyone",
    "anybody",
    "there",
    "你好",
    "您好",
    "你们好",
    "在吗",
    "在不在",
    "客服",
    "亲",
    "嗯",
    "那个",
    "就是",
    "呃",
    "喂",
    "谢谢",
    "不好意思",
    "吗",
    "呢",
    "啊",
    "呀",
    "哈",
    "了",
    "下",
)

_PREAMBLE = Phrases(_ANNOUNCING, _AROUND)

# A trouble named with a subject ("an issue with my order", "订单出问题了") and the words that
# join them; what the subject is, a bot's `topics` say.
_TROUBLE = (
    *_ANNOUNCING,
    "problem",
    "problems",
    "issue",
    "issues",
    "trouble",
    "questions",
    "有问题",
    "出问题",
    "出了问题",
    "有点问题",
    "问题",
    "的事",
    "的事情",
)
_JOINING = (
    *_AROUND,
    "with",
    "about",
    "regarding",
    "concerning",
    "on",
    "for",
    "my",
    "the",
    "a",
    "an",
    "there is",
    "i have",
    "have",
    "got",
    "关于",
    "我的",
    "我",
    "的",
    "有",
    "个",
    "一个",
    "这个",
)


def announces_question(text: str) -> bool:
    """Whether `text` says only that a question or a request for help is coming."""
    return _PREAMBLE.make(text)


def names_subject(text: str, words: tuple[str, ...], *, bare: bool = False) -> bool:
    """Whether `text` names only a trouble with the subject customers call `words` ("I have
    a problem with my order", "我的订单有问题"), and nothing about what it is; `bare`: the
    subject alone counts too ("my phone", "手机")."""
    phrases, subject = _subject(tuple(words))
    said = phrases.said(text)
    if not said:
        return False
    return any(p in subject for p in said) and (bare or any(p not in subject for p in said))


@functools.lru_cache(maxsize=64)
def _subject(words: tuple[str, ...]) -> tuple[Phrases, frozenset[str]]:
    """The phrases of a trouble with the subject `words`, and the subject's own (normalized)."""
    return Phrases((*_TROUBLE, *words), _JOINING), frozenset(normalize(w) for w in words)


__all__ = ["announces_question", "names_subject"]
