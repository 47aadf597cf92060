"""Conversation tests written in YAML, like Rasa's test stories, run against the real engine.

A file under `<dialogs>/tests/` holds a list of tests; each is a name and turns::

    tests:
      - name: order status, shipped
        steps:
          - user: where is my order
            intent: check_order          # the intent understood
            bot: order number            # a regex searched in the replies (case-insensitive)
          - user: "20261001"
            bot: [has shipped]           # a list: one regex per reply, in order
            slots: {order_status: shipped}
            flow: ""                     # the flow the bot is in afterwards ("" = none)
          - user: I want to complain
            buttons: []                  # button titles across the replies, exactly
            handoff: {reason: complaint, priority: P1}   # or true / false
          - wait: 3600                   # seconds pass (flow timeouts)
          - press: "Yes"                 # taps the button titled "Yes" of the latest buttons
          - press: {title: "No", back: 1}   # …of the buttons shown one question earlier

Every expectation is optional. A failure shows what was expected next to what happened.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dialogs.engine import DialogEngine
from dialogs.flows import Where
from dialogs.yamlsource import Node, Problems, read
from hub.abc import Turn
from hub.model import Button, Conversation, ConversationStatus, Customer, Event, Inbound

EXPECTATIONS = ("bot", "intent", "slots", "flow", "buttons", "handoff", "status")
START = 1_800_000_000.0  # a fixed clock: tests must not depend on today


@dataclass(frozen=True, slots=True, kw_only=True)
class TestStep:
    where: Where
    user: str | None = None
    press: str | None = None  # a button title
    back: int = 0  # which buttons: 0 the latest shown, 1 those before, …
    wait: float = 0.0
    expect: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationTest:
    name: str
    where: Where
    steps: tuple[TestStep, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TestResult:
    test: ConversationTest
    failures: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failures


def test_files(path: Path) -> list[Path]:
    """`<dialogs>/tests/*.yml`, or the files/folder given directly."""
    folder = path / "tests" if (path / "tests").is_dir() else path
    if folder.is_file():
        return [folder]
    return sorted(p for p in folder.glob("*.y*ml") if p.is_file())


def load_tests(files: list[Path], problems: Problems) -> list[ConversationTest]:
    tests = []
    for file in files:
        root = read(file, problems)
        if root is None:
            continue
        section = root.get("tests") if root.is_map else None
        if section is None or not section.is_list:
            problems.add(root.where, "a conversation test file needs a `tests:` list")
            continue
        for item in section.elements():
            test = _test(item, problems)
            if test is not None:
                tests.append(test)
    return tests


def _test(node: Node, problems: Problems) -> ConversationTest | None:
    name, steps = node.get("name"), node.get("steps")
    if name is None or steps is None or not steps.is_list:
        problems.add(node.where, "a test needs a name and a list of steps")
        return None
    parsed = []
    for item in steps.elements():
        if not item.is_map or not {"user", "wait", "press"} & set(item.names()):
            problems.add(
                item.where,
                "a test step needs `user: <text>`, `press: <button title>` or `wait: <seconds>`",
            )
            continue
        unknown = set(item.names()) - {"user", "wait", "press", *EXPECTATIONS}
        for key in sorted(unknown):
            problems.add(
                item.where, f"unknown test key {key!r} (expected {', '.join(EXPECTATIONS)})"
            )
        user = item.value.get("user")
        press = item.value.get("press")
        back = 0
        if isinstance(press, Mapping):
            back = int(press.get("back", 0) or 0)
            press = press.get("title")
        parsed.append(
            TestStep(
                where=item.where,
                user=None if user is None else str(user),
                press=None if press is None else str(press),
                back=back,
                wait=float(item.value.get("wait", 0) or 0),
                expect={k: item.value[k] for k in EXPECTATIONS if k in item.value},
            )
        )
    return ConversationTest(name=str(name.value), where=node.where, steps=tuple(parsed))


async def run_test(engine: DialogEngine, test: ConversationTest, *, number: int) -> TestResult:
    """Play one test against `engine`, as the hub would, with a fresh conversation."""
    now = START
    state: dict[str, Any] = {}
    status = ConversationStatus.BOT
    customer = Customer(id=f"test-customer-{number}", identities=(f"test:{number}",))
    failures: list[str] = []
    shown: list[tuple[Button, ...]] = []  # the buttons of each reply that had some
    for index, step in enumerate(test.steps):
        now += step.wait or 1.0
        text = step.user
        if step.press is not None:
            text = _payload(shown, step.press, step.back)
            if text is None:
                failures.append(f"{step.where}: no button {step.press!r} to press")
                break
        if text is None:
            continue
        if status != ConversationStatus.BOT:
            failures.append(f"{step.where}: the conversation was already handed off")
            break
        conversation = Conversation(
            id=f"test-{number}",
            customer_id=customer.id,
            status=status,
            channel="test",
            address="tester",
            state=state,
        )
        inbound = Inbound(channel="test", sender="tester", message_id=str(index), text=text)
        event = Event(
            conversation_id=conversation.id, seq=index + 1, type="message.in", at=now, data={}
        )
        result = await engine.handle(
            Turn(
                conversation=conversation, customer=customer, event=event, inbound=inbound, now=now
            )
        )
        state = dict(result.state or state)
        status = result.status or status
        shown.extend(reply.buttons for reply in result.replies if reply.buttons)
        failures.extend(_compare(step, result, state))
    return TestResult(test=test, failures=tuple(failures))


def _payload(shown: list[tuple[Button, ...]], title: str, back: int) -> str | None:
    """What tapping the button titled `title` sends, `back` sets of buttons ago."""
    if back >= len(shown):
        return None
    buttons = shown[-1 - back]
    return next((b.payload for b in buttons if b.title == title), None)


def _compare(step: TestStep, result: Any, state: dict[str, Any]) -> Iterator[str]:
    expect = step.expect
    replies = [reply.text for reply in result.replies]
    turn: Mapping[str, Any] = next((e.data for e in result.events if e.type == "bot.turn"), {})
    handoff = next((e.data for e in result.events if e.type == "handoff.requested"), None)
    said = f"press {step.press!r}" if step.press is not None else f"user {step.user!r}"
    where = f"{step.where}: {said}"
    if "bot" in expect:
        wanted = expect["bot"]
        patterns = [str(p) for p in wanted] if isinstance(wanted, list) else [str(wanted)]
        if isinstance(wanted, list):
            ok = len(patterns) == len(replies) and all(
                re.search(p, r, re.IGNORECASE | re.DOTALL)
                for p, r in zip(patterns, replies, strict=False)
            )
        else:
            ok = re.search(patterns[0], "\n".join(replies), re.IGNORECASE | re.DOTALL) is not None
        if not ok:
            yield f"{where}: replies differ\n" + _diff(patterns, replies)
    if "intent" in expect and turn.get("intent") != expect["intent"]:
        yield (
            f"{where}: intent {turn.get('intent')!r} "
            f"(confidence {turn.get('confidence')}), expected {expect['intent']!r}"
        )
    for name, value in dict(expect.get("slots") or {}).items():
        actual = state.get("slots", {}).get(name)
        if str(actual) != str(value) if value is not None else actual is not None:
            yield f"{where}: slot {name} is {actual!r}, expected {value!r}"
    if "flow" in expect and state.get("flow", "") != (expect["flow"] or ""):
        yield f"{where}: in flow {state.get('flow')!r}, expected {expect['flow']!r}"
    if "buttons" in expect:
        titles = [b.title for reply in result.replies for b in reply.buttons]
        wanted_titles = [str(t) for t in expect["buttons"] or []]
        if titles != wanted_titles:
            yield f"{where}: buttons differ\n" + _diff(wanted_titles, titles)
    if "handoff" in expect:
        yield from _compare_handoff(where, expect["handoff"], handoff)
    if "status" in expect:
        status = result.status.value if result.status else "bot"
        if status != expect["status"]:
            yield f"{where}: status {status!r}, expected {expect['status']!r}"


def _compare_handoff(where: str, wanted: Any, handoff: Any) -> Iterator[str]:
    if wanted is False or wanted is None:
        if handoff is not None:
            yield f"{where}: handed off ({handoff.get('reason')}), expected no hand-off"
        return
    if handoff is None:
        yield f"{where}: no hand-off, expected one"
        return
    for key, value in wanted.items() if isinstance(wanted, dict) else ():
        if str(handoff.get(key)) != str(value):
            yield f"{where}: hand-off {key} is {handoff.get(key)!r}, expected {value!r}"


def _diff(expected: list[str], actual: list[str]) -> str:
    lines = difflib.unified_diff(expected, actual, "expected", "actual", lineterm="", n=5)
    return "\n".join("    " + line for line in lines)


def report(results: list[TestResult]) -> str:
    """The pass/fail report `frontdesk dialogs test` prints."""
    lines = []
    for result in results:
        mark = "PASS" if result.passed else "FAIL"
        lines.append(f"{mark}  {result.test.name}  ({result.test.where})")
        lines.extend("      " + failure.replace("\n", "\n      ") for failure in result.failures)
    failed = sum(not r.passed for r in results)
    lines.append(f"{len(results) - failed} passed, {failed} failed")
    return "\n".join(lines)
