"""A turn whose commit is lost runs again. When the customer's message answered a question
asked in another conversation (a CSAT or NPS score, a comment), that answer was written
there during the first run: the second run must answer as the first did and write nothing
twice, in English and in Chinese."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.handoff.helpers import FakeClock, Rig, at, handoff_yaml
from tests.support import run_turn_again

ASK = {"en": "my router, talk to a person", "zh": "路由器坏了，转人工"}
SCORE = {"en": "/csat 4", "zh": "4 很好"}
COMMENT = {"en": "Quick and friendly, thanks", "zh": "很快，谢谢"}


@pytest.fixture(params=[False, True], ids=["csat", "csat-and-nps"])
async def rig(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Rig]:
    feedback = {"csat": True, "nps": request.param, "comment_window": 600}
    path = handoff_yaml(tmp_path, feedback=feedback)
    clock = FakeClock(at("2026-11-23 10:00"))
    async with Rig.running(f"sqlite:///{tmp_path}/hub.db", path, clock) as value:
        yield value


async def resolved(rig: Rig, lang: str) -> str:
    """A hand-off taken and resolved by Bo; the CSAT question has gone out."""
    rig.online("bo")
    conversation_id = await rig.say("cus", ASK[lang])
    await rig.agents.accept(conversation_id, "bo")
    await rig.agents.resolve(conversation_id, "bo")
    await rig.wait_text("cus", "1" if lang == "en" else "满意")
    return conversation_id


async def run_again(rig: Rig, conversation_id: str) -> tuple[str, ...]:
    """The texts the last customer message's turn would send, run once more."""
    result = await run_turn_again(rig.hub, conversation_id, rig.clock())
    return tuple(reply.text for reply in result.replies)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_score_is_counted_once_when_its_turn_runs_again(rig: Rig, lang: str) -> None:
    resolved_id = await resolved(rig, lang)
    answer_id = await rig.say("cus", SCORE[lang])
    assert answer_id != resolved_id  # the answer arrives in a conversation of its own
    first_reply = rig.texts("cus")[-1]
    assert await run_again(rig, answer_id) == (first_reply,)
    assert [e.data["score"] for e in await rig.events(resolved_id, "csat.answered")] == [4]
    # Read again, the score was not taken for the next question's answer.
    assert await rig.events(resolved_id, "nps.answered") == []
    assert await rig.events(resolved_id, "csat.comment") == []


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_comment_is_kept_once_when_its_turn_runs_again(rig: Rig, lang: str) -> None:
    resolved_id = await resolved(rig, lang)
    await rig.say("cus", SCORE[lang])
    if rig.engine.settings.feedback.nps:
        await rig.say("cus", "9")
    comment_id = await rig.say("cus", COMMENT[lang])
    first_reply = rig.texts("cus")[-1]
    assert await run_again(rig, comment_id) == (first_reply,)
    comments = await rig.events(resolved_id, "csat.comment")
    assert [e.data["text"] for e in comments] == [COMMENT[lang]]
    # The run again did not hand the comment to the bot either: nothing else was asked.
    assert (await rig.conversation(comment_id)).status.value == "bot"
