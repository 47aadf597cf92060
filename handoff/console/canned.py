"""Canned responses: Jinja2 templates that operators keep in `config/canned/`.

One file per response and language: `refund_policy.en.j2`, `refund_policy.zh.j2`. The
first line may be a title comment, `{# Refund policy #}`. Templates render in a sandbox
(operators' files must not reach Python internals) with `customer`, `agent` and
`conversation` values, as plain text: what the agent sends is text, never markup.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

log = logging.getLogger("frontdesk.console.canned")

_NAME = re.compile(r"^(?P<name>[A-Za-z0-9_-]+)\.(?P<lang>[a-z]{2})\.j2$")
_TITLE = re.compile(r"^\{#\s*(?P<title>.*?)\s*#\}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Canned:
    name: str
    title: str
    text: str


class CannedResponses:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.env = SandboxedEnvironment(
            loader=jinja2.FileSystemLoader(self.path),
            autoescape=False,  # the result is plain text for a chat or an email body
            undefined=jinja2.ChainableUndefined,  # a missing name renders empty
            keep_trailing_newline=False,
        )

    def names(self, language: str) -> dict[str, str]:
        """name → file for the language (English when the language has none)."""
        found: dict[str, dict[str, str]] = {}
        if self.path.is_dir():
            for file in sorted(self.path.iterdir()):
                match = _NAME.match(file.name)
                if match:
                    found.setdefault(match["name"], {})[match["lang"]] = file.name
        return {
            name: langs.get(language) or langs.get("en") or next(iter(langs.values()))
            for name, langs in found.items()
        }

    def render(self, language: str, values: Mapping[str, Any]) -> list[Canned]:
        """Every response for the language; a broken template is logged and left out."""
        result = []
        for name, file in self.names(language).items():
            try:
                source = (self.path / file).read_text(encoding="utf-8")
                text = self.env.get_template(file).render(**values).strip()
            except (OSError, jinja2.TemplateError) as error:
                log.warning("canned response %s is broken: %s", file, error)
                continue
            title = _TITLE.match(source)
            result.append(Canned(name=name, title=title["title"] if title else name, text=text))
        return result
