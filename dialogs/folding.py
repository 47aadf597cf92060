"""Folding text for matching answers and entities: one spelling for what a customer may type
in several ways.

Full-width characters become half-width (NFKC), case is folded, and the Traditional
characters that occur in answers, dates and numbers are mapped to Simplified. The table is
deliberately small: it covers the words `dialogs.affirm` and `dialogs.entities` look for. A
full Traditional → Simplified conversion belongs to the message normalisation step; once it
runs before the engine, `fold` only has to keep doing the cheap part.
"""

from __future__ import annotations

import unicodedata

_T2S = str.maketrans(
    {
        "開": "开",
        "沒": "没",
        "還": "还",
        "見": "见",
        "機": "机",
        "電": "电",
        "點": "点",
        "對": "对",
        "關": "关",
        "嗎": "吗",
        "麼": "么",
        "號": "号",
        "個": "个",
        "塊": "块",
        "兩": "两",
        "後": "后",
        "週": "周",
        "禮": "礼",
        "訂": "订",
        "單": "单",
        "這": "这",
        "們": "们",
        "時": "时",
        "間": "间",
        "錢": "钱",
        "確": "确",
        "問": "问",
        "題": "题",
        "應": "应",
        "無": "无",
        "經": "经",
        "樣": "样",
        "舊": "旧",
        "會": "会",
        "現": "现",
        "聽": "听",
        "雙": "双",
        "萬": "万",
        "億": "亿",
        "圓": "圆",
    }
)


def fold(text: str) -> str:
    """NFKC (full-width → half-width), case-folded, the common Traditional characters
    Simplified, surrounding whitespace removed."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_T2S).strip()
