"""Entities: values taken from any message, so a flow never asks for what was already said.

An operator declares entities in YAML (`entities:` section, see docs/dialogs.md):

    entities:
      order_number:
        regex: '(?<!\\d)\\d{4,12}(?!\\d)'     # every match is a candidate
        ignore: ' -'                        # left out of the value: "2026 1001" → 20261001
      device:
        lookup:                             # canonical value → what customers write
          phone: [phone, smartphone, 手机]
          watch: [watch, 手表]

and a slot names the entity it is filled from (`entity: order_number`). Built-in entities
need no declaration: `email`, `phone`, `number`, `amount`, `date` and `time`, in English and
Chinese ("明天", "下周一", "next Monday", "下午3点", "¥25", "25 块").

Everything here is a pure function of the text (and today's date for relative dates).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from dialogs.flows import Where
from dialogs.folding import fold

BUILTINS = ("email", "phone", "number", "amount", "date", "time")


@dataclass(frozen=True, slots=True, kw_only=True)
class EntityDef:
    """One declared entity: a regular expression or a lookup list (or a built-in)."""

    name: str
    where: Where
    pattern: re.Pattern[str] | None = None
    # Characters a regex match may contain that are not part of the value: customers group
    # long numbers ("2026 1001", "2026-1001") as they read them off a screen or a receipt.
    ignore: str = ""
    lookup: Mapping[str, str] = field(default_factory=dict)  # folded synonym → value
    builtin: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Found:
    """One occurrence: `value` is canonical (an ISO date, "25 CNY"), `text` as found in
    the folded message (half-width, lower case), `start` where."""

    entity: str
    value: str
    text: str
    start: int


def builtin(name: str) -> EntityDef:
    return EntityDef(name=name, where=Where(path="<built-in entities>", line=1), builtin=name)


def extract(text: str, entity: EntityDef, *, today: date) -> list[Found]:
    """Every occurrence of `entity` in `text`, in the order written."""
    return _extract_folded(fold(text), entity, today=today)


def _extract_folded(folded: str, entity: EntityDef, *, today: date) -> list[Found]:
    if entity.pattern is not None:
        left_out = str.maketrans("", "", entity.ignore)
        return [
            Found(
                entity=entity.name,
                value=m.group(0).translate(left_out),
                text=m.group(0),
                start=m.start(),
            )
            for m in entity.pattern.finditer(folded)
        ]
    if entity.lookup:
        return _lookup(entity, folded)
    finder = _BUILTIN_FINDERS[entity.builtin]
    return [
        Found(entity=entity.name, value=value, text=written, start=start)
        for start, written, value in finder(folded, today)
    ]


def extract_all(text: str, entities: Iterable[EntityDef], *, today: date) -> dict[str, list[Found]]:
    """`extract` for each entity; entities not in the text are left out."""
    found = {}
    folded = fold(text)  # once for every entity: a turn asks for all of them
    for entity in entities:
        if hits := _extract_folded(folded, entity, today=today):
            found[entity.name] = hits
    return found


def _lookup(entity: EntityDef, folded: str) -> list[Found]:
    hits: list[Found] = []
    taken: list[range] = []
    # Longest synonyms first, so "smart watch" wins over "watch" at the same place.
    for synonym in sorted(entity.lookup, key=len, reverse=True):
        if synonym not in folded:
            continue  # no match possible: most synonyms, without building a pattern each
        pattern = re.escape(synonym)
        if synonym.isascii():
            pattern = rf"(?<![a-z0-9]){pattern}(?![a-z0-9])"
        for match in re.finditer(pattern, folded):
            span = range(match.start(), match.end())
            if any(span.start < t.stop and t.start < span.stop for t in taken):
                continue
            taken.append(span)
            hits.append(
                Found(
                    entity=entity.name,
                    value=entity.lookup[synonym],
                    text=match.group(0),
                    start=match.start(),
                )
            )
    return sorted(hits, key=lambda h: h.start)


# ----------------------------------------------------------------------------- built-ins
Hit = tuple[int, str, str]  # (start, as written, canonical value)

_EMAIL = re.compile(r"[a-z0-9._%+-]{1,64}@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
_PHONE = re.compile(r"(?<![0-9a-z+])\+?\d[\d ().-]{5,18}\d(?![0-9a-z])")
# Lookarounds name ASCII on purpose: a number right after a Chinese word ("订单99999999")
# is still a number, though CJK characters count as word characters for `\w`.
_NUMBER = re.compile(
    r"(?<![0-9a-z.])[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![0-9a-z])"
    r"|(?<![0-9a-z.])[+-]?\d+(?:\.\d+)?"
)
_ZH_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_NUMBER = re.compile(r"[零一二两三四五六七八九十百]+")
_CURRENCY_BEFORE = {"¥": "CNY", "￥": "CNY", "$": "USD", "€": "EUR", "£": "GBP", "rmb": "CNY"}
_CURRENCY_AFTER = {
    "元": "CNY",
    "块": "CNY",
    "块钱": "CNY",
    "rmb": "CNY",
    "yuan": "CNY",
    "cny": "CNY",
    "usd": "USD",
    "dollars": "USD",
    "dollar": "USD",
    "美元": "USD",
    "eur": "EUR",
    "euros": "EUR",
    "euro": "EUR",
    "欧元": "EUR",
    "gbp": "GBP",
    "pounds": "GBP",
    "英镑": "GBP",
}
_AMOUNT_BEFORE = re.compile(r"(¥|\$|€|£|rmb)\s?(\d+(?:[.,]\d+)?)")
_AMOUNT_AFTER = re.compile(
    r"(\d+(?:\.\d+)?)\s?(块钱|块|元|美元|欧元|英镑|rmb|yuan|cny|usd|dollars?|eur|euros?|gbp|pounds)"
    r"(?![a-z])"
)


def _emails(text: str, today: date) -> list[Hit]:
    return [(m.start(), m.group(0), m.group(0)) for m in _EMAIL.finditer(text)]


def _phones(text: str, today: date) -> list[Hit]:
    hits = []
    for match in _PHONE.finditer(text):
        written = match.group(0)
        digits = re.sub(r"\D", "", written)
        if 7 <= len(digits) <= 15:
            hits.append((match.start(), written, ("+" if written[0] == "+" else "") + digits))
    return hits


def _numbers(text: str, today: date) -> list[Hit]:
    hits: list[Hit] = []
    for match in _NUMBER.finditer(text):
        value = float(match.group(0).replace(",", ""))
        hits.append((match.start(), match.group(0), _plain(value)))
    for match in _ZH_NUMBER.finditer(text):
        number = _zh_number(match.group(0))
        if number is not None:
            hits.append((match.start(), match.group(0), str(number)))
    return sorted(hits)


def _amounts(text: str, today: date) -> list[Hit]:
    hits = []
    for match in _AMOUNT_BEFORE.finditer(text):
        value = float(match.group(2).replace(",", "."))
        currency = _CURRENCY_BEFORE[match.group(1)]
        hits.append((match.start(), match.group(0), f"{_plain(value)} {currency}"))
    for match in _AMOUNT_AFTER.finditer(text):
        value = float(match.group(1))
        currency = _CURRENCY_AFTER[match.group(2)]
        hits.append((match.start(), match.group(0), f"{_plain(value)} {currency}"))
    return sorted(hits)


def _plain(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def _zh_number(text: str) -> int | None:
    """一 … 九百九十九 (small numbers are what customers write in characters)."""
    if "百" in text:
        hundreds, _, rest = text.partition("百")
        head = _ZH_DIGITS.get(hundreds) if hundreds else 1
        tail = _zh_number(rest.lstrip("零")) if rest else 0
        return None if head is None or tail is None else head * 100 + tail
    if "十" in text:
        tens, _, ones = text.partition("十")
        head = _ZH_DIGITS.get(tens) if tens else 1
        tail = _ZH_DIGITS.get(ones) if ones else 0
        return None if head is None or tail is None else head * 10 + tail
    if len(text) == 1:
        return _ZH_DIGITS.get(text)
    return None


# -- dates
_WEEKDAYS_EN = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_MONTHS_EN = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
_RELATIVE = {
    "today": 0,
    "tonight": 0,
    "tomorrow": 1,
    "day after tomorrow": 2,
    "yesterday": -1,
    "今天": 0,
    "今日": 0,
    "今晚": 0,
    "明天": 1,
    "明日": 1,
    "后天": 2,
    "大后天": 3,
    "昨天": -1,
    "前天": -2,
}
_RELATIVE_RE = re.compile(
    "|".join(
        rf"(?<![a-z]){re.escape(w)}(?![a-z])" if w.isascii() else re.escape(w)
        for w in sorted(_RELATIVE, key=len, reverse=True)
    )
)
_WEEKDAY_EN_RE = re.compile(
    r"(?<![a-z])(?:(next|this|on|last)\s+)?(mon|tues|tue|wednes|wed|thurs|thu|fri|satur|sat|sun)"
    r"(?:day)?(?![a-z])"
)
_WEEKDAY_ZH_RE = re.compile(r"(下下|下个?|这个?|本|上个?)?(?:周|星期|礼拜)([一二三四五六日天七])")
_ISO_DATE = re.compile(r"(?<!\d)(20\d\d)[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_ZH_DATE = re.compile(r"(?:(20\d\d)年)?(\d{1,2})月(\d{1,2})[日号]")
_EN_DATE = re.compile(
    r"(?<![a-z])(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})"
    r"(?:st|nd|rd|th)?(?!\d)|(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*(?![a-z])"
)


def _dates(text: str, today: date) -> list[Hit]:
    hits: list[Hit] = []
    taken: list[range] = []

    def add(match: re.Match[str], day: date | None) -> None:
        span = range(match.start(), match.end())
        if day is None or any(span.start < t.stop and t.start < span.stop for t in taken):
            return
        taken.append(span)
        hits.append((match.start(), match.group(0), day.isoformat()))

    for match in _ISO_DATE.finditer(text):
        add(match, _date(int(match.group(1)), int(match.group(2)), int(match.group(3))))
    for match in _ZH_DATE.finditer(text):
        year = int(match.group(1)) if match.group(1) else today.year
        add(match, _date(year, int(match.group(2)), int(match.group(3))))
    for match in _EN_DATE.finditer(text):
        month_name = match.group(1) or match.group(4)
        day_number = match.group(2) or match.group(3)
        month = _MONTHS_EN.index(month_name[:3]) + 1
        add(match, _date(today.year, month, int(day_number)))
    for match in _WEEKDAY_ZH_RE.finditer(text):
        add(match, _weekday_zh(today, match.group(1) or "", _WEEKDAYS_ZH[match.group(2)]))
    for match in _WEEKDAY_EN_RE.finditer(text):
        weekday = next(i for i, d in enumerate(_WEEKDAYS_EN) if d.startswith(match.group(2)[:3]))
        add(match, _weekday_en(today, match.group(1) or "", weekday))
    for match in _RELATIVE_RE.finditer(text):
        add(match, today + timedelta(days=_RELATIVE[match.group(0)]))
    return sorted(hits)


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _week_start(today: date) -> date:
    return today - timedelta(days=today.weekday())


def _weekday_zh(today: date, which: str, weekday: int) -> date:
    """周一 / 这周一 / 本周一: this calendar week (Monday first); 下周一: next week's;
    下下周一: the week after; 上周一: last week's."""
    weeks = {
        "": 0,
        "这": 0,
        "这个": 0,
        "本": 0,
        "下": 1,
        "下个": 1,
        "下下": 2,
        "上": -1,
        "上个": -1,
    }
    return _week_start(today) + timedelta(weeks=weeks.get(which, 0), days=weekday)


