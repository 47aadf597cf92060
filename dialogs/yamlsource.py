"""Reading dialog YAML with positions: every value knows its file and line.

`Problems` collects every `file:line: message` found in one pass, so an operator fixes a file
in one go instead of one error per run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from dialogs.flows import Where
from hub.errors import ConfigError


class DialogsInvalid(ConfigError):
    """The dialog files have problems; `problems` lists every one, located."""

    def __init__(self, problems: list[ConfigError]) -> None:
        self.problems = problems
        first = problems[0].located() if problems else "invalid dialogs"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}")

    def located(self) -> str:
        return "\n".join(problem.located() for problem in self.problems)


@dataclass
class Problems:
    items: list[ConfigError] = field(default_factory=list)

    def add(self, where: Where, message: str) -> None:
        self.items.append(ConfigError(message, path=where.path, line=where.line))

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass(frozen=True, slots=True)
class Node:
    """A YAML value with its position."""

    value: Any
    where: Where

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, Mapping)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    def names(self) -> list[str]:
        return [str(k) for k in self.value] if self.is_map else []

    def get(self, key: str) -> Node | None:
        if not self.is_map or key not in self.value:
            return None
        return Node(self.value[key], self._key_where(key))

    def items(self) -> Iterator[tuple[str, Node]]:
        if self.is_map:
            for key in self.value:
                yield str(key), Node(self.value[key], self._key_where(key))

    def elements(self) -> Iterator[Node]:
        if self.is_list:
            for index, item in enumerate(self.value):
                line = self.where.line
                if isinstance(self.value, CommentedSeq):
                    line = self.value.lc.item(index)[0] + 1
                yield Node(item, Where(path=self.where.path, line=line))

    def _key_where(self, key: Any) -> Where:
        if isinstance(self.value, CommentedMap):
            try:
                return Where(path=self.where.path, line=self.value.lc.key(key)[0] + 1)
            except (KeyError, TypeError):
                pass
        return self.where

    @property
    def text_offset(self) -> int:
        """Lines between the key and the first line of the text (block scalars start below)."""
        return 1 if isinstance(self.value, LiteralScalarString | FoldedScalarString) else 0


def dialog_files(path: Path) -> list[Path]:
    """The YAML files of a bot: `path` itself, or `*.yml`/`*.yaml` directly inside it
    (subfolders such as `tests/` are not part of the bot)."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())


def read(path: Path, problems: Problems) -> Node | None:
    """Parse one file; syntax errors become problems located at the offending line."""
    try:
        data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        problems.add(Where(path=str(path), line=line), f"YAML syntax: {error.problem}")
        return None
    except (OSError, UnicodeDecodeError) as error:
        problems.add(Where(path=str(path), line=1), f"cannot read: {error}")
        return None
    return Node(data, Where(path=str(path), line=1))
