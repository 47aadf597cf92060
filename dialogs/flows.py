"""The dialog model: what the YAML files under `config/dialogs/` compile into.

Everything here is an immutable value. `dialogs.loader` builds a `Bot` from the files (and
rejects anything inconsistent); `dialogs.turns` walks it, one customer message at a time.
A hot reload builds a whole new `Bot` and swaps it in; nothing is ever edited in place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.environment import TemplateExpression

    from dialogs.entities import EntityDef
    from dialogs.nlu import IntentClassifier


@dataclass(frozen=True, slots=True, kw_only=True)
class Where:
    """Where something was written, for `file:line` messages."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Text:
    """A reply in one or more languages: compiled Jinja2 templates keyed by language.

    A plain string in YAML is the same text for every language; a mapping
    (`{en: ..., zh: ...}`) gives one per language. A language without its own version falls
    back to the bot's default language, then to the first one written.
    """

    templates: Mapping[str, Template]
    sources: Mapping[str, str]
    where: Where

    def pick(self, lang: str, default: str) -> Template:
        return self.templates[self._language(lang, default)]

    def source(self, lang: str, default: str) -> str:
        """The template `pick` gives, as written."""
        return self.sources[self._language(lang, default)]

    def _language(self, lang: str, default: str) -> str:
        for candidate in (lang, default):
            if candidate in self.templates:
                return candidate
        return next(iter(self.templates))


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    """A short untemplated text per language (button titles, choice titles)."""

    by_lang: Mapping[str, str]

    def pick(self, lang: str, default: str) -> str:
        for candidate in (lang, default):
            if candidate in self.by_lang:
                return self.by_lang[candidate]
        return next(iter(self.by_lang.values()), "")


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonSpec:
    title: Label
    payload: str


