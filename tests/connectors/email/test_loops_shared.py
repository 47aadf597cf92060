"""The email loop breaker's budget is one per address across every hub process on a Redis
store (one server, and a three-master cluster): an unmarked autoresponder writing to two
processes in turn is cut off after the configured number of answers in all, not after
that number on each process."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import pytest

from hub.model import Event, EventType
from tests.connectors.email.harness import SUPPORT, EmailHub, Start

ROBOT = {
    "en": ("Ticket {n}", "We received your message and will get back to you."),
    "zh": ("工单 {n}", "我们已收到您的邮件，将尽快回复。"),
}


def robot_mail(language: str, number: int) -> bytes:
    subject, body = ROBOT[language]
    robot = EmailMessage()
    robot["From"] = "robot@example.net"
    robot["To"] = SUPPORT
    robot["Subject"] = subject.format(n=number)  # no auto-reply headers: an unmarked robot
    robot["Message-ID"] = f"<robot.{language}.{number}@example.net>"
    robot.set_content(body)
    return robot.as_bytes()


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_loop_breaker_budget_is_shared_by_every_process(
    start_hub: Start, shared_store_url: str, language: str
) -> None:
    shared = {"FRONTDESK_STORE_URL": shared_store_url}
    hubs: list[EmailHub] = [
        await start_hub(environ=shared, rate_limit_messages=2) for _ in range(2)
    ]
    for number in range(3):
        await hubs[number % 2].send(robot_mail(language, number))  # A, B, then A again

    async def logged(hub: EmailHub) -> list[Event]:
        """Every event of the robot's conversations (each new mail opens a thread)."""
        customer = await hub.hub.store.find_customer("email:robot@example.net")
        if customer is None:
            return []
        found: list[Event] = []
        for conversation in await hub.hub.store.customer_conversations(customer.id):
            found += await hub.hub.events(conversation.id, limit=1000)
        return found

    async def settled() -> list[Event]:
        async with asyncio.timeout(60):
            while True:
                events = await logged(hubs[0])
                kinds = [e.type for e in events]
                if kinds.count(EventType.DELIVERED) >= 2 and EventType.MESSAGE_NOTICED in kinds:
                    return events
                await asyncio.sleep(0.05)

    events = await settled()
    kinds = [e.type for e in events]
    assert kinds.count(EventType.MESSAGE_IN) == 2
    [noticed] = [e for e in await logged(hubs[1]) if e.type == EventType.MESSAGE_NOTICED]
    assert noticed.data["raw"]["noise"] == "rate-limited"
    replies = [m for hub in hubs for m in hub.relay.messages]
    assert [str(m["To"]) for m in replies] == ["robot@example.net"] * 2
