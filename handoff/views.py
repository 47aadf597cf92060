"""What each part of the hand-off sees of the others: narrow interfaces, never the engine.

`HandoffEngine` provides all of them, and the one composition root (`handoff.install`, or a
test's rig) hands the engine to each part typed as the interface the part needs, so a part
depends on what it reads and nothing else, and a test may provide it otherwise:

- `StatusView`: the status command's reporter (`handoff.status.StatusReporter`) reads the
  queue, the history and the settings;
- `FollowUpView`: follow-ups (`handoff.followups.FollowUps`) read the history and write, as
  the leader's job or an agent's action, through the hub under the conversation's lock;
- `QueueView`, `ActingView`: the inbox, console search and who-may-act
  (`handoff.actions.AgentActions`) read the queue;
- `EscalationView`: the bot-side judge (`handoff.escalation.Escalation`) reads the log, the
  history and the queue, and writes nothing: what it decides, including what goes into
  another conversation, it returns with the turn (`hub.abc.TurnResult.elsewhere`);
- `SurfaceView`: the routes under the app key `handoff.api.HANDOFF` (the REST and
  follow-up APIs, the console's pages) read the queue, the alert counts, the live feed,
  the settings, the follow-up tasks and a conversation's details; their writes go through
  `AgentActions`;
- `BoardView`: the workspace's lists (`handoff.console.workspace.snapshot`) read the queue
  and the alert counts;
- `TypingView`: the customers' typing hints (`handoff.console.composing`) read who holds a
  conversation and go onto the live feed;
- `RosterView`: the roster (`handoff.console.roster`) seeds the accounts from the settings
  and writes back the presence changes the feed carries (the agents it reads and writes
  through `AgentActions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from handoff.feed import Feed
from handoff.history import History
from handoff.hub_link import HandoffStore, HubLink
from handoff.messages import Texts
from handoff.queue import Queue
from handoff.settings import AgentSpec, HandoffSettings
from hub.bus import EventBus

if TYPE_CHECKING:
    from handoff.followups import FollowUps
    from handoff.status import StatusReporter


class Configured(Protocol):
    """The hand-off's settings (agents, routing, the calendar, messages)."""

    @property
    def settings(self) -> HandoffSettings: ...


class Shared(Configured, Protocol):
    """What every turn-side part reads: the settings, the customer history, the texts."""

    @property
    def history(self) -> History: ...

    @property
    def texts(self) -> Texts: ...


class StatusView(Shared, Protocol):
    """What the status command reads."""

    @property
    def queue(self) -> Queue: ...

    def clock(self) -> float: ...


class FollowUpView(Shared, Protocol):
    """What follow-ups read, and where they write (outside any customer's turn)."""

    @property
    def hub(self) -> HubLink: ...

    async def catch_up(self, conversation_id: str) -> None: ...

    def agent(self, agent_id: str) -> AgentSpec: ...


class QueueView(Protocol):
    """What the inbox and console search read: the queue, for who may see what."""

    @property
    def queue(self) -> Queue: ...


class ActingView(QueueView, Protocol):
    """What `AgentActions` reads in front of the writes: the queue (who may act), and the
    hub for an agent's typing."""

    @property
    def hub(self) -> HubLink: ...


class TurnReads(Protocol):
    """The hub as a bot-side turn sees it: the log and ticket numbers to read, the bus to
    settle. No writes: a turn returns them."""

    @property
    def store(self) -> HandoffStore: ...

    @property
    def bus(self) -> EventBus: ...


class EscalationView(Shared, Protocol):
    """What `Escalation` reads to judge a bot-owned turn."""

    @property
    def hub(self) -> TurnReads: ...

    @property
    def queue(self) -> Queue: ...

    @property
    def status(self) -> StatusReporter: ...

    @property
    def followups(self) -> FollowUps: ...


class FeedView(Protocol):
    """The live feed of queue and conversation changes, to subscribe to or publish on."""

    @property
    def feed(self) -> Feed: ...


class BoardView(QueueView, Protocol):
    """What the workspace's lists read: the queue, and the SLA alert counts."""

    @property
    def counters(self) -> Mapping[str, int]: ...


class TypingView(QueueView, FeedView, Protocol):
    """What the customers' typing hints read (who holds the conversation) and where they
    go (the feed)."""


class RosterView(Configured, FeedView, Protocol):
    """What the roster reads beside `AgentActions`: the agents `handoff.yaml` seeds, and
    the presence changes to write back to the accounts."""


class SurfaceView(BoardView, FeedView, Configured, Protocol):
    """What the routes under `handoff.api.HANDOFF` read (the REST and follow-up APIs, the
    console's pages); every write goes through `AgentActions` or the follow-up tasks."""

    @property
    def followups(self) -> FollowUps: ...

    async def details(self, conversation_id: str) -> dict[str, Any]: ...


__all__ = [
    "ActingView",
    "BoardView",
    "Configured",
    "EscalationView",
    "FeedView",
    "FollowUpView",
    "QueueView",
    "RosterView",
    "Shared",
    "StatusView",
    "SurfaceView",
    "TurnReads",
    "TypingView",
]
