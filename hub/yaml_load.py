"""ruamel.yaml's round-trip load, parsed by libyaml.

Operators' YAML (the dialogs, `frontdesk.yaml`, `handoff.yaml` …) is read with ruamel.yaml's
round-trip loader because it tells where every key, value and list item was written: each
problem is reported at its file and line. That loader is pure Python: reading the demo bot's
twelve files took a tenth of a second, the largest part of a hub's start and of every
reload. libyaml's parser (PyYAML's C extension) does the scanning and parsing here; the
values are then built exactly as ruamel.yaml builds them: `CommentedMap`/`CommentedSeq` with
the same lines and columns, block texts as `LiteralScalarString`/`FoldedScalarString`, plain
scalars resolved by ruamel.yaml's YAML 1.2 resolver and constructor (so `yes` stays a text
and `0.5` is a `ScalarFloat`). `tests/hub/test_yaml_load.py` compares both on every YAML file
of the repository and on the edge cases.

Whatever this path does not build the same way is left to ruamel.yaml itself: a syntax
error (its located message is the one operators see), a duplicate key, a merge key (`<<`),
an explicit tag, a `%YAML` directive, a key that is not a plain value. Two things differ,
and nothing reads either: comments are not kept, and an empty value (`key:` and nothing)
is placed right after its colon, where ruamel.yaml places it at the next token.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ruamel.yaml import YAML
from ruamel.yaml import nodes as ruamel_nodes
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString
from yaml import MappingNode, ScalarNode, SequenceNode, YAMLError
from yaml import Node as ParsedNode
from yaml.resolver import BaseResolver

try:
    from yaml._yaml import CParser

    HAVE_LIBYAML = True
except ImportError:  # a PyYAML built without libyaml: ruamel.yaml reads everything
    HAVE_LIBYAML = False

_Container = TypeVar("_Container", CommentedMap, CommentedSeq)

STR = "tag:yaml.org,2002:str"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"


class _NotTheSame(Exception):
    """Something this path would not build as ruamel.yaml does: ruamel.yaml reads it."""


class _Untyped(BaseResolver):
    # No implicit types: libyaml tags every untagged scalar as a text, and ruamel.yaml's
    # YAML 1.2 resolver types the plain ones below (PyYAML's own resolver is YAML 1.1,
    # where `yes`, `on` and `1:30` are not texts).
    yaml_implicit_resolvers: dict[Any, Any] = {}
    yaml_path_resolvers: dict[Any, Any] = {}


if HAVE_LIBYAML:

    class _Parser(CParser, _Untyped):
        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            _Untyped.__init__(self)


def load(text: str) -> Any:
    """What `YAML(typ="rt").load(text)` returns (raising what it raises), built faster."""
    if not HAVE_LIBYAML or "%YAML" in text:  # a version directive changes the typing
        return _by_ruamel(text)
    parser = _Parser(text)
    try:
        document = parser.get_single_node()
    except YAMLError:
        return _by_ruamel(text)  # raises the located error operators are shown
    finally:
        parser.dispose()
    if document is None:
        return None
    try:
        return _Builder().build(document)
    except (_NotTheSame, TypeError):  # TypeError: a key that cannot be a dict key
        return _by_ruamel(text)


def _by_ruamel(text: str) -> Any:
    """ruamel.yaml's own parse: whatever libyaml's path leaves to it."""
    return YAML(typ="rt").load(text)


class _Builder:
    """One document's values, as ruamel.yaml's round-trip constructor makes them."""

    def __init__(self) -> None:
        self.ruamel = YAML(typ="rt")  # its resolver and constructor type the plain scalars
        self.built: dict[int, Any] = {}  # an alias is the same node: the same value

    def build(self, node: ParsedNode) -> Any:
        done = self.built.get(id(node))
        if done is not None:
            return done
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if isinstance(node, MappingNode):
            return self._mapping(node)
        if isinstance(node, SequenceNode):
            return self._sequence(node)
        raise _NotTheSame(type(node).__name__)

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag != STR:
            raise _NotTheSame(node.tag)  # an explicit tag (`!!int "3"`, `!custom`)
        value: str = node.value
        if not node.style:  # plain: libyaml says "", PyYAML's Python parser None
            tag = self.ruamel.resolver.resolve(ruamel_nodes.ScalarNode, value, (True, False))
            if tag == STR:
                return value
            typed = ruamel_nodes.ScalarNode(tag, value)
            return self.ruamel.constructor.construct_object(typed, deep=True)
        if node.style == "|":
            return LiteralScalarString(value)
        if node.style == ">":
            return FoldedScalarString(value)
        return value  # quoted

    def _opened(self, node: ParsedNode, tag: str, container: _Container) -> _Container:
        """`container`, kept for the aliases of `node` and placed where `node` starts."""
        if node.tag != tag:
            raise _NotTheSame(node.tag)  # an explicit tag (`!!set`, `!!omap`, `!custom`)
        self.built[id(node)] = container
        container._yaml_set_line_col(node.start_mark.line, node.start_mark.column)
        return container

    def _mapping(self, node: MappingNode) -> CommentedMap:
        mapping = self._opened(node, MAP, CommentedMap())
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.value == "<<":
                raise _NotTheSame("a merge key or a key that is not a plain value")
            key = self.build(key_node)
            if key in mapping:
                raise _NotTheSame("a duplicate key")  # ruamel.yaml's error names both lines
            mapping[key] = self.build(value_node)
            key_at, value_at = key_node.start_mark, value_node.start_mark
            mapping._yaml_set_kv_line_col(
                key, [key_at.line, key_at.column, value_at.line, value_at.column]
            )
        return mapping

    def _sequence(self, node: SequenceNode) -> CommentedSeq:
        sequence = self._opened(node, SEQ, CommentedSeq())
        for index, item in enumerate(node.value):
            sequence.append(self.build(item))
            sequence._yaml_set_idx_line_col(index, [item.start_mark.line, item.start_mark.column])
        return sequence
