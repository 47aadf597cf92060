"""Shared by the hand-off tests: a fake clock, a tiny bot that emits `bot.turn` events, a
handoff.yaml writer, and a rig that runs a real Hub (real store) with the engine installed."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from handoff.actions import AgentActions
from handoff.agent_actions import HandoffActions
from handoff.api import HANDOFF
from handoff.engine import HandoffEngine
from handoff.escalation import Escalation
from handoff.queue import Presence
from handoff.settings import HandoffSettings, load_settings
from hub.abc import ConversationHandler, Owners, Turn, TurnResult
from hub.bus import EventBus
from hub.delivery import RetryPolicy
from hub.hub import Hub
from hub.model import (
    Conversation,
    ConversationStatus,
    Event,
    Inbound,
    NewEvent,
    Outbound,
)
from hub.ports import Backend
from hub.stores import beside, store_from_url
from tests.support import RecordingConnector, channel_links

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> float:
    """``"2026-11-23 10:00"`` in Shanghai → epoch seconds."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).timestamp()


class FakeClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class TinyBot(ConversationHandler):
    """Understands a few words; emits `bot.turn` like the dialog engine does."""

    INTENTS = {
        "router": ("router", "Try restarting the router."),
        "路由器": ("router", "请重启路由器。"),
        "bill": ("billing", "Your bill is in the app."),
        "human": ("human", "I can get you a person."),
        "person": ("human", "I can get you a person."),
        "人工": ("human", "好的。"),
        "thank": ("thanks", "You're welcome!"),
        "hello": ("greet", "Hi! How can I help?"),
        "order": ("order_status", "Your order is on its way."),
    }

    def __init__(self) -> None:
        self.turns = 0

    async def handle(self, turn: Turn) -> TurnResult:
        self.turns += 1
        text = turn.inbound.text
        if text.startswith("/flow"):
            return TurnResult(
                replies=(Outbound(text="Connecting you to our billing team."),),
                events=(
                    NewEvent(type="bot.turn", data={"intent": "billing", "confidence": 0.9}),
                    NewEvent(
                        type="handoff.requested",
                        data={
                            "reason": "refund_over_limit",
                            "skill": "billing",
                            "priority": "P2",
                            "flow": "refund",
                            "slots": {"order_id": "A-1001", "amount": 250},
                            "tried": [
                                {"flow": "refund", "step": "held_power_10s", "answer": "yes"},
                                {"flow": "refund", "step": "indicator_light", "answer": "off"},
                            ],
                        },
                    ),
                ),
                status=ConversationStatus.QUEUED,
                priority=2,
            )
        for word, (intent, answer) in self.INTENTS.items():
            if word in text.casefold():
                data = {"intent": intent, "confidence": 0.93, "handled_as": "faq"}
                return TurnResult(
                    replies=(Outbound(text=answer),),
                    events=(NewEvent(type="bot.turn", data=data),),
                    state={"turns": self.turns},
                )
        data = {"intent": None, "confidence": 0.2, "handled_as": "fallback"}
        return TurnResult(
            replies=(Outbound(text="Sorry, I didn't get that."),),
            events=(NewEvent(type="bot.turn", data=data),),
        )


BASE: dict[str, Any] = {
    "triggers": {
        "human_request": {
            "intents": ["human"],
            "phrases": {"en": ["talk to a person"], "zh": ["转人工"]},
        },
        "fallbacks": 3,
        "sentiment": {"level": -0.6, "trend": -0.5, "trend_window": 4},
        "words": {
            "complaint": {"en": ["complaint", "lawyer", "refund now"], "zh": ["投诉", "12315"]},
            "urgent": {"en": ["urgent"], "zh": ["紧急"]},
        },
        "vip": {"tags": ["vip"], "mode": "immediate"},
        "repeat_contact": {"within_days": 7, "ignore_intents": ["greet", "thanks"]},
    },
    "priority": {
        "default": "P3",
        "rules": [
            {"reasons": ["complaint_words", "urgent_words"], "priority": "P1"},
            {"tags": ["vip"], "priority": "P1"},
            {"complaints_90d": 2, "priority": "P1"},
            {"sentiment_below": -0.6, "priority": "P2"},
            {"reasons": ["repeat_contact", "reopened"], "priority": "P2"},
            {"reasons": ["flow"], "use_flow_priority": True},
        ],
    },
    "sla": {"P1": {"pickup": 5, "resolve": 120}, "P2": {"pickup": 10, "resolve": 1440}},
    "calendar": {"timezone": "Asia/Shanghai", "hours": {}},
    "routing": {
        "accept_timeout": 60,
        "intent_skills": {"billing": "billing", "router": "hardware"},
        "reason_skills": {"complaint_words": "complaints"},
        "default_wait": 120,
        "update_interval": 60,
    },
    "agents": [
        {"id": "ana", "name": "Ana", "skills": ["hardware", "billing"], "languages": ["en"]},
        {"id": "bo", "name": "Bo", "skills": ["hardware", "complaints"], "languages": ["en", "zh"]},
        {"id": "sue", "name": "Sue", "skills": ["vip"], "languages": ["en"], "supervisor": True},
    ],
    "feedback": {"csat": True, "nps": False, "comment_window": 600, "reopen_window": 3600},
    "status_commands": ["status", "进度"],
}


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def handoff_yaml(tmp_path: Path, **overrides: Any) -> Path:
    path = tmp_path / "handoff.yaml"
    path.write_text(json.dumps(_merge(BASE, overrides), ensure_ascii=False), encoding="utf-8")
    return path


