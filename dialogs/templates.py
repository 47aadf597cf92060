"""Jinja2, sandboxed: the only place where operator-written templates are compiled or run.

Only operators' YAML is ever compiled. A customer's text reaches a template solely as a *value*
(a slot, `latest_message`), and Jinja2 never re-evaluates values, so `{{ 7*7 }}` typed by a
customer stays those seven characters. Rendering failures (a sandbox violation, a division by
zero in a condition) are logged and answered with a fallback, never raised into the turn.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

from jinja2 import Template, TemplateError, nodes
from jinja2.environment import TemplateExpression
from jinja2.sandbox import ImmutableSandboxedEnvironment

log = logging.getLogger("frontdesk.dialogs")

#: Names a template may use; anything else is reported by `frontdesk dialogs check`.
CONTEXT_NAMES = frozenset(
    # `article` (title, passage, link) is set in a knowledge-base answer (`kb_answer`).
    {"slots", "customer", "conversation", "lang", "latest_message", "answer", "article"}
)


def _finalize(value: Any) -> Any:
    # An unset slot is None; it should print as nothing, not as "None".
    return "" if value is None else value


ENV = ImmutableSandboxedEnvironment(
    autoescape=False,  # chat text, not HTML: each connector escapes for its own medium
    finalize=_finalize,
    keep_trailing_newline=False,
)


# What a template without a single expression or tag renders to (most FAQ answers are
# plain text): rendering it anyway builds a Jinja context per reply for the same words.
_CONSTANT: weakref.WeakKeyDictionary[Template, str] = weakref.WeakKeyDictionary()


def compile_template(source: str) -> Template:
    """Compile operator text; raises `jinja2.TemplateSyntaxError` with a `lineno`."""
    template = ENV.from_string(source)
    if _is_plain_text(source):
        with contextlib.suppress(TemplateError):
            _CONSTANT[template] = template.render().strip()
    return template


def _is_plain_text(source: str) -> bool:
    """Whether the template is only text (and comments): no expression or tag in it."""
    return all(
        isinstance(node, nodes.Output)
        and all(isinstance(part, nodes.TemplateData) for part in node.nodes)
        for node in ENV.parse(source).body
    )


def compile_condition(source: str) -> TemplateExpression:
    """Compile a branch condition such as ``slots.light_on == 'yes'``."""
    return ENV.compile_expression(source, undefined_to_none=True)


def references(source: str, *, expression: bool = False) -> Iterator[tuple[str, str]]:
    """(`name`, `attribute`) pairs a template reads, e.g. ``("slots", "order_id")``.

    Used by the checker to find unknown slots and names; `attribute` is "" for a bare name.
    """
    parser_source = "{{ " + source + " }}" if expression else source
    tree = ENV.parse(parser_source)
    assigned = {target.name for target in tree.find_all(nodes.Name) if target.ctx == "store"}
    seen_inner: set[int] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr | nodes.Getitem)
        inner = node.node
        if isinstance(inner, nodes.Name) and inner.ctx == "load":
            seen_inner.add(id(inner))
            if isinstance(node, nodes.Getattr):
                yield inner.name, node.attr
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                yield inner.name, node.arg.value
            else:
                yield inner.name, ""
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and id(name) not in seen_inner and name.name not in assigned:
            yield name.name, ""


def render(template: Template, context: Mapping[str, Any]) -> str | None:
    """Render, or None (logged) when the template fails at run time."""
    constant = _CONSTANT.get(template)
    if constant is not None:
        return constant
    try:
        return template.render(context).strip()
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as error:
        log.error("template failed: %s: %s", type(error).__name__, error)
        return None


def evaluate(condition: TemplateExpression, context: Mapping[str, Any]) -> bool | None:
    """A branch condition's truth, or None (logged) when it fails at run time."""
    try:
        return bool(condition(**context))
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as error:
        log.error("condition failed: %s: %s", type(error).__name__, error)
        return None
