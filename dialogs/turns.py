"""One turn of the bot: read the customer's message, move through the flow, collect replies.

The order of decisions, each explained where it is made:

1. clean the text; a press on a button of an older question is answered "this question has
   expired" and changes nothing; detect the language, expire an idle flow, take the entities
   (`dialogs.entities`) from the message;
2. an opening (`/start`) gets the greeting, never a flow (a deep link naming a flow or intent
   starts it);
3. a pending "talk to a person?" offer takes a yes (`dialogs.affirm`); a no declines it; a
   question the bot knows is answered; anything else asks once more, then lets it go;
4. inside a flow waiting at an `ask`, the answer fills the slot — typed as a button's title,
   close to one, as a yes/no in the customer's own words (`dialogs.options`), or as an entity
   inside a sentence — unless it is clearly another intent (an *interruption*: a FAQ is
   answered and the ask repeated; a flow is started and the interrupted one resumed when it
   ends);
5. outside a flow, the intent starts a flow or gets its FAQ answer; a flow skips the asks whose
   slots the message already gave ("where is my order 20261001"). A message surely asking
   several things (`dialogs.questions`) gets each FAQ answer in the order asked, then at most
   one flow; inside a flow, an interruption asking several FAQs gets each answer;
6. anything else is answered from the knowledge base when a passage is confident enough
   (`dialogs.knowledge`; "Did this help?" follows, and the answer is recorded per article);
   otherwise it is a fallback: candidates as buttons, then an offer of a person.

Replies are rendered from operator templates only; customer text is only ever a value.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from dialogs import answers
from dialogs.acknowledgement import acknowledges
from dialogs.affirm import (
    is_question,
    is_short,
    opens_with_answer,
    polarity,
    still_failing,
    tried_already,
)
from dialogs.closing_words import closes, emoji_answer, waves
from dialogs.closings import without_frame
from dialogs.entities import Found, extract_all
from dialogs.flows import (
    Action,
    Ask,
    Bot,
    Branch,
    ButtonSpec,
    End,
    Faq,
    Flow,
    Goto,
    Handoff,
    Jump,
    Say,
    Set,
    Slot,
    Tag,
    Text,
    TopicMenu,
)
from dialogs.kb_index import Hit, Passage
from dialogs.knowledge import KnowledgeBase
from dialogs.payloads import intent_with_values
from dialogs.preamble import announces_question, names_subject
from dialogs.questions import Question, asked, story_question
from dialogs.said_back import bare_yes, rejects_answer
from dialogs.slots import Invalid, Valid, validate
from dialogs.state import State
from dialogs.suggestions import SMALL_TALK, hands_off, suggestions
from dialogs.templates import evaluate, render
from dialogs.topic import MAX_TOPIC_TEXT, Topic, continued, in_context, points_back
from dialogs.unsure import unsure
from dialogs.withdrawal import withdraws
from hub.model import (
    Button,
    ConversationStatus,
    NewEvent,
    Outbound,
    mark_question,
    split_question,
)
from hub.text import after_retraction, clean, detect_language

log = logging.getLogger("frontdesk.dialogs")

#: Steps run in one turn before the engine assumes a `goto` loop and stops the flow.
MAX_STEPS_PER_TURN = 50
PRIORITY_NUMBER = {"P1": 1, "P2": 2, "P3": 3}
#: What an opening such as Telegram's `/start` is answered with, when the bot has it.
GREETING_INTENT = "greet"
GOODBYE_INTENT = "goodbye"
#: Below this NLU confidence an intent gives way to a knowledge-base answer. Measured with
#: out-of-scope lines as a class (threshold 0.128, where it had been 0.221): on the knowledge
#: bench's validation questions through the engine, 36 / 33 of 63 (en / zh) got their article
#: where 28 / 27 did when the answer also had to reach twice the base's threshold (`main`
#: before the class: 33 / 29); on 60 conversations written apart, 101 of 116 messages were
#: handled as meant (91; `main` 92); the dev split lost 2 English and 3 Chinese weak but
#: right intents to an article (docs/nlu-bench-results.md).
WEAK_INTENT = 0.3
#: A subject named alone ("my account", "付款") is read as an intent only this surely: below,
#: the word alone decided it ("my account" was the account deletion FAQ at 0.51), and the
#: bot asks what about it (its `topics`) instead.
SUBJECT_ALONE = 0.6
#: The payloads of "Did this help?" after a knowledge-base answer.
KB_HELPED, KB_NOT_HELPED = "/kb_helped", "/kb_not_helped"
INVALID_MESSAGES = {
    "not_a_choice": "invalid_choice",
    "not_a_number": "invalid_number",
    "not_an_email": "invalid_email",
    "not_a_phone": "invalid_phone",
}


class ActionOutcomeLike(Protocol):
    @property
    def slots(self) -> Mapping[str, Any]: ...
    @property
    def replies(self) -> tuple[Outbound, ...]: ...
    @property
    def failed(self) -> bool: ...
    @property
    def error(self) -> str: ...


class ActionRunner(Protocol):
    """What a flow's `action` step needs (see `dialogs.actions.ActionClient`)."""

    async def run(
        self,
        action: str,
        *,
        sender_id: str,
        slots: Mapping[str, Any],
        latest_message: Mapping[str, Any],
        events: Sequence[Mapping[str, Any]],
    ) -> ActionOutcomeLike: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What templates may read besides slots (kept small and JSON-like on purpose)."""

    sender_id: str
    customer: Mapping[str, Any]
    conversation: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    replies: tuple[Outbound, ...]
    events: tuple[NewEvent, ...]
    state: State
    status: ConversationStatus | None = None
    priority: int | None = None


class Dialogue:
    """Runs one turn against an immutable `Bot` and a mutable copy of the state."""

    def __init__(
        self,
        bot: Bot,
        state: State,
        context: Context,
        actions: ActionRunner | None,
        knowledge: KnowledgeBase | None = None,
    ) -> None:
        self.bot = bot
        self.knowledge = knowledge if bot.settings.knowledge else None
        self.state = state
        self.context = context
        self.actions = actions
        self.replies: list[Outbound] = []
        self.events: list[NewEvent] = []
        self.status: ConversationStatus | None = None
        self.priority: int | None = None
        self.text = ""
        self.intent: str | None = None
        self.confidence = 0.0
        self.handled_as = ""
        self.timed_out = ""
        self.found: dict[str, list[Found]] = {}  # entities in this message
        self.given: dict[str, Any] = {}  # slots this message filled from its entities
        self.rejected: dict[str, str] = {}  # slots whose entity in this message was invalid
        self.answer = ""  # the customer's answer quoted in a validation message
        self.questions: list[dict[str, Any]] = []  # each question answered, when several
        self.now = 0.0
        self.asked = ""  # what the answer answers: the message, or it after the topic's question
        self.quoted = ""  # the knowledge-base article quoted this turn
        self.follow_up = False  # read as a follow-up of the conversation's topic
        self.previous: Topic | None = None  # the topic this message was read after, if any
        self.answered = ""  # which answer was given this turn (`Topic.answer`)
        self.repeated = False  # … and it was the one given last: said so, a person offered
        # texts looked up in the knowledge base (and whether each was read alone)
        self.kb_hits: dict[tuple[str, bool], Hit | None] = {}

    # ------------------------------------------------------------------ the turn
    async def run(self, raw_text: str, *, now: float, deep_link: str = "") -> Outcome:
        state, settings = self.state, self.bot.settings
        self.now = now
        # A mail's "Thanks,\nAna" or "祝好！\n李雷" is read as a frame, not as the message.
        self.text = text = clean(without_frame(raw_text))
        text, question = split_question(text)
        if question is not None:
            if question != state.question or not self._question_open():
                # A button of an earlier copy of a re-asked (or answered) question: taking it
                # would answer the current question with a stale choice.
                self.handled_as = "expired"
                self.say(self.bot.message("expired"))
                return self._outcome()
            self.text = text
        # `/delivery_problem{"order_number": "20261003"}`: the intent, and values for its flow.
        named = intent_with_values(text, self.bot.intents)
        if named is not None:
            text, values = named
        # A chosen button sends its payload ("no", "/greet"), which says nothing about the
        # customer's language: keep the conversation's.
        if not (text.startswith("/") or text in self._offered_payloads()):
            state.lang = detect_language(text, previous=state.lang, languages=settings.languages)
        self._forget_unknown_flow()
        if state.flow and state.last_activity:
            flow = self.bot.flows[state.flow]
            timeout = flow.timeout or settings.flow_timeout
            if now - state.last_activity > timeout:
                # A customer returning hours later should not land in the middle of a flow.
                self.timed_out = state.flow
                state.leave_flow()
                state.stack.clear()
                self.say(self.bot.message("timeout"))
        state.last_activity = now
        self.found = extract_all(text, self.bot.entities.values(), today=date.fromtimestamp(now))
        if named is not None:
            self._found_in_payload(values, today=date.fromtimestamp(now))
        if not text:
            self.handled_as = "empty"
            self.say(self.bot.message("empty"))
        elif text == "/start":
            await self._opening(deep_link)
        elif state.offer == "human" or text in ("/handoff_accept", "/handoff_decline"):
            await self._answer_offer(text)
        elif state.offer == "kb" or text in (KB_HELPED, KB_NOT_HELPED):
            await self._answer_kb_feedback(text)
        elif state.flow:
            await self._answer_ask(text)
        else:
            await self._understand(text)
        return self._outcome()

    def _found_in_payload(self, values: Mapping[str, str], *, today: date) -> None:
        """A payload's values, each read as its entity reads a message (`dialogs.payloads`)."""
        for name, value in values.items():
            entity = self.bot.entities.get(name)
            if entity is not None:
                self.found.update(extract_all(value, (entity,), today=today))

    def _outcome(self) -> Outcome:
        state = self.state
        self.events.insert(0, NewEvent(type="bot.turn", data=self._turn_data()))
        return Outcome(
            replies=tuple(self.replies),
            events=tuple(self.events),
            state=state,
            status=self.status,
            priority=self.priority,
        )

    def _turn_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "handled_as": self.handled_as,
            "flow": self.state.flow,
            "step": self.state.step,
            "slots": dict(self.state.slots),
            "lang": self.state.lang,
            "fallbacks": self.state.fallbacks,
        }
        if self.questions:
            data["questions"] = self.questions
        if self.follow_up:
            data["follow_up"] = True
        if self.repeated:
            data["repeated"] = True
        if self.intent in SMALL_TALK:
            data["small_talk"] = True  # courtesy, not an answer (the hand-off summary skips it)
        if self.timed_out:
            data["timed_out"] = self.timed_out
        if self.found:
            data["entities"] = {name: [f.value for f in hits] for name, hits in self.found.items()}
        return data

    def _question_open(self) -> bool:
        """Whether the bot is waiting for an answer to a question it asked."""
        if self.state.offer:
            return True
        flow = self.bot.flows.get(self.state.flow)
        position = flow.index(self.state.step) if flow else None
        return flow is not None and position is not None and isinstance(flow.steps[position], Ask)

    def _forget_unknown_flow(self) -> None:
        # After a hot reload the flow or step this conversation was in may be gone.
        state = self.state
        state.stack = [
            s
            for s in state.stack
            if s["flow"] in self.bot.flows
            and self.bot.flows[s["flow"]].index(s["step"]) is not None
        ]
        if state.flow:
            flow = self.bot.flows.get(state.flow)
            if flow is None or flow.index(state.step) is None:
                log.warning("dropping unknown flow position %s/%s", state.flow, state.step)
                state.leave_flow()

    # ------------------------------------------------------------------ understanding
    def _classify(self, text: str) -> tuple[str | None, float, list[str]]:
        """(intent, confidence, other candidates) — a `/intent` button payload is certain."""
        if text.startswith("/") and text[1:] in self.bot.intents:
            return text[1:], 1.0, []
        prediction = self.bot.classifier.predict(text)
        candidates = suggestions(self.bot, prediction.ranking)
        intent = (
            prediction.intent if prediction.intent and self.bot.handles(prediction.intent) else None
        )
        return intent, float(prediction.confidence), candidates

    async def _understand(self, text: str) -> None:
        """Answer a message read as a question (or several, or a follow-up of the last one);
        what it answered becomes the conversation's topic (`dialogs.topic`)."""
        state = self.state
        topic, state.topic = self._fresh_topic(), None
        self.previous = topic
        await self._read_and_answer(text, topic)
        if self.handled_as in ("faq", "knowledge") and not self.questions:
            state.topic = Topic(
                text=self.asked[-MAX_TOPIC_TEXT:],
                intent=self.intent or "",
                article=self.quoted if self.handled_as == "knowledge" else "",
                at=self.now,
                answer=self.answered,
            )

    def _fresh_topic(self) -> Topic | None:
        topic, window = self.state.topic, self.bot.settings.follow_up_window
        return topic if topic is not None and self.now - topic.at <= window else None

    async def _read_and_answer(self, text: str, topic: Topic | None) -> None:
        # "how do I complain… no wait, I just want the hours": read what is still meant.
        text = self.asked = after_retraction(text)
        intent, confidence, candidates = self._classify(text)
        self.intent, self.confidence = intent, confidence
        if self._nothing_to_look_up(text, intent, confidence):
            return
        questions = asked(self.bot, text, whole=(intent, confidence))
        if questions:
            await self._answer_each(questions, text)
            return
        # "…I ordered it an hour ago and found it cheaper in town. Can I still cancel?": a
        # story's one question, surely read alone, decides what the story only blurs.
        question = story_question(self.bot, text, whole=(intent, confidence), weak=WEAK_INTENT)
        if question is not None:
            intent, confidence = question.intent, question.confidence
            self.intent, self.confidence = intent, confidence
        # "can I cancel an order I placed an hour ago" … "what if it already shipped?": a
        # message that says too little alone may continue the last question answered.
        if topic is not None:
            follow = continued(
                self.bot,
                text,
                whole=(intent, confidence),
                topic=topic,
                weak=WEAK_INTENT,
                article_for=self._article_for,
                lang=self.state.lang,
            )
            if follow is not None:
                intent, confidence = follow.intent, follow.confidence
                self.intent, self.confidence = intent, confidence
                text = self.asked = in_context(topic, text)
                self.follow_up = True
        # "sorry, wrong number: it's 20261002" just after a lookup: not understood alone, or
        # only guessed at ("还有一个 20261003" reads a little as a stock question).
        if (intent is None or confidence < WEAK_INTENT) and await self._finished_flow_again():
            return
        # A greeting, thanks or goodbye answers no question: read only faintly for a message
        # that asks one, it is a misreading ("那洗澡能戴吗", can I wear it in the shower?, was
        # a goodbye at 0.14 for its 那, and the bot said goodbye). It is read as nothing.
        if intent in SMALL_TALK and confidence < WEAK_INTENT and is_question(text):
            intent = self.intent = None
        if intent is None:
            if self._answer_from_knowledge(text, read_alone=not self.follow_up):
                return
            # "sorry, it's 20261001" after another answer: not understood as words, but its
            # order number is what the likeliest flow asks first (and what it says, more
            # than its "it's" leaning on the last answer).
            if candidates and self._answers_first_ask(candidates[0]):
                self.intent = candidates[0]
                self.state.fallbacks = 0
                await self._start_intent(candidates[0], text)
                return
            if not self._answer_in_topic(text, topic):
                self._fallback(candidates)
            return
        faq = self.bot.faqs.get(intent)
        articles = faq.articles if faq is not None else ()
        # A weak guess at an intent loses to an article that answers the line: "耳机只有一边有
        # 声音" is not worth a power-on troubleshooting flow, "will you take my old phone when
        # I buy a new one" is the trade-in article, not a change of contact details (0.15),
        # "怎么把数据导到新手机" the data-transfer article, not a factory reset. Unless the
        # article is one the FAQ quotes itself: then the FAQ quotes it.
        if confidence < WEAK_INTENT and self._answer_from_knowledge(
            text, unless=articles, read_alone=not self.follow_up
        ):
            self.intent = None
            return
        if (confidence < self.bot.settings.handoff_confidence and self._hands_off(intent)) or (
            confidence < WEAK_INTENT
            and intent not in self.bot.faqs
            and not self._answers_first_ask(intent)
        ):
            # A person's queue (often at high priority) is never entered on a guess, nor a
            # flow that asks for something ("太离谱了，退款等了三个星期还没到" read as an order
            # lookup at 0.18 would be asked for an order number): the intent is offered as a
            # button with the others, one tap confirms it.
            self.intent = None
            self._fallback([intent, *(c for c in candidates if c != intent)][:3])
            return
        self.state.fallbacks = 0
        await self._start_intent(intent, text)

    def _nothing_to_look_up(self, text: str, intent: str | None, confidence: float) -> bool:
        """Say what a message that asks nothing yet needs, if it is one: a question announced
        ("I have a problem", `dialogs.preamble`), a wave, closing words ("no, that's all",
        `dialogs.closing_words`), or a subject without the question ("I have a problem with
        my order": its topic's intents as buttons). Read as questions, their one or two
        words had found an unrelated article or flow."""
        menu = None
        if announces_question(text):
            self.intent = GREETING_INTENT if self.bot.handles(GREETING_INTENT) else None
            self.handled_as = "preamble"
            self.say(self.bot.message("go_ahead"))
        elif waves(text) and GREETING_INTENT in self.bot.faqs:
            self.intent = GREETING_INTENT
            self._say_faq(self.bot.faqs[GREETING_INTENT], text)
        elif closes(text):
            self.intent = None
            self.handled_as = "closing"
            self.say(self.bot.message("closing"))
        elif bare_yes(text):  # "Anything else I can do for you?" "yes" (`dialogs.said_back`)
            self.intent = None
            self.handled_as = "go_ahead"
            self.say(self.bot.message("go_ahead"))
        elif rejects_answer(text):  # "no, that's not what I meant", "不是这个意思"
            self._misunderstood(self.previous)
            return True
        elif menu := self._subject_named(text, bare=intent is None or confidence < SUBJECT_ALONE):
            self.intent = None
            self.handled_as = "topic_menu"
            self.reply(
                menu.ask,
                tuple(
                    Button(title=self.bot.title(i, self.state.lang), payload=f"/{i}")
                    for i in menu.intents
                ),
            )
        else:
            return False
        self.state.fallbacks = 0
        return True

    def _misunderstood(self, topic: Topic | None) -> None:
        """The customer says the last answer missed: the bot says so and offers the other
        readings of their question (`topic`, the question it answered), or asks them to say
        it another way; a misunderstanding like any other, counted towards the offer of a
        person, and the end of that topic."""
        state = self.state
        state.fallbacks += 1
        self.intent = None
        self.handled_as = "misunderstood"
        if state.fallbacks >= self.bot.settings.max_fallbacks:
            self._offer_human()
            return
        others: list[str] = []
        if topic is not None:
            # Its other readings, as any fallback offers them: a reading the classifier gave
            # under `MIN_CANDIDATE_CONFIDENCE` is no evidence, even with the first ruled out
            # (scaled up as if it were, "points" offered "Am I talking to a bot?").
            _, _, candidates = self._classify(topic.text)
            others = [c for c in candidates if c != topic.intent and c not in SMALL_TALK]
        buttons = tuple(
            Button(title=self.bot.title(intent, state.lang), payload=f"/{intent}")
            for intent in others[:3]
        )
        self.reply(
            self.bot.message("misunderstood" if buttons else "misunderstood_rephrase"), buttons
        )

    def _subject_named(self, text: str, *, bare: bool) -> TopicMenu | None:
        """The bot's topic `text` names with a trouble and nothing more; `bare`: or alone
        ("my phone": when the classifier has no better reading) (`dialogs.preamble`)."""
        return next((t for t in self.bot.topics if names_subject(text, t.words, bare=bare)), None)

    async def _finished_flow_again(self) -> bool:
        """A message not understood (or only weakly) that holds another value for a question
        of the flow that just ran to its end ("sorry, wrong number: it's 20261002", "不好意思输错了，是
        20261002", "and 20261003?", within `follow_up_window`): the flow runs again with it,
        as when a message names the value along with the question."""
        state = self.state
        flow = self.bot.flows.get(state.finished)
        if flow is None or self.now - state.finished_at > self.bot.settings.follow_up_window:
            return False
        asked_slots = [self.bot.slots[s.slot] for s in flow.steps if isinstance(s, Ask)]
        given, _ = answers.from_message(asked_slots, self.found)
        if not given:
            return False
        self.handled_as = "flow_again"
        self.intent = None  # not what the classifier guessed, if it guessed
        state.fallbacks = 0
        await self._start_flow(flow)
        return True

    def _kb_hit(self, text: str, *, read_alone: bool = False) -> Hit | None:
        """What the knowledge base answers `text` with; a follow-up's rule and the answer
        may both ask about the same text in one turn, and it is searched once.
        `read_alone`: `text` is the customer's line as it came, the answer to give if one is
        found (`KnowledgeIndex.answer`: one word met barely over the threshold is not
        enough); the rules that only compare articles, or read a line in context, ask
        without it."""
        if self.knowledge is None:
            return None
        key = (text, read_alone)
        if key not in self.kb_hits:
            self.kb_hits[key] = self.knowledge.answer(text, self.state.lang, read_alone=read_alone)
        return self.kb_hits[key]

    def _article_for(self, text: str) -> str | None:
        """The article the knowledge base answers `text` with, if any (nothing is said)."""
        hit = self._kb_hit(text)
        return hit.passage.article if hit is not None else None

    def _answer_in_topic(self, text: str, topic: Topic | None) -> bool:
        """A message not understood alone whose words point back, after an article answered
        the last question: the passage of that article that answers it read after that
        question ("is the watch waterproof?" … "can I wear it in the shower?"), if the
        knowledge base finds one."""
        if topic is None or not topic.article or not points_back(text):
            return False
        context = in_context(topic, text)
        if not self._answer_from_knowledge(context, only=topic.article):
            return False
        self.asked, self.follow_up = context, True
        return True

    def _answer_from_knowledge(
        self, text: str, *, unless: Sequence[str] = (), only: str = "", read_alone: bool = False
    ) -> bool:
        """Quote the passage that answers `text`, if one is confident enough, not of an
        article in `unless` and (`only`) of that article; ask if it helped."""
        hit = self._kb_hit(text, read_alone=read_alone)
        if hit is None or hit.passage.article in unless or only not in ("", hit.passage.article):
            return False
        self._quote(hit.passage, hit.confidence)
        return True

    def _say_faq(self, faq: Faq, text: str, *, ask: bool = True) -> None:
        """An FAQ's answer: the passage of its knowledge-base articles that best answers
        `text` when it has articles the knowledge base holds, else its own `answer`.
        `ask=False` (an answer beside others, or while a flow waits for its own answer)
        quotes without "Did this help?", whose reply would be taken for the flow's."""
        passage = (
            self.knowledge.passage_of(text, self.state.lang, faq.articles)
            if faq.articles and self.knowledge is not None
            else None
        )
        if passage is None:
            self.handled_as = "faq"
            # The answer as written for this language: rendering it here as well as in
            # `say` would cost every FAQ answer a second render for the same fingerprint.
            written = faq.answer.source(self.state.lang, self.bot.settings.language)
            repeated = self._repeats(_fingerprint(written), ask=ask)
            self.say(faq.answer, faq.buttons)
            if repeated:
                self._offer_human("offer_human_after_repeat")
            return
        self._quote(passage, self.confidence, ask=ask)

    def _repeats(self, answer: str, *, ask: bool) -> bool:
        """Whether `answer` (its `_fingerprint`: the very text, so an answer the operator
        has edited since, or the same one in the other language, is no repeat) is the one
        the bot gave to the topic's question; then it says so first, and the caller offers
        a person after it. A follow-up that gets the very answer the customer has just read
        ("I was charged twice" … "it was yesterday", "可以用支付宝吗" … "微信支付呢") says
        that the bot has nothing more on it: the same paragraph pasted again, with nothing
        to say so, is the loop customers give up on. Not for small talk ("thanks"
        twice is two welcomes), nor for an answer beside others or inside a flow (`ask`)."""
        self.answered = answer
        previous = self.previous
        if not ask or previous is None or previous.answer != answer:
            return False
        if (self.intent or "") in SMALL_TALK:
            return False
        self.repeated = True
        self.say(self.bot.message("repeat"))
        return True

    def _quote(self, passage: Passage, confidence: float, *, ask: bool = True) -> None:
        """Quote a knowledge-base passage and (`ask`) ask if it helped."""
        assert self.knowledge is not None
        state = self.state
        article = self.knowledge.articles[passage.article]
        self.quoted = article.id
        self.handled_as = "knowledge"
        state.fallbacks = 0
        repeated = self._repeats(_fingerprint(article.id, passage.lang, passage.text), ask=ask)
        context = self.template_context()
        context["article"] = {
            "title": article.title(passage.lang),
            "passage": passage.text,
            "link": self.knowledge.link(article.id, passage.lang),
        }
        lang, default = state.lang, self.bot.settings.language
        if not ask or repeated:  # a repeat asks whether a person should help instead
            self.replies.append(
                Outbound(
                    text=render(self.bot.message("kb_quote").pick(lang, default), context)
                    or passage.text
                )
            )
            if repeated:
                self._offer_human("offer_human_after_repeat")
        else:
            state.offer, state.offer_article = "kb", article.id
            state.question += 1
            self._ask_if_helped(passage, context)
        self.events.append(
            NewEvent(
                type="kb.answered",
                data={
                    "article": article.id,
                    "lang": passage.lang,
                    "passage": passage.position,
                    "confidence": round(confidence, 4),
                },
            )
        )

    def _ask_if_helped(self, passage: Passage, context: dict[str, Any]) -> None:
        state = self.state
        lang, default = state.lang, self.bot.settings.language
        answer = render(self.bot.message("kb_answer").pick(lang, default), context)
        yes, no = self.bot.message("kb_yes"), self.bot.message("kb_no")
        self.replies.append(
            Outbound(
                text=answer or passage.text,
                buttons=(
                    Button(
                        title=self.render(yes), payload=mark_question(KB_HELPED, state.question)
                    ),
                    Button(
                        title=self.render(no), payload=mark_question(KB_NOT_HELPED, state.question)
                    ),
                ),
            )
        )

    async def _answer_kb_feedback(self, text: str) -> None:
        """ "Did this help?": a yes or no is recorded for the article; anything else is a new
        question, and the article is left unrated."""
        state = self.state
        article, state.offer, state.offer_article = state.offer_article, "", ""
        # "答非所问", "wrong answer": a no to the article as much as "no" (`dialogs.said_back`).
        failing = still_failing(text) or rejects_answer(text)
        said = (
            {KB_HELPED: "yes", KB_NOT_HELPED: "no"}.get(text)
            or ("no" if failing else polarity(text))
            or emoji_answer(text)  # "👍", "[强]", "👎"
        )
        if said is not None and not is_short(text):
            intent, confidence, _ = self._classify(text)
            confident = confidence >= self.bot.settings.interrupt_confidence
            faq = self.bot.faqs.get(intent or "")
            # "I already updated it, still crashes", "已经更新过了还是闪退": the same problem
            # (nothing else read surely, or the intent whose FAQ quotes this very article),
            # still there: a no. A problem of another intent is a new question, below.
            same_problem = failing and (
                intent is None
                or confidence < WEAK_INTENT
                or (faq is not None and article in faq.articles)
                or tried_already(text)  # "已經重開機了" is no power-on question (0.47)
            )
            # "no, how do I reset my password": a confident question wins. So does a problem
            # the bot knows that merely holds a yes or no word: "蓝牙耳机右边突然不响了" reads
            # as a no (不) and "快递送来的音箱外壳裂了" as a yes (了), but neither opens with
            # an answer; each describes the next problem, it does not rate the article.
            if (
                not same_problem
                and intent is not None
                and confidence >= WEAK_INTENT  # "已经好了" is no goodbye at 0.22
                and (confident or not opens_with_answer(text))
            ):
                said = None
        if said is None or not article:
            await self._understand(text)
            return
        helpful = said == "yes"
        self.events.append(
            NewEvent(type="kb.feedback", data={"article": article, "helpful": helpful})
        )
        if helpful:
            self.handled_as = "kb_helped"
            self.say(self.bot.message("kb_helped"))
        else:
            # The bot has nothing better than its best article: a person may.
            self.handled_as = "kb_not_helped"
            self.say(self.bot.message("kb_not_helped"))
            self._offer_human("offer_human_after_answer")

    def _answers_first_ask(self, intent: str) -> bool:
        """Whether `intent` starts a flow whose first question this message answers ("#20261001"
        for the order lookup's order number): then even a weak guess at it is worth starting,
        since the flow asks nothing before it acts on what the customer gave. Not a flow that
        hands off: a person's queue is never entered on a guess."""
        name = self.bot.triggers.get(intent)
        flow = self.bot.flows.get(name) if name is not None else None
        if flow is None or self._hands_off(intent):
            return False
        first = next((step for step in flow.steps if isinstance(step, Ask)), None)
        if first is None:
            return False
        given, _ = answers.from_message([self.bot.slots[first.slot]], self.found)
        return bool(given)

    def _hands_off(self, intent: str) -> bool:
        return hands_off(self.bot, intent)

    async def _start_intent(self, intent: str, text: str = "", *, ask: bool = True) -> None:
        faq = self.bot.faqs.get(intent)
        if faq is not None:
            self._say_faq(faq, text, ask=ask)
            return
        self.handled_as = "flow"
        await self._start_flow(self.bot.flows[self.bot.triggers[intent]])

    async def _answer_each(self, questions: Sequence[Question], text: str) -> None:
        """A message asking several things (`dialogs.questions`): each FAQ answered in the
        order asked, then the flow, if one was asked for, started as for that question alone."""
        self.state.fallbacks = 0
        self.questions = [
            {"intent": q.intent, "confidence": round(q.confidence, 4)} for q in questions
        ]
        for question in questions:
            # Each answer is rendered with its own intent as `latest_message.intent`; the
            # last one (the flow's, when there is one) is what the turn leaves behind.
            self.intent, self.confidence = question.intent, question.confidence
            await self._start_intent(question.intent, text, ask=False)

    def _fallback(self, candidates: list[str]) -> None:
        state = self.state
        state.fallbacks += 1
        self.handled_as = "fallback"
        if state.fallbacks >= self.bot.settings.max_fallbacks:
            self._offer_human()
            return
        buttons = tuple(
            Button(title=self.bot.title(intent, state.lang), payload=f"/{intent}")
            for intent in candidates
        )
        self.reply(self.bot.message("fallback" if buttons else "rephrase"), buttons)

    def _offer_human(self, message: str = "offer_human") -> None:
        """Ask whether the customer wants a person: after misunderstandings (`offer_human`),
        or after an answer that did not help (`offer_human_after_answer`)."""
        state = self.state
        state.offer = "human"
        state.question += 1
        yes, no = self.bot.message("yes"), self.bot.message("no")
        self.reply(
            self.bot.message(message),
            (
                Button(
                    title=self.render(yes),
                    payload=mark_question("/handoff_accept", state.question),
                ),
                Button(
                    title=self.render(no),
                    payload=mark_question("/handoff_decline", state.question),
                ),
            ),
        )

    async def _answer_offer(self, text: str) -> None:
        """Only a yes hands off: a person's time is spent on purpose, never by a misreading."""
        state = self.state
        state.offer = ""
        if text == "/handoff_accept":
            said: str | None = "yes"
        elif text == "/handoff_decline":
            said = "no"
        else:
            said = polarity(text)
            if said is not None and not is_short(text):
                # "我要投诉", "你们几点开门": a confident question wins over a yes-like word.
                intent, confidence, _ = self._classify(text)
                if intent is not None and confidence >= self.bot.settings.interrupt_confidence:
                    said = None
        if said == "yes":
            self.handled_as = "offer_accepted"
            state.offer_repeats = 0
            self._handoff(reason="fallback", skill="", priority="P3", text=None)
            return
        if said == "no":
            self.handled_as = "offer_declined"
            state.fallbacks = state.offer_repeats = 0
            self.say(self.bot.message("offer_declined"))
            return
        intent = self._classify(text)[0]
        # A new question the bot can answer, from its intents or its articles, or one that
        # leans on the last answer ("can I swim with it?"): answer it, the offer lapses.
        leans = points_back(text) and self._fresh_topic() is not None
        if intent is not None or leans or self._article_for(text) is not None:
            state.offer_repeats = 0
            if state.flow:
                await self._answer_ask(text)
            else:
                await self._understand(text)
        elif state.offer_repeats < 1:
            self.handled_as = "offer_repeated"
            state.offer_repeats += 1
            self._offer_human()
        else:
            self.handled_as = "offer_unclear"
            state.fallbacks = state.offer_repeats = 0
            self.say(self.bot.message("rephrase"))

    async def _opening(self, deep_link: str) -> None:
        """`/start`: the greeting, or what a deep link names (a flow or an intent)."""
        state = self.state
        state.leave_flow()
        state.stack.clear()
        state.offer = ""
        state.fallbacks = 0
        self.handled_as = "opening"
        if deep_link in self.bot.flows:
            await self._start_flow(self.bot.flows[deep_link])
        elif deep_link and self.bot.handles(deep_link):
            self.intent, self.confidence = deep_link, 1.0
            await self._start_intent(deep_link)
            self.handled_as = "opening"
        elif self.bot.handles(GREETING_INTENT) and GREETING_INTENT in self.bot.faqs:
            faq = self.bot.faqs[GREETING_INTENT]
            self.say(faq.answer, faq.buttons)
        else:
            self.say(self.bot.message("welcome"))

    # ------------------------------------------------------------------ flows
    async def _answer_ask(self, text: str) -> None:
        state = self.state
        flow = self.bot.flows[state.flow]
        step = flow.steps[flow.index(state.step) or 0]
        if not isinstance(step, Ask):  # only asks wait for the customer; be forgiving
            state.leave_flow()
            await self._understand(text)
            return
        slot = self.bot.slots[step.slot]
        reading = answers.read(
            text,
            step,
            slot,
            self.found,
            intents=self.bot.intents,
            classify=lambda t: self._classify(t)[0],
        )
        # "never mind", "算了": the customer drops the question (and the flow), unless the
        # words are exactly an option offered (a "Cancel" button) or the slot's own value.
        strict = isinstance(reading.verdict, Valid) and not reading.lenient
        if withdraws(text) and not (strict and slot.type not in ("text", "any")):
            state.note({"flow": flow.name, "step": step.id, "left": True})
            self.handled_as = "left_flow"
            self.say(self.bot.message("left_flow"))
            await self._end_flow(resume=False, left=True)
            return
        if (
            step.wait is not None
            and not strict
            and (acknowledges(text) or emoji_answer(text) == "yes")  # "ok", "好的我试试", "👍"
        ):
            # "ok", "好的我试试" to an instruction and its question: the customer is doing it,
            # not answering yet. The question stays as asked (its buttons too); no attempt.
            self.handled_as = "slot_wait"
            self.say(step.wait)
            return
        # Typing the title of a button that stands for an intent is as if it was tapped.
        text = reading.intent or text
        explicit = text.startswith("/") and text[1:] in self.bot.intents
        verdict, lenient, self.answer = reading.verdict, reading.lenient, reading.quoted
        free_text = slot.type in ("text", "any")
        if explicit or isinstance(verdict, Invalid) or free_text or lenient:
            intent, confidence, _ = self._classify(text)
            # A free-text answer always fills the slot, and an answer read generously ("开了"
            # as a yes) may still be a new question, so then only a confident intent
            # interrupts. An answer that fits no option interrupts when it is at least a fair
            # guess at another question, or asks several the bot surely reads ("how much is
            # shipping and how long does it take": 0.27 for each of two): a faint resemblance
            # is no question ("I already charged it" to "Did the device turn on?" is no
            # duplicate charge at 0.2), and the question is asked again instead.
            generous = free_text or lenient
            if generous:
                confident = confidence >= self.bot.settings.interrupt_confidence
            else:
                confident = confidence >= WEAK_INTENT or bool(
                    asked(self.bot, text, whole=(intent, confidence))
                )
            if lenient and is_short(text):
                confident = False  # "好", "可以": an answer, whatever else it resembles
            # Asking for the flow we are already in is not an interruption: an answer is due.
            other = intent is not None and self.bot.triggers.get(intent) != flow.name
            # A hand-off, as outside a flow, is never entered on a guess.
            sure = explicit or confidence >= self.bot.settings.handoff_confidence
            if intent is not None and self._hands_off(intent) and not sure:
                intent = None
            if intent is not None and other and (explicit or confident):
                self.intent, self.confidence = intent, confidence
                await self._interrupt(intent, step, text)
                return
        self.handled_as = "slot"
        if isinstance(verdict, Invalid) and slot.help is not None and unsure(text):
            # "I don't know my order number": where to find it, and the question again; not
            # a failed attempt (dialogs.unsure).
            self.handled_as = "slot_help"
            self.say(slot.help)
            self._prompt(step)
            return
        if isinstance(verdict, Invalid):
            state.attempts += 1
            if state.attempts >= slot.max_attempts:
                state.note({"flow": flow.name, "step": step.id, "gave_up": step.slot})
                if step.on_fail:
                    await self._go(flow, step.on_fail)
                else:
                    self.say(self.bot.message("gave_up"))
                    await self._end_flow()
                return
            self._say_invalid(slot, verdict)
            self._prompt(step)
            return
        state.slots[step.slot] = verdict.value
        state.attempts = 0
        state.note(
            {
                "flow": flow.name,
                "step": step.id,
                "asked": self.render(step.prompt),
                "answer": verdict.value,
            }
        )
        # The same message may answer later questions too ("20261001, ana@example.com").
        self._fill_from_message(skip=step.slot)
        await self._continue(flow, (flow.index(step.id) or 0) + 1)

    def _fill_from_message(self, *, skip: str = "") -> None:
        """Slots whose entity this message contains are filled now, so their asks are skipped;
        an invalid value is kept to be quoted when its ask comes."""
        given, rejected = answers.from_message(self.bot.slots.values(), self.found, skip=skip)
        self.state.slots.update(given)
        self.given.update(given)
        for name in given:
            self.rejected.pop(name, None)
        self.rejected.update(rejected)

    def _say_invalid(self, slot: Slot, verdict: Invalid) -> None:
        if not self.answer:
            self.answer = self.text[: answers.MAX_QUOTED]
        name = INVALID_MESSAGES.get(verdict.reason, "invalid")
        self.say(slot.invalid or self.bot.message(name))

    async def _interrupt(self, intent: str, step: Ask, text: str) -> None:
        """Another intent in the middle of a flow: answer it, then come back to `step`; a
        goodbye ends the flow (and those it interrupted) instead of asking again."""
        self.state.fallbacks = 0
        if intent == GOODBYE_INTENT and intent in self.bot.faqs:
            self.state.note({"flow": self.state.flow, "step": step.id, "left": True})
            self.handled_as = "interruption"
            self._say_faq(self.bot.faqs[intent], text, ask=False)
            await self._end_flow(resume=False, left=True)
            return
        if intent in self.bot.faqs:
            faq = self.bot.faqs[intent]
            several = asked(self.bot, text, whole=(intent, self.confidence))
            if faq.in_flow is not None and not several:
                self.handled_as = "interruption"
                self.say(faq.in_flow)
                self._prompt(step)
                return
            if several and all(q.intent in self.bot.faqs for q in several):
                # Two FAQs asked at once are both answered; a flow asked beside them is not
                # started (one waits already): the message is then one interruption, as ever.
                await self._answer_each(several, text)
            else:
                self._say_faq(faq, text, ask=False)
            self.handled_as = "interruption"
            self.say(self.bot.message("resume"))
            self._prompt(step)
            return
        self.handled_as = "interruption"
        self.state.push()
        await self._start_flow(self.bot.flows[self.bot.triggers[intent]])

    async def _start_flow(self, flow: Flow) -> None:
        # A flow asks its questions afresh each time it starts, except what this very
        # message already says ("where is my order 20261001").
        for step in flow.steps:
            if isinstance(step, Ask):
                self.state.slots.pop(step.slot, None)
        self.state.attempts = 0
        self._fill_from_message()
        await self._continue(flow, 0)

    async def _go(self, flow: Flow, step_id: str) -> None:
        await self._continue(flow, flow.index(step_id) or 0)

    async def _continue(self, flow: Flow, position: int) -> None:
        """Run steps from `position` until one waits for the customer or the flow ends."""
        state = self.state
        for _ in range(MAX_STEPS_PER_TURN):
            if position >= len(flow.steps):
                await self._end_flow()
                return
            step = flow.steps[position]
            state.flow, state.step = flow.name, step.id
            next_position = position + 1
            match step:
                case Say():
                    state.note({"flow": flow.name, "step": step.id, "said": self.render(step.text)})
                    self.say(step.text, step.buttons)
                case Ask():
                    if step.slot in self.given:
                        state.note(
                            {
                                "flow": flow.name,
                                "step": step.id,
                                "answer": self.given.pop(step.slot),
                                "from_message": True,
                            }
                        )
                    else:
                        if step.slot in self.rejected:
                            # Say what was wrong with the value the customer gave.
                            self.answer = self.rejected.pop(step.slot)
                            slot = self.bot.slots[step.slot]
                            reason = validate(slot, self.answer)
                            if isinstance(reason, Invalid):
                                self._say_invalid(slot, reason)
                        self._prompt(step)
                        return
                case Branch():
                    verdict = evaluate(step.condition, self.template_context())
                    target = step.then if verdict else step.otherwise
                    if target:
                        next_position = flow.index(target) or 0
                case Goto():
                    next_position = flow.index(step.target) or 0
                case Jump():
                    await self._start_flow(self.bot.flows[step.flow])
                    return
                case Action():
                    if not await self._action(flow, step):
                        if step.on_error:
                            next_position = flow.index(step.on_error) or 0
                        else:
                            await self._end_flow(resume=False)
                            return
                case Set():
                    # Slots, not a note: the hand-off summary lists slots as details.
                    for name, value in step.values.items():
                        state.slots[name] = value
                case Tag():
                    if step.tag not in state.tags:
                        state.tags.append(step.tag)
                    self.events.append(NewEvent(type="customer.tagged", data={"tag": step.tag}))
                case Handoff():
                    self._handoff(
                        reason=step.reason, skill=step.skill, priority=step.priority, text=step.text
                    )
                    return
                case End():
                    await self._end_flow()
                    return
            position = next_position
        log.error("flow %s ran %d steps in one turn; stopping it", flow.name, MAX_STEPS_PER_TURN)
        self.say(self.bot.message("error"))
        state.leave_flow()

    async def _end_flow(self, *, resume: bool = True, left: bool = False) -> None:
        """The current flow is over; `resume`: the flows it interrupted go on (else they end
        too); `left`: the customer dropped it, so another value does not run it again."""
        state = self.state
        if not left:
            state.finished, state.finished_at = state.flow, self.now
        state.leave_flow()
        if not resume:
            state.stack.clear()
            return
        while state.stack:
            saved = state.stack.pop()
            flow = self.bot.flows[saved["flow"]]
            position = flow.index(saved["step"])
            if position is not None:
                self.say(self.bot.message("resume"))
                await self._continue(flow, position)
                return

    def _prompt(self, step: Ask) -> None:
        # Every asking is a new question: buttons of earlier copies expire (see `run`).
        self.state.question += 1
        self.say(step.prompt, self._buttons(step), question=self.state.question)

    def _buttons(self, step: Ask) -> tuple[ButtonSpec, ...]:
        return answers.buttons(step, self.bot.slots[step.slot])

    def _offered_payloads(self) -> set[str]:
        """The payloads of the buttons the customer was last asked to choose from."""
        flow = self.bot.flows.get(self.state.flow)
        position = flow.index(self.state.step) if flow else None
        if flow is None or position is None:
            return set()
        step = flow.steps[position]
        return {b.payload for b in self._buttons(step)} if isinstance(step, Ask) else set()

    async def _action(self, flow: Flow, step: Action) -> bool:
        if self.actions is None:
            log.error(
                "flow %s calls %s but no action endpoint is configured", flow.name, step.action
            )
            self.say(self.bot.message("action_failed"))
            return False
        outcome = await self.actions.run(
            step.action,
            sender_id=self.context.sender_id,
            # `language` lets an action answer in the customer's language.
            slots={**self.state.slots, "language": self.state.lang},
            latest_message={
                "text": self.text,
                "intent": {"name": self.intent, "confidence": self.confidence},
            },
            events=[],
        )
        if outcome.failed:
            log.error("action %s failed: %s", step.action, outcome.error)
            self.say(self.bot.message("action_failed"))
            self.state.note(
                {"flow": flow.name, "step": step.id, "action": step.action, "failed": True}
            )
            return False
        for name, value in outcome.slots.items():
            if name in self.bot.slots:
                self.state.slots[name] = value
            else:
                log.warning("action %s set undeclared slot %r; ignored", step.action, name)
        # Action replies are the server's plain text: shown as they are, never templated.
        self.replies.extend(outcome.replies)
        self.state.note({"flow": flow.name, "step": step.id, "action": step.action})
        return True

    def _handoff(self, *, reason: str, skill: str, priority: str, text: Text | None) -> None:
        state = self.state
        self.say(text or self.bot.message("handoff"))
        self.events.append(
            NewEvent(
                type="handoff.requested",
                data={
                    "reason": reason,
                    "skill": skill,
                    "priority": priority,
                    "flow": state.flow,
                    "step": state.step,
                    "slots": dict(state.slots),
                    "tried": list(state.tried),
                    "intent": self.intent,
                    "lang": state.lang,
                    "tags": list(state.tags),
                    # The step's own `say`, or the stock `handoff` message a hand-off engine
                    # may replace with what it knows (the queue, nobody online).
                    "own_words": text is not None,
                },
            )
        )
        self.status = ConversationStatus.QUEUED
        self.priority = PRIORITY_NUMBER[priority]
        state.leave_flow()
        state.stack.clear()
        state.offer = ""
        state.fallbacks = 0
        state.tried.clear()

    # ------------------------------------------------------------------ replies
    def template_context(self) -> dict[str, Any]:
        return {
            "slots": dict(self.state.slots),
            "customer": self.context.customer,
            "conversation": self.context.conversation,
            "lang": self.state.lang,
            "latest_message": {"text": self.text, "intent": self.intent},
            "answer": self.answer,
        }

    def render(self, text: Text) -> str:
        template = text.pick(self.state.lang, self.bot.settings.language)
        rendered = render(template, self.template_context())
        if rendered is None:
            log.error("template at %s failed; answering with the error message", text.where)
            fallback = self.bot.message("error").pick(self.state.lang, self.bot.settings.language)
            return render(fallback, {}) or "Sorry, something went wrong on our side."
        return rendered

    def say(self, text: Text, buttons: Sequence[ButtonSpec] = (), *, question: int = 0) -> None:
        """Reply with `text`; the buttons of a question carry its number."""
        lang, default = self.state.lang, self.bot.settings.language
        self.reply(
            text,
            tuple(
                Button(
                    title=b.title.pick(lang, default),
                    payload=mark_question(b.payload, question) if question else b.payload,
                )
                for b in buttons
            ),
        )

    def reply(self, text: Text, buttons: tuple[Button, ...] = ()) -> None:
        rendered = self.render(text)
        if rendered or buttons:
            self.replies.append(Outbound(text=rendered, buttons=buttons))


def _fingerprint(*parts: str) -> str:
    """A short, stable name for an answer's text, kept in the conversation's topic."""
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).hexdigest()
