"""Reading dialog YAML with positions: every value knows its file and line.

`Problems` collects every `file:line: message` found in one pass, so an operator fixes a file
in one go instead of one error per run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from dialogs.flows import Where
from hub import yaml_load
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
    start: int = 0  # the line the value itself starts on, when it is not its key's line

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
        return Node(self.value[key], self._key_where(key), self._value_line(key))

    def items(self) -> Iterator[tuple[str, Node]]:
        if self.is_map:
            for key in self.value:
                yield (
                    str(key),
                    Node(self.value[key], self._key_where(key), self._value_line(key)),
                )

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

    def _value_line(self, key: Any) -> int:
        if isinstance(self.value, CommentedMap):
            try:
                return int(self.value.lc.value(key)[0]) + 1
            except (KeyError, TypeError):
                pass
        return 0

    @property
    def text_offset(self) -> int:
        """Lines between the key and the first line of the text (block scalars start below)."""
        return 1 if isinstance(self.value, LiteralScalarString | FoldedScalarString) else 0

    def text_line(self, lineno: int) -> int:
        """The file line of line `lineno` (1-based) of this text value, as written."""
        start = max(self.start, self.where.line)
        if isinstance(self.value, LiteralScalarString | FoldedScalarString):
            return start + lineno  # the text starts below the `|` or `>`
        return start + lineno - 1

    def block_lines(self) -> list[str]:
        """The lines of a block text as written in the file (a folded `>` text is joined
        into one line when read, which would hide where inside it something is)."""
        try:
            lines = Path(self.where.path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return []
        body: list[str] = []
        indent = -1
        for line in lines[max(self.start, self.where.line) :]:
            if line.strip():
                width = len(line) - len(line.lstrip())
                if indent < 0:
                    indent = width
                elif width < indent:
                    break
            body.append(line[max(indent, 0) :])
        return body


def dialog_files(path: Path) -> list[Path]:
    """The YAML files of a bot: `path` itself, or `*.yml`/`*.yaml` directly inside it
    (subfolders such as `tests/` are not part of the bot)."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())


def explain_syntax(error: MarkedYAMLError, opened: int) -> str:
    """A YAML parser error in an operator's words; the parser's own text is kept last, for
    searching."""
    problem = str(error.problem or "")
    context = str(error.context or "")
    said = f" (YAML: {problem})"
    if "duplicate key" in problem:
        key = problem.split('"')[1] if '"' in problem else "?"
        return f"{key!r} is written twice in the same mapping (first on line {opened}){said}"
    if "tab" in problem or "'\\t'" in problem:
        return f"a tab is used for indentation here; YAML needs spaces{said}"
    if "block end" in problem or ("block mapping" in context and "expected" in problem):
        return (
            "the indentation of this line does not match the lines above it: items of one "
            f"list or mapping must start in the same column{said}"
        )
    if "mapping values are not allowed" in problem:
        return (
            "a ': ' inside a text starts a new key here; put the text in quotes "
            f'("like: this"){said}'
        )
    if "quoted scalar" in context:
        return f"a quoted text that starts on line {opened} is never closed{said}"
    if "flow sequence" in context or "flow mapping" in context:
        bracket = "[ ]" if "sequence" in context else "{ }"
        return (
            f"the {bracket} opened on line {opened} is not closed, or a comma is missing "
            f"between its items{said}"
        )
    if "undefined alias" in problem:
        return f"a *reference names an &anchor that is not defined above it{said}"
    if "could not find expected ':'" in problem:
        return f"a line seems to be missing the ':' after its key{said}"
    return f"YAML syntax: {problem or context or 'not valid YAML'}"


def read(path: Path, problems: Problems) -> Node | None:
    """Parse one file; syntax errors become problems located at the offending line."""
    try:
        data = yaml_load.load(path.read_text(encoding="utf-8"))
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        opened = error.context_mark.line + 1 if error.context_mark is not None else line
        problems.add(Where(path=str(path), line=line), explain_syntax(error, opened))
        return None
    except (OSError, UnicodeDecodeError) as error:
        problems.add(Where(path=str(path), line=1), f"cannot read: {error}")
        return None
    return Node(data, Where(path=str(path), line=1))
