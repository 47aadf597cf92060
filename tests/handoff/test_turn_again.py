"""A customer's answer to a question asked in another conversation (a CSAT or NPS score, a
comment) is recorded there exactly once, in English and in Chinese: it is committed with
the turn that read it (`TurnResult.elsewhere`), so a process that dies before that commit
recorded nothing and the turn, run again after a restart, records it once; one that dies
right after it recorded it, and nothing runs it again. A turn that finds its message
already recorded as an answer replies as before and records nothing twice."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from hub.abc import IngestReceipt
from hub.api import HUB
from hub.app import create_app
from hub.config import load_config
from hub.delivery import RetryPolicy
from hub.hub import Hub
from hub.model import Inbound
from hub.ports import TurnCommit
from tests.handoff.helpers import FakeClock, Rig, at, engine_of, handoff_yaml, until
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


# ------------------------------------------------------------------ a crash at the commit


class ProcessDied(Exception):
    """Stands for the hub process being killed at that point."""


@pytest.fixture(params=["sqlite", "redis", "redis-cluster"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/hub.db"
    fixture = "redis_url" if request.param == "redis" else "redis_cluster_url"
    return str(request.getfixturevalue(fixture))


def die_at_next_commit(rig: Rig, monkeypatch: pytest.MonkeyPatch, *, after: bool) -> list[str]:
    """The next commit dies: before its store write, or (`after`) right after it, before
    the hub publishes or delivers anything; and so does every later commit of that
    conversation in this process (a killed process does nothing more: its sweep does not
    run the turn again). Returns where it died, once it has."""
    store = rig.hub.store
    real = store.commit_turn
    died: list[str] = []

    async def commit_turn(conversation_id: str, **kw: Any) -> TurnCommit:
        if died and conversation_id not in died:
            return await real(conversation_id, **kw)
        if after and not died:
            await real(conversation_id, **kw)
        died.append(conversation_id)
        raise ProcessDied

    monkeypatch.setattr(store, "commit_turn", commit_turn)
    return died


class Crash(NamedTuple):
    rig: Rig  # the process that died
    settings: Path
    resolved_id: str  # the conversation that asked for the score
    score: IngestReceipt  # the message whose turn's commit died


@asynccontextmanager
async def score_dies(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, *, after: bool
) -> AsyncIterator[Crash]:
    """A hub process: Bo resolves a hand-off, the customer gives the score, and the commit
    of that turn dies (before or `after` its store write). The process is stopped when
    the block ends; `Rig.running(store_url, crash.settings, crash.rig.clock)` restarts it."""
    settings = handoff_yaml(tmp_path, feedback={"csat": True, "nps": False})
    async with Rig.running(store_url, settings, FakeClock(at("2026-11-23 10:00"))) as rig:
        resolved_id = await resolved(rig, lang)
        died = die_at_next_commit(rig, monkeypatch, after=after)
        score = await rig.hub.ingest(
            Inbound(channel="test", sender="cus", message_id="score", text=SCORE[lang])
        )
        await until(lambda: _true(bool(died)))
        assert set(died) == {score.conversation_id}
        yield Crash(rig=rig, settings=settings, resolved_id=resolved_id, score=score)


async def _true(value: bool) -> bool:
    return value


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_score_whose_commit_died_is_recorded_once_when_the_turn_runs_again(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    async with score_dies(store_url, tmp_path, monkeypatch, lang, after=False) as crash:
        rig, score = crash.rig, crash.score
        # The answer is part of the turn's commit: nothing of it was written.
        assert await rig.events(crash.resolved_id, "csat.answered") == []
        assert (await rig.conversation(score.conversation_id)).handled_seq < score.seq
    async with Rig.running(store_url, crash.settings, rig.clock) as again:  # a restart
        await until(lambda: again._handled(score.conversation_id, score.seq))
        thanks = again.engine.texts.say("feedback_thanks", lang).text
        await again.wait_text("cus", thanks)
        answered = await again.events(crash.resolved_id, "csat.answered")
        assert [e.data["score"] for e in answered] == [4]
        assert again.texts("cus") == [thanks]


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_score_committed_before_a_crash_is_recorded_once_and_answered(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    async with score_dies(store_url, tmp_path, monkeypatch, lang, after=True) as crash:
        rig, score = crash.rig, crash.score
        # Committed with the turn: the score is there although the process died before
        # it told anyone or sent the thanks.
        answered = await rig.events(crash.resolved_id, "csat.answered")
        assert [e.data["score"] for e in answered] == [4]
        assert (await rig.conversation(score.conversation_id)).handled_seq == score.seq
    async with Rig.running(store_url, crash.settings, rig.clock) as again:  # a restart
        rig.clock.advance(RetryPolicy().lease + 1)  # the dead process's lease on the reply ends
        thanks = again.engine.texts.say("feedback_thanks", lang).text
        await again.wait_text("cus", thanks)
        assert again.texts("cus") == [thanks]  # the turn did not run again
        answered = await again.events(crash.resolved_id, "csat.answered")
        assert [e.data["score"] for e in answered] == [4]
        # The new process's history, read from the log, knows the question is answered.
        past = again.engine.history.past(crash.resolved_id)
        assert past is not None and past.csat == 4


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_app_starts_the_hand_off_before_it_answers_what_a_crash_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aiohttp_client: Any, lang: str
) -> None:
    """`create_app`'s lifecycle: the turn a crash left unanswered is a CSAT score, which
    only the hand-off's history (read from the log when the engine starts) recognises."""
    url = f"sqlite:///{tmp_path}/hub.db"
    async with score_dies(url, tmp_path, monkeypatch, lang, after=False) as crash:
        pass
    config = tmp_path / "frontdesk.yaml"
    config.write_text(
        json.dumps(
            {
                "store": {"url": url},
                "logging": {"format": "text"},
                "bot": {"kind": "echo", "handoff_path": str(crash.settings)},
            }
        ),
        encoding="utf-8",
    )
    known_at_hub_start: list[bool] = []
    hub_start = Hub.start

    async def start(hub: Hub) -> None:
        engine = engine_of(app)
        known_at_hub_start.append(engine.history.past(crash.resolved_id) is not None)
        await hub_start(hub)

    monkeypatch.setattr(Hub, "start", start)
    app = create_app(load_config(config, {}), environ={}, clock=crash.rig.clock)
    await aiohttp_client(app)  # started: the hub has recovered the pending turn
    assert known_at_hub_start == [True]
    hub = app[HUB]
    await until(lambda: _handled(hub, crash.score.conversation_id, crash.score.seq))
    answered = await hub.store.events(crash.resolved_id, limit=1000)
    assert [e.data["score"] for e in answered if e.type == "csat.answered"] == [4]


async def _handled(hub: Hub, conversation_id: str, seq: int) -> bool:
    conversation = await hub.store.get_conversation(conversation_id)
    return conversation is not None and conversation.handled_seq >= seq
