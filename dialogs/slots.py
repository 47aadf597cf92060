"""Slot validators: a customer's answer → a clean value, or the reason it is not one.

Pure functions of (slot, text); the engine decides what to say about a rejection.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from dialogs.flows import Slot

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
_PHONE_CHARS = re.compile(r"^\+?[\d\s().-]+$")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Valid:
    value: str | float


@dataclass(frozen=True, slots=True, kw_only=True)
class Invalid:
    reason: str  # machine-readable: empty, too_long, not_a_choice, not_a_number …


Verdict = Valid | Invalid


def _fold(text: str) -> str:
    # Full-width digits and letters (common in Chinese input methods) become ASCII.
    return unicodedata.normalize("NFKC", text).strip().casefold()


def validate(slot: Slot, text: str) -> Verdict:
    """Check one answer for `slot`. Buttons send the choice's value, which always matches."""
    answer = unicodedata.normalize("NFKC", text).strip()
    if not answer:
        return Invalid(reason="empty")
    if len(answer) > slot.max_length:
        return Invalid(reason="too_long")
    match slot.type:
        case "text" | "any":
            return Valid(value=answer)
        case "choice":
            return _choice(slot, answer)
        case "number":
            return _number(slot, answer)
        case "email":
            if _EMAIL.match(answer):
                return Valid(value=answer.lower())
            return Invalid(reason="not_an_email")
        case "phone":
            digits = re.sub(r"\D", "", answer)
            if _PHONE_CHARS.match(answer) and 6 <= len(digits) <= 15:
                return Valid(value=("+" if answer.startswith("+") else "") + digits)
            return Invalid(reason="not_a_phone")
        case "regex":
            assert slot.pattern is not None  # the loader requires it
            if slot.pattern.fullmatch(answer):
                return Valid(value=answer)
            return Invalid(reason="no_match")


def _choice(slot: Slot, answer: str) -> Verdict:
    folded = _fold(answer).rstrip(".!?。！？")
    if folded.isdigit() and 1 <= int(folded) <= len(slot.choices):
        # "2" picks the second choice: how buttons degrade to a numbered list on email.
        return Valid(value=slot.choices[int(folded) - 1].value)
    for choice in slot.choices:
        if folded == choice.value.casefold() or folded in choice.words:
            return Valid(value=choice.value)
    return Invalid(reason="not_a_choice")


def _number(slot: Slot, answer: str) -> Verdict:
    folded = _fold(answer)
    if not _NUMBER.match(folded):
        return Invalid(reason="not_a_number")
    value = float(folded.replace(",", "."))
    if slot.minimum is not None and value < slot.minimum:
        return Invalid(reason="too_small")
    if slot.maximum is not None and value > slot.maximum:
        return Invalid(reason="too_large")
    return Valid(value=int(value) if value.is_integer() else value)
