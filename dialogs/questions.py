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
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.flows import Bot
from dialogs.splitting import Part, Sentence, split
from dialogs.suggestions import hands_off

__all__ = ["MAX_QUESTIONS", "SMALL_TALK", "Question", "asked"]

#: Intents that are courtesy, not questions: never answered beside questions.
SMALL_TALK = frozenset({"greet", "thanks", "goodbye"})
#: A message asking more than this many things is read whole (a list of questions that long
#: is rare; a story of that many sentences is not).
MAX_QUESTIONS = 3


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
    prediction = bot.classifier.predict(part.text)
    intent = prediction.intent
    if intent is None or not bot.handles(intent):
        return None
    sure = prediction.confidence >= max(
        bot.settings.split_confidence, bot.classifier.threshold_for(intent)
    )
    if not sure or not (part.asked or intent in SMALL_TALK):
        return None
    return Question(intent=intent, confidence=float(prediction.confidence))
