"""The engine's per-conversation state, kept by the hub as JSON between turns.

Read tolerantly: the state may come from an older version of the bot (a hot reload renamed a
flow) or be damaged; anything unusable is dropped rather than failing the turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: How many tried steps and answers a hand-off summary keeps.
MAX_TRIED = 30
#: How many interrupted flows wait to be resumed; older ones are forgotten.
MAX_STACK = 3
#: The end of what the customer asked that is kept (a question and its follow-ups).
MAX_TOPIC_TEXT = 240


@dataclass(frozen=True, slots=True, kw_only=True)
class Topic:
    """What the customer asked that the bot answered last: `text` (the question, with the
    follow-ups it took, at most `MAX_TOPIC_TEXT` characters), the FAQ's `intent` or the
    quoted `article` ("" for none), when (`at`), and which answer it was (`answer`: the FAQ's
    own text, or the article's passage; a follow-up given the same one is told so)."""

    text: str
    intent: str = ""
    article: str = ""
    at: float = 0.0
    answer: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": self.intent,
            "article": self.article,
            "at": self.at,
            "answer": self.answer,
        }

    @classmethod
    def from_json(cls, data: Any) -> Topic | None:
        """The topic kept in a state, or None when there is none or it is unreadable."""
        if not isinstance(data, Mapping):
            return None
        text, intent, article, at, answer = (
            data.get(k) for k in ("text", "intent", "article", "at", "answer")
        )
        if not isinstance(text, str) or not text or not isinstance(at, int | float):
            return None
        return cls(
            text=text[-MAX_TOPIC_TEXT:],
            intent=intent if isinstance(intent, str) else "",
            article=article if isinstance(article, str) else "",
            at=float(at),
            answer=answer if isinstance(answer, str) else "",
        )


@dataclass(slots=True, kw_only=True)
class State:
    """Mutable during one turn only; the engine returns `to_json()` to the hub."""

    lang: str
    flow: str = ""
    step: str = ""
    attempts: int = 0  # invalid answers to the current ask
    slots: dict[str, Any] = field(default_factory=dict)
    stack: list[dict[str, str]] = field(default_factory=list)  # interrupted {flow, step}
    fallbacks: int = 0  # consecutive turns not understood
    offer: str = ""  # "human" while a hand-off offer awaits yes/no; "kb": "did this help?"
    offer_article: str = ""  # the knowledge-base article "did this help?" is about
    offer_repeats: int = 0  # times the offer was asked again after an unclear answer
    question: int = 0  # number of the latest question asked with buttons (see `mark_question`)
    last_activity: float = 0.0
    tried: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    topic: Topic | None = None  # the question last answered (`dialogs.topic`)
    finished: str = ""  # the flow that last ran to its end, and when: it may run again
    finished_at: float = 0.0  # with another value ("sorry, wrong number: 20261002")

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, default_lang: str) -> State:
        def get(key: str, kind: type, default: Any) -> Any:
            value = data.get(key, default)
            return value if isinstance(value, kind) else default

        stack = [
            {"flow": str(item["flow"]), "step": str(item["step"])}
            for item in get("stack", list, [])
            if isinstance(item, Mapping) and "flow" in item and "step" in item
        ]
        last = data.get("last_activity", 0.0)
        return cls(
            lang=get("lang", str, default_lang) or default_lang,
            flow=get("flow", str, ""),
            step=get("step", str, ""),
            attempts=get("attempts", int, 0),
            slots=dict(get("slots", dict, {})),
            stack=stack[-MAX_STACK:],
            fallbacks=get("fallbacks", int, 0),
            offer=get("offer", str, ""),
            offer_article=get("offer_article", str, ""),
            offer_repeats=get("offer_repeats", int, 0),
            question=get("question", int, 0),
            last_activity=float(last) if isinstance(last, int | float) else 0.0,
            tried=[t for t in get("tried", list, []) if isinstance(t, dict)][-MAX_TRIED:],
            tags=[str(t) for t in get("tags", list, [])],
            topic=Topic.from_json(data.get("topic")),
            finished=get("finished", str, ""),
            finished_at=float(at)
            if isinstance(at := data.get("finished_at"), int | float)
            else 0.0,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "flow": self.flow,
            "step": self.step,
            "attempts": self.attempts,
            "slots": dict(self.slots),
            "stack": list(self.stack),
            "fallbacks": self.fallbacks,
            "offer": self.offer,
            "offer_article": self.offer_article,
            "offer_repeats": self.offer_repeats,
            "question": self.question,
            "last_activity": self.last_activity,
            "tried": self.tried[-MAX_TRIED:],
            "tags": list(self.tags),
            **({"topic": self.topic.to_json()} if self.topic is not None else {}),
            **(
                {"finished": self.finished, "finished_at": self.finished_at}
                if self.finished
                else {}
            ),
        }

    def note(self, entry: dict[str, Any]) -> None:
        """Remember a step or answer for the hand-off summary."""
        self.tried.append(entry)
        del self.tried[:-MAX_TRIED]

    def push(self) -> None:
        """Set the current flow aside to resume it after an interruption."""
        if self.flow:
            self.stack.append({"flow": self.flow, "step": self.step})
            del self.stack[:-MAX_STACK]

    def leave_flow(self) -> None:
        self.flow = ""
        self.step = ""
        self.attempts = 0
