"""Which questions a customer's message asks, when it asks more than one.

```python
asked(bot, "How much is shipping and how long does it take?", whole=("shipping_cost", 0.30))
# (Question(intent="shipping_cost", confidence=0.85), Question(intent="shipping_time", ...))
asked(bot, "Where is my order?", whole=("check_order", 0.92))   # (): one question
```

The message is cut into sentences and clauses (`dialogs.splitting`) and each part is read
alone. A wrong split is worse than answering one question of two (the customer may ask the
other again; an answer to a question nobody asked, or a flow started on a fragment, confuses),
so the rule is strict, and anything short of it is `()`: the turn goes on as for one question.

1. Every part that says something must be understood alone, at `settings.split_confidence`
   and at least its intent's own threshold: one part the bot cannot read ("I bought it last
   week") may carry the meaning of the others, so the message is read whole.
2. A part is a question of its own only when it is phrased as one ("how …", "… 吗", "?") or
   a connective sets it apart ("also", "另外"). "I was charged twice. Can I get a refund?"
   is one question told in two sentences, not a question about charges and one about refunds.
   A comma splits a sentence only when every clause is a question (or a greeting) on its own:
   "运费多少，几天能到" is two, "如果今天下单，什么时候能到" is one.
3. Greetings, thanks and goodbyes (`SMALL_TALK`) are not questions: they are not answered
   when questions are ("hi, where is my order? also …" gets the two answers, not the greeting
   as well) and do not count towards the two.
4. At least two *different* intents remain (parts of one intent are one question), at most
   `MAX_QUESTIONS`. None hands off to a person (a complaint, "talk to a human"), and the
   message as a whole does not read as one: such a turn goes the usual way, through
   `handoff_confidence`. At most one starts a flow; it runs after the FAQ answers, so its
   question ("What's your order number?") is the last thing said and the customer's next
   message answers it.
5. The message read whole must not confidently mean an intent none of its parts has: then the
   parts are pieces of one meaning.

A message that tells a story around *one* question is another matter (`story_question`):
"I ordered a speaker last night and my sister gave me hers. Can I still cancel it?" is read
whole as a weak guess, or not at all, because most of its words are the story. Its question,
read alone, may be surely understood; then the question decides:

- only the parts phrased as questions count (the clauses that are, and the sentences that
  are or that a connective sets apart), each read as in rule 1 (at `split_confidence` and
  its intent's threshold); small talk is not a question. They must name exactly *one*
  intent: two ("is it still under warranty, can you repair it for free?") leave the
  message to be read whole;
- the same intent as the whole, surely read, lends the whole its confidence: "…I've been
  going round in circles. Can I please just speak to a person?" is a hand-off at the
  question's 0.94, where the whole's 0.41 could only offer it as a button;
- another intent decides only where the whole reads as nothing or as a weak guess (below
  the caller's `weak`), and only when no part of the story is itself surely read as a third
  intent. A story often says which case a general question is about: "I was charged twice.
  Can I get a refund?" is a double charge (0.43 whole), not the refund policy its question
  reads as alone (0.92); "my battery is flat by noon and the phone is a month old. Can I
  get a refund?" is left to the whole too, its story being surely about the battery.

Measured on messages written apart from the bot (`docs/nlu-bench-results.md`, "A story
and its question"): 95 stories per language (a question about an intent or a help-centre
article, a generic "what should I do?", a question the shop cannot answer, a story about
one thing asking another) and 30 per language whose question is a remedy the story's own
topic answers ("…can I get my money back?"). Handled as meant, on the test splits: stories
69 → 74 (en) and 74 → 75 (zh), remedies 24 → 22 and 22 → 21. Letting a question that merely
outweighs a confident whole by 0.3 decide as well gained one English story and lost one
Chinese remedy on the dev splits, and turned the demo's own conversation test "I was charged
twice. Can I get a refund?" into the refund policy: left out. So was reading the question
alone in the knowledge base: of the stories it answered, as many got a wrong article as the
right one.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.flows import Bot
from dialogs.splitting import Part, Sentence, split
from dialogs.suggestions import SMALL_TALK, hands_off

__all__ = [
    "MAX_QUESTIONS",
    "MAX_STORY_PARTS",
    "SMALL_TALK",
    "Question",
    "asked",
    "story_question",
]

#: A message asking more than this many things is read whole (a list of questions that long
#: is rare; a story of that many sentences is not).
MAX_QUESTIONS = 3
#: A story has more clauses than a list of questions: its question is looked for in up to
#: this many parts (a longer message is read whole).
MAX_STORY_PARTS = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    """One question of a message: the intent it reads as and the confidence in it."""

    intent: str
    confidence: float


def asked(bot: Bot, text: str, *, whole: tuple[str | None, float]) -> tuple[Question, ...]:
    """The questions `text` asks, in the order to answer them (FAQs in the order asked, then
    at most one flow); `()` unless it surely asks two or more. `whole`: the intent and
    confidence of `text` read whole (None: not understood)."""
    if text.startswith("/"):  # a button's payload is one choice
        return ()
    sentences = split(text)
    if len(sentences) < 2 and len(sentences[0].clauses) < 2:
        return ()
    parts: list[Question] = []
    for sentence in sentences:
        read = _sentence(bot, sentence)
        if read is None:
            return ()
        parts.extend(read)
    found: dict[str, Question] = {}
    for part in parts:
        if part.intent not in SMALL_TALK and part.intent not in found:
            found[part.intent] = part
    questions = list(found.values())
    whole_intent, whole_confidence = whole
    if not 2 <= len(questions) <= MAX_QUESTIONS or (
        whole_intent is not None
        and (
            hands_off(bot, whole_intent)
            or (
                whole_confidence >= bot.settings.split_confidence
                and whole_intent not in {p.intent for p in parts}
            )
        )
    ):
        return ()
    flows = [q for q in questions if q.intent not in bot.faqs]
    if len(flows) > 1 or any(hands_off(bot, q.intent) for q in flows):
        return ()
    return tuple(q for q in questions if q.intent in bot.faqs) + tuple(flows)


def _sentence(bot: Bot, sentence: Sentence) -> list[Question] | None:
    """What one sentence asks: its clauses when each is a question (or small talk) of its own
    and they differ; else the sentence whole, when it is a question. None: not understood,
    or not a question (so the message is read whole)."""
    if len(sentence.clauses) > 1:
        clauses = [_read(bot, clause) for clause in sentence.clauses]
        kept = [q for q in clauses if q is not None]
        if len(kept) == len(clauses) and len({q.intent for q in kept}) > 1:
            return kept
    question = _read(bot, Part(sentence.text, sentence.asked or sentence.joined))
    return [question] if question is not None else None


def _read(bot: Bot, part: Part) -> Question | None:
    """The intent `part` surely reads as on its own: small talk, or a question the bot
    answers; None otherwise."""
    question = _sure(bot, part.text)
    if question is None or not (part.asked or question.intent in SMALL_TALK):
        return None
    return question


def _sure(bot: Bot, text: str) -> Question | None:
    """The intent the bot handles that `text` surely reads as on its own (at
    `split_confidence` and its intent's threshold), whether asked or told; else None."""
    prediction = bot.classifier.predict(text)
    intent = prediction.intent
    if intent is None or not bot.handles(intent):
        return None
    if prediction.confidence < max(
        bot.settings.split_confidence, bot.classifier.threshold_for(intent)
    ):
        return None
    return Question(intent=intent, confidence=float(prediction.confidence))


def story_question(
    bot: Bot, text: str, *, whole: tuple[str | None, float], weak: float
) -> Question | None:
    """The intent and confidence a story told around one question is read as, when its
    question decides (see the module's text); None: the message is read whole. `whole`: the
    intent and confidence of `text` read whole; `weak`: below this the whole is a guess."""
    if text.startswith("/"):  # a button's payload is one choice
        return None
    sentences = split(text, max_parts=MAX_STORY_PARTS)
    if len(sentences) < 2 and len(sentences[0].clauses) < 2:
        return None
    asking, telling = _asking_and_telling(sentences)
    found: dict[str, Question] = {}
    for part in asking:
        question = _read(bot, part)
        if question is None or question.intent in SMALL_TALK:
            continue
        best = found.get(question.intent)
        if best is None or question.confidence > best.confidence:
            found[question.intent] = question
    if len(found) != 1:
        return None
    (question,) = found.values()
    whole_intent, whole_confidence = whole
    if question.intent == whole_intent:
        return question if question.confidence > whole_confidence else None
    if whole_intent is not None and whole_confidence >= weak:
        return None
    for told_text in telling:
        told = _sure(bot, told_text)
        if told is not None and told.intent not in SMALL_TALK | {question.intent}:
            return None
    return question


def _asking_and_telling(sentences: tuple[Sentence, ...]) -> tuple[list[Part], list[str]]:
    """The parts of a message phrased as questions (clauses that are, and sentences that are
    or that a connective sets apart), and the texts of those that tell instead."""
    asking: list[Part] = []
    telling: list[str] = []
    for sentence in sentences:
        if len(sentence.clauses) > 1:
            asking.extend(clause for clause in sentence.clauses if clause.asked)
            telling.extend(clause.text for clause in sentence.clauses if not clause.asked)
        if sentence.asked or sentence.joined:
            asking.append(Part(sentence.text, asked=True))
        else:
            telling.append(sentence.text)
    return asking, telling