def _weekday_en(today: date, which: str, weekday: int) -> date:
    """ "Monday" / "on Monday": the next one from today on (today counts); "this Monday":
    this calendar week's; "next Monday": next calendar week's, as in Chinese 下周一;
    "last Monday": the latest one before today."""
    if which == "next":
        return _week_start(today) + timedelta(weeks=1, days=weekday)
    if which == "this":
        return _week_start(today) + timedelta(days=weekday)
    if which == "last":
        return today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


# -- times
_CLOCK = re.compile(r"(?<!\d)([01]?\d|2[0-3])[:：]([0-5]\d)(?!\d)\s*(am|pm|a\.m\.|p\.m\.)?")
_HOUR_EN = re.compile(r"(?<![\d:])(1[0-2]|0?[1-9])\s*(am|pm|a\.m\.|p\.m\.)")
_HOUR_ZH = re.compile(
    r"(早上|上午|中午|下午|傍晚|晚上)?(\d{1,2}|[一二两三四五六七八九十]{1,3})点(半|(\d{1,2})分)?"
)
_AFTERNOON_ZH = ("下午", "傍晚", "晚上")


def _times(text: str, today: date) -> list[Hit]:
    hits: list[Hit] = []
    for match in _CLOCK.finditer(text):
        hits.append(
            (
                match.start(),
                match.group(0),
                _clock(int(match.group(1)), int(match.group(2)), match.group(3)),
            )
        )
    for match in _HOUR_EN.finditer(text):
        hits.append((match.start(), match.group(0), _clock(int(match.group(1)), 0, match.group(2))))
    for match in _HOUR_ZH.finditer(text):
        written_hour = match.group(2)
        hour = int(written_hour) if written_hour.isdigit() else _zh_number(written_hour)
        if hour is None or hour > 24:
            continue
        minute = 30 if match.group(3) == "半" else int(match.group(4) or 0)
        if match.group(1) in _AFTERNOON_ZH and hour < 12:
            hour += 12
        if minute < 60:
            hits.append((match.start(), match.group(0), f"{hour % 24:02d}:{minute:02d}"))
    return sorted(hits)


def _clock(hour: int, minute: int, meridiem: str | None) -> str:
    if meridiem and meridiem.startswith("p") and hour < 12:
        hour += 12
    elif meridiem and meridiem.startswith("a") and hour == 12:
        hour = 0
    return f"{hour:02d}:{minute:02d}"


_BUILTIN_FINDERS = {
    "email": _emails,
    "phone": _phones,
    "number": _numbers,
    "amount": _amounts,
    "date": _dates,
    "time": _times,
}
