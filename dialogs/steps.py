"""Parsing a flow's steps from YAML (part of `dialogs.loader`).

A step is a mapping with exactly one *kind* key and a few options:

    say: <text>            [buttons]
    ask: <slot>            prompt: <text>  [buttons] [on_fail: <step id>] [wait: <text>]
    branch: <condition>    [then: <step id>] [else: <step id>]
    goto: <step id>
    flow: <flow name>
    action: <action name>  [on_error: <step id>]
    tag: <tag>
    set: {<slot>: <value>, ...}
    handoff: {reason, skill, priority, say}
    end: true              (or the bare string `end`)

Every step may have an `id`; steps without one are numbered from 1 within their flow.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING

from jinja2 import TemplateSyntaxError

from dialogs.flows import (
    Action,
    Ask,
    Branch,
    End,
    Flow,
    Goto,
    Handoff,
    Jump,
    Say,
    Set,
    Step,
    Tag,
    Where,
)
from dialogs.templates import compile_condition
from dialogs.yamlsource import Node

if TYPE_CHECKING:
    from dialogs.loader import Reader

KINDS: dict[str, tuple[str, ...]] = {
    "say": ("buttons",),
    "ask": ("prompt", "buttons", "on_fail", "wait"),
    "branch": ("then", "else"),
    "goto": (),
    "flow": (),
    "action": ("on_error",),
    "tag": (),
    "set": (),
    "handoff": (),
    "end": (),
}
PRIORITIES = ("P1", "P2", "P3")
FLOW_KEYS = ("intent", "intents", "title", "timeout", "steps")


def parse_flow(reader: Reader, name: str, node: Node) -> Flow | None:
    problems = reader.problems
    if not node.is_map:
        problems.add(node.where, f"flow {name!r} must be a mapping with steps")
        return None
    for key, child in node.items():
        if key not in FLOW_KEYS:
            problems.add(child.where, f"unknown flow setting {key!r}")
    intents: list[str] = []
    for key in ("intent", "intents"):
        if (found := node.get(key)) is not None:
            values = found.value if found.is_list else [found.value]
            intents.extend(str(v) for v in values)
    steps_node = node.get("steps")
    if steps_node is None or not steps_node.is_list or not steps_node.value:
        problems.add(node.where, f"flow {name!r} needs a non-empty list of steps")
        return None
    steps: list[Step] = []
    ids: dict[str, Where] = {}
    unnamed_asks: list[int] = []
    for number, item in enumerate(steps_node.elements(), start=1):
        step = parse_step(reader, item, default_id=str(number))
        if step is None:
            continue
        if step.id in ids:
            problems.add(step.where, f"step id {step.id!r} is already used at {ids[step.id]}")
        ids.setdefault(step.id, step.where)
        if isinstance(step, Ask) and item.is_map and item.get("id") is None:
            unnamed_asks.append(len(steps))
        steps.append(step)
    _name_asks_by_slot(steps, unnamed_asks, ids)
    title = node.get("title")
    timeout = node.get("timeout")
    return Flow(
        name=name,
        where=node.where,
        intents=tuple(intents),
        steps=tuple(steps),
        title=reader.label(title) if title is not None else None,
        timeout=reader.number(timeout, None, 1.0, 10**7) if timeout is not None else None,
    )


def parse_step(reader: Reader, node: Node, *, default_id: str) -> Step | None:
    problems = reader.problems
    if node.value == "end":
        return End(id=default_id, where=node.where)
    if not node.is_map:
        problems.add(node.where, "a step must be a mapping such as `say: ...` or `ask: slot`")
        return None
    kinds = [key for key in node.names() if key in KINDS]
    if len(kinds) != 1:
        found = ", ".join(kinds) or "none"
        problems.add(
            node.where,
            f"a step needs exactly one of {', '.join(KINDS)} (found {found})",
        )
        return None
    kind = kinds[0]
    for key, child in node.items():
        if key not in (kind, "id", *KINDS[kind]):
            problems.add(child.where, f"unknown option {key!r} for a {kind} step")
    value = node.get(kind)
    assert value is not None
    id_node = node.get("id")
    step_id = str(id_node.value) if id_node is not None else default_id
    where = value.where

    def option(key: str) -> str:
        child = node.get(key)
        return "" if child is None or child.value is None else str(child.value)

    match kind:
        case "say":
            text = reader.text(value)
            if text is None:
                return None
            return Say(
                id=step_id, where=where, text=text, buttons=reader.buttons(node.get("buttons"))
            )
        case "ask":
            prompt_node = node.get("prompt")
            if prompt_node is None:
                problems.add(where, f"ask {value.value!r} needs a prompt")
                return None
            prompt = reader.text(prompt_node)
            if prompt is None:
                return None
            wait_node = node.get("wait")
            return Ask(
                id=step_id,
                where=where,
                slot=str(value.value),
                prompt=prompt,
                buttons=reader.buttons(node.get("buttons")),
                on_fail=option("on_fail"),
                wait=reader.text(wait_node) if wait_node is not None else None,
            )
        case "branch":
            source = str(value.value)
            try:
                condition = compile_condition(source)
            except TemplateSyntaxError as error:
                problems.add(where, f"condition syntax: {error.message}")
                return None
            return Branch(
                id=step_id,
                where=where,
                condition=condition,
                source=source,
                then=option("then"),
                otherwise=option("else"),
            )
        case "goto":
            return Goto(id=step_id, where=where, target=str(value.value))
        case "flow":
            return Jump(id=step_id, where=where, flow=str(value.value))
        case "action":
            return Action(
                id=step_id, where=where, action=str(value.value), on_error=option("on_error")
            )
        case "tag":
            return Tag(id=step_id, where=where, tag=str(value.value))
        case "set":
            if not value.is_map or not value.value:
                problems.add(where, "set needs a mapping of slot → value")
                return None
            values = {name: "" if v.value is None else str(v.value) for name, v in value.items()}
            return Set(id=step_id, where=where, values=values)
        case "handoff":
            return _handoff(reader, value, step_id)
        case _:
            return End(id=step_id, where=where)


def _handoff(reader: Reader, value: Node, step_id: str) -> Handoff | None:
    if isinstance(value.value, str):
        return Handoff(id=step_id, where=value.where, reason=value.value)
    if not value.is_map:
        reader.problems.add(value.where, "handoff needs a reason (or {reason, skill, priority})")
        return None
    for key, child in value.items():
        if key not in ("reason", "skill", "priority", "say"):
            reader.problems.add(child.where, f"unknown handoff option {key!r}")
    reason = value.value.get("reason")
    if not reason:
        reader.problems.add(value.where, "handoff needs a reason")
        return None
    priority = str(value.value.get("priority", "P3")).upper()
    if priority not in PRIORITIES:
        where = (value.get("priority") or value).where
        reader.problems.add(where, f"priority must be one of {', '.join(PRIORITIES)}")
        return None
    say = value.get("say")
    return Handoff(
        id=step_id,
        where=value.where,
        reason=str(reason),
        skill=str(value.value.get("skill") or ""),
        priority=priority,
        text=reader.text(say) if say is not None else None,
    )


def _name_asks_by_slot(steps: list[Step], unnamed: list[int], ids: dict[str, Where]) -> None:
    """A conversation waits at an ask step and is saved there by the step's id. An unnamed
    ask is called after its slot (`ask:<slot>`) rather than its position, so inserting a
    step above it in a hot reload does not move waiting conversations to another step."""
    asked = Counter(step.slot for step in steps if isinstance(step, Ask))
    for position in unnamed:
        step = steps[position]
        assert isinstance(step, Ask)
        name = f"ask:{step.slot}"
        if asked[step.slot] == 1 and name not in ids:
            steps[position] = replace(step, id=name)
            ids[name] = step.where
