"""YAML files → a validated `Bot`, or every problem found, each with `file:line`.

Top-level keys of a dialog file (any number of files, merged):
`settings` (in one file only), `entities`, `slots`, `intents`, `faq`, `flows`, and Rasa's `nlu` list (so a
Rasa `nlu.yml` can be dropped in unchanged). See docs/dialogs.md for the format.
Cross-references (slots, flows, intents, step ids, template names) are checked in
`dialogs.checks` once everything is read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError
from ruamel.yaml.scalarstring import FoldedScalarString

from dialogs import steps as step_parser
from dialogs.checks import check_bot
from dialogs.entities import BUILTINS, EntityDef, builtin
from dialogs.flows import (
    Bot,
    ButtonSpec,
    Choice,
    Faq,
    Flow,
    Intent,
    Label,
    Settings,
    Slot,
    Text,
    TopicMenu,
    Where,
)
from dialogs.folding import fold
from dialogs.kb_articles import ARTICLE_ID
from dialogs.messages import DEFAULT_MESSAGES
from dialogs.templates import compile_template
from dialogs.training import bot_vocabulary, train
from dialogs.yamlsource import DialogsInvalid, Node, Problems, dialog_files, read
from hub.text import unfold_cjk

TOP_LEVEL = ("version", "settings", "entities", "slots", "intents", "faq", "flows", "topics", "nlu")
TOPIC_KEYS = ("words", "intents", "ask")
SLOT_TYPES = ("text", "choice", "number", "email", "phone", "regex", "any")
SLOT_KEYS = (
    "type",
    "choices",
    "pattern",
    "min",
    "max",
    "max_length",
    "invalid",
    "help",
    "max_attempts",
    "entity",
)
#: Slot types that are filled from a built-in entity without saying so.
IMPLICIT_ENTITY = {"email": "email", "phone": "phone"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def load_bot(path: str | Path, *, train_in_child: bool = False) -> Bot:
    """Read, validate and compile a bot; raises `DialogsInvalid` listing every problem.

    `train_in_child`: fit the intent classifier in a process of its own (a hub's engine:
    `dialogs.training_process`), not in this one."""
    reader = Reader(train_in_child=train_in_child)
    bot = reader.load(Path(path))
    if reader.problems or bot is None:
        raise DialogsInvalid(reader.problems.items)
    return bot


class Reader:
    """One load: accumulates definitions and problems across files."""

    def __init__(self, *, train_in_child: bool = False) -> None:
        self.train_in_child = train_in_child
        self.problems = Problems()
        self.settings_node: Node | None = None
        self.slots: dict[str, Slot] = {}
        self.entities: dict[str, EntityDef] = {name: builtin(name) for name in BUILTINS}
        self.intents: dict[str, Intent] = {}
        self.faq_nodes: list[tuple[str, Node]] = []
        self.flow_nodes: list[tuple[str, Node]] = []
        self.topic_nodes: list[tuple[str, Node]] = []
        self.languages: tuple[str, ...] = ("en", "zh")
        # Where each example was written, for the duplicate-example check.
        self.example_lines: dict[str, list[tuple[Where, str]]] = {}

    # -- entry point
    def load(self, path: Path) -> Bot | None:
        if not path.exists():
            self.problems.add(Where(path=str(path), line=1), "no such file or folder")
            return None
        files = dialog_files(path)
        if not files:
            self.problems.add(Where(path=str(path), line=1), "no .yml files here")
            return None
        roots = [root for file in files if (root := read(file, self.problems)) is not None]
        for root in roots:
            self._top_level(root)
        settings = self._settings()
        for root in roots:
            for name, node in _section(root, "entities"):
                self._entity(name, node)
        slots_section = [(name, node) for root in roots for name, node in _section(root, "slots")]
        for name, node in slots_section:
            self._slot(name, node)
        for root in roots:
            for name, node in _section(root, "intents"):
                self._intent(name, node)
            self._rasa_nlu(root)
            for name, node in _section(root, "faq"):
                self.faq_nodes.append((name, node))
                if node.get("examples") is not None:
                    self._intent(
                        name,
                        node,
                        allow=(
                            "examples",
                            "answer",
                            "articles",
                            "buttons",
                            "title",
                            "nlu_threshold",
                            "in_flow",
                        ),
                    )
            self.flow_nodes.extend(_section(root, "flows"))
            self.topic_nodes.extend(_section(root, "topics"))
        faqs = {name: faq for name, node in self.faq_nodes if (faq := self._faq(name, node))}
        flows: dict[str, Flow] = {}
        for name, node in self.flow_nodes:
            if name in flows:
                self.problems.add(
                    node.where, f"flow {name!r} is already defined at {flows[name].where}"
                )
            elif (flow := step_parser.parse_flow(self, name, node)) is not None:
                flows[name] = flow
        triggers: dict[str, str] = {}
        for flow in flows.values():
            for intent in flow.intents:
                if intent in triggers:
                    self.problems.add(
                        flow.where, f"intent {intent!r} already starts flow {triggers[intent]!r}"
                    )
                triggers.setdefault(intent, flow.name)
        # Intents whose FAQ or flow was written but did not parse (reported already).
        broken = {name for name, _ in self.faq_nodes if name not in faqs}
        for name, node in self.flow_nodes:
            if name not in flows:
                written = [node.get(key) for key in ("intent", "intents")]
                for found in (w for w in written if w is not None):
                    values = found.value if found.is_list else [found.value]
                    broken.update(str(v) for v in values)
        handled = set(faqs) | set(triggers) | broken
        topics = tuple(
            topic
            for name, node in self.topic_nodes
            if (topic := self._topic(name, node, handled)) is not None
        )
        check_bot(
            problems=self.problems,
            settings=settings,
            slots=self.slots,
            intents=self.intents,
            faqs=faqs,
            flows=flows,
            triggers=triggers,
            example_lines=self.example_lines,
            broken=frozenset(broken),
        )
        if self.problems:
            return None
        examples = {name: intent.examples for name, intent in self.intents.items()}
        try:
            classifier = train(
                examples,
                threshold=settings.nlu_threshold,
                intent_thresholds={
                    name: intent.threshold
                    for name, intent in self.intents.items()
                    if intent.threshold is not None
                },
                word_vectors=settings.word_vectors,
                vocabulary=bot_vocabulary(self.intents.values()),
                in_child=self.train_in_child,
            )
        except ValueError as error:  # e.g. fewer than two intents with examples
            self.problems.add(Where(path=str(files[0]), line=1), f"cannot train intents: {error}")
            return None
        return Bot(
            settings=settings,
            slots=self.slots,
            intents=self.intents,
            faqs=faqs,
            flows=flows,
            triggers=triggers,
            classifier=classifier,
            files=tuple(str(f) for f in files),
            entities=self._entities_in_use(),
            topics=topics,
        )

    def _top_level(self, root: Node) -> None:
        if root.value is None:
            return
        if not root.is_map:
            self.problems.add(root.where, "a dialog file must be a mapping of sections")
            return
        for key, node in root.items():
            if key not in TOP_LEVEL:
                self.problems.add(
                    node.where, f"unknown section {key!r} (expected one of {', '.join(TOP_LEVEL)})"
                )
            elif key == "settings":
                if self.settings_node is not None:
                    self.problems.add(
                        node.where, f"settings are already given at {self.settings_node.where}"
                    )
                else:
                    self.settings_node = node

    # -- settings
    def _settings(self) -> Settings:
        node = self.settings_node
        if node is None or not node.is_map:
            if node is not None:
                self.problems.add(node.where, "settings must be a mapping")
            return Settings(messages=self._default_messages())
        known = (
            "languages",
            "nlu_threshold",
            "word_vectors",
            "interrupt_confidence",
            "handoff_confidence",
            "split_confidence",
            "max_fallbacks",
            "flow_timeout",
            "follow_up_window",
            "messages",
            "knowledge",
        )
        for key, child in node.items():
            if key not in known:
                self.problems.add(child.where, f"unknown setting {key!r}")
        languages = self._languages(node.get("languages"))
        self.languages = languages
        messages = self._default_messages()
        custom = node.get("messages")
        if custom is not None:
            for name, child in custom.items():
                if name not in DEFAULT_MESSAGES:
                    self.problems.add(
                        child.where,
                        f"unknown message {name!r} (known: {', '.join(sorted(DEFAULT_MESSAGES))})",
                    )
                elif (text := self.text(child)) is not None:
                    messages[name] = text
        threshold = self.number(node.get("nlu_threshold"), None, 0.0, 1.0)
        word_vectors = node.get("word_vectors")
        if word_vectors is not None and not isinstance(word_vectors.value, bool):
            self.problems.add(word_vectors.where, "word_vectors must be true or false")
        knowledge = node.get("knowledge")
        if knowledge is not None and not isinstance(knowledge.value, bool):
            self.problems.add(knowledge.where, "knowledge must be true or false")
        return Settings(
            knowledge=bool(knowledge.value) if knowledge is not None else True,
            word_vectors=bool(word_vectors.value) if word_vectors is not None else True,
            languages=languages,
            nlu_threshold=threshold,
            interrupt_confidence=self.number(node.get("interrupt_confidence"), 0.6, 0.0, 1.0)
            or 0.6,
            handoff_confidence=self.number(node.get("handoff_confidence"), 0.6, 0.0, 1.0) or 0.6,
            split_confidence=self.number(node.get("split_confidence"), 0.5, 0.0, 1.0) or 0.5,
            max_fallbacks=int(self.number(node.get("max_fallbacks"), 2, 1, 100) or 2),
            flow_timeout=self.number(node.get("flow_timeout"), 1800.0, 1.0, 10**7) or 1800.0,
            follow_up_window=self.number(node.get("follow_up_window"), 300.0, 0.0, 86400.0) or 0.0,
            messages=messages,
        )

    def _default_messages(self) -> dict[str, Text]:
        defaults = Where(path="<built-in messages>", line=1)
        return {
            name: text
            for name, value in DEFAULT_MESSAGES.items()
            if (text := self.text(Node(value, defaults))) is not None
        }

    def _languages(self, node: Node | None) -> tuple[str, ...]:
        if node is None:
            return ("en", "zh")
        if not node.is_list or not node.value or not all(isinstance(v, str) for v in node.value):
            self.problems.add(node.where, "languages must be a list of language codes, e.g. [en]")
            return ("en", "zh")
        return tuple(str(v) for v in node.value)

    # -- values
    def number(
        self, node: Node | None, default: float | None, low: float, high: float
    ) -> float | None:
        if node is None:
            return default
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problems.add(node.where, f"must be a number, not {value!r}")
            return default
        if not low <= value <= high:
            self.problems.add(node.where, f"must be between {low:g} and {high:g} (got {value})")
            return default
        return float(value)

    def label(self, node: Node) -> Label | None:
        if isinstance(node.value, str | int | float) and not isinstance(node.value, bool):
            return Label(by_lang={lang: str(node.value) for lang in self.languages[:1]})
        if node.is_map and node.value:
            by_lang = {}
            for lang, child in node.items():
                if lang not in self.languages:
                    self.problems.add(child.where, f"unknown language {lang!r}")
                by_lang[lang] = str(child.value)
            return Label(by_lang=by_lang)
        self.problems.add(node.where, "expected a text or a mapping of language → text")
        return None

    def text(self, node: Node) -> Text | None:
        """A template per language; syntax errors located at the template's own line."""
        if isinstance(node.value, str | int | float) and not isinstance(node.value, bool):
            sources = {"*": (unfold_cjk(str(node.value)), node)}
        elif node.is_map and node.value:
            sources = {}
            for lang, child in node.items():
                if lang not in self.languages:
                    self.problems.add(child.where, f"unknown language {lang!r}")
                if not isinstance(child.value, str | int | float):
                    self.problems.add(child.where, f"the {lang} text must be a string")
                    continue
                sources[lang] = (unfold_cjk(str(child.value)), child)
        else:
            self.problems.add(node.where, "expected a text or a mapping of language → text")
            return None
        templates = {}
        for lang, (source, child) in sources.items():
            try:
                templates[lang] = compile_template(source)
            except TemplateSyntaxError as error:
                line = child.text_line(_error_line(child, error))
                self.problems.add(
                    Where(path=child.where.path, line=line), f"template syntax: {error.message}"
                )
        if len(templates) != len(sources):
            return None
        if "*" in templates:
            templates = {self.languages[0]: templates["*"]}
            sources = {self.languages[0]: sources["*"]}
        return Text(
            templates=templates,
            sources={lang: source for lang, (source, _) in sources.items()},
            where=node.where,
        )

    def buttons(self, node: Node | None) -> tuple[ButtonSpec, ...]:
        if node is None:
            return ()
        if not node.is_list:
            self.problems.add(node.where, "buttons must be a list of {title, payload}")
            return ()
        found = []
        for item in node.elements():
            title, payload = item.get("title"), item.get("payload")
            if title is None or payload is None or not isinstance(payload.value, str | int):
                self.problems.add(item.where, "a button needs a title and a payload")
                continue
            if (label := self.label(title)) is not None:
                found.append(ButtonSpec(title=label, payload=str(payload.value)))
        return tuple(found)

    # -- definitions
    def _slot(self, name: str, node: Node) -> None:
        if not _NAME.match(name):
            self.problems.add(node.where, f"slot name {name!r} must be letters, digits and _")
        if name in self.slots:
            self.problems.add(
                node.where, f"slot {name!r} is already defined at {self.slots[name].where}"
            )
            return
        if not node.is_map:
            self.problems.add(node.where, f"slot {name!r} must be a mapping with a type")
            return
        for key, child in node.items():
            if key not in SLOT_KEYS:
                self.problems.add(child.where, f"unknown slot setting {key!r}")
        kind = node.value.get("type", "text")
        if kind not in SLOT_TYPES:
            self.problems.add(node.where, f"slot type must be one of {', '.join(SLOT_TYPES)}")
            return
        pattern = None
        if (pattern_node := node.get("pattern")) is not None:
            try:
                pattern = re.compile(str(pattern_node.value))
            except re.error as error:
                self.problems.add(pattern_node.where, f"invalid regular expression: {error}")
        if kind == "regex" and pattern is None and pattern_node is None:
            self.problems.add(node.where, f"slot {name!r} of type regex needs a pattern")
        choices = self._choices(node.get("choices"))
        if kind == "choice" and not choices:
            self.problems.add(node.where, f"slot {name!r} of type choice needs choices")
        invalid = node.get("invalid")
        help_text = node.get("help")
        entity = str(node.value.get("entity") or IMPLICIT_ENTITY.get(kind, ""))
        if entity and entity not in self.entities:
            where = (node.get("entity") or node).where
            known = ", ".join(sorted(self.entities))
            self.problems.add(where, f"slot {name!r}: unknown entity {entity!r} (known: {known})")
        self.slots[name] = Slot(
            name=name,
            type=kind,
            where=node.where,
            choices=choices,
            pattern=pattern,
            minimum=self.number(node.get("min"), None, -(10**12), 10**12),
            maximum=self.number(node.get("max"), None, -(10**12), 10**12),
            max_length=int(self.number(node.get("max_length"), 500, 1, 100_000) or 500),
            invalid=self.text(invalid) if invalid is not None else None,
            help=self.text(help_text) if help_text is not None else None,
            max_attempts=int(self.number(node.get("max_attempts"), 3, 1, 100) or 3),
            entity=entity,
        )

    def _entities_in_use(self) -> dict[str, EntityDef]:
        """Declared entities, and the built-ins a slot is filled from: the ones worth
        looking for in every message (and listing in `bot.turn` events)."""
        used = {slot.entity for slot in self.slots.values()}
        return {n: e for n, e in self.entities.items() if not e.builtin or n in used}

    def _entity(self, name: str, node: Node) -> None:
        """`regex: <pattern>` or `lookup: {value: [synonyms]}` (synonyms in any language)."""
        if not _NAME.match(name):
            self.problems.add(node.where, f"entity name {name!r} must be letters, digits and _")
        if name in self.entities:
            first = self.entities[name].where
            self.problems.add(node.where, f"entity {name!r} is already defined at {first}")
            return
        kinds = [key for key in node.names() if key in ("regex", "lookup")]
        if len(kinds) != 1 or len(node.names()) != 1 + ("ignore" in node.names()):
            self.problems.add(
                node.where, f"entity {name!r} needs exactly one of regex, lookup (and ignore)"
            )
            return
        value = node.get(kinds[0])
        assert value is not None
        ignore = node.get("ignore")
        if ignore is not None and (kinds[0] != "regex" or not isinstance(ignore.value, str)):
            self.problems.add(
                ignore.where, "ignore goes with a regex: the characters left out of its value"
            )
            return
        if kinds[0] == "regex":
            try:
                pattern = re.compile(str(value.value))
            except re.error as error:
                self.problems.add(value.where, f"invalid regular expression: {error}")
                return
            self.entities[name] = EntityDef(
                name=name,
                where=node.where,
                pattern=pattern,
                ignore=ignore.value if ignore is not None else "",
            )
            return
        if not value.is_map or not value.value:
            self.problems.add(value.where, "lookup needs a mapping of value → list of synonyms")
            return
        lookup: dict[str, str] = {}
        for canonical, synonyms in value.items():
            words = synonyms.value if synonyms.is_list else [synonyms.value]
            for word in [canonical, *(str(w) for w in words if w is not None)]:
                if (folded := fold(str(word))) and folded not in lookup:
                    lookup[folded] = canonical
        self.entities[name] = EntityDef(name=name, where=node.where, lookup=lookup)

    def _topic(self, name: str, node: Node, handled: set[str]) -> TopicMenu | None:
        """`words` (what customers call the subject), `intents` (offered as buttons, each
        answered by an FAQ or a flow) and `ask` (the question back)."""
        if not node.is_map:
            self.problems.add(node.where, f"topic {name!r} needs words, intents and ask")
            return None
        for key in node.names():
            if key not in TOPIC_KEYS:
                self.problems.add(
                    node.where,
                    f"topic {name!r}: unknown key {key!r} (expected words, intents, ask)",
                )
        lists: dict[str, tuple[str, ...]] = {}
        for key in ("words", "intents"):
            found = node.get(key)
            values = found.value if found is not None and found.is_list else None
            if not values or not all(isinstance(v, str) and v.strip() for v in values):
                self.problems.add(node.where, f"topic {name!r} needs {key}: a list of strings")
                return None
            lists[key] = tuple(str(v).strip() for v in values)
        for intent in lists["intents"]:
            if intent not in handled:
                self.problems.add(
                    node.where, f"topic {name!r}: intent {intent!r} has no FAQ or flow"
                )
        ask_node = node.get("ask")
        ask = self.text(ask_node) if ask_node is not None else None
        if ask is None:
            if ask_node is None:
                self.problems.add(node.where, f"topic {name!r} needs ask: the question back")
            return None
        return TopicMenu(
            name=name, where=node.where, words=lists["words"], intents=lists["intents"], ask=ask
        )

    def _choices(self, node: Node | None) -> tuple[Choice, ...]:
        if node is None:
            return ()
        if not node.is_list:
            self.problems.add(node.where, "choices must be a list")
            return ()
        found = []
        for item in node.elements():
            if not item.is_map:
                item = Node({"value": item.value}, item.where)
            value = item.get("value")
            if value is None or value.value is None:
                self.problems.add(item.where, "a choice needs a value")
                continue
            title_node = item.get("title")
            title = self.label(title_node) if title_node is not None else None
            title = title or Label(by_lang={self.languages[0]: str(value.value)})
            words = {str(value.value).casefold(), *(t.casefold() for t in title.by_lang.values())}
            if (extra := item.get("words")) is not None:
                words.update(str(w).casefold() for w in (extra.value or ()))
            found.append(Choice(value=str(value.value), title=title, words=frozenset(words)))
        return tuple(found)

    def _intent(
        self, name: str, node: Node, allow: tuple[str, ...] = ("examples", "title", "nlu_threshold")
    ) -> None:
        if not _NAME.match(name):
            self.problems.add(node.where, f"intent name {name!r} must be letters, digits and _")
        if name in self.intents:
            self.problems.add(
                node.where,
                f"duplicate intent {name!r} (first defined at {self.intents[name].where})",
            )
            return
        examples_node: Node | None
        if node.is_list:  # shorthand: `greet: [hi, hello]`
            examples_node = node
        elif node.is_map:
            for key, child in node.items():
                if key not in allow:
                    self.problems.add(child.where, f"unknown intent setting {key!r}")
            examples_node = node.get("examples")
        else:
            self.problems.add(node.where, f"intent {name!r} needs a list of examples")
            return
        examples = self._examples(examples_node, name)
        title_node = node.get("title")
        self.intents[name] = Intent(
            name=name,
            where=node.where,
            examples=examples,
            title=self.label(title_node) if title_node is not None else None,
            threshold=self.number(node.get("nlu_threshold"), None, 0.0, 1.0)
            if node.is_map
            else None,
        )

    def _examples(self, node: Node | None, intent: str) -> tuple[str, ...]:
        if node is None or not node.is_list or not node.value:
            where = node.where if node is not None else Where(path="?", line=1)
            self.problems.add(where, f"intent {intent!r} needs a non-empty list of examples")
            return ()
        found = []
        for item in node.elements():
            if not isinstance(item.value, str | int | float) or not str(item.value).strip():
                self.problems.add(item.where, "an example must be a non-empty text")
                continue
            found.append(str(item.value).strip())
        self.example_lines[intent] = [(e.where, str(e.value).strip()) for e in node.elements()]
        return tuple(found)

    def _rasa_nlu(self, root: Node) -> None:
        """Rasa's `nlu:` list: `- intent: greet` with `examples: |` as a Markdown list."""
        nlu = root.get("nlu") if root.is_map else None
        if nlu is None:
            return
        if not nlu.is_list:
            self.problems.add(nlu.where, "nlu must be a list (Rasa nlu.yml format)")
            return
        for item in nlu.elements():
            intent, examples = item.get("intent"), item.get("examples")
            if intent is None:
                continue  # synonyms, regexes, lookup tables: not used by Frontdesk
            if examples is None or not isinstance(examples.value, str):
                self.problems.add(item.where, "a Rasa nlu entry needs `examples: |` lines")
                continue
            lines = []
            first = examples.where.line + examples.text_offset
            for offset, raw in enumerate(str(examples.value).splitlines()):
                text = raw.strip()
                if text.startswith("- "):
                    text = re.sub(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})", r"\1", text[2:].strip())
                    lines.append(Node(text, Where(path=examples.where.path, line=first + offset)))
            self._intent(str(intent.value), Node([n.value for n in lines], item.where))
            # Exact lines for each example (the generic path only knows the block's line).
            self.example_lines[str(intent.value)] = [(n.where, n.value) for n in lines]

    def _faq(self, name: str, node: Node) -> Faq | None:
        if not node.is_map or node.get("answer") is None:
            self.problems.add(node.where, f"FAQ {name!r} needs an answer")
            return None
        if node.get("examples") is None and name not in self.intents:
            self.problems.add(
                node.where, f"FAQ {name!r} has no examples and no intent {name!r} is defined"
            )
        answer_node = node.get("answer")
        assert answer_node is not None
        answer = self.text(answer_node)
        if answer is None:
            return None
        in_flow_node = node.get("in_flow")
        return Faq(
            intent=name,
            where=node.where,
            answer=answer,
            buttons=self.buttons(node.get("buttons")),
            articles=self.article_ids(node.get("articles")),
            in_flow=self.text(in_flow_node) if in_flow_node is not None else None,
        )

    def article_ids(self, node: Node | None) -> tuple[str, ...]:
        """An FAQ's `articles:` (knowledge-base article ids, the files' names without .md);
        whether the knowledge base has them is checked when the two meet
        (`DialogEngine`, `frontdesk knowledge check`)."""
        if node is None:
            return ()
        items = node.elements() if node.is_list else [node]
        found = []
        for item in items:
            if not isinstance(item.value, str) or not ARTICLE_ID.fullmatch(item.value):
                self.problems.add(item.where, "articles must be a list of article ids")
                continue
            found.append(item.value)
        return tuple(found)


def _error_line(node: Node, error: TemplateSyntaxError) -> int:
    """The line of a template error within the text as written: a folded (`>`) text is one
    line once read, so the error is found again in its lines as they are in the file."""
    if isinstance(node.value, FoldedScalarString):
        try:
            compile_template("\n".join(node.block_lines()))
        except TemplateSyntaxError as again:
            return again.lineno or 1
    return error.lineno or 1


def _section(root: Node, key: str) -> list[tuple[str, Node]]:
    if not root.is_map:
        return []
    section = root.get(key)
    if section is None or section.value is None:
        return []
    if not section.is_map:
        return []
    return list(section.items())


def as_text(value: Any) -> str:
    return "" if value is None else str(value)
