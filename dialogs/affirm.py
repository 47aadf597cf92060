"""Yes or no? Reading a customer's short answer to a yes/no question, in English and Chinese.

Customers rarely type the button's word. To "Did the device turn on?" they answer "开机了",
"开了", "亮了" (yes) or "没亮", "看不到", "还是不行", "no still nothing" (no). The rules, in
order:

1. a question ("can I return it?", "可以退货吗") is not an answer;
2. a greeting is not one either, though "你好" and "good morning" hold a yes word (好,
   "good"), nor a polite "不好意思" (excuse me) with its 不: they are set aside, and what
   is left ("你好，开机了", "不好意思，开机了") is read;
3. "I don't know", "不知道", "not sure" say neither;
4. a negation anywhere ("not", "n't", "nothing", 没, 不, 未, 无 …) makes it a no: customers
   qualify a no ("no, still nothing") far more often than they negate a yes;
5. otherwise a yes word ("yes", "works", "did", 是, 对, 好, 可以, 亮, …) or, in Chinese, a
   verb with the completed-action particle 了 ("开了", "开机了") makes it a yes.

Only short replies are read this way (a long message is more likely a new question).
"""

from __future__ import annotations

import re
from typing import Literal

from dialogs.folding import fold

Polarity = Literal["yes", "no"]

#: Longer answers (in words, or CJK characters) are not read as yes/no.
MAX_WORDS = 8
MAX_CJK = 12

_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[a-z]+")
_QUESTION_END = re.compile(r"[?？]\s*$|[吗嘛呢么]\s*[?？!！.。~]*\s*$")
_A_NOT_A = re.compile(r"([\u3400-\u9fff])[不没]\1")
_LEADING_MARKS = re.compile(r"^[\W_]+")
_QUESTION_START = frozenset(
    [
        "what",
        "how",
        "why",
        "when",
        "where",
        "who",
        "which",
        "can",
        "could",
        "do",
        "does",
        "is",
        "are",
        "will",
        "would",
        "should",
        "may",
    ]
)

# Chinese questions often have no question mark: "你们几点开门", "怎么退货".
_QUESTION_WORDS_ZH = (
    "几",
    "什么",
    "怎么",
    "怎样",
    "哪",
    "多少",
    "为什么",
    "为啥",
    "是否",
    "能不能",
    "可不可以",
    "有没有",
    "是不是",
    "要不要",
)
#: An answer this short is read as yes/no even when the classifier sees an intent in it
#: ("好" looks like a greeting, "可以" like the refund question).
SHORT_WORDS = 2
SHORT_CJK = 3

# Greetings set aside before reading (folded: Traditional is Simplified here). Longest
# first, so "你们好" is taken whole and not as "你…" + "们好".
_GREETINGS_ZH = tuple(
    sorted(
        (
            "你好",
            "您好",
            "你们好",
            "大家好",
            "早上好",
            "上午好",
            "中午好",
            "下午好",
            "晚上好",
            "早安",
            "午安",
            "晚安",
            "好久不见",
            "哈喽",
            "哈啰",
            "嗨",
            "不好意思",  # "excuse me", "sorry": politeness, not a negation
        ),
        key=len,
        reverse=True,
    )
)
_GREETING_EN = re.compile(
    r"\b(?:good\s+(?:morning|afternoon|evening|night|day)|hi|hello|hey|hiya|howdy|greetings)\b"
)

_UNSURE_EN = ("not sure", "don't know", "do not know", "no idea", "dunno", "maybe", "not certain")
_UNSURE_ZH = ("不知道", "不确定", "不清楚", "说不准", "不好说", "也许", "可能吧")

_NO_EN = frozenset(
    [
        "no",
        "nope",
        "nah",
        "n",
        "not",
        "never",
        "nothing",
        "none",
        "nobody",
        "negative",
        "cannot",
        "cant",
        "neither",
        "nor",
        "wont",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "hasnt",
        "havent",
        "dead",
        "off",
        "broken",
    ]
)
_YES_EN = frozenset(
    [
        "yes",
        "yeah",
        "yea",
        "yep",
        "yup",
        "y",
        "sure",
        "ok",
        "okay",
        "k",
        "correct",
        "right",
        "indeed",
        "affirmative",
        "absolutely",
        "definitely",
        "certainly",
        "works",
        "working",
        "worked",
        "did",
        "does",
        "do",
        "is",
        "it's",
        "on",
        "fixed",
        "lit",
        "see",
        "seen",
        "great",
        "perfect",
        "good",
        "fine",
        "alright",
        "please",
        "done",
    ]
)
_NO_ZH = ("没", "不", "未", "无", "否", "别", "还是一样", "老样子", "黑屏")
# "不错" (not bad) and "没问题" (no problem) are yeses in spite of their negation.
_YES_DESPITE_NO_ZH = ("不错", "没问题", "没错", "不客气")
_YES_DESPITE_NO_EN = re.compile(r"\b(?:no problem|no worries|not bad)\b")
_YES_ZH = (
    "是",
    "对",
    "有",
    "好",
    "行",
    "可以",
    "能",
    "嗯",
    "恩",
    "看到",
    "看得到",
    "亮着",
    "成功",
    "正常",
    "当然",
    "确定",
    "需要",
    "要",
    "了",
)


