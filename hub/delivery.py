"""The outbox's delivery side: send, retry with backoff and jitter, park what cannot go.

Fresh replies are delivered at once by the process that committed them (their outbox
entry is leased to it). A poller picks up everything else that is due: retries, and
entries whose lease ran out because the process that made them died. Delivery is
at-least-once; the delivery id is the receiver's idempotency key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from hub.abc import Connector, Store
from hub.errors import DeliveryError, RetryLater
from hub.locks import KeyedLock
from hub.metrics import Metrics
from hub.model import Delivery

log = logging.getLogger("frontdesk.delivery")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with full jitter; after `max_attempts` a delivery is parked."""

    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 300.0
    send_timeout: float = 15.0
    poll_interval: float = 1.0
    lease: float = 30.0  # a fresh reply stays with the process that made it this long
    shutdown_grace: float = 10.0  # seconds to finish in-flight turns and deliveries

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


class DeliveryWorker:
    def __init__(
        self,
        *,
        store: Store,
        connectors: Mapping[str, Connector],
        policy: RetryPolicy,
        clock: Callable[[], float],
        metrics: Metrics,
        lease: float,
    ) -> None:
        self.store = store
        self.connectors = connectors
        self.policy = policy
        self.clock = clock
        self.metrics = metrics
        self.lease = lease
        self._tasks: set[asyncio.Task[None]] = set()
        self._order = KeyedLock()  # one conversation's replies leave in order
        self._poller: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        metrics.describe("frontdesk_deliveries_total", "Delivery attempts by outcome")
        metrics.gauge(
            "frontdesk_deliveries_in_flight", "Deliveries being sent", lambda: len(self._tasks)
        )

    async def start(self) -> None:
        self._poller = asyncio.create_task(self._poll())

    async def stop(self, *, grace: float) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace)
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None

    def deliver_now(self, deliveries: Sequence[Delivery]) -> None:
        if deliveries:
            self._spawn(self._deliver_in_order(deliveries))

    def wake(self) -> None:
        """Look for due deliveries now instead of at the next poll (after a redrive …)."""
        self._wake.set()

    def _spawn(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _poll(self) -> None:
        while True:
            try:
                due = await self.store.claim_deliveries(
                    now=self.clock(), limit=200, lease=self.lease
                )
                by_conversation: dict[str, list[Delivery]] = {}
                for delivery in due:
                    by_conversation.setdefault(delivery.conversation_id, []).append(delivery)
                for batch in by_conversation.values():
                    self._spawn(self._deliver_in_order(sorted(batch, key=lambda d: d.seq)))
            except Exception:
                log.exception("outbox poll failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.policy.poll_interval)
            self._wake.clear()

    async def _deliver_in_order(self, deliveries: Sequence[Delivery]) -> None:
        async with self._order.hold(deliveries[0].conversation_id):
            for delivery in deliveries:
                await self._deliver(delivery)

    async def _deliver(self, delivery: Delivery) -> None:
        connector = self.connectors.get(delivery.channel)
        try:
            if connector is None:
                raise RetryLater(f"channel {delivery.channel!r} is not enabled")
            receipt = await asyncio.wait_for(connector.deliver(delivery), self.policy.send_timeout)
        except DeliveryError as error:
            await self._failed(delivery, f"{type(error).__name__}: {error}", permanent=True)
        except RetryLater as error:
            await self._failed(delivery, f"RetryLater: {error}", retry_after=error.retry_after)
        except TimeoutError:
            await self._failed(delivery, f"timed out after {self.policy.send_timeout:g}s")
        except Exception as error:
            log.exception("connector raised while delivering", extra={"delivery_id": delivery.id})
            await self._failed(delivery, f"{type(error).__name__}: {error}")
        else:
            await self.store.delivery_succeeded(delivery, receipt=receipt, now=self.clock())
            self.metrics.inc(
                "frontdesk_deliveries_total", channel=delivery.channel, outcome="delivered"
            )

    async def _failed(
        self,
        delivery: Delivery,
        error: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
    ) -> None:
        attempt = delivery.attempts + 1
        now = self.clock()
        if permanent or attempt >= self.policy.max_attempts:
            retry_at = None
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
            wait = retry_after if retry_after is not None else self.policy.delay(attempt)
            retry_at = now + wait
            outcome = "retry"
        await self.store.delivery_failed(delivery, error=error, retry_at=retry_at, now=now)
        self.metrics.inc("frontdesk_deliveries_total", channel=delivery.channel, outcome=outcome)
