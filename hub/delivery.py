"""The outbox's delivery side: send in order, retry with backoff and jitter, park what
cannot go.

Order: one conversation's replies leave strictly one after another, in the order they were
logged. The store decides what may be claimed (only a conversation's *head*, its earliest
outstanding reply), so this holds across processes too; a worker that delivered a head
asks the store for the conversation's next reply and carries on. A reply that keeps
failing holds the conversation's later replies back until it is delivered or parked.

Patience: a failed attempt is retried after an exponential backoff with jitter, capped at
`max_delay`; a reply is parked only once it has been failing for `retry_for` seconds
(an hour by default), so an outage of the channel is ridden out. A `RetryLater` that
says when to come back (`retry_after`, e.g. a 429) is throttling, not failure: it waits
exactly that long and does not count against `max_attempts`.

Fresh replies are delivered at once by the process that committed them (the store leases
the conversation's head to it). A poller picks up everything else that is due: retries,
replies that waited behind an earlier one, and entries whose lease ran out because the
process that held them died. Delivery is at-least-once; the delivery id is the receiver's
idempotency key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hub.abc import Connector
from hub.bus_order import PublishOrder
from hub.errors import DeliveryError, RetryLater
from hub.metrics import Metrics
from hub.model import Delivery
from hub.ports import Outbox

log = logging.getLogger("frontdesk.delivery")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """When to try a failed delivery again, and when to give up on it (park it).

    A delivery is parked once it has been failing for `retry_for` seconds, or after
    `max_attempts` failed attempts when that is set (0: no limit by count). Throttled
    attempts (the channel said when to come back) do not count as failed attempts.
    """

    max_attempts: int = 0
    retry_for: float = 3600.0  # the retry horizon: how long a failing reply is retried
    base_delay: float = 0.5
    max_delay: float = 300.0
    send_timeout: float = 15.0
    poll_interval: float = 1.0
    lease: float = 30.0  # a fresh reply stays with the process that made it this long
    shutdown_grace: float = 10.0  # seconds to finish in-flight turns and deliveries

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        exponent = min(attempt - 1, 64)  # 2**64 × base is past any cap; avoids overflow
        ceiling = min(self.max_delay, self.base_delay * 2**exponent)
        return random.uniform(ceiling / 2, ceiling)

    def retry_at(
        self, delivery: Delivery, *, now: float, retry_after: float | None = None
    ) -> float | None:
        """When to try `delivery` again after the attempt that just failed at `now`, or
        None to park it. `retry_after`: the channel said when (a throttle, not a failure)."""
        throttled = retry_after is not None
        failures = delivery.attempts - delivery.throttled + (0 if throttled else 1)
        if not throttled and self.max_attempts and failures >= self.max_attempts:
            return None
        failing_since = delivery.failing_since or now
        if now - failing_since >= self.retry_for:
            return None
        wait = retry_after if retry_after is not None else self.delay(failures)
        return now + wait


class DeliveryWorker:
    def __init__(
        self,
        *,
        store: Outbox,
        connectors: Mapping[str, Connector],
        policy: RetryPolicy,
        clock: Callable[[], float],
        metrics: Metrics,
        lease: float,
        order: PublishOrder | None = None,
    ) -> None:
        self.store = store
        # The event bus's publish, in this process's log order: receipts, failures,
        # parkings and redrives are logged here, outside any turn, and nothing else
        # announces them (unannounced, every process would read them back from the log
        # when the conversation's next event arrives: a gap).
        self.order = order or PublishOrder(lambda events: None)
        self.connectors = connectors
        self.policy = policy
        self.clock = clock
        self.metrics = metrics
        self.lease = lease
        self._tasks: set[asyncio.Task[None]] = set()
        self._poller: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        metrics.describe(
            "frontdesk_deliveries_total",
            "Delivery attempts by outcome (logged: delivered by its commit, to a channel"
            " whose clients read the log)",
        )
        metrics.gauge(
            "frontdesk_deliveries_in_flight", "Deliveries being sent", lambda: len(self._tasks)
        )

    async def start(self) -> None:
        self._stopping = False
        self._poller = asyncio.create_task(self._poll())

    async def stop(self, *, grace: float) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace)
        if self._poller is not None:
            # The poller ends by itself once it sees the flag. Cancelling alone is not enough
            # on Python 3.11: `asyncio.wait_for` can swallow a cancellation that arrives just
            # as the wake event fires, and the loop would then go on for ever.
            self._stopping = True
            self._wake.set()
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None

    def deliver_now(self, lead: Delivery | None) -> None:
        """Send a just-committed reply the store leased to us (`TurnCommit.lead`), then the
        rest of its conversation's replies in order."""
        if lead is not None:
            self._spawn(self._drain(lead))

    def wake(self) -> None:
        """Look for due deliveries now instead of at the next poll (after a redrive …)."""
        self._wake.set()

    async def redrive(self, delivery_id: str) -> Delivery | None:
        """Put a parked delivery back in the outbox (an operator asked), tell the event bus
        of the `delivery.redriven` event that logs it, and look for it at once. None when no
        delivery of that id is parked."""
        # Its conversation is known only once the store has read the delivery.
        done = await self.store.record_redrive(delivery_id, now=self.clock())
        if done.event is not None:
            self.order.publish((done.event,))
        if done.delivery is not None:
            self.wake()
        return done.delivery

    def _spawn(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _poll(self) -> None:
        while not self._stopping:
            try:
                due = await self.store.claim_deliveries(
                    now=self.clock(), limit=200, lease=self.lease
                )
                for head in due:  # at most one per conversation
                    self._spawn(self._drain(head))
            except Exception:
                log.exception("outbox poll failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.policy.poll_interval)
            self._wake.clear()

    async def _drain(self, head: Delivery) -> None:
        """Deliver a conversation's head, then each next reply the store hands us, until
        one has to wait (a retry) or none is left."""
        delivery: Delivery | None = head
        while delivery is not None:
            delivery = await self._deliver(delivery)

    async def _deliver(self, delivery: Delivery) -> Delivery | None:
        """One attempt; then the conversation's next reply, claimed, if it may go now
        (this one was delivered or parked, and the next is due)."""
        connector = self.connectors.get(delivery.channel)
        try:
            if connector is None:
                raise RetryLater(f"channel {delivery.channel!r} is not enabled")
            # `timeout`, not `wait_for`: the send runs in this task, not in one more per reply.
            async with asyncio.timeout(self.policy.send_timeout):
                receipt = await connector.deliver(delivery)
        except DeliveryError as error:
            parked = await self._failed(
                delivery, f"{type(error).__name__}: {error}", permanent=True
            )
        except RetryLater as error:
            parked = await self._failed(
                delivery, f"RetryLater: {error}", retry_after=error.retry_after
            )
        except TimeoutError:
            parked = await self._failed(delivery, f"timed out after {self.policy.send_timeout:g}s")
        except Exception as error:
            log.exception("connector raised while delivering", extra={"delivery_id": delivery.id})
            parked = await self._failed(delivery, f"{type(error).__name__}: {error}")
        else:
            self.metrics.inc(
                "frontdesk_deliveries_total", channel=delivery.channel, outcome="delivered"
            )
            # Recording the receipt claims the next reply in the same step.
            with self.order.writing(delivery.conversation_id):
                done = await self.store.record_delivered(
                    delivery, receipt=receipt, now=self.clock(), lease=self.lease
                )
                if done.event is not None:
                    self.order.publish((done.event,))  # its conversation's batch, as a turn's
            return done.following
        if not parked:
            return None  # it waits for its retry, and the conversation's later replies with it
        return await self.store.claim_next(
            delivery.conversation_id, now=self.clock(), lease=self.lease
        )

    async def _failed(
        self,
        delivery: Delivery,
        error: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
    ) -> bool:
        now = self.clock()
        retry_at = (
            None if permanent else self.policy.retry_at(delivery, now=now, retry_after=retry_after)
        )
        throttled = retry_at is not None and retry_after is not None
        if retry_at is None:
            outcome = "parked"
            log.warning(
                "delivery parked",
                extra={
                    "delivery_id": delivery.id,
                    "conversation_id": delivery.conversation_id,
                    "error": error,
                },
            )
        else:
            outcome = "throttled" if throttled else "retry"
        with self.order.writing(delivery.conversation_id):
            done = await self.store.record_failure(
                delivery, error=error, retry_at=retry_at, now=now, throttled=throttled
            )
            if done.event is not None:
                self.order.publish((done.event,))  # as a receipt is
        self.metrics.inc("frontdesk_deliveries_total", channel=delivery.channel, outcome=outcome)
        return retry_at is None