def api_channel_config(tmp_path: Path, *, bot: Mapping[str, Any], callback_url: str) -> Path:
    """A frontdesk.yaml with `bot`, fast deliveries and the api channel posting to
    `callback_url`: the real path the end-to-end hand-off tests drive."""
    config = {
        "bot": dict(bot),
        "delivery": {"base_delay": 0.05, "max_delay": 0.2, "poll_interval": 0.05},
        "logging": {"format": "text"},
        "channels": {"api": {"enabled": True, "callback_url": callback_url}},
    }
    path = tmp_path / "frontdesk.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


class Rig:
    """A real Hub on a real store with the hand-off installed, driven by a fake clock."""

    def __init__(
        self,
        store: Backend,
        settings: HandoffSettings,
        clock: FakeClock,
        *,
        files: Path,
        bus: EventBus | None = None,
        connector: type[RecordingConnector] = RecordingConnector,
    ) -> None:
        self.clock = clock
        self.bot = TinyBot()
        self.alerts: list[dict[str, Any]] = []

        def owners(hub: Hub) -> Owners:
            engine = HandoffEngine(hub, settings, clock=clock, alerts=self.alerts.append)
            engine.tick_interval = 3600.0  # the tests tick by hand
            self.engine = engine
            # What agents do, by agent id, and the same with who may act (the APIs' service).
            self.agents = HandoffActions(engine)
            self.actions = AgentActions(engine, self.agents)
            return Owners(bot=Escalation(self.bot, engine), humans=engine)

        self.hub = Hub(
            store=store,
            owners=owners,
            clock=clock,
            retry=RetryPolicy(base_delay=0.01, max_delay=0.05, poll_interval=0.02),
            bus=bus,
        )
        self.connector = connector(links=channel_links(self.hub, files))
        self.hub.add_connector(self.connector)
        self._seq = 0

    async def say(self, sender: str, text: str) -> str:
        """The customer writes; returns the conversation id once the turn has run."""
        self._seq += 1
        receipt = await self.hub.ingest(
            Inbound(
                channel="test",
                sender=sender,
                message_id=f"m{self._seq}",
                text=text,
                timestamp=self.clock(),
            )
        )
        await until(lambda: self._handled(receipt.conversation_id, receipt.seq))
        await self.settle()
        return receipt.conversation_id

    async def _handled(self, conversation_id: str, seq: int) -> bool:
        conversation = await self.hub.store.get_conversation(conversation_id)
        return conversation is not None and conversation.handled_seq >= seq

    async def settle(self) -> None:
        """Let dispatch and deliveries that the last action started finish."""
        for _ in range(5):
            task = self.engine.dispatcher.task
            if task is not None and not task.done():
                await task
            await asyncio.sleep(0.01)

    def texts(self, sender: str) -> list[str]:
        return [o.text for o in self.connector.sent.get(sender, [])]

    async def wait_text(self, sender: str, fragment: str) -> str:
        await until(lambda: _async(any(fragment in t for t in self.texts(sender))))
        return next(t for t in self.texts(sender) if fragment in t)

    async def conversation(self, conversation_id: str) -> Conversation:
        conversation = await self.hub.store.get_conversation(conversation_id)
        assert conversation is not None
        return conversation

    async def events(self, conversation_id: str, kind: str = "") -> list[Event]:
        events = await self.hub.store.events(conversation_id, limit=1000)
        return [e for e in events if not kind or e.type == kind]

    async def requested(self, conversation_id: str) -> Mapping[str, Any]:
        events = await self.events(conversation_id, "handoff.requested")
        assert events, "no hand-off was requested"
        return events[-1].data

    def online(self, *agent_ids: str) -> None:
        for agent_id in agent_ids:
            self.agents.set_presence(agent_id, Presence.ONLINE)

    @classmethod
    @asynccontextmanager
    async def running(
        cls,
        store_url: str,
        settings_path: Path,
        clock: FakeClock,
        *,
        shared_bus: bool = False,
        connector: type[RecordingConnector] = RecordingConnector,
    ) -> AsyncIterator[Rig]:
        """`shared_bus`: the store's own bus, as the app has it (Redis: the stream every
        process reads), not the in-process one."""
        store = store_from_url(store_url)
        bus = beside(store).bus() if shared_bus else None
        rig = cls(
            store,
            load_settings(settings_path),
            clock,
            files=settings_path.parent / "files",
            bus=bus,
            connector=connector,
        )
        await store.open()
        await rig.hub.bus.start()
        # As the app does: the engine (and the history it reads) before the hub runs the
        # turns left pending, and after the hub has finished its own.
        await rig.engine.start()
        await rig.hub.start()
        try:
            yield rig
        finally:
            await rig.hub.stop()
            await rig.engine.stop()
            await rig.hub.bus.stop()
            await store.close()


def engine_of(app: web.Application) -> HandoffEngine:
    """The engine `create_app` built, for a test that drives it (its clock, its tick, the
    history it rebuilds): the app's routes see it only as `SurfaceView` under `HANDOFF`."""
    engine = app[HANDOFF]
    assert isinstance(engine, HandoffEngine)
    return engine


async def _async(value: bool) -> bool:
    return value


async def until(check: Callable[[], Any], timeout: float = 10.0) -> None:
    """Wait until the async `check()` is true (fails the test after `timeout`)."""

    async def poll() -> None:
        while not await check():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)
