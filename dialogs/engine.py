"""The dialog engine: the bot that owns a conversation while its status is `bot`.

`DialogEngine.from_path("config/dialogs")` loads and validates the YAML (raising
`DialogsInvalid` with every `file:line` problem), trains the intent classifier and, once
started, watches the files: a valid edit is swapped in whole between two turns, an invalid one
is logged with its `file:line` problems and the previous bot keeps serving.
Conversations keep their state (flow, step, slots) across reloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from dialogs.flows import Bot
from dialogs.loader import load_bot
from dialogs.reload import snapshot, watch
from dialogs.state import State
from dialogs.turns import ActionRunner, Context, Dialogue
from dialogs.yamlsource import DialogsInvalid
from hub.abc import ConversationHandler, Turn, TurnResult

log = logging.getLogger("frontdesk.dialogs")


class DialogEngine(ConversationHandler):
    """Answers turns from a `Bot`; reloads it when its files change."""

    def __init__(
        self,
        bot: Bot,
        *,
        path: Path | None = None,
        actions: ActionRunner | None = None,
        reload_interval: float = 0.4,
    ) -> None:
        self._bot = bot
        self.path = path
        self.actions = actions
        self.reload_interval = reload_interval
        self.reloads = 0  # successful reloads since start (observable by tests and metrics)
        # What the files looked like when this bot was read: edits after it are reloaded.
        self._files_at_load = snapshot(path) if path is not None else {}
        self._watcher: asyncio.Task[None] | None = None

    @classmethod
    def from_path(
        cls,
        path: str | Path,
        *,
        action_endpoint: str = "",
    ) -> DialogEngine:
        """Load the bot under `path`; custom actions go to the rasa-sdk `action_endpoint`."""
        actions: ActionRunner | None = None
        if action_endpoint:
            from dialogs.actions import ActionClient

            actions = ActionClient(action_endpoint)
        return cls(load_bot(path), path=Path(path), actions=actions)

    @property
    def bot(self) -> Bot:
        return self._bot

    async def handle(self, turn: Turn) -> TurnResult:
        bot = self._bot  # one bot for the whole turn, even if a reload lands meanwhile
        state = State.from_json(turn.conversation.state, default_lang=bot.settings.language)
        customer = turn.customer
        context = Context(
            sender_id=turn.conversation.id,
            customer={
                "id": customer.id,
                "attributes": dict(customer.attributes),
                "tags": list(customer.tags),
                "identities": list(customer.identities),
            },
            conversation={"id": turn.conversation.id, "channel": turn.conversation.channel},
        )
        # Telegram's `/start <payload>` keeps the payload out of the text (see its parser).
        deep_link = turn.inbound.raw.get("deep_link")
        outcome = await Dialogue(bot, state, context, self.actions).run(
            turn.inbound.text,
            now=turn.now,
            deep_link=deep_link if isinstance(deep_link, str) else "",
        )
        return TurnResult(
            replies=outcome.replies,
            events=outcome.events,
            state=outcome.state.to_json(),
            status=outcome.status,
            priority=outcome.priority,
        )

    async def reload(self) -> bool:
        """Load the files again; keep the current bot when they are invalid."""
        if self.path is None:
            return False
        try:
            bot = await asyncio.to_thread(load_bot, self.path)
        except DialogsInvalid as error:
            for problem in error.problems:
                log.error("dialogs reload rejected: %s", problem.located())
            log.error("dialogs: keeping the previous version (%s)", self._bot.summary())
            return False
        self._bot = bot
        self.reloads += 1
        log.info("dialogs reloaded: %s", bot.summary())
        return True

    async def _on_change(self) -> None:
        await self.reload()

    async def start(self) -> None:
        if self.path is not None and self._watcher is None:
            self._watcher = asyncio.create_task(
                watch(
                    self.path,
                    self._on_change,
                    interval=self.reload_interval,
                    initial=self._files_at_load,
                ),
                name="dialogs-reload",
            )

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        close = getattr(self.actions, "close", None)
        if close is not None:
            await close()
