"""An answer that only acknowledges an instruction: "ok", "sure, one sec", "好的", "稍等，我试试".

A troubleshooting question comes after an instruction: "Please press and hold the power
button for 10 seconds, then release it. Did the device turn on?". Customers often answer the
instruction first ("ok", "好的我试试") and the question later; read as a yes/no, "ok" and
"好" were a yes, and the flow recorded the device as fixed before it had been tried. An `ask`
step with a `wait` text now says that instead and keeps the question open (its buttons stay
valid, and no attempt is counted). Only messages made of nothing but such words count, and
at least one of them must acknowledge: a lone "嗯" or "thanks" is not enough to tell.
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
)
# Said around them without changing what they mean ("ok thanks", "嗯嗯好的", "sure, now").
_FILLERS = ("thanks", "thank you", "please", "now", "then", "嗯", "嗯嗯", "哦", "噢", "那", "谢谢")

_ACKNOWLEDGEMENT = Phrases(_ACKNOWLEDGING, _FILLERS)


def acknowledges(text: str) -> bool:
    """Whether `text` says nothing but that the customer heard the instruction."""
    return _ACKNOWLEDGEMENT.make(text)


__all__ = ["acknowledges"]
