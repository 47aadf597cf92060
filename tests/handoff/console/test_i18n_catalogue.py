"""Every word the console shows exists in English and in Chinese: each catalogue entry has
both; every key the templates and scripts ask for exists (and, for the scripts, is handed to
them); no English is written straight into a template or a script."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import jinja2
from jinja2 import nodes

from handoff.console.accounts import Role
from handoff.console.i18n import SCRIPT_KEYS, STRINGS, script_strings, translator
from handoff.console.state import duration
from handoff.queue import Presence
from hub.model import ConversationStatus

CONSOLE = Path(__file__).parents[3] / "handoff" / "console"
TEMPLATES = sorted((CONSOLE / "templates").glob("*.html"))
SCRIPTS = sorted((CONSOLE / "static").glob("*.js"))
CJK = re.compile(r"[\u4e00-\u9fff]")
# t("key") and t("prefix." + value) in the scripts.
SCRIPT_CALL = re.compile(r"""\bt\(\s*(["'`])([^"'`]*)\1\s*(\+)?""")
# Keys reached from a value (`t("role." ~ me.role)`): every value the value can take.
from handoff.console.reports_view import REPORTS  # noqa: E402
from handoff.reports.followups import COLUMNS as FOLLOWUP_COLUMNS  # noqa: E402
from handoff.reports.staffing import FORECAST_METHODS  # noqa: E402

DYNAMIC = {
    "role.": [r.value for r in Role],
    "presence.": [p.value for p in Presence],
    "sla.": ["pickup", "resolve"],  # the two clocks of `views.sla_state`
    "report.": list(REPORTS),  # the report pages' tabs
    "report.method.": list(FORECAST_METHODS),
    "followup.": list(FOLLOWUP_COLUMNS),  # the follow-up report's columns and outcomes
    "language.": ["en", "zh"],
    "qa.reason.": ["percent", "complaint", "low_csat", "sla_breached"],
    "qa.who.": ["customer", "agent", "bot"],
    "contact.merge.": ["same_mailbox", "crm"],  # the reasons of `hub.contacts` suggestions
    "conversation.": [s.value for s in ConversationStatus],  # the read-only view's status
}
LOGIN_ERRORS = ("login.failed", "login.throttled", "login.expired")  # `t(error)` in login.html


def test_every_entry_is_in_both_languages() -> None:
    for key, entry in STRINGS.items():
        assert set(entry) == {"en", "zh"}, key
        assert entry["en"].strip() and entry["zh"].strip(), key
        # The language switch names the other language, in that language.
        assert not CJK.search(entry["en"]) or key == "lang.switch", key
        if key != "lang.switch":
            assert CJK.search(entry["zh"]) or (entry["zh"].isascii() and entry["zh"].isupper()), key


def loop_values(tree: nodes.Template) -> Iterator[tuple[str, list[str]]]:
    """`{% for a, b in (("x", "y"), …) %}`: each loop name with the literal values it takes."""
    for loop in tree.find_all(nodes.For):
        if not isinstance(loop.iter, nodes.Tuple):
            continue
        rows = [row.as_const() for row in loop.iter.items]
        names = loop.target.items if isinstance(loop.target, nodes.Tuple) else [loop.target]
        for column, name in enumerate(names):
            if isinstance(name, nodes.Name):
                values = [row[column] if isinstance(row, tuple) else row for row in rows]
                yield name.name, [str(v) for v in values]


def template_keys(path: Path) -> Iterator[str]:
    """The keys a template asks `t` for; a prefix + variable expands to every value."""
    environment = jinja2.Environment()
    tree = environment.parse(path.read_text(encoding="utf-8"))
    looped = dict(loop_values(tree))
    for call in tree.find_all(nodes.Call):
        if not (isinstance(call.node, nodes.Name) and call.node.name == "t"):
            continue
        (argument,) = call.args
        if isinstance(argument, nodes.Const):
            yield str(argument.value)
        elif isinstance(argument, nodes.Concat) and isinstance(argument.nodes[0], nodes.Const):
            yield from (str(argument.nodes[0].value) + v for v in DYNAMIC[argument.nodes[0].value])
        elif isinstance(argument, nodes.Name) and argument.name == "error":
            yield from LOGIN_ERRORS
        elif isinstance(argument, nodes.Name) and argument.name in looped:
            yield from looped[argument.name]
        else:
            raise AssertionError(f"{path.name}: t() of an expression this test cannot expand")


def script_keys(path: Path) -> Iterator[str]:
    for match in SCRIPT_CALL.finditer(path.read_text(encoding="utf-8")):
        key = match.group(2)
        yield from (key + v for v in DYNAMIC[key]) if match.group(3) else (key,)


def test_templates_ask_only_for_keys_that_exist() -> None:
    asked = {key: path.name for path in TEMPLATES for key in template_keys(path)}
    assert asked, "the templates were not read"
    assert {k: where for k, where in asked.items() if k not in STRINGS} == {}


def test_scripts_ask_only_for_keys_they_are_given() -> None:
    asked = {key: path.name for path in SCRIPTS for key in script_keys(path)}
    assert asked, "the scripts were not read"
    assert {k: where for k, where in asked.items() if k not in SCRIPT_KEYS} == {}
    assert set(SCRIPT_KEYS) <= set(STRINGS)
    for language in ("en", "zh"):
        given = script_strings(language)
        assert all(given[k] == STRINGS[k][language] for k in SCRIPT_KEYS)


def visible_text(template: str) -> Iterator[str]:
    """Text between tags and in `aria-label`/`placeholder`/`title` attributes, with Jinja
    expressions and statements taken out: what is left was written straight in."""
    bare = re.sub(r"{[{%#].*?[}%#]}", " ", template, flags=re.S)
    bare = re.sub(r"<script\b.*?</script>", " ", bare, flags=re.S)
    yield from re.findall(r">([^<>]+)<", bare)
    yield from re.findall(r'(?:aria-label|placeholder|title)="([^"]*)"', bare)


def test_no_words_are_written_straight_into_templates() -> None:
    for path in TEMPLATES:
        words = [
            text.strip()
            for text in visible_text(path.read_text(encoding="utf-8"))
            if re.search(r"[A-Za-z]{2,}", text) or CJK.search(text)
        ]
        assert words == [], path.name


def test_no_words_are_written_straight_into_scripts() -> None:
    """Strings a script puts on screen (`text:`, labels, placeholders, titles, toasts)."""
    shown = re.compile(
        r"""(?:\btext:|"aria-label":|placeholder:|title:|toast\()\s*(["'])([^"'$\n]*)\1"""
    )
    for path in SCRIPTS:
        words = [
            m.group(2)
            for m in shown.finditer(path.read_text(encoding="utf-8"))
            if re.search(r"[A-Za-z]{2,}", m.group(2)) or CJK.search(m.group(2))
        ]
        assert words == [], path.name


def test_template_literals_in_scripts_hold_no_words() -> None:
    """`${h}h ${m}m` wrote English units into the page."""
    for path in SCRIPTS:
        words = []
        for literal in re.findall(r"`([^`]*)`", path.read_text(encoding="utf-8")):
            bare = re.sub(r"\$\{[^}]*\}", "", literal)
            # Paths, CSS selectors, ids and class names ("sla sla-", "-count") are code.
            if re.fullmatch(r".*/.*|\[.*\]|[\w -]*-[\w-]*", bare):
                continue
            if re.search(r"[A-Za-z]", bare) or CJK.search(bare):
                words.append(literal)
        assert words == [], path.name


def test_durations_and_sla_clocks_read_in_both_languages() -> None:
    en, zh = script_strings("en"), script_strings("zh")
    assert (en["unit.h"], en["unit.m"], en["unit.s"]) == ("h", "m", "s")
    assert (zh["unit.h"], zh["unit.m"], zh["unit.s"]) == ("小时", "分", "秒")
    assert (zh["sla.pickup"], zh["sla.resolve"]) == ("接入时限", "解决时限")


def test_dashboard_durations_use_the_catalogue_units() -> None:
    assert duration(3725, translator("zh")) == "1小时 2分"
    assert duration(95, translator("zh")) == "1分 35秒"
    assert duration(95) == duration(95, translator("en")) == "1m 35s"


def test_the_translator_falls_back_to_english_and_never_to_nothing() -> None:
    assert translator("zh")("take") == "接手"
    assert translator("en")("take") == "Take"
    assert translator("fr")("take") == "Take"