SlotType = Literal["text", "choice", "number", "email", "phone", "regex", "any"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """One allowed value of a `choice` slot; `words` are what a customer may type for it."""

    value: str
    title: Label
    words: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Slot:
    """A named value the bot collects or an action sets, with how to validate it."""

    name: str
    type: SlotType
    where: Where
    choices: tuple[Choice, ...] = ()
    pattern: re.Pattern[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 500
    invalid: Text | None = None  # said when an answer does not validate (else a default)
    help: Text | None = None  # said when the customer does not have it ("I don't know …")
    max_attempts: int = 3
    entity: str = ""  # filled from this entity whenever a message contains it


# ----------------------------------------------------------------------------- steps


@dataclass(frozen=True, slots=True, kw_only=True)
class StepBase:
    id: str
    where: Where


@dataclass(frozen=True, slots=True, kw_only=True)
class Say(StepBase):
    text: Text
    buttons: tuple[ButtonSpec, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Ask(StepBase):
    slot: str
    prompt: Text
    buttons: tuple[ButtonSpec, ...] = ()
    on_fail: str = ""  # step id to go to after `max_attempts` invalid answers (else end)
    #: Said when the answer only acknowledges the instruction before the question ("ok",
    #: "好的我试试"): the question stays open, its buttons valid (dialogs.acknowledgement).
    wait: Text | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Branch(StepBase):
    condition: TemplateExpression
    source: str
    then: str = ""  # step ids; empty means "the next step"
    otherwise: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Goto(StepBase):
    target: str  # a step id in the same flow


@dataclass(frozen=True, slots=True, kw_only=True)
class Jump(StepBase):
    flow: str  # another flow; this one ends


@dataclass(frozen=True, slots=True, kw_only=True)
class Action(StepBase):
    action: str
    on_error: str = ""  # step id to go to when the action server fails (else end)


@dataclass(frozen=True, slots=True, kw_only=True)
class Set(StepBase):
    """Record fixed slot values (an outcome such as "fixed"), for later steps and the
    hand-off summary."""

    values: Mapping[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Tag(StepBase):
    tag: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Handoff(StepBase):
    reason: str
    skill: str = ""
    priority: str = "P3"
    text: Text | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class End(StepBase):
    pass


Step = Say | Ask | Branch | Goto | Jump | Action | Set | Tag | Handoff | End
#: Steps after which the flow never falls through to the next one.
TERMINAL = (Goto, Jump, Handoff, End)


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    """A multi-turn conversation started by one or more intents."""

    name: str
    where: Where
    intents: tuple[str, ...]
    steps: tuple[Step, ...]
    title: Label | None = None
    timeout: float | None = None  # seconds of inactivity; None = the bot's default

    def index(self, step_id: str) -> int | None:
        for position, step in enumerate(self.steps):
            if step.id == step_id:
                return position
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Intent:
    name: str
    where: Where
    examples: tuple[str, ...]
    title: Label | None = None
    threshold: float | None = None  # `nlu_threshold` of this intent (None: the bot's)


@dataclass(frozen=True, slots=True, kw_only=True)
class Faq:
    """A one-shot answer to an intent."""

    intent: str
    where: Where
    answer: Text  # said when none of `articles` can be quoted (knowledge answers off …)
    buttons: tuple[ButtonSpec, ...] = ()
    #: Knowledge-base articles that answer the intent: their passage best matching the
    #: message is quoted (with "Did this help?"), so the article stays the one source.
    articles: tuple[str, ...] = ()
    #: Said instead of `answer` when the intent comes while a flow waits for an answer, the
    #: question then asked again at once: a pleasantry ("thanks", "hi") is no new topic, so
    #: "Anything else?" and "back to where we were" would be wrong there.
    in_flow: Text | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicMenu:
    """A subject customers name without saying what about it ("I have a problem with my
    order", "我的订单有问题"): the bot asks `ask` and offers `intents` as buttons."""

    name: str
    where: Where
    words: tuple[str, ...]  # what customers call the subject, in any language
    intents: tuple[str, ...]
    ask: Text


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    languages: tuple[str, ...] = ("en", "zh")
    nlu_threshold: float | None = None  # None: calibrated on the bot's own examples
    word_vectors: bool = True  # static word embeddings in the NLU (False: n-grams only)
    interrupt_confidence: float = 0.6
    handoff_confidence: float = 0.6  # a flow that starts with a hand-off needs this much
    split_confidence: float = 0.5  # each question of a message asking several needs this much
    max_fallbacks: int = 2
    flow_timeout: float = 1800.0
    follow_up_window: float = 300.0  # seconds a short question may lean on the last answer
    messages: Mapping[str, Text] = field(default_factory=dict)
    knowledge: bool = True  # answer from the knowledge base when no intent is confident

    @property
    def language(self) -> str:
        return self.languages[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class Bot:
    """A complete, validated bot: the unit that a hot reload swaps."""

    settings: Settings
    slots: Mapping[str, Slot]
    intents: Mapping[str, Intent]
    faqs: Mapping[str, Faq]  # by intent
    flows: Mapping[str, Flow]
    triggers: Mapping[str, str]  # intent → flow name
    classifier: IntentClassifier
    files: tuple[str, ...] = ()
    entities: Mapping[str, EntityDef] = field(default_factory=dict)  # looked for in every message
    topics: tuple[TopicMenu, ...] = ()  # asked about when named without a question

    def message(self, name: str) -> Text:
        return self.settings.messages[name]

    def handles(self, intent: str) -> bool:
        return intent in self.faqs or intent in self.triggers

    def title(self, intent: str, lang: str) -> str:
        """What a button offering `intent` says."""
        found = self.intents.get(intent)
        if found is not None and found.title is not None:
            return found.title.pick(lang, self.settings.language)
        flow = self.flows.get(self.triggers.get(intent, ""))
        if flow is not None and flow.title is not None:
            return flow.title.pick(lang, self.settings.language)
        return intent.replace("_", " ").capitalize()

    def summary(self) -> str:
        examples = sum(len(i.examples) for i in self.intents.values())
        return (
            f"{len(self.files)} files, {len(self.intents)} intents ({examples} examples), "
            f"{len(self.faqs)} FAQ answers, {len(self.flows)} flows, {len(self.slots)} slots"
        )
