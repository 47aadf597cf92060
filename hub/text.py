"""What the bot does to a customer's raw text before reading it: cleaning, language, and the
one normalization step every reader of a message shares.

```python
clean("  hi\x00 there ")                 # "hi there": what the bot shows and keeps
normalize("我登不進ＡＰＰ了，won't work")  # "我登不进 app 了,will not work"
tokenize("你们卖不卖礼品卡")               # ["你们", "卖不卖", "礼品卡"] with a `Segmenter`
```

`normalize` folds the forms a customer may type one meaning in: full-width to half-width and
case (NFKC + casefold), Traditional to Simplified Chinese (OpenCC `t2s`), English contractions
spelt out ("won't" → "will not", also without the apostrophe), and Latin or digit runs inside
Chinese set apart by spaces. `Segmenter.tokens` splits normalized text into words: Chinese by
`jieba` (over a compact copy of its dictionary, `hub.jieba_dict`, loaded once per process, on
first use), with the bot's own vocabulary kept whole; everything else at non-word characters.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

from hub.memo import TextMemo

if TYPE_CHECKING:
    from opencc import OpenCC

    from hub.jieba_dict import CompactTokenizer

__all__ = [
    "CJK_MARKS",
    "MAX_TEXT",
    "Segmenter",
    "after_retraction",
    "clean",
    "detect_language",
    "has_cjk",
    "normalize",
    "retracted_before",
    "tokenize",
    "unfold_cjk",
]

#: Longer messages are cut before understanding them; intents live in short utterances.
MAX_TEXT = 2000

_CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_CJK = re.compile(f"[{_CJK_CHARS}]")
_CJK_RUN = re.compile(f"[{_CJK_CHARS}]+")
_LATIN = re.compile(r"[A-Za-z]")
_SPACE = re.compile(r"\s+")
#: Chinese characters and the full-width punctuation written with them (a regex class body).
CJK_MARKS = f"\u3000-\u303f{_CJK_CHARS}\uff00-\uffef"
_CJK_SPACE = re.compile(f"(?<=[{CJK_MARKS}]) (?=[{CJK_MARKS}])")
# A Latin letter or digit next to a Chinese character, in either order ("登不进app了").
_SCRIPT_EDGE = re.compile(f"(?<=[{_CJK_CHARS}])(?=[a-z0-9])|(?<=[a-z0-9])(?=[{_CJK_CHARS}])")
# A run of Chinese characters, or of letters/digits (`\w` without the Chinese and the `_`).
_TOKEN = re.compile(f"[{_CJK_CHARS}]+|[^\\W_{_CJK_CHARS}]+")

# English contractions, spelt out before anything reads the words: "won't" must not look like
# "won", nor "can't" like "can". The apostrophe-less spellings customers type on phones are
# included where they are not English words of their own ("wont", "cant", "dont" …; not
# "well", "were", "its" or "id").
_CONTRACTIONS = {
    "won't": "will not",
    "wont": "will not",
    "can't": "can not",
    "cant": "can not",
    "cannot": "can not",
    "shan't": "shall not",
    "ain't": "is not",
    "let's": "let us",
    "y'all": "you all",
}
_NOT_WORDS = [
    "do",
    "does",
    "did",
    "is",
    "are",
    "was",
    "were",
    "has",
    "have",
    "had",
    "could",
    "would",
    "should",
    "must",
    "need",
    "might",
    "dare",
]
for _word in _NOT_WORDS:
    _CONTRACTIONS[_word + "n't"] = _word + " not"
    _CONTRACTIONS[_word + "nt"] = _word + " not"
_IS_WORDS = ["it", "that", "what", "where", "who", "how", "there", "here", "he", "she"]
for _word in _IS_WORDS:
    _CONTRACTIONS[_word + "'s"] = _word + " is"
_SUFFIXES = {"'re": " are", "'m": " am", "'ll": " will", "'ve": " have", "'d": " would"}
_CONTRACTION = re.compile(
    r"\b(?:" + "|".join(re.escape(c) for c in sorted(_CONTRACTIONS, key=len, reverse=True)) + r")\b"
)
_SUFFIX = re.compile(r"(?<=[a-z])(?:'re|'m|'ll|'ve|'d)\b")
_POSSESSIVE = re.compile(r"(?<=[a-z])'s\b")

# A customer taking back what they began to say: "how do I complain about… no wait, I just
# want the hours", "我想投诉…算了，问下几点开门". Matched in NFKC-casefolded text. "forget it"
# and "cancel" are not here: "forget it, I'm filing a complaint" is anger, not a change of
# mind; and a bare 不对 ("尺码不对") is a fault, not a correction.
_RETRACTION = re.compile(
    r"(?<![a-z])(?:no,? wait|wait,? no|never ?mind|scratch that|actually,? no)(?![a-z])"
    r"|算了|不对不对|哦不对|说错了|說錯了|哦不是|不是不是"
)
_RETRACTION_TRIM = " \t,.;:!?-\u2013\u2014\u2026~"


def retracted_before(folded: str) -> int:
    """Where the last retraction in NFKC-casefolded `folded` starts: what the customer said
    before it is taken back (-1: nothing is)."""
    return max((match.start() for match in _RETRACTION.finditer(folded)), default=-1)


def after_retraction(text: str) -> str:
    """What the customer still means: the words after the last retraction, folded (NFKC,
    casefold), or `text` itself when nothing is taken back or nothing follows ("不投诉了，算了")."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    ends = [match.end() for match in _RETRACTION.finditer(folded)]
    tail = folded[ends[-1] :].strip(_RETRACTION_TRIM) if ends else ""
    return tail or text


