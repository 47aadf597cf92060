"""What the hand-off needs of the hub: a narrow interface, not the concrete `Hub`.

The hand-off reads the log and the directory, counts ticket numbers, holds an agent's
lease while it offers, writes agent messages and hand-off events through the hub (so
they are ordered, delivered and published like every other write), and listens to the
event bus. `hub.hub.Hub` provides all of it; a test may provide it otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from hub.bus import EventBus, EventListener
from hub.metrics import Metrics
from hub.model import Conversation, ConversationStatus, Event, NewEvent, Outbound
from hub.ports import Leases, Limits, Records


class HandoffStore(Records, Leases, Limits, Protocol):
    """The ports the hand-off reads and locks with (its writes go through `HubLink`)."""


class HubLink(Protocol):
    """The hub as the hand-off sees it."""

    @property
    def store(self) -> HandoffStore: ...

    @property
    def bus(self) -> EventBus: ...

    @property
    def metrics(self) -> Metrics: ...

    @property
    def clock(self) -> Callable[[], float]: ...

    def add_listener(self, listener: EventListener) -> None:
        """Every batch of events appended by any process, in log order per conversation."""

    async def send(
        self,
        conversation_id: str,
        replies: Sequence[Outbound],
        *,
        events: Sequence[NewEvent] = (),
        status: ConversationStatus | None = None,
        priority: int | None = None,
        when: Callable[[Conversation], Awaitable[bool]] | None = None,
    ) -> bool:
        """Write replies and events under the conversation's lock (`when`: only if it
        approves the conversation as re-read there); whether it was written."""

    async def append(self, conversation_id: str, events: Sequence[NewEvent]) -> tuple[Event, ...]:
        """Log events that are not a turn (a note, a whisper …)."""

    async def agent_typing(self, conversation_id: str, *, on: bool = True) -> bool:
        """Show the customer that an agent is typing, where the channel can."""


__all__ = ["HandoffStore", "HubLink"]
