"""An answer that only acknowledges an instruction: "ok", "sure, one sec", "好的", "稍等，我试试".

A troubleshooting question comes after an instruction: "Please press and hold the power
button for 10 seconds, then release it. Did the device turn on?". Customers often answer the
instruction first ("ok", "好的我试试") and the question later; read as a yes/no, "ok" and
"好" were a yes, and the flow recorded the device as fixed before it had been tried. An `ask`
step with a `wait` text now says that instead and keeps the question open (its buttons stay
valid, and no attempt is counted). So does an answer that says the customer did it without
saying how it went ("I tried that already", "试过了", "按过了"): read as a yes/no, "试过了" and
"I did that" were a yes ("Great, it's working again!"), and "I tried that already" "couldn't
match to one of the options"; the `wait` text asks the question again. Only messages made of
nothing but such words count, and at least one of them must acknowledge: a lone "嗯" or
"thanks" is not enough to tell; "试过了，还是不行" and "tried it, nothing" say how it went.
"""

from __future__ import annotations

from dialogs.made_of import Phrases

# Words that acknowledge, or say the customer is about to do what was asked.
_ACKNOWLEDGING = (
    "ok",
    "okay",
    "okey",
    "okie",
    "k",
    "kk",
    "sure",
    "alright",
    "all right",
    "got it",
    "gotcha",
    "will do",
    "on it",
    "understood",
    "one sec",
    "one second",
    "a sec",
    "a second",
    "one moment",
    "a moment",
    "just a sec",
    "just a moment",
    "hold on",
    "wait",
    "give me a sec",
    "give me a second",
    "give me a minute",
    "give me a moment",
    "let me try",
    "let me try that",
    "let me check",
    "let me see",
    "i will try",
    "i will try that",
    "i will do that",
    "trying",
    "trying now",
    "trying it now",
    "doing it now",
    "好",
    "好的",
    "好滴",
    "好嘞",
    "好哒",
    "好吧",
    "收到",
    "知道了",
    "明白",
    "明白了",
    "了解",
    "稍等",
    "稍等一下",
    "等一下",
    "等等",
    "等我一下",
    "马上",
    "我试试",
    "试试",
    "我试一下",
    "试一下",
    "我试下",
    "试下",
    "我去试试",
    "我看看",
    "我看一下",
    "我这就试",
    # Done, and nothing said of how it went: the question is still to be answered.
    "i tried",
    "i tried it",
    "i tried that",
    "tried it",
    "tried that",
    "i have tried",
    "i have tried it",
    "i have tried that",
    "i already tried",
    "i already tried it",
    "i already tried that",
    "already tried",
    "already tried it",
    "already tried that",
    "i did that",
    "i did it",
    "i did that already",
    "did that",
    "did it",
    "done",
    "done that",
    "i have done that",
    "试过了",
    "我试过了",
    "已经试过了",
    "我已经试过了",
    "试了",
    "我试了",
    "试了一下",
    "我试了一下",
    "做过了",
    "已经做过了",
    "照做了",
    "按过了",
    "我按过了",
    "我已经按过了",
    "我已经做过了",
    "我已经照做了",
    "按了",
    "我按了",
    "我照做了",
    "我做过了",
    "弄过了",
)
# Said around them without changing what they mean ("ok thanks", "嗯嗯好的", "sure, now").
_FILLERS = (
    "thanks",
    "thank you",
    "please",
    "now",
    "then",
    "already",
    "嗯",
    "嗯嗯",
    "哦",
    "噢",
    "那",
    "谢谢",
    "已经",
)

_ACKNOWLEDGEMENT = Phrases(_ACKNOWLEDGING, _FILLERS)


def acknowledges(text: str) -> bool:
    """Whether `text` says nothing but that the customer heard the instruction."""
    return _ACKNOWLEDGEMENT.make(text)


__all__ = ["acknowledges"]
