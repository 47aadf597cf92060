"""How many SMS segments a text takes, and a text cut to a number of segments. Pure.

An SMS carries 140 bytes. Text that fits the GSM 03.38 alphabet (GSM-7) goes 7 bits a
character: 160 characters in one segment, 153 a segment once a message is split (each part
carries a 6-byte header); the extension characters (``€ [ ] { } ^ ~ | \\``) take two.
Anything else — Chinese, most emoji — makes the *whole* message UCS-2: 70 UTF-16 code units
in one segment, 67 a segment when split (an emoji outside the BMP takes two units).
Carriers bill every segment, so a long reply is capped at a configured number of segments
and ends with "…more in the chat link".

Before counting, typographic look-alikes (curly quotes, dashes, "…", no-break spaces) become
their GSM-7 equivalents, as Twilio's Smart Encoding does, so one curly apostrophe does not
turn an English reply into UCS-2 and cost twice the segments.
"""

from __future__ import annotations

from collections.abc import Callable

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
GSM7 = "GSM-7"
UCS2 = "UCS-2"
# (single-segment limit, per-segment limit when concatenated), in septets or UTF-16 units
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}
SMART = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u2009": " ",
        "\u200b": "",
        "\u2022": "-",
        "\t": " ",
    }
)


def smart(text: str) -> str:
    """`text` with typographic look-alikes replaced by GSM-7 characters, when that makes
    it GSM-7 (a Chinese text keeps its "…" and "“”": it is UCS-2 either way)."""
    replaced = text.translate(SMART)
    return replaced if encoding(replaced) == GSM7 else text


def encoding(text: str) -> str:
    """``GSM-7`` when every character is in the GSM alphabet, else ``UCS-2``."""
    return GSM7 if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text) else UCS2


def _units(ch: str, kind: str) -> int:
    if kind == GSM7:
        return 2 if ch in GSM7_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1


def segments(text: str) -> int:
    """The number of segments `text` is sent in (0 for no text)."""
    if not text:
        return 0
    kind = encoding(text)
    single, per_part = LIMITS[kind]
    units = [_units(ch, kind) for ch in text]
    if sum(units) <= single:
        return 1
    # A two-unit character (an escape pair, a surrogate pair) is never split across parts.
    count, used = 1, 0
    for size in units:
        if used + size > per_part:
            count, used = count + 1, 0
        used += size
    return count


def fit(text: str, max_segments: int, more: str, wrap: Callable[[str], str] = lambda t: t) -> str:
    """``wrap(text)`` when it fits in `max_segments`; else ``wrap`` of the longest beginning
    of `text` that fits with `more` appended (cut at a space when one is near, for Latin
    text). `wrap` adds what must never be cut (a numbered list of choices after the text)."""
    if segments(wrap(text)) <= max_segments:
        return wrap(text)
    low, high = 0, len(text)  # the longest prefix length that fits lies in [low, high]
    while low < high:
        middle = (low + high + 1) // 2
        if segments(wrap(text[:middle].rstrip() + more)) <= max_segments:
            low = middle
        else:
            high = middle - 1
    cut = text[:low]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > 0 and len(cut) - space <= 20 and encoding(cut) == GSM7:
        cut = cut[:space]
    return wrap(cut.rstrip(" \n,.;:-，。；：") + more)


__all__ = ["GSM7", "UCS2", "encoding", "fit", "segments", "smart"]
