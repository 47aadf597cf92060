"""Defect 6 through the real path: the summary an agent gets on accept (real Hub, real store,
the engine's own status commands) — the mood of the whole customer side, no status checks
among the key sentences; English and Chinese."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.handoff.helpers import FakeClock, Rig, at, handoff_yaml


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    path = handoff_yaml(tmp_path)
    url = f"sqlite:///{tmp_path}/hub.db"
    async with Rig.running(url, path, FakeClock(at("2026-11-23 10:00"))) as rig:
        yield rig


@pytest.mark.parametrize(
    ("complaint", "more", "check"),
    [
        (
            "I have a complaint: order 20261001 never arrived and I am furious!",
            "This is the worst service I have ever had.",
            "status",
        ),
        ("我要投诉：订单 20261001 一直没到，太气人了！", "你们的服务太差了，气死我了", "进度"),
    ],
)
async def test_the_agent_reads_an_angry_customer_as_angry(
    rig: Rig, complaint: str, more: str, check: str
) -> None:
    conversation_id = await rig.say("cus", complaint)
    await rig.say("cus", more)
    await rig.say("cus", check)
    rig.online("bo")
    await rig.settle()
    details = await rig.agents.accept(conversation_id, "bo")
    summary = details["summary"]
    assert summary["feeling"]["label"] == "negative"
    assert check not in summary["key_sentences"]
    assert any("20261001" in sentence for sentence in summary["key_sentences"])
    assert f"» {check}" not in details["summary_text"]
