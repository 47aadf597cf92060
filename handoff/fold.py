"""Events into the hand-off's index, with the console feed's frames for what they changed:
once each per process, whichever path brings an event first.

Two paths bring a conversation's events to this process's index: the bus
(`HandoffEngine.on_events`, in log order) and a read of the log
(`HandoffEngine.catch_up`: an agent's action reading its own write back, a customer's
turn, the clocks, a resync). Either may come first: the bus holds a conversation's batch
while another write of it is under way here (`hub.bus_order.PublishOrder`), so an accept
can be read back before its own notice goes out. Both paths fold through `Fold`, which
keeps two marks per conversation: the last seq applied (an event at or below it is
dropped: the later path's copy) and the last seq the feed was told of (its frames,
`queue.changed`, `conversation.event`, SLA alerts, went out with it). Were only the first
path to publish, the feed would miss what a catch-up saw first (the queue's own
`seen_seq` check makes the bus's copy a no-op). The two part when the index lets a
conversation go that is still open (a resync that missed it, `forget`): its log is read
from the start again and applied, and the feed is not told it twice.

The feed carries what happened since this process started (`since`): what came before
is no news (a console loads the queue and a transcript whole when it connects). So the
index built at start says nothing (no frame per open ticket and per event of its log, no
SLA alert counted again), nor does a later read of an older conversation's log (the
follow-ups reading a resolved one). Events appended by another process on a clock behind
this one's in the moment it starts may be taken for older; nobody reads the feed then.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from handoff.feed import Feed
from handoff.history import History
from handoff.queue import Queue
from handoff.sla import alert_frame
from hub.model import Event

SLA_ALERTS = ("sla.warning", "sla.breached")
# Conversations whose marks are kept (least recently folded forgotten). One forgotten
# while its ticket is open still has the ticket's `seen_seq` to go by.
MAX_TRACKED = 50_000


class Fold:
    """Apply events to the queue and the history, and publish the feed frames for them."""

    def __init__(
        self,
        queue: Queue,
        history: History,
        feed: Feed,
        counters: Counter[str],
        *,
        max_tracked: int = MAX_TRACKED,
    ) -> None:
        self.queue = queue
        self.history = history
        self.feed = feed
        self.counters = counters  # SLA alerts seen raised, by kind and level
        self.max_tracked = max_tracked
        self.since = 0.0  # when this process started (events older are folded quietly)
        # Per conversation: (the last seq applied, the last seq the feed was told of).
        self._marks: OrderedDict[str, tuple[int, int]] = OrderedDict()

    def folded(self, conversation_id: str) -> int:
        """The last seq of the conversation applied here (0: none known)."""
        ticket = self.queue.tickets.get(conversation_id)
        applied, _ = self._marks.get(conversation_id, (0, 0))
        return max(applied, ticket.seen_seq if ticket else 0)

    def forget(self, conversation_id: str) -> None:
        """The index let the conversation go: a later catch-up reads its log from the
        start (what is still open comes back), and the feed is not told it again."""
        marks = self._marks.get(conversation_id)
        if marks is not None:
            self._marks[conversation_id] = (0, marks[1])

    def __call__(self, events: Sequence[Event]) -> bool:
        """Fold what of `events` (ascending per conversation) is new here, and tell the
        feed what of it is news. Returns whether the queue changed (a dispatch may be
        due)."""
        changed = False
        raised: list[Event] = []
        for event in events:
            conversation_id = event.conversation_id
            if event.seq <= self.folded(conversation_id):
                continue
            told = self._marks.get(conversation_id, (0, 0))[1]
            self._remember(conversation_id, event.seq, max(told, event.seq))
            change = self.queue.apply(event)
            self.history.apply(event)
            changed = changed or bool(change)
            if event.seq <= told or event.at < self.since:
                continue
            if event.type in SLA_ALERTS:
                raised.append(event)
            if change:
                ticket = self.queue.tickets.get(event.conversation_id)
                self.feed.publish(
                    {
                        "type": "queue.changed",
                        "change": change,
                        "conversation_id": event.conversation_id,
                        "ticket": ticket.to_json() if ticket else None,
                    }
                )
            if event.type.startswith(("message.", "handoff.", "csat.", "nps.", "sla.")):
                past = self.history.past(event.conversation_id)
                if (past is not None and past.handed_off) or event.type.startswith("handoff."):
                    self.feed.publish({"type": "conversation.event", "event": event.to_json()})
        self._alerts(raised)
        return changed

    def _alerts(self, raised: Sequence[Event]) -> None:
        """The `sla.warning` / `sla.breached` events of a batch, as alerts on this
        process's feed, after the whole batch is in the index (a breach's priority bump
        follows it in the same batch)."""
        for event in raised:
            kind, level = str(event.data.get("kind", "")), event.type.removeprefix("sla.")
            self.counters[f"{kind}.{level}"] += 1
            ticket = self.queue.tickets.get(event.conversation_id)
            self.feed.publish(
                alert_frame(
                    event.conversation_id,
                    level=level,
                    kind=kind,
                    priority=ticket.priority if ticket else _priority(event.data),
                    agent_id=ticket.agent_id if ticket else "",
                    due=float(event.data.get("due", 0.0)),
                    at=event.at,
                )
            )

    def _remember(self, conversation_id: str, applied: int, told: int) -> None:
        # Told even when not published (older than `since`): not news later either.
        self._marks[conversation_id] = (applied, told)
        self._marks.move_to_end(conversation_id)
        while len(self._marks) > self.max_tracked:
            self._marks.popitem(last=False)


def _priority(data: Mapping[str, Any]) -> int:
    """The priority number an `sla.*` event was raised at ("P2" → 2; 0 when unreadable)."""
    try:
        return int(str(data.get("priority", "")).removeprefix("P"))
    except ValueError:
        return 0


__all__ = ["MAX_TRACKED", "SLA_ALERTS", "Fold"]
