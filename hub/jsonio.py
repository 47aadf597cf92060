"""Strict JSON in and out, and text that every store can hold.

Reading (`loads`) accepts only what both stores and every strict JSON reader downstream
can hold, and says precisely why anything else is refused (`InputError`, 400):

- nesting deeper than `MAX_DEPTH` (scanned before parsing, so the parser never recurses
  tens of thousands of levels and never runs out of stack);
- ``NaN``, ``Infinity`` and ``-Infinity`` (not JSON: RFC 8259 §6);
- numbers that overflow: a float that rounds to infinity (``1e400``) or an integer beyond
  64 bits (SQLite's INTEGER, Redis's counters, and Python refuses >4300 digits anyway);
- a lone UTF-16 surrogate in any string or key (``"\\ud800"``): it is not a character, and
  neither SQLite nor Redis can encode it (RFC 7493 §2.1).

Writing (`dumps`) refuses NaN and infinities so the hub never emits a document a strict
reader (a browser's ``JSON.parse``, Go, Rust …) cannot read. It encodes with orjson, which
costs a tenth of the standard encoder (every event, row and frame of a turn is encoded:
`docs/performance.md`, "Twelfth round"), and keeps the standard encoder's rules: orjson
writes NaN as ``null``, so an output holding ``null`` is checked for a NaN (`finite`), and
whatever orjson refuses (a lone surrogate, an integer past 64 bits, a non-string key) is
encoded, or refused, by the standard encoder exactly as before. Text the hub wrote itself
(a stored row, an event) is read back with `stored`, orjson's parser, without the checks
`loads` makes of what comes from outside.

Text that arrives without JSON (mail headers decoded leniently, a channel's own library)
passes `clean_text` / `clean` at the edge: lone surrogates become U+FFFD, so a store never
sees them and nothing is lost that was ever a character.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import orjson

from hub.errors import InputError

MAX_DEPTH = 32  # objects and lists inside each other; real payloads stay under 10
MAX_INT = 2**63 - 1  # the widest integer both stores hold as a number
_MAX_INT_DIGITS = len(str(MAX_INT))

# A JSON string literal (so brackets inside strings are not counted) or a bracket.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Refused(ValueError):
    """Raised from inside the parser's hooks; carries the user-facing message."""


def loads(text: str | bytes, *, what: str = "body") -> Any:
    """Parse one JSON document under the limits above; `InputError` (400) otherwise.

    `what` names the document in messages ("body", "frame", "update" …).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(f"{what} is not valid UTF-8 (byte {error.start})") from None
    _check_depth(text, what)
    try:
        if text.startswith("\ufeff"):  # what `json.loads` checks before it decodes
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        value = _DECODER.decode(text)
    except _Refused as error:
        raise InputError(f"{what} has {error}") from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"{what} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:  # unreachable after the depth scan; kept as the last line
        raise InputError(f"{what} is nested deeper than {MAX_DEPTH} levels") from None
    if _ESCAPED_SURROGATE.search(text):  # only an escape can yield a lone surrogate
        where = _surrogate_path(value)
        if where is not None:
            raise InputError(
                f"{what} has a lone UTF-16 surrogate in {where}; "
                "text must be valid Unicode (pair \\ud800-\\udbff with \\udc00-\\udfff)"
            )
    return value


def dumps(value: Any) -> str:
    """Compact, UTF-8-friendly JSON; `ValueError` on NaN or infinity (never written)."""
    try:
        encoded = orjson.dumps(value, option=_STRICT)
    except orjson.JSONEncodeError:
        # What orjson refuses, the standard encoder writes (an integer past 64 bits, a
        # non-string key) or refuses with its own error (a circular value, an unknown type).
        return _ENCODER.encode(value)
    # orjson writes NaN and infinities as null; a value without a null cannot hold one.
    if b"null" in encoded and not finite(value):
        raise ValueError("Out of range float values are not JSON compliant")
    return encoded.decode()


def stored(text: str | bytes) -> Any:
    """JSON the hub wrote itself (`dumps`), read back: a stored row, an event's data.

    No limits are checked (they were when it came in); a document orjson refuses is read
    by the standard parser, so nothing stored by an earlier version becomes unreadable."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


# Dataclasses and datetimes go to the fallback, which refuses them as it always did: a
# value that is not plain JSON is a mistake to hear of, not to store in some shape.
_STRICT = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
# One encoder for every call: `json.dumps` with options builds a new one each time.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def clean_text(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (a no-op on valid text)."""
    if not _SURROGATE.search(text):
        return text
    # A properly paired surrogate cannot occur in a Python str (it would be one code
    # point), so every surrogate here is lone.
    return _SURROGATE.sub("\ufffd", text)


def clean(value: Any) -> Any:
    """`clean_text` applied to every string (keys included) of a JSON-like value."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return {clean_text(str(k)): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def is_clean(value: Any) -> bool:
    """True when no string (key or value) inside `value` holds a lone surrogate."""
    return _surrogate_path(value) is None


def finite(value: Any) -> bool:
    """True when no float inside `value` (a JSON-like value) is NaN or infinite."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        # The exact types first: this walk runs for every document `dumps` writes with a
        # null in it, and `isinstance` against the abstract `Mapping` costs most of it.
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is dict:
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                return False
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return True


# ------------------------------------------------------------------ the parser's hooks


def _constant(name: str) -> Any:
    raise _Refused(f"{name}, which is not a JSON number (numbers must be finite)")


def _float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _Refused(f"the number {literal[:40]}, which is out of range")
    return value


def _int(literal: str) -> int:
    digits = literal.lstrip("-")
    if len(digits) > _MAX_INT_DIGITS or abs(value := int(literal)) > MAX_INT:
        shown = literal if len(literal) <= 40 else f"{literal[:20]}…({len(digits)} digits)"
        raise _Refused(f"the number {shown}, which is out of range (at most 2^63-1)")
    return value


# One decoder for every call: `json.loads` with hooks builds a new decoder (and its
# scanner) each time, which cost more than decoding a chat message.
_DECODER = json.JSONDecoder(
    parse_constant=_constant, parse_float=_float, parse_int=_int, strict=True
)


def _check_depth(text: str, what: str) -> None:
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return  # cannot be too deep: the common case costs two C-speed counts
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise InputError(f"{what} is nested deeper than {MAX_DEPTH} levels")
        elif token in "]}":
            depth -= 1


def _surrogate_path(value: Any) -> str | None:
    """Where the first lone surrogate sits, as `$.a[0].b` (key or value), or None."""
    stack: list[tuple[str, Any]] = [("$", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return path if len(path) <= 200 else f"{path[:200]}…"
        elif isinstance(item, Mapping):
            for key, child in item.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    return f"a key of {path}"
                stack.append((f"{path}.{key}", child))
        elif isinstance(item, list | tuple):
            stack.extend((f"{path}[{index}]", child) for index, child in enumerate(item))
    return None


__all__ = ["MAX_DEPTH", "MAX_INT", "clean", "clean_text", "dumps", "finite", "is_clean", "loads"]
