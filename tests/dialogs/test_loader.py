"""Loading and validation: every kind of problem is reported with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogs.loader import load_bot
from dialogs.yamlsource import DialogsInvalid
from tests.dialogs.talk import DEMO_DIALOGS, write_bot

BASE = """\
slots:
  answer:
    type: text
intents:
  greet: [hello, hi there]
faq:
  greet_answer_placeholder_unused: null
"""

GOOD = """\
slots:
  answer:
    type: text
intents:
  start_survey: [start the survey, survey please]
faq:
  greet:
    examples: [hello, hi there]
    answer: Hello!
flows:
  survey:
    intent: start_survey
    steps:
      - ask: answer
        prompt: What do you think?
      - say: "Thanks, you said {{ slots.answer }}"
"""


def problems(folder: Path) -> list[str]:
    with pytest.raises(DialogsInvalid) as caught:
        load_bot(folder)
    return [p.located() for p in caught.value.problems]


def test_the_demo_bot_is_valid() -> None:
    bot = load_bot(DEMO_DIALOGS)
    assert {"power_troubleshooting", "order_status", "human", "complaint"} <= set(bot.flows)
    assert {"refund_policy", "points_redemption", "opening_hours", "greet"} <= set(bot.faqs)


def test_a_good_small_bot_loads(tmp_path: Path) -> None:
    bot = load_bot(write_bot(tmp_path, bot=GOOD))
    assert bot.triggers == {"start_survey": "survey"}
    assert [s.id for s in bot.flows["survey"].steps] == ["ask:answer", "2"]


def test_unknown_slot_in_ask_and_in_template(tmp_path: Path) -> None:
    folder = write_bot(
        tmp_path,
        bot=GOOD.replace("- ask: answer", "- ask: anwser").replace(
            "{{ slots.answer }}", "{{ slots.colour }}"
        ),
    )
    found = problems(folder)
    path = str(folder / "bot.yml")
    assert f"{path}:14: ask: unknown slot 'anwser'" in found
    assert f"{path}:16: template: unknown slot 'colour'" in found


def test_unknown_flow_and_unknown_step(tmp_path: Path) -> None:
    folder = write_bot(
        tmp_path,
        bot=GOOD + "      - flow: surveyy\n" + "      - goto: nowhere\n",
    )
    found = problems(folder)
    path = str(folder / "bot.yml")
    assert f"{path}:17: flow: unknown flow 'surveyy'" in found
    assert f"{path}:18: goto: no step 'nowhere' in flow 'survey'" in found
    # The goto after the jump can never run, but which steps are unreachable depends on
    # where the broken goto was meant to go: no knock-on "unreachable" errors.
    assert found == [
        f"{path}:17: flow: unknown flow 'surveyy'",
        f"{path}:18: goto: no step 'nowhere' in flow 'survey'",
    ]


def test_entities_are_declared_and_named_by_slots(tmp_path: Path) -> None:
    entities = (
        "entities:\n"
        "  order_number: {regex: '\\d{8}'}\n"
        "  city: {lookup: {shanghai: [上海, 沪], beijing: [北京]}}\n"
    )
    bot = load_bot(
        write_bot(
            tmp_path / "good",
            bot=GOOD.replace("    type: text", "    type: text\n    entity: city"),
            entities=entities,
        )
    )
    assert bot.slots["answer"].entity == "city"
    assert bot.entities["city"].lookup["沪"] == "shanghai"
    found = problems(
        write_bot(
            tmp_path / "bad",
            bot=GOOD.replace("    type: text", "    type: text\n    entity: ctiy"),
            entities="entities:\n  broken: {regex: '(('}\n  both: {regex: x, lookup: {a: [b]}}\n"
            "  listed: {lookup: {a: [b]}, ignore: ' '}\n  odd: {regex: x, ignore: [1]}\n"
            "  extra: {regex: x, ignore: ' ', typo: 1}\n",
        )
    )
    text = "\n".join(found)
    assert "slot 'answer': unknown entity 'ctiy'" in text
    assert "entities.yml:2: invalid regular expression" in text
    assert "entity 'both' needs exactly one of regex, lookup" in text
    assert "entities.yml:4: ignore goes with a regex" in text
    assert "entities.yml:5: ignore goes with a regex" in text
    assert "entity 'extra' needs exactly one of regex, lookup" in text
    grouped = load_bot(
        write_bot(
            tmp_path / "grouped",
            bot=GOOD,
            entities="entities:\n  order: {regex: '\\d{4}[ -]\\d{4}', ignore: ' -'}\n",
        )
    )
    assert grouped.entities["order"].ignore == " -"


def test_a_faq_may_say_something_shorter_in_the_middle_of_a_flow(tmp_path: Path) -> None:
    faq = (
        "faq:\n  thanks:\n    examples: [thanks, 谢谢]\n"
        "    answer: {en: 'Welcome! Anything else?', zh: '不客气！还有别的吗？'}\n"
    )
    aside = "    in_flow: {en: 'Welcome!', zh: '不客气！'}\n"
    bot = load_bot(write_bot(tmp_path / "aside", bot=GOOD, smalltalk=faq + aside))
    in_flow = bot.faqs["thanks"].in_flow
    assert in_flow is not None and in_flow.sources["zh"] == "不客气！"
    assert (
        load_bot(write_bot(tmp_path / "plain", bot=GOOD, smalltalk=faq)).faqs["thanks"].in_flow
        is None
    )


def test_set_step_records_declared_slots_only(tmp_path: Path) -> None:
    assert load_bot(write_bot(tmp_path / "good", bot=GOOD + "      - set: {answer: done}\n"))
    found = problems(write_bot(tmp_path / "bad", bot=GOOD + "      - set: {outcome: done}\n"))
    assert found == [f"{tmp_path / 'bad' / 'bot.yml'}:17: set: unknown slot 'outcome'"]


def test_one_bad_goto_is_one_error_with_a_suggestion(tmp_path: Path) -> None:
    steps = "".join(f"      - say: step {n}\n" for n in range(6))
    folder = write_bot(
        tmp_path,
        bot=GOOD + "      - goto: thanx\n" + steps + "      - id: thanks\n        say: bye\n",
    )
    found = problems(folder)
    assert found == [
        f"{folder / 'bot.yml'}:17: goto: no step 'thanx' in flow 'survey'; did you mean 'thanks'?"
    ]


def test_a_faq_with_a_template_error_is_not_also_unanswered(tmp_path: Path) -> None:
    folder = write_bot(tmp_path, bot=GOOD.replace("answer: Hello!", "answer: 'Hello {{'"))
    found = problems(folder)
    assert len(found) == 1 and "template syntax" in found[0], found


def test_duplicate_intent_across_files(tmp_path: Path) -> None:
    folder = write_bot(tmp_path, bot=GOOD, more="intents:\n  greet: [good morning]\n")
    found = problems(folder)
    assert (
        f"{folder / 'more.yml'}:2: duplicate intent 'greet' (first defined at {folder / 'bot.yml'}:7)"
        in found
    )


def test_template_syntax_error_points_at_the_line(tmp_path: Path) -> None:
    folder = write_bot(
        tmp_path,
        bot=GOOD.replace(
            "    answer: Hello!",
            "    answer:\n      en: |\n        Hello!\n        {{ slots.answer }\n      zh: 你好",
        ),
    )
    found = problems(folder)
    assert any(p.startswith(f"{folder / 'bot.yml'}:12: template syntax:") for p in found), found


def test_unreachable_step(tmp_path: Path) -> None:
    folder = write_bot(tmp_path, bot=GOOD + "      - end\n      - say: never said\n")
    found = problems(folder)
    assert any(p.startswith(f"{folder / 'bot.yml'}:18: unreachable step '4'") for p in found)


def test_an_example_claimed_by_two_intents(tmp_path: Path) -> None:
    folder = write_bot(
        tmp_path,
        bot=GOOD.replace("[start the survey, survey please]", "[start the survey, Hello!]"),
    )
    found = problems(folder)
    assert any(
        p.startswith(f"{folder / 'bot.yml'}:8:") and "already an example of intent" in p
        for p in found
    ), found


@pytest.mark.parametrize(
    ("text", "line", "plain"),
    [
        ("flows:\n  x: [unclosed\n  y: 1\n", 3, "the [ ] opened on line 2 is not closed"),
        (
            "intents:\n  greet:\n    - hi\n   bye: [bye]\n",
            4,
            "the indentation of this line does not match the lines above it",
        ),
        ("intents:\n\tgreet: [hi]\n", 2, "a tab is used for indentation here"),
        ("intents:\n  greet: [hi]\n  greet: [yo]\n", 3, "'greet' is written twice"),
        ("faq:\n  x:\n    answer: note: this\n", 3, "a ': ' inside a text starts a new key"),
        ('faq:\n  x:\n    answer: "open\n', 4, "a quoted text that starts on line 3"),
    ],
)
def test_yaml_syntax_errors_in_plain_words(
    tmp_path: Path, text: str, line: int, plain: str
) -> None:
    folder = write_bot(tmp_path, bot=GOOD, broken=text)
    found = problems(folder)
    assert len(found) == 1, found
    assert found[0].startswith(f"{folder / 'broken.yml'}:{line}: {plain}"), found


def test_template_errors_in_folded_and_next_line_texts_point_at_their_line(
    tmp_path: Path,
) -> None:
    folder = write_bot(
        tmp_path,
        bot=GOOD.replace(
            "    answer: Hello!",
            "    answer: >-\n      Hello and\n      welcome {{ slots.answer\n      more words",
        ).replace(
            '      - say: "Thanks, you said {{ slots.answer }}"',
            '      - say:\n          "{% if %}"',
        ),
    )
    found = problems(folder)
    path = folder / "bot.yml"
    assert (
        f"{path}:12: template syntax: expected token 'end of print statement', got 'more'" in found
    )
    assert any(p.startswith(f"{path}:20: template syntax:") for p in found), found


def test_unknown_keys_and_bad_values(tmp_path: Path) -> None:
    folder = write_bot(
        tmp_path,
        bot=GOOD.replace("    type: text", "    type: colour")
        + "      - handoff: {reason: x, priority: P9}\n"
        + "      - say: hi\n        butons: []\n",
        extra="flowz: {}\n",
    )
    found = "\n".join(problems(folder))
    assert "slot type must be one of" in found
    assert "priority must be one of P1, P2, P3" in found
    assert "unknown option 'butons' for a say step" in found
    assert f"{folder / 'extra.yml'}:1: unknown section 'flowz'" in found


def test_unknown_intent_unanswered_intent_and_bad_button(tmp_path: Path) -> None:
    folder = write_bot(
        tmp_path,
        bot=GOOD.replace("intent: start_survey", "intent: start_surveys")
        + "      - say: pick\n        buttons: [{title: Go, payload: /nope}]\n",
    )
    found = "\n".join(problems(folder))
    assert "flow 'survey': unknown intent 'start_surveys'" in found
    assert "intent 'start_survey' has no FAQ answer and starts no flow" in found
    assert "button payload '/nope': unknown intent 'nope'" in found


@pytest.mark.parametrize(
    "payload",
    ['/nope{"order_number": "1"}', '/start_survey{"order_number": 1', "/start_survey[1]x{}"],
)
def test_a_button_payload_with_values_names_a_known_intent_and_a_json_object(
    tmp_path: Path, payload: str
) -> None:
    folder = write_bot(
        tmp_path,
        bot=GOOD + f"      - say: pick\n        buttons: [{{title: Go, payload: '{payload}'}}]\n",
    )
    found = "\n".join(problems(folder))
    assert f"button payload {payload!r}" in found


def test_a_button_payload_with_values_is_accepted(tmp_path: Path) -> None:
    payload = '/start_survey{"answer": "yes"}'
    folder = write_bot(
        tmp_path,
        bot=GOOD + f"      - say: pick\n        buttons: [{{title: Go, payload: '{payload}'}}]\n",
    )
    bot = load_bot(folder)  # no problem to report
    buttons = [
        b.payload
        for f in bot.flows.values()
        for step in f.steps
        for b in getattr(step, "buttons", ())
    ]
    assert buttons == [payload]


def test_rasa_nlu_yml_is_accepted_unchanged(tmp_path: Path) -> None:
    folder = write_bot(
        tmp_path,
        nlu="""\
        version: "3.1"
        nlu:
        - intent: ask_warranty
          examples: |
            - how long is the warranty
            - is my [phone](device) under warranty
        - synonym: phone
          examples: |
            - mobile
        """,
        bot="""\
        faq:
          ask_warranty:
            answer: Two years.
          greet:
            examples: [hello]
            answer: Hi!
        """,
    )
    bot = load_bot(folder)
    assert bot.intents["ask_warranty"].examples == (
        "how long is the warranty",
        "is my phone under warranty",
    )


def test_rasa_example_clash_is_located_on_its_own_line(tmp_path: Path) -> None:
    folder = write_bot(
        tmp_path,
        nlu="""\
        nlu:
        - intent: a
          examples: |
            - one
            - two
        - intent: b
          examples: |
            - three
            - Two
        """,
        bot="faq:\n  a: {answer: A}\n  b: {answer: B}\n",
    )
    found = problems(folder)
    assert any(p.startswith(f"{folder / 'nlu.yml'}:9:") for p in found), found


def test_word_vectors_can_be_switched_off_and_must_be_a_boolean(tmp_path: Path) -> None:
    plain = load_bot(write_bot(tmp_path / "off", bot="settings:\n  word_vectors: false\n" + GOOD))
    assert plain.settings.word_vectors is False
    assert load_bot(write_bot(tmp_path / "on", bot=GOOD)).settings.word_vectors is True
    folder = write_bot(tmp_path / "bad", bot="settings:\n  word_vectors: maybe\n" + GOOD)
    assert f"{folder / 'bot.yml'}:2: word_vectors must be true or false" in problems(folder)


def test_an_unnamed_ask_keeps_its_id_when_a_step_is_inserted_above(tmp_path: Path) -> None:
    before = load_bot(write_bot(tmp_path / "v1", bot=GOOD))
    edited = GOOD.replace(
        "      - ask: answer", "      - say: Quick question first.\n      - ask: answer"
    )
    after = load_bot(write_bot(tmp_path / "v2", bot=edited))
    # A conversation saved at the ask before the edit resumes at the same ask after it.
    saved = "ask:answer"
    assert before.flows["survey"].steps[before.flows["survey"].index(saved) or 0].id == saved
    position = after.flows["survey"].index(saved)
    assert position == 1 and after.flows["survey"].steps[position].id == saved


def test_topics_name_intents_the_bot_answers(tmp_path: Path) -> None:
    topics = (
        "topics:\n  surveys:\n    words: [survey, 问卷]\n    intents: [start_survey, greet]\n"
        "    ask: {en: 'What about the survey?', zh: '问卷有什么问题？'}\n"
    )
    bot = load_bot(write_bot(tmp_path / "good", bot=GOOD, topics=topics))
    (topic,) = bot.topics
    assert (topic.name, topic.words, topic.intents) == (
        "surveys",
        ("survey", "问卷"),
        ("start_survey", "greet"),
    )
    bad = (
        "topics:\n  a:\n    words: [survey]\n    intents: [start_survey, refund]\n    ask: Why?\n"
        "  b:\n    words: []\n    intents: [greet]\n    ask: Why?\n"
        "  c:\n    words: [x]\n    intents: [greet]\n"
        "  d:\n    words: [x]\n    intents: [greet]\n    ask: Why?\n    buttons: []\n"
    )
    text = "\n".join(problems(write_bot(tmp_path / "bad", bot=GOOD, topics=bad)))
    assert "topic 'a': intent 'refund' has no FAQ or flow" in text
    assert "topic 'b' needs words: a list of strings" in text
    assert "topic 'c' needs ask: the question back" in text
    assert "topic 'd': unknown key 'buttons'" in text
