"""Join and whisper through the real Hub on both stores (SQLite and a real redis-server):
a joined supervisor replies beside the agent; a whisper is logged for the holding agent and
never sent; refusals say why; the participants survive a restart (rebuilt from the log)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from handoff.actions import Actor
from hub.errors import InputError
from tests.handoff.helpers import FakeClock, Rig, handoff_yaml

CASES = [
    ("my router, talk to a person", "ana", "Offer the voucher", "Sue here, the team lead."),
    ("路由器坏了，转人工", "bo", "可以给九折券", "我是主管 Sue。"),
]
RigFactory = Callable[[], AbstractAsyncContextManager[Rig]]


@pytest.fixture(params=["sqlite", "redis"])
def make_rig(request: pytest.FixtureRequest, tmp_path: Path) -> RigFactory:
    url = (
        f"sqlite:///{tmp_path}/hub.db"
        if request.param == "sqlite"
        else request.getfixturevalue("redis_url")
    )
    path = handoff_yaml(tmp_path)
    clock = FakeClock(1_800_000_000.0)
    return lambda: Rig.running(url, path, clock)


@pytest.fixture
async def rig(make_rig: RigFactory) -> AsyncIterator[Rig]:
    async with make_rig() as rig:
        yield rig


@pytest.mark.parametrize(("ask", "agent", "whisper", "reply"), CASES)
async def test_join_replies_and_a_whisper_is_never_sent(
    make_rig: RigFactory, ask: str, agent: str, whisper: str, reply: str
) -> None:
    async with make_rig() as rig:
        rig.online(agent)
        conversation_id = await rig.say("cus", ask)
        await rig.agents.accept(conversation_id, agent)
        actions = rig.actions
        sue = Actor("sue")
        await actions.whisper(sue, conversation_id, whisper)
        await actions.join(sue, conversation_id)
        await actions.join(sue, conversation_id)  # again: nothing more
        await actions.reply(sue, conversation_id, reply)
        await rig.wait_text("cus", reply)
        assert not any(whisper in text for text in rig.texts("cus"))
        (logged,) = await rig.events(conversation_id, "handoff.whisper")
        assert (logged.data["to_agent"], logged.data["text"]) == (agent, whisper)
        assert len(await rig.events(conversation_id, "handoff.joined")) == 1
        events = await rig.events(conversation_id)
        # The whisper reaches only its agent and those who see everything.
        assert logged in actions.visible_events(Actor(agent, sees_all=False), events)
        assert logged not in actions.visible_events(Actor("bo2", sees_all=False), events)
        assert logged in actions.visible_events(sue, events)
    # After a restart the index, rebuilt from the log, still knows who joined.
    async with make_rig() as again:
        assert again.engine.queue.tickets[conversation_id].participants == {"sue"}
        await again.actions.reply(Actor("sue"), conversation_id, reply + "!")


async def test_refusals_say_why(rig: Rig) -> None:
    conversation_id = await rig.say("cus", "my router, talk to a person")
    actions = rig.actions
    with pytest.raises(InputError) as nobody:
        await actions.whisper(Actor("sue"), conversation_id, "psst")
    assert nobody.value.status == 409 and "nobody holds" in nobody.value.message
    with pytest.raises(InputError) as queued:
        await actions.join(Actor("sue"), conversation_id)
    assert queued.value.status == 409
    rig.online("ana")
    await rig.settle()
    await rig.agents.accept(conversation_id, "ana")
    with pytest.raises(InputError) as not_supervisor:
        await actions.whisper(Actor("bo"), conversation_id, "psst")
    assert not_supervisor.value.status == 403
    with pytest.raises(InputError) as not_joined:
        await actions.reply(Actor("sue"), conversation_id, "hello")
    assert not_joined.value.status == 409  # a supervisor replies only after joining
    assert await rig.events(conversation_id, "handoff.whisper") == []