def is_question(text: str) -> bool:
    """A message that asks rather than answers."""
    folded = fold(text)
    if _QUESTION_END.search(folded) or any(w in folded for w in _QUESTION_WORDS_ZH):
        return True
    if _A_NOT_A.search(folded):  # "卖不卖", "好不好", "有没有": a question in itself
        return True
    words = _WORD.findall(folded)
    return len(words) >= 3 and words[0] in _QUESTION_START


def is_short(text: str) -> bool:
    """A reply of a word or two ("yes please", "好的", "开机了")."""
    folded = fold(text)
    return len(_WORD.findall(folded)) <= SHORT_WORDS and len(_CJK.findall(folded)) <= SHORT_CJK


# "Did this help?" answered by saying the problem is still there: "I already updated it, it
# still crashes", "试过了还是不行", "已经更新过了还是闪退" (a yes by its 了, before).
_STILL_FAILING = re.compile(
    r"\b(?:still|same (?:problem|issue|thing)"
    r"|tried (?:that|it|this|everything)|did that|no luck|(?:did|does|do) not work|not working"
    r"|not help(?:ful|ing)?)\b"
    r"|还是|仍然|依然|依旧|照样|试过|已经试|没用|没有用|不管用|没效果|没有效果|一样"
)


# ... or by saying what was already done about it, a remedy tried before or after the answer:
# "I already reinstalled it", "已經重開機了" ("already restarted it"). In reply to a fix, it
# says the fix did not do it; read alone, "已經重開機了" was the power-on troubleshooting
# (0.47) and "已经重装了" a damaged parcel. A remedy, not any "已经…了": "已经好了" and
# "已经连上了" say it works.
_TRIED_ALREADY = re.compile(
    r"\balready (?:tried|did|done|re-?started|rebooted|re-?installed|reset|re-?paired|reconnected|updated"
    r"|upgraded|charged|cleared|uninstalled|restored|(?:turned|switched) it (?:off|on))\b"
    r"|\b(?:i've|i have) (?:already )?(?:re-?started|rebooted|re-?installed|reset|re-?paired"
    r"|reconnected|uninstalled|cleared)\b"
    r"|(?:已经|早就|都)(?:试过|重启|重新启动|重开机|重新开机|重[装裝]|重新安[装裝]|卸[载載]|更新|升级"
    r"|重置|恢复出厂|重新配对|配对过|充电|充过电|清理|清除|关机|重新登录)"
)


# ... unless it says the remedy worked: "已经重启了，现在好了", "reset it and it works now".
_FIXED = re.compile(
    r"\b(?:works?|working|fixed|sorted|solved|fine now|ok now|back to normal)\b"
    r"|好了|可以了|正常了|解决了|恢复了|没问题了|能用了"
)


def still_failing(text: str) -> bool:
    """Whether `text` says what was suggested did not solve the problem (or that a remedy
    was tried already: `tried_already`)."""
    folded = fold(text).replace("n't", " not")
    return _STILL_FAILING.search(folded) is not None or tried_already(text)


def tried_already(text: str) -> bool:
    """Whether `text` reports a remedy already tried ("I already reinstalled it", "已经重启了"),
    and not that it worked: what the customer did about the problem, whatever else its words
    resemble."""
    folded = fold(text)
    return _TRIED_ALREADY.search(folded) is not None and _FIXED.search(folded) is None


def polarity(text: str) -> Polarity | None:
    """ "yes", "no" or None (not a yes/no answer, or one that cannot be read)."""
    folded = fold(text)
    if not folded or is_question(folded):
        return None
    folded = _without_greetings(folded)
    cjk = _CJK.findall(folded)
    words = _words(folded)
    if len(words) > MAX_WORDS or len(cjk) > MAX_CJK or (not words and not cjk):
        return None
    if any(phrase in folded for phrase in (*_UNSURE_EN, *_UNSURE_ZH)):
        return None
    # "没问题" (no problem) is a yes in spite of its negation, unless another one follows
    # ("no problem, but it still won't turn on").
    rest = _YES_DESPITE_NO_EN.sub(" ", folded)
    for phrase in _YES_DESPITE_NO_ZH:
        rest = rest.replace(phrase, " ")
    despite = rest != folded
    words = _words(rest)
    chinese = "".join(_CJK.findall(rest))
    if any(word in _NO_EN for word in words) or any(mark in chinese for mark in _NO_ZH):
        return "no"
    if despite or any(word in _YES_EN for word in words) or any(m in chinese for m in _YES_ZH):
        return "yes"
    return None


def _words(folded: str) -> list[str]:
    """The English words, "n't" read as "not" ("didn't" → "did", "not")."""
    return _WORD.findall(folded.replace("n't", " not").replace("'", ""))


def _without_greetings(folded: str) -> str:
    for greeting in _GREETINGS_ZH:
        folded = folded.replace(greeting, " ")
    return _GREETING_EN.sub(" ", folded)


def opens_with_answer(text: str) -> bool:
    """Whether a message starts by answering yes or no ("no, not really", "没有帮助，还是没声音",
    "yes thanks"), rather than carrying a yes or no word somewhere inside a sentence that
    says something else ("蓝牙耳机右边突然不响了", "快递送来的音箱外壳裂了")."""
    folded = _LEADING_MARKS.sub("", _without_greetings(fold(text)))
    if _WORD.match(folded):
        first = _words(folded)[0]
        return first in _NO_EN or first in _YES_EN
    return folded.startswith((*_NO_ZH, *_YES_ZH, *_YES_DESPITE_NO_ZH))
