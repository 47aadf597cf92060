"""Helpers for the dialog tests: write a small bot to disk and talk to the engine directly."""

from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dialogs.engine import DialogEngine, action_runner
from dialogs.flows import Bot
from dialogs.knowledge import KnowledgeBase
from dialogs.loader import load_bot
from hub.abc import Turn, TurnResult
from hub.model import Conversation, ConversationStatus, Customer, Event, Inbound

REPO = Path(__file__).resolve().parents[2]
DEMO_DIALOGS = REPO / "config" / "dialogs"
DEMO_KNOWLEDGE = REPO / "config" / "knowledge"


@functools.cache
def demo_bot() -> Bot:
    """The demo bot, read once per test process: a `Bot` is immutable (a reload makes a new
    one), so every engine may share it, as a hub's conversations do. Reading it is a
    tenth to a fifth of a second of YAML and templates that hundreds of tests would repeat;
    `tests/dialogs/test_loader.py` and every hub process the tests start read it anew."""
    return load_bot(DEMO_DIALOGS)


@functools.cache
def _demo_knowledge(path: Path) -> KnowledgeBase:
    return KnowledgeBase.load(path, demo_bot())


def demo_engine(*, knowledge: Path | None = None, action_endpoint: str = "") -> DialogEngine:
    """A new engine around the demo bot (and the articles under `knowledge`), as
    `DialogEngine.from_path` would build it: its own watchers, listeners and counters."""
    return DialogEngine(
        demo_bot(),
        path=DEMO_DIALOGS,
        actions=action_runner(action_endpoint),
        knowledge=_demo_knowledge(knowledge) if knowledge is not None else None,
    )


def write_bot(folder: Path, **files: str) -> Path:
    """Write `name=yaml` pairs as `<folder>/<name>.yml` (dedented) and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yml").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


@dataclass
class Chat:
    """One conversation with an engine, as the hub would run it (state carried between turns)."""

    engine: DialogEngine
    now: float = 1_800_000_000.0
    state: dict[str, Any] = field(default_factory=dict)
    status: ConversationStatus = ConversationStatus.BOT
    customer: Customer = field(
        default_factory=lambda: Customer(
            id="cus-1", identities=("api:ana",), attributes={"name": "Ana"}, tags=("vip",)
        )
    )
    seq: int = 0
    last: TurnResult | None = None

    async def say(self, text: str, *, wait: float = 1.0) -> TurnResult:
        self.seq += 1
        self.now += wait
        conversation = Conversation(
            id="conv-1",
            customer_id=self.customer.id,
            status=self.status,
            channel="api",
            address="ana",
            state=self.state,
        )
        turn = Turn(
            conversation=conversation,
            customer=self.customer,
            event=Event(conversation_id="conv-1", seq=self.seq, type="message.in", at=self.now),
            inbound=Inbound(channel="api", sender="ana", message_id=str(self.seq), text=text),
            now=self.now,
        )
        result = await self.engine.handle(turn)
        self.state = dict(result.state or self.state)
        self.status = result.status or self.status
        self.last = result
        return result

    @staticmethod
    def texts(result: TurnResult) -> list[str]:
        return [reply.text for reply in result.replies]

    @staticmethod
    def event(result: TurnResult, kind: str) -> dict[str, Any] | None:
        return next((dict(e.data) for e in result.events if e.type == kind), None)
