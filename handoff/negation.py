"""Is a configured word *said*, or *denied*? A small negation-aware phrase matcher (en + zh).

A trigger word counts only when the customer asserts it: "this is urgent" fires, "it's not
urgent", "不急" and "I don't want to complain" do not. The rules are deliberately narrow,
in the spirit of NegEx: a negation reaches forward a short way inside its own clause and no
further, so "it doesn't turn on, urgent!" and "开不了机，急" still fire.

- English: a negator ("not", "never", "don't", "can't", "without", "nothing" …) with at
  most `EN_SCOPE` words between it and the phrase, and no clause break (punctuation,
  "but", "and", "so", "because" …); "no" denies only the noun right after it ("no
  emergency", not "no it's urgent").
- Chinese: a negator (不, 没, 没有, 别, 无需, 不用 …) directly before the phrase, or
  separated from it only by modal and degree words (想, 要, 是, 很, 那么, 着, 打算 …):
  "不想投诉", "不是很急", "没那么急", "不着急", "不用马上". Chinese has no spaces, so a
  window of characters would swallow the verb a negator actually belongs to ("不开机急死了"
  is urgent); the filler list keeps the scope to what can stand between a negator and the
  word it denies.

A word the customer takes back later in the same message does not count either: "how do I
complain about… no wait, I just want the hours", "我想投诉…算了，问下几点开门". A retraction
("no wait", "never mind", "scratch that", 算了, 不对不对, 说错了 …) reaches back over everything said
before it, and only that: "never mind the hours, I want to complain" still complains.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from hub.text import retracted_before

EN_SCOPE = 4  # words a negation may reach across ("don't | want to file a | complaint")

_EN_NEGATORS = frozenset(
    str.split(
        "not no never nothing nobody none neither nor without cannot hardly "
        "dont doesnt didnt isnt arent wasnt werent wont wouldnt cant couldnt shouldnt "
        "havent hasnt hadnt neednt mustnt aint"
    )
)
# Words that end a clause, and with it a negation's reach ("not sure, but this is urgent").
_EN_BREAKS = frozenset(str.split("but and so because although though however yet still"))
# What may stand between "no" and the noun it denies ("no real emergency").
_NO_BRIDGE = frozenset(str.split("real big such actual particular immediate serious great"))
# "no doubt", "not only", "can't wait": negators that deny nothing that follows them.
_EN_NOT_NEGATING = (("no", "doubt"), ("not", "only"), ("cant", "wait"), ("cannot", "wait"))

_ZH_NEGATORS = tuple(
    sorted(
        str.split(
            "不 没 没有 并不 并没有 别 未 无 勿 甭 不用 不必 无需 无须 不需要 不要 不想 "
            "不打算 不会 不是 不太 不怎么 从不 从没"
        ),
        key=len,
        reverse=True,
    )
)
# What may stand between a Chinese negator and the word it denies.
_ZH_FILLERS = tuple(
    sorted(
        str.split(
            "想 要 是 很 太 会 去 再 用 着 算 真 也 都 那么 这么 怎么 特别 非常 打算 准备 需要 "
            "一定 真的 跟你们 和你们 向你们 对你们"
        ),
        key=len,
        reverse=True,
    )
)
_ZH_FILLER_SPAN = 6  # characters of fillers at most
_CLAUSE_END = re.compile(r"[,.;:!?\n，。；：！？、…~～]")
_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Occurrence:
    """One place a configured word occurs in a message."""

    word: str
    start: int
    end: int
    negated: bool


def normalise(text: str) -> str:
    """Full-width made half-width (NFKC), case-folded, curly apostrophes straightened
    (offsets of matches refer to this text)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return folded.replace("\u2019", "'").replace("\u2018", "'")


@lru_cache(maxsize=512)
def _pattern(word: str) -> re.Pattern[str]:
    # Latin words match whole words ("urgent" not in "insurgent"); Chinese anywhere.
    if re.fullmatch(r"[\w' ]+", word, flags=re.ASCII):
        return re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", flags=re.ASCII)
    return re.compile(re.escape(word))


def occurrences(text: str, words: Mapping[str, Sequence[str]]) -> list[Occurrence]:
    """Every occurrence of the configured words (any language), each marked negated or not,
    in text order. A word inside a longer configured word is the longer one's: in "并不紧急"
    the 急 of 紧急 is denied with it."""
    folded = normalise(text)
    found = [
        (match.start(), match.end(), word)
        for language_words in words.values()
        for word in language_words
        if word
        for match in _pattern(normalise(word)).finditer(folded)
    ]
    taken_back = retracted_before(folded)
    return [
        Occurrence(
            word=word,
            start=start,
            end=end,
            negated=end <= taken_back or is_negated(folded, start),
        )
        for start, end, word in sorted(found)
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in found)
    ]


def asserted(text: str, words: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The configured words `text` says without denying them, in configuration order.

    A word said once plainly counts even if it is denied elsewhere ("not a complaint about
    you — it's a complaint about the courier")."""
    found = [o.word for o in occurrences(text, words) if not o.negated]
    return tuple(dict.fromkeys(found))


def is_negated(folded: str, start: int) -> bool:
    """Whether the phrase starting at `start` in normalised text falls under a negation."""
    clause = _CLAUSE_END.split(folded[:start])[-1]
    return _negated_zh(clause) or _negated_en(clause)


def _negated_en(clause: str) -> bool:
    # "don't" → "dont", "can't" → "cant": one spelling for the negators.
    words = [w.replace("'", "") for w in _WORD.findall(clause)]
    for back, word in enumerate(reversed(words)):
        if word in _EN_BREAKS or back > EN_SCOPE:
            return False
        if word in _EN_NEGATORS:
            # "no" denies the noun it stands before ("no emergency", "no real complaint"),
            # not a clause after it ("no it's urgent" is an answer, then an assertion).
            if word == "no" and back > 0 and words[-1] not in _NO_BRIDGE:
                return False
            following = words[len(words) - back] if back else ""
            return (word, following) not in _EN_NOT_NEGATING
    return False


def _negated_zh(clause: str) -> bool:
    # Strip fillers from the end of the clause; a negator must then end it.
    clause = clause.rstrip()
    end = len(clause)
    stripped = 0
    while stripped <= _ZH_FILLER_SPAN:
        if any(clause.endswith(n, 0, end) for n in _ZH_NEGATORS):
            return True
        filler = next((f for f in _ZH_FILLERS if clause.endswith(f, 0, end)), "")
        if not filler:
            return False
        end -= len(filler)
        stripped += len(filler)
    return False
