"""The dialog engine: the bot that owns a conversation while its status is `bot`.

`DialogEngine.from_path("config/dialogs")` loads and validates the YAML (raising
`DialogsInvalid` with every `file:line` problem), trains the intent classifier and, once
started, watches the files: a valid edit is swapped in whole between two turns, an invalid one
is logged with its `file:line` problems and the previous bot keeps serving.
Conversations keep their state (flow, step, slots) across reloads.

`version` names what is served: a digest of the dialog files and the articles, equal on
every process that loaded the same files. A reload this process noticed itself is told to
`on_reloaded` listeners (the wiring announces it to the other processes); `follow(version)`
reloads at once when another process announced a version this one does not serve yet.

With a knowledge base (`knowledge_path`, Markdown articles: `dialogs.knowledge`), lines with
no confident intent are answered from it; its files are watched and reloaded the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from dialogs.flows import Bot
from dialogs.kb_articles import article_files
from dialogs.knowledge import KnowledgeBase
from dialogs.loader import load_bot
from dialogs.reload import Watch, content_hash, snapshot
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
        knowledge: KnowledgeBase | None = None,
        train_in_child: bool = False,
    ) -> None:
        self._bot = bot
        # Where reloads fit the classifier: a hub's engine in a short-lived process of its
        # own (`dialogs.training_process`), so that the hub never imports scikit-learn.
        self._train_in_child = train_in_child
        self._knowledge = knowledge
        self.path = path
        self.actions = actions
        self.reload_interval = reload_interval
        self.reloads = 0  # successful reloads since start (observable by tests and metrics)
        # What the files looked like when this bot was read: edits after it are reloaded.
        self._files_at_load = snapshot(path) if path is not None else {}
        self._knowledge_at_load = (
            snapshot(knowledge.path, article_files) if knowledge is not None else {}
        )
        self._watcher: Watch | None = None
        self._knowledge_watcher: Watch | None = None
        self._dialogs_hash = content_hash(path) if path is not None else ""
        self._knowledge_hash = (
            content_hash(knowledge.path, article_files) if knowledge is not None else ""
        )
        self._listeners: list[Callable[[str], None]] = []

    @classmethod
    def from_path(
        cls,
        path: str | Path,
        *,
        action_endpoint: str = "",
        knowledge_path: str | Path = "",
        public_url: str = "",
        reload_interval: float = 0.4,
        train_in_child: bool = False,
    ) -> DialogEngine:
        """Load the bot under `path`; custom actions go to the rasa-sdk `action_endpoint`;
        articles under `knowledge_path` ("" for none) answer what no intent does.
        `train_in_child`: fit the intent classifier, now and on every reload, in a process
        of its own (a hub, whose memory stays free of scikit-learn); False trains in this
        one (CLI tools, benchmarks, tests)."""
        bot = load_bot(path, train_in_child=train_in_child)
        knowledge = KnowledgeBase.load(knowledge_path, bot, public_url) if knowledge_path else None
        return cls(
            bot,
            path=Path(path),
            actions=action_runner(action_endpoint),
            knowledge=knowledge,
            reload_interval=reload_interval,
            train_in_child=train_in_child,
        )

    @property
    def bot(self) -> Bot:
        return self._bot

    @property
    def knowledge(self) -> KnowledgeBase | None:
        return self._knowledge

    @property
    def version(self) -> str:
        """What this process serves: a short digest of the dialog files and articles."""
        return _version(self._dialogs_hash, self._knowledge_hash)

    def on_reloaded(self, listener: Callable[[str], None]) -> None:
        """Call `listener` with the new version after a reload this process noticed itself
        (its file watcher), not after one it made to `follow` another process."""
        self._listeners.append(listener)

    async def follow(self, version: str) -> bool:
        """Serve `version` (another process announced it): reload now unless the files
        here already are that version. False when the files here are not (yet) the same."""
        if version == self.version:
            return True
        if await self._files_version() != self.version:
            await self.reload(announce=False)
        return self.version == version

    async def _files_version(self) -> str:
        dialogs = await asyncio.to_thread(content_hash, self.path) if self.path else ""
        knowledge = self._knowledge
        articles = (
            await asyncio.to_thread(content_hash, knowledge.path, article_files)
            if knowledge is not None
            else ""
        )
        return _version(dialogs, articles)

    def _reloaded(self, before: str, *, announce: bool) -> None:
        if not announce or self.version == before:
            return
        for listener in self._listeners:
            try:
                listener(self.version)
            except Exception:
                log.exception("reload listener failed")

    async def handle(self, turn: Turn) -> TurnResult:
        # One bot and knowledge base for the whole turn, even if a reload lands meanwhile.
        bot, knowledge = self._bot, self._knowledge
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
        outcome = await Dialogue(bot, state, context, self.actions, knowledge).run(
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

    async def reload(self, *, announce: bool = True) -> bool:
        """Load the files again; keep the current bot when they are invalid."""
        if self.path is None:
            return False
        before = self.version
        try:
            # Hashed before loading: an edit landing in between is newer than the hash, so
            # the watcher reloads once more rather than the version naming unserved files.
            digest = await asyncio.to_thread(content_hash, self.path)
            bot = await asyncio.to_thread(load_bot, self.path, train_in_child=self._train_in_child)
        except DialogsInvalid as error:
            for problem in error.problems:
                log.error("dialogs reload rejected: %s", problem.located())
            log.error("dialogs: keeping the previous version (%s)", self._bot.summary())
            return False
        self._bot = bot
        self._dialogs_hash = digest
        self.reloads += 1
        log.info("dialogs reloaded: %s", bot.summary())
        if self._knowledge is not None:
            # The threshold is calibrated on the bot's out-of-scope lines, which may have changed.
            await self.reload_knowledge(announce=False)
        self._reloaded(before, announce=announce)
        return True

    async def reload_knowledge(self, *, announce: bool = True) -> bool:
        """Read the articles again; keep the current ones when the files are invalid."""
        current = self._knowledge
        if current is None:
            return False
        before = self.version
        try:
            digest = await asyncio.to_thread(content_hash, current.path, article_files)
            knowledge = await asyncio.to_thread(
                KnowledgeBase.load, current.path, self._bot, current.public_url
            )
        except DialogsInvalid as error:
            for problem in error.problems:
                log.error("knowledge base reload rejected: %s", problem.located())
            log.error("knowledge base: keeping the previous %d articles", len(current.articles))
            return False
        self._knowledge = knowledge
        self._knowledge_hash = digest
        self.reloads += 1
        self._reloaded(before, announce=announce)
        return True

    async def _on_knowledge_change(self) -> None:
        await self.reload_knowledge()

    async def _on_change(self) -> None:
        await self.reload()

    async def start(self) -> None:
        if self.path is not None and self._watcher is None:
            self._watcher = Watch(
                "dialogs-reload",
                self.path,
                self._on_change,
                interval=self.reload_interval,
                initial=self._files_at_load,
            )
            self._watcher.start()
        if self._knowledge is not None and self._knowledge_watcher is None:
            self._knowledge_watcher = Watch(
                "knowledge-reload",
                self._knowledge.path,
                self._on_knowledge_change,
                interval=self.reload_interval,
                initial=self._knowledge_at_load,
                files_of=article_files,
            )
            self._knowledge_watcher.start()

    async def stop(self) -> None:
        for watcher in (self._watcher, self._knowledge_watcher):
            if watcher is not None:
                await watcher.stop()
        self._watcher = self._knowledge_watcher = None
        close = getattr(self.actions, "close", None)
        if close is not None:
            await close()


def action_runner(endpoint: str) -> ActionRunner | None:
    """The client of the rasa-sdk action server at `endpoint`, or None when there is none."""
    if not endpoint:
        return None
    from dialogs.actions import ActionClient  # imported only by a bot that has actions

    return ActionClient(endpoint)


def _version(dialogs: str, knowledge: str) -> str:
    digest = hashlib.sha256(f"{dialogs}\0{knowledge}".encode()).hexdigest()
    return digest[:16]
