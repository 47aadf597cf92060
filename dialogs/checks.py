"""Cross-reference checks over a whole bot (part of `dialogs.loader`).

What a single file cannot tell: a slot, flow, intent or step referenced but never defined, a
template reading an unknown name, a step nothing can reach, an intent nobody answers, and an
example claimed by two intents (the classifier could only guess between them).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

from dialogs.flows import (
    TERMINAL,
    Action,
    Ask,
    Branch,
    ButtonSpec,
    Faq,
    Flow,
    Goto,
    Intent,
    Jump,
    Say,
    Set,
    Settings,
    Slot,
    Step,
    Text,
    Where,
)
from dialogs.payloads import intent_with_values
from dialogs.templates import CONTEXT_NAMES, references
from dialogs.yamlsource import Problems

#: Jinja2 globals and tests a template may use besides our context.
JINJA_NAMES = frozenset({"range", "dict", "lipsum", "cycler", "joiner", "namespace", "loop"})
#: Payloads the engine itself understands (the human offer's buttons).
BUILTIN_PAYLOADS = frozenset({"/handoff_accept", "/handoff_decline"})
_PUNCT = re.compile(r"[\s\W_]+")


def check_bot(
    *,
    problems: Problems,
    settings: Settings,
    slots: Mapping[str, Slot],
    intents: Mapping[str, Intent],
    faqs: Mapping[str, Faq],
    flows: Mapping[str, Flow],
    triggers: Mapping[str, str],
    example_lines: Mapping[str, list[tuple[Where, str]]],
    broken: frozenset[str] = frozenset(),
) -> None:
    """Report every cross-reference problem. `broken` are intents whose FAQ or flow was
    written but did not parse (already reported): they are not also "unanswered"."""
    for text in settings.messages.values():
        _check_text(problems, text, slots)
    for slot in slots.values():
        for said in (slot.invalid, slot.help):
            if said is not None:
                _check_text(problems, said, slots)
    for faq in faqs.values():
        if faq.intent in triggers:
            problems.add(
                faq.where,
                f"intent {faq.intent!r} has a FAQ answer and also starts flow "
                f"{triggers[faq.intent]!r}; keep one",
            )
        _check_text(problems, faq.answer, slots)
        _check_buttons(problems, faq.buttons, faq.where, intents)
    jumped_to = {s.flow for f in flows.values() for s in f.steps if isinstance(s, Jump)}
    for flow in flows.values():
        for intent in flow.intents:
            if intent not in intents:
                problems.add(flow.where, f"flow {flow.name!r}: unknown intent {intent!r}")
        if not flow.intents and flow.name not in jumped_to:
            problems.add(
                flow.where, f"flow {flow.name!r} is never started (no intent, no flow jumps to it)"
            )
        _check_flow(problems, flow, slots, flows, intents)
    for name, defined in intents.items():
        # `out_of_scope` lists lines the bot must not answer: it calibrates, nobody answers it.
        if (
            name not in faqs
            and name not in triggers
            and name not in broken
            and name != "out_of_scope"
        ):
            problems.add(defined.where, f"intent {name!r} has no FAQ answer and starts no flow")
    _check_examples(problems, example_lines)


def _check_flow(
    problems: Problems,
    flow: Flow,
    slots: Mapping[str, Slot],
    flows: Mapping[str, Flow],
    intents: Mapping[str, Intent],
) -> None:
    ids = {step.id for step in flow.steps}
    dangling = False

    def target(step: Step, what: str, step_id: str) -> None:
        nonlocal dangling
        if step_id and step_id not in ids:
            dangling = True
            close = difflib.get_close_matches(step_id, sorted(ids), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.add(step.where, f"{what}: no step {step_id!r} in flow {flow.name!r}{hint}")

    for step in flow.steps:
        match step:
            case Say():
                _check_text(problems, step.text, slots)
                _check_buttons(problems, step.buttons, step.where, intents)
            case Ask():
                if step.slot not in slots:
                    problems.add(step.where, f"ask: unknown slot {step.slot!r}")
                _check_text(problems, step.prompt, slots)
                _check_buttons(problems, step.buttons, step.where, intents)
                target(step, "on_fail", step.on_fail)
            case Branch():
                _check_names(problems, references(step.source, expression=True), step.where, slots)
                target(step, "then", step.then)
                target(step, "else", step.otherwise)
            case Goto():
                target(step, "goto", step.target)
            case Jump():
                if step.flow not in flows:
                    problems.add(step.where, f"flow: unknown flow {step.flow!r}")
            case Action():
                target(step, "on_error", step.on_error)
            case Set():
                for name in step.values:
                    if name not in slots:
                        problems.add(step.where, f"set: unknown slot {name!r}")
    if dangling:
        # Which steps are unreachable depends on where the broken jump was meant to go:
        # reporting them now would bury the one real mistake under knock-on errors.
        return
    for position in sorted(set(range(len(flow.steps))) - _reachable(flow)):
        step = flow.steps[position]
        problems.add(
            step.where,
            f"unreachable step {step.id!r} in flow {flow.name!r} "
            "(it follows a goto/flow/handoff/end and no step jumps to it)",
        )


def _reachable(flow: Flow) -> set[int]:
    seen: set[int] = set()
    todo = [0] if flow.steps else []
    while todo:
        position = todo.pop()
        if position in seen or position >= len(flow.steps):
            continue
        seen.add(position)
        step = flow.steps[position]
        if not isinstance(step, TERMINAL):
            todo.append(position + 1)
        for step_id in _jumps(step):
            if (found := flow.index(step_id)) is not None:
                todo.append(found)
    return seen


def _jumps(step: Step) -> Iterable[str]:
    match step:
        case Branch():
            return (step.then, step.otherwise)
        case Ask():
            return (step.on_fail,)
        case Action():
            return (step.on_error,)
        case Goto():
            return (step.target,)
    return ()


def _check_text(problems: Problems, text: Text, slots: Mapping[str, Slot]) -> None:
    for source in text.sources.values():
        _check_names(problems, references(source), text.where, slots)


def _check_names(
    problems: Problems, refs: Iterable[tuple[str, str]], where: Where, slots: Mapping[str, Slot]
) -> None:
    for name, attribute in refs:
        if name == "slots" and attribute and attribute not in slots:
            problems.add(where, f"template: unknown slot {attribute!r}")
        elif name not in CONTEXT_NAMES and name not in JINJA_NAMES:
            problems.add(
                where,
                f"template: unknown name {name!r} (use {', '.join(sorted(CONTEXT_NAMES))})",
            )


def _check_buttons(
    problems: Problems, buttons: Iterable[ButtonSpec], where: Where, intents: Mapping[str, Intent]
) -> None:
    for button in buttons:
        payload = button.payload
        if not payload.startswith("/") or payload in BUILTIN_PAYLOADS:
            continue
        if "{" in payload:  # `/intent{"entity": "value"}` (`dialogs.payloads`)
            if intent_with_values(payload, intents) is None:
                problems.add(
                    where,
                    f"button payload {payload!r}: not /intent{{...}} with a known intent and "
                    'a JSON object of values, e.g. /delivery_problem{"order_number": "20261003"}',
                )
        elif payload[1:] not in intents:
            problems.add(where, f"button payload {payload!r}: unknown intent {payload[1:]!r}")


def _check_examples(
    problems: Problems, example_lines: Mapping[str, list[tuple[Where, str]]]
) -> None:
    """The same utterance (ignoring case, spaces and punctuation) under two intents."""
    owners: dict[str, tuple[str, Where]] = {}
    for intent, lines in example_lines.items():
        for where, example in lines:
            key = _PUNCT.sub(" ", example.casefold()).strip()
            if not key:
                continue
            if key in owners:
                other, first = owners[key]
                if other == intent:
                    problems.add(where, f"example {example!r} is repeated in intent {intent!r}")
                else:
                    problems.add(
                        where,
                        f"example {example!r} of intent {intent!r} is already an example of "
                        f"intent {other!r} ({first})",
                    )
                continue
            owners[key] = (intent, where)