def unfold_cjk(text: str) -> str:
    """A folded (`>`) YAML text joins its lines with a space, which Chinese does not write
    ("可货到付款； 订单满"): the one space between two Chinese characters or punctuation marks
    is dropped. Spaces beside Latin words and numbers stay ("支持 Visa、", "5 分钟")."""
    return _CJK_SPACE.sub("", text)


def clean(text: str) -> str:
    """Drop control and format characters (keeping line breaks as spaces), collapse
    whitespace, cut to `MAX_TEXT` characters."""
    text = text[: MAX_TEXT * 2]
    if text.isascii() and text.isprintable():
        # Most messages: no control character to drop, nothing to look up character by character.
        return _SPACE.sub(" ", text).strip()[:MAX_TEXT]
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char in "\n\r\t":
            kept.append(" ")
        elif category in ("Cc", "Cs", "Co") or (category == "Cf" and char != "\u200d"):
            # \u200d (zero-width joiner) holds emoji sequences together; others are noise.
            continue
        else:
            kept.append(char)
    return _SPACE.sub(" ", "".join(kept)).strip()[:MAX_TEXT]


def detect_language(text: str, *, previous: str, languages: tuple[str, ...]) -> str:
    """`zh` when the message has any CJK character, `en` when it has Latin letters,
    otherwise (digits, emoji, nothing) the language of the conversation so far."""
    if "zh" in languages and _CJK.search(text):
        return "zh"
    if "en" in languages and _LATIN.search(text):
        return "en"
    return previous if previous in languages else languages[0]


def has_cjk(text: str) -> bool:
    """Whether `text` has a Chinese character."""
    return _CJK.search(text) is not None


@functools.cache
def _t2s() -> OpenCC:
    from opencc import OpenCC

    return OpenCC("t2s")


def normalize(text: str) -> str:
    """The canonical form of a message for understanding it (never raises).

    NFKC (full-width → half-width) and case folding, no control/format/unassigned characters,
    whitespace collapsed, cut to `MAX_TEXT`; Traditional → Simplified Chinese; English
    contractions spelt out; Latin letters and digits set apart from Chinese characters.
    """
    if not isinstance(text, str):
        return ""  # type: ignore[unreachable]  # callers outside the type checker
    # A turn reads its message through several rules, each of which normalizes it (four
    # times a turn with the demo bot), and customers repeat short lines.
    return _normal_form(text)


def _normalize(text: str) -> str:
    text = text[: MAX_TEXT * 2]
    if not (text.isascii() and text.isprintable()):
        text = unicodedata.normalize("NFKC", text)
        # Control (Cc), format (Cf), surrogate (Cs), private use (Co) and unassigned (Cn)
        # code points carry no meaning; whitespace controls become spaces first.
        text = "".join(
            ch if unicodedata.category(ch)[0] != "C" else (" " if ch.isspace() else "")
            for ch in text
        )
        text = text.replace("\u2019", "'").replace("\u2018", "'")  # typographic apostrophes
    text = " ".join(text.casefold().split())[:MAX_TEXT]
    if "'" in text or "nt" in text or "cannot" in text:
        text = _CONTRACTION.sub(lambda m: _CONTRACTIONS[m.group()], text)
        text = _SUFFIX.sub(lambda m: _SUFFIXES[m.group()], text)
        text = _POSSESSIVE.sub("", text)
    if _CJK.search(text):
        text = _SCRIPT_EDGE.sub(" ", _t2s().convert(text))
    return text


_normal_form = TextMemo(_normalize)


class Segmenter:
    """Splits normalized text into words; Chinese by jieba, the bot's own words kept whole.

    The bot's vocabulary (product names, short examples such as "礼品卡") is matched first,
    longest first, and jieba segments what lies between. This keeps jieba's process-wide
    dictionary untouched, so two bots loaded in one process never change each other's words.
    """

    __slots__ = ("_words",)

    def __init__(self, words: Iterable[str] = ()) -> None:
        kept = {
            word
            for raw in words
            if (word := normalize(raw).replace(" ", ""))
            and 2 <= len(word) <= 12
            and _CJK_RUN.fullmatch(word)
        }
        self._words = (
            re.compile("|".join(re.escape(w) for w in sorted(kept, key=len, reverse=True)))
            if kept
            else None
        )

    def tokens(self, normalized: str) -> list[str]:
        """The words of an already normalized text, in order; punctuation and emoji dropped."""
        found: list[str] = []
        for match in _TOKEN.finditer(normalized):
            run = match.group()
            if not _CJK.match(run) or len(run) == 1:
                found.append(run)
            else:
                found.extend(self._chinese(run))
        return found

    def _chinese(self, run: str) -> list[str]:
        if self._words is None:
            return _jieba_cut(run)
        words: list[str] = []
        start = 0
        for match in self._words.finditer(run):
            if match.start() > start:
                words.extend(_jieba_cut(run[start : match.start()]))
            words.append(match.group())
            start = match.end()
        if start < len(run):
            words.extend(_jieba_cut(run[start:]))
        return words


@functools.cache
def _jieba() -> CompactTokenizer:
    # jieba's cuts over a compact copy of its dictionary (`hub.jieba_dict`): 3 MB, not 62 MiB.
    from hub.jieba_dict import compact_tokenizer

    return compact_tokenizer()


def _jieba_cut(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    words: list[str] = _jieba().lcut(run)
    return words


_PLAIN = Segmenter()


def tokenize(text: str, segmenter: Segmenter | None = None) -> list[str]:
    """`normalize` then `Segmenter.tokens` (with the bot's `segmenter`, or none of its words)."""
    return (segmenter or _PLAIN).tokens(normalize(text))
