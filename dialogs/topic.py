"""A short question that leans on the one before: what the bot last answered, and when a
message continues it.

```
customer: can I cancel an order I placed an hour ago       → cancel_order (0.84)
customer: what if it already shipped?                      → alone: damaged_delivery (0.31)
          read after the last question: "can I cancel an order I placed an hour ago what if
          it already shipped?"                              → cancel_order (0.58): the topic
```

The engine keeps a `Topic` in the conversation's state after every question it answered (an
FAQ, or a passage of the knowledge base), for `follow_up_window` seconds (a setting; 300 by
default, 0 turns it off). The next message is first read alone, as always; the topic only
decides where the message alone says too little:

- **an FAQ's topic** (`continued`): the message is more of the same, either because alone it
  reads as the topic's intent (but not surely: below `split_confidence`), or because its
  words point back ("and…", "what if it…", "那…呢", "也…": `points_back`) and alone it is not
  surely anything; and read after the topic's question it is the topic's intent at
  `split_confidence` or more. Then the FAQ answers again (an FAQ that quotes articles quotes
  the passage that best fits both questions). Unless the message alone is only a weak guess
  or nothing, and the knowledge base gives it the *same article* alone as after the topic's
  question: then its own words ask something else, which the article answers ("do you ship
  to Japan?" … "要交关税吗": the customs article, not shipping abroad again);
- **an article's topic**: a message whose words point back and that the bot does not
  understand at all, alone or in the knowledge base, is looked up after the topic's
  question, and answered when that finds a passage of the same article ("is the watch
  waterproof?" … "can I wear it in the shower?").

Anything else is read alone: greetings and thanks, and a message that reads as another
intent, or as nothing, without words that point back. "收货地址写错了，能改吗" … "刚下的单
我不要了" is a new question (a cancellation at 0.36), and "who won the world cup" stays out
of scope, though each reads as the topic after the topic's question (its words outweigh a
few new ones). Measured on two-message conversations written apart from the bot, and on the
NLU set's lines said after an unrelated question (`docs/nlu-bench-results.md`, "Follow-up
questions").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dialogs.flows import Bot
from dialogs.kb_index import what_is_asked
from dialogs.questions import SMALL_TALK, Question
from dialogs.state import MAX_TOPIC_TEXT, Topic
from hub.terms import split_terms, terms
from hub.text import normalize

__all__ = ["MAX_TOPIC_TEXT", "Topic", "continued", "in_context", "points_back"]

# A message built on the last one as a whole: it opens with a connective ("and…", "what
# about…", "那…", "如果…") or closes with 呢 ("…呢?": "and what about…?").
_ON_THE_LAST = (
    r"^(?:and|but|so|or|also|then|what about|how about|what if|if so|if not)\b"
    r"|^(?:那|那么|如果|要是|还有)|呢[?!.]*$"
)
_OPENS_ON_THE_LAST = re.compile(_ON_THE_LAST)
# Words by which a message points back to what was said before: those, a pronoun ("it",
# "that", "those", "它", "这个") or 也 ("…as well?").
_POINTS_BACK = re.compile(
    _ON_THE_LAST + r"|\b(?:it|its|it's|that|this|they|them|those|these|one|ones|there)\b"
    r"|[它这那]|也"
)


def opens_on_the_last(text: str) -> bool:
    """Whether `text` is built as a question on the last one ("and WeChat Pay?", "那银联呢"),
    not merely holding a word that points back ("cool, appreciate it")."""
    return _OPENS_ON_THE_LAST.search(normalize(text)) is not None


def in_context(topic: Topic, text: str) -> str:
    """`text` read after the topic's question."""
    return f"{topic.text} {text}"[-2 * MAX_TOPIC_TEXT :]


def points_back(text: str) -> bool:
    """Whether `text` has words that point back to what was said before (normalized first,
    so Traditional and full-width spellings count the same)."""
    return _POINTS_BACK.search(normalize(text)) is not None


def continued(
    bot: Bot,
    text: str,
    *,
    whole: tuple[str | None, float],
    topic: Topic,
    weak: float,
    article_for: Callable[[str], str | None],
    lang: str = "en",
) -> Question | None:
    """The topic's intent and the confidence read in context, when `text` continues an FAQ's
    topic (see the module's text); None: `text` is read alone. `whole`: `text` read alone;
    `weak`: below this an intent gives way to an article; `article_for`: the article the
    knowledge base answers a text with, if any."""
    if not topic.intent or not bot.handles(topic.intent):
        return None
    intent, confidence = whole
    sure = bot.settings.split_confidence
    # Thanks and greetings are never more of a topic, unless only faintly read and built as
    # a question on the last ("那银联呢" was a goodbye at 0.19; "cool, appreciate it" stays
    # thanks); anything else that reads as another intent, or as nothing, continues it only
    # when its words say so ("what if it…", "那…呢").
    if (intent in SMALL_TALK and (confidence >= weak or not opens_on_the_last(text))) or (
        intent != topic.intent and not points_back(text)
    ):
        return None
    if intent is not None and confidence >= sure:
        return None
    # The topic's own answer naming every word the message asks about ("can I pay with
    # Alipay?" … "and WeChat Pay?": "We accept … Alipay and WeChat Pay"; "超过30天还能退吗" …
    # "如果是质量问题呢": "质量问题 1 年内可换新") is the topic's, read after its question
    # less surely (0.30) or sharing a word with an article ("pay the rest at any time").
    faq = bot.faqs.get(topic.intent)
    named = faq is not None and names_all(faq.answer.source(lang, bot.settings.language), text)
    read = bot.classifier.predict(in_context(topic, text))
    if read.intent != topic.intent or (read.confidence < sure and not named):
        return None
    if (intent is None or confidence < weak) and not named:
        alone = article_for(text)
        if alone is not None and alone == article_for(in_context(topic, text)):
            return None
    return Question(intent=topic.intent, confidence=float(read.confidence))


def names_all(answer: str, text: str) -> bool:
    """Whether `answer` holds every word `text` asks about (its search terms: stop words
    aside, English stemmed; a Chinese word may stand in the answer inside a longer one), and
    there is at least one."""
    # The words that build it on the last question ("and…", "如果…呢") and frame it ("怎么办")
    # ask about nothing.
    asked = what_is_asked(_OPENS_ON_THE_LAST.sub(" ", normalize(text)))
    words = set(split_terms(asked)[0])
    said = set(terms(answer))
    return bool(words) and words <= said
