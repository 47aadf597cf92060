"""The customer lines the bot could not answer, grouped: the operator's to-do list.

A line counts as unanswered when its turn fell back ("did you mean …?", "could you say it
another way?", an unclear answer to "talk to a person?") or when the customer said a
knowledge-base answer did not help. Lines are grouped per language by what they say: each
line's words (English stemmed, Chinese segmented plus character bigrams — the knowledge
base's own `terms`) as TF-IDF vectors, and a line joins the first group whose centroid it is
close enough to (cosine ≥ `SIMILARITY`), biggest groups first. Each group comes with its
most telling words and a YAML stub an operator can paste into the dialogs as a new intent.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hub.model import Conversation, Event
from hub.terms import stem_word, terms
from hub.text import has_cjk, tokenize

SIMILARITY = 0.45
UNANSWERED_TURNS = frozenset({"fallback", "offer_unclear", "offer_repeated"})
MAX_EXAMPLES = 8
MAX_LINE = 300


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    lang: str
    conversation_id: str
    at: float
    why: str  # "fallback" or "kb_not_helped"


@dataclass(slots=True)
class Group:
    lang: str
    lines: list[Line] = field(default_factory=list)
    words: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.lines)

    def examples(self) -> list[str]:
        """The most frequent distinct wordings first."""
        counts = Counter(line.text for line in self.lines)
        return [text for text, _ in counts.most_common(MAX_EXAMPLES)]

    def conversations(self) -> list[str]:
        return list(dict.fromkeys(line.conversation_id for line in self.lines))

    def name(self) -> str:
        """A suggested intent name from the group's words (ASCII only, else a placeholder)."""
        ascii_words = [w for w in self.words if re.fullmatch(r"[a-z][a-z0-9]*", w)]
        return "_".join(ascii_words[:3]) or f"new_intent_{self.lang}"

    def to_json(self) -> dict[str, object]:
        return {
            "lang": self.lang,
            "count": self.count,
            "words": self.words,
            "examples": self.examples(),
            "conversations": self.conversations()[:50],
            "suggested_intent": self.name(),
        }


def unanswered_lines(conversation: Conversation, events: Sequence[Event]) -> list[Line]:
    """The lines of one conversation the bot did not answer, oldest first."""
    found: list[Line] = []
    last_text = ""
    kb_line: Line | None = None
    for event in events:
        data = event.data
        if event.type == "message.in":
            last_text = str(data.get("text") or "")[:MAX_LINE].strip()
        elif event.type == "bot.turn" and last_text and not last_text.startswith("/"):
            lang = str(data.get("lang") or ("zh" if has_cjk(last_text) else "en"))
            line = Line(last_text, lang, conversation.id, event.at, "fallback")
            if data.get("handled_as") in UNANSWERED_TURNS:
                found.append(line)
            kb_line = line if data.get("handled_as") == "knowledge" else kb_line
        elif event.type == "kb.feedback" and data.get("helpful") is False and kb_line:
            found.append(
                Line(kb_line.text, kb_line.lang, conversation.id, event.at, "kb_not_helped")
            )
            kb_line = None
    return found


def group_lines(lines: Iterable[Line], similarity: float = SIMILARITY) -> list[Group]:
    """Groups of lines that say the same thing, per language, biggest first."""
    by_lang: dict[str, list[Line]] = {}
    for line in lines:
        by_lang.setdefault(line.lang, []).append(line)
    groups: list[Group] = []
    for lang, chosen in by_lang.items():
        groups.extend(_group_language(lang, chosen, similarity))
    groups.sort(key=lambda group: (-group.count, group.lang))
    return groups


def _group_language(lang: str, lines: list[Line], similarity: float) -> list[Group]:
    # The most repeated wordings lead: they are the clearest statement of a need.
    frequency = Counter(line.text for line in lines)
    lines = sorted(lines, key=lambda line: (-frequency[line.text], line.text))
    # Imported here, not at the top: scikit-learn costs a hub process ~80 MiB of memory, and
    # only this report (run on demand) needs it when the bot is not the dialog engine.
    from sklearn.feature_extraction.text import (  # type: ignore[import-untyped, unused-ignore]
        TfidfVectorizer,
    )

    vectorizer = TfidfVectorizer(analyzer=terms, sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform([line.text for line in lines])
    except ValueError:  # no line has a word worth counting (emoji, punctuation)
        return [Group(lang, lines, [])] if lines else []
    vocabulary = np.array(vectorizer.get_feature_names_out())
    centroids: list[npt.NDArray[np.float64]] = []
    members: list[list[int]] = []
    for row in range(matrix.shape[0]):
        vector = matrix[row].toarray().ravel()
        if not vector.any():
            best = -1
        else:
            scores = [float(vector @ c / (np.linalg.norm(c) or 1.0)) for c in centroids]
            best = int(np.argmax(scores)) if scores and max(scores) >= similarity else -1
        if best < 0:
            centroids.append(vector.copy())
            members.append([row])
        else:
            centroids[best] += vector
            members[best].append(row)
    result = []
    for centroid, rows in zip(centroids, members, strict=True):
        chosen = [lines[i] for i in rows]
        top = [str(vocabulary[i]) for i in np.argsort(-centroid)[:5] if centroid[i] > 0]
        result.append(Group(lang, chosen, surface_words(top, (line.text for line in chosen))))
    return result


def surface_words(stems: Sequence[str], texts: Iterable[str]) -> list[str]:
    """Each stem as the customers most often wrote it ("arriv" → "arrived")."""
    seen: dict[str, Counter[str]] = {stem: Counter() for stem in stems}
    for text in texts:
        for word in tokenize(text):
            stem = stem_word(word)
            if stem in seen:
                seen[stem][word] += 1
    return [seen[s].most_common(1)[0][0] if seen[s] else s for s in stems]


def yaml_stub(group: Group) -> str:
    """A new intent for `config/dialogs/`, with the group's wordings as its examples."""
    examples = "\n".join(f"      - {_yaml_scalar(text)}" for text in group.examples())
    return (
        f"# {group.count} unanswered line(s) in {group.lang}; words: {', '.join(group.words)}\n"
        f"intents:\n  {group.name()}:\n    examples:\n{examples}\n"
    )


def _yaml_scalar(text: str) -> str:
    # Always quoted (a customer line may start with "-", "?", "@" or hold ": "): a JSON
    # string is a valid YAML double-quoted scalar, control characters escaped included.
    return json.dumps(text, ensure_ascii=False)
