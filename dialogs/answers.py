"""Reading the customer's answer to an `ask` (part of `dialogs.turns`).

Pure functions of the bot's definitions, the text and the entities found in it: which slot
value an answer gives — as written, as an option it means (`dialogs.options`: a title, a
near-title, a yes/no in the customer's own words, a button's intent), or as an entity inside
a sentence ("it's 20261001") — and which slots a message fills before they are asked.
The engine decides what to do with the result (fill, re-ask, interrupt).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dialogs.entities import Found
from dialogs.flows import Ask, ButtonSpec, Slot
from dialogs.options import Option, choose
from dialogs.slots import Invalid, Valid, Verdict, validate

#: Longest stretch of a customer's answer quoted back in a validation message.
MAX_QUOTED = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """What an answer says. `lenient`: it fills the slot only as read generously (an option
    it means, an entity inside it); `intent`: it is the title of a button standing for an
    intent (`/name`), as if tapped; `quoted`: the value to quote back when it is invalid."""

    verdict: Verdict
    lenient: bool = False
    intent: str = ""
    quoted: str = ""


def buttons(step: Ask, slot: Slot) -> tuple[ButtonSpec, ...]:
    """The step's own buttons, or the choices of a choice slot."""
    if not step.buttons and slot.type == "choice":
        return tuple(ButtonSpec(title=c.title, payload=c.value) for c in slot.choices)
    return step.buttons


def options(step: Ask, slot: Slot) -> list[Option]:
    if slot.type == "choice" and not step.buttons:
        return [
            Option(value=c.value, titles=tuple(c.title.by_lang.values()), words=tuple(c.words))
            for c in slot.choices
        ]
    return [Option(value=b.payload, titles=tuple(b.title.by_lang.values())) for b in step.buttons]


def read(
    text: str,
    step: Ask,
    slot: Slot,
    found: Mapping[str, list[Found]],
    *,
    intents: Collection[str],
    classify: Callable[[str], str | None],
) -> Reading:
    """Read `text` as the answer to `step`; `classify` is asked only when a button stands
    for an intent."""
    exact = validate(slot, text)
    if isinstance(exact, Valid) or (text.startswith("/") and text[1:] in intents):
        return Reading(verdict=exact)
    offered = options(step, slot)
    wanted = {o.value[1:] for o in offered if o.value.startswith("/")}
    intent = classify(text) if wanted else None
    chosen = choose(text, offered, intent=intent if intent in wanted else None)
    if chosen is not None and chosen.startswith("/") and chosen[1:] in intents:
        return Reading(verdict=validate(slot, chosen), intent=chosen)
    if chosen is not None and isinstance(verdict := validate(slot, chosen), Valid):
        return Reading(verdict=verdict, lenient=True)
    candidates = found.get(slot.entity, []) if slot.entity else []
    for candidate in candidates:
        if isinstance(verdict := validate(slot, candidate.value), Valid):
            return Reading(verdict=verdict, lenient=True)
    if candidates:
        # Say what is wrong with the value the customer gave, not with their sentence.
        first = candidates[0]
        verdict = validate(slot, first.value)
        if isinstance(verdict, Invalid):
            return Reading(verdict=verdict, quoted=first.text[:MAX_QUOTED])
    return Reading(verdict=exact, quoted=text[:MAX_QUOTED])


def from_message(
    slots: Iterable[Slot], found: Mapping[str, list[Found]], *, skip: str = ""
) -> tuple[dict[str, Any], dict[str, str]]:
    """(values, rejected): the slots whose entity the message contains with a valid value,
    and those it contains only with invalid ones (the first, to quote when asked)."""
    values: dict[str, Any] = {}
    rejected: dict[str, str] = {}
    for slot in slots:
        if not slot.entity or slot.name == skip:
            continue
        for candidate in found.get(slot.entity, ()):
            verdict = validate(slot, candidate.value)
            if isinstance(verdict, Valid):
                values[slot.name] = verdict.value
                rejected.pop(slot.name, None)
                break
            rejected.setdefault(slot.name, candidate.text[:MAX_QUOTED])
    return values, rejected
