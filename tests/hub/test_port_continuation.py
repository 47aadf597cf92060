"""Which open conversation a message continues: one table of cases, held against the pure
rule (`hub.ports.policy`) and against every backend (SQLite calls the rule; the Redis
script must follow it on its own).

Each case is a history of one customer (identities on web chat, Telegram, email and the
api channel) and the conversation each step should land in: a letter names a
conversation, a new letter means a new one opened. The model replays the history through
the rule alone; each backend replays it for real, and both must agree with the letters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from hub.abc import TurnResult
from hub.model import ConversationStatus, Inbound
from hub.ports import Backend
from hub.ports.policy import OpenConversation, continued_conversation, latest

W = 1000.0  # the continuity window of most cases


def identity_inbound(channel: str, sender: str, message_id: str, text: str = "hi") -> Inbound:
    return Inbound(channel=channel, sender=sender, message_id=message_id, text=text, timestamp=1.0)


SENDERS = {"webchat": "v1", "telegram": "42", "email": "ana@example.com", "api": "client-1"}


@dataclass(frozen=True)
class Say:
    """A message on `channel` (in email thread or api thread `thread`) at `at`."""

    channel: str
    at: float
    lands_in: str
    thread: str = ""


@dataclass(frozen=True)
class Resolve:
    """The conversation `label` is resolved at `at` (it is never continued again)."""

    label: str
    at: float


Step = Say | Resolve

CASES: dict[str, tuple[float | None, list[Step]]] = {
    "same channel continues however quiet": (
        W,
        [Say("webchat", 0, "A"), Say("webchat", 5 * W, "A")],
    ),
    "another channel within the window": (W, [Say("webchat", 0, "A"), Say("telegram", 500, "A")]),
    "another channel after the window": (W, [Say("webchat", 0, "A"), Say("telegram", 5 * W, "B")]),
    "no window: always continued": (None, [Say("webchat", 0, "A"), Say("telegram", 99 * W, "A")]),
    "a new email thread continues a linked chat": (
        W,
        [Say("webchat", 0, "A"), Say("email", 500, "A", "<r1@mail>")],
    ),
    "a new email thread after the window is its own": (
        W,
        [Say("webchat", 0, "A"), Say("email", 5 * W, "B", "<r1@mail>")],
    ),
    "an email thread continues itself": (
        W,
        [Say("email", 0, "A", "<r1@mail>"), Say("email", 5 * W, "A", "<r1@mail>")],
    ),
    "two email threads stay apart": (
        W,
        [Say("email", 0, "A", "<r1@mail>"), Say("email", 10, "B", "<r2@mail>")],
    ),
    "the api channel's threads stay apart from its unthreaded messages": (
        W,
        [Say("api", 0, "A"), Say("api", 10, "B", "order-7")],
    ),
    "a resolved conversation is not continued": (
        W,
        [Say("webchat", 0, "A"), Resolve("A", 1), Say("webchat", 2, "B")],
    ),
    "of two open ones, the one that moved last": (
        W,
        [Say("webchat", 0, "A"), Say("telegram", 5 * W, "B"), Say("webchat", 5 * W + 1, "B")],
    ),
    "a thread's stale conversation falls back to a fresh chat": (
        W,
        [
            Say("email", 0, "A", "<r1@mail>"),
            Say("webchat", 4 * W, "B"),
            Say("telegram", 4 * W + 1, "B"),
            Say("email", 4 * W + 2, "A", "<r1@mail>"),
        ],
    ),
    "a thread continued across channels keeps no thread of its own": (
        W,
        [
            Say("telegram", 0, "A"),
            Say("email", 10, "A", "<r1@mail>"),
            Say("email", 20, "A", "<r1@mail>"),
            Say("telegram", 30, "A"),
        ],
    ),
    "a chat opened on email's own channel is not joined by a new thread": (
        W,
        [Say("email", 0, "A"), Say("email", 10, "B", "<r1@mail>")],
    ),
}


def thread_key(step: Say) -> str:
    return Inbound(
        channel=step.channel, sender="x", message_id="x", text="", thread_hint=step.thread
    ).thread_key


@dataclass
class Model:
    """The customer's conversations as the rule alone sees them."""

    window: float | None
    open: dict[str, OpenConversation] = field(default_factory=dict)
    threads: dict[str, str] = field(default_factory=dict)  # label -> thread_key
    count: int = 0

    def say(self, step: Say) -> str:
        key = thread_key(step)
        chosen = continued_conversation(
            channel=step.channel,
            thread_key=key,
            same_thread=[c for label, c in self.open.items() if self.threads[label] == key],
            unthreaded=[c for label, c in self.open.items() if self.threads[label] == ""],
            now=step.at,
            window=self.window,
        )
        if chosen is None:
            label = chr(ord("A") + self.count)
            self.count += 1
            self.threads[label] = key
            opened_on = step.channel
        else:
            label = chosen
            opened_on = self.open[label].opened_on
        self.open[label] = OpenConversation(
            id=label, channel=step.channel, opened_on=opened_on, moved_at=step.at
        )
        return label


@pytest.mark.parametrize("case", CASES)
def test_the_rule_gives_the_expected_conversations(case: str) -> None:
    window, steps = CASES[case]
    model = Model(window)
    for step in steps:
        if isinstance(step, Resolve):
            del model.open[step.label]
        else:
            assert model.say(step) == step.lands_in, step


def test_latest_breaks_ties_by_the_greater_id() -> None:
    one = OpenConversation(id="con_a", channel="webchat", opened_on="webchat", moved_at=5.0)
    two = OpenConversation(id="con_b", channel="telegram", opened_on="telegram", moved_at=5.0)
    assert latest([one, two]) == latest([two, one]) == two
    assert latest([]) is None


@pytest.mark.parametrize("case", CASES)
async def test_every_backend_follows_the_rule(store: Backend, case: str) -> None:
    window, steps = CASES[case]
    store.continuity_window = window
    customer, _ = await store.ensure_customer("webchat:v1", now=0.0)
    for channel in ("telegram", "email", "api"):
        assert await store.add_identity(customer.id, f"{channel}:{SENDERS[channel]}", now=0.0)
    ids: dict[str, str] = {}
    for n, step in enumerate(steps):
        if isinstance(step, Resolve):
            conversation = await store.get_conversation(ids[step.label])
            assert conversation is not None
            await store.commit_turn(
                conversation.id,
                handled_seq=conversation.last_seq,
                result=TurnResult(status=ConversationStatus.RESOLVED),
                now=step.at,
                lease=30,
            )
            continue
        message = Inbound(
            channel=step.channel,
            sender=SENDERS[step.channel],
            message_id=f"m{n}",
            text="hello 你好",
            thread_hint=step.thread,
            timestamp=step.at,
        )
        got = await store.record_inbound(message, now=step.at)
        assert got.customer.id == customer.id
        if step.lands_in in ids:
            assert got.conversation.id == ids[step.lands_in], step
        else:
            assert got.conversation.id not in ids.values(), step
            ids[step.lands_in] = got.conversation.id


# The same rule, told as journeys.


async def test_continuity_window_opens_a_new_conversation_for_a_stale_one(store: Backend) -> None:
    first = await store.record_inbound(identity_inbound("webchat", "v1", "w1"), now=100.0)
    await store.add_identity(first.customer.id, "telegram:42", now=101.0)
    window = 24 * 3600.0
    soon = await store.record_inbound(
        identity_inbound("telegram", "42", "t1"), now=100.0 + window - 1
    )
    assert soon.conversation.id == first.conversation.id
    # Same channel: always continued; another channel after the window: a new conversation.
    later = await store.record_inbound(
        identity_inbound("webchat", "v1", "w2"), now=100.0 + 3 * window
    )
    assert later.conversation.id != first.conversation.id
    assert later.customer.id == first.customer.id


async def test_a_new_email_thread_continues_a_linked_open_chat(store: Backend) -> None:
    chat = await store.record_inbound(
        identity_inbound("webchat", "v1", "w1", "my phone is dead"), now=100.0
    )
    assert await store.add_identity(chat.customer.id, "email:ana@example.com", now=101.0)

    def mail(message_id: str, thread: str, at: float) -> Inbound:
        return Inbound(
            channel="email",
            sender="ana@example.com",
            message_id=message_id,
            text="following up",
            thread_hint=thread,
            timestamp=at,
        )

    first = await store.record_inbound(mail("e1", "<root-1@mail>", 200.0), now=200.0)
    assert first.conversation.id == chat.conversation.id  # one conversation across channels
    assert (first.conversation.channel, first.conversation.thread_hint) == (
        "email",
        "<root-1@mail>",
    )
    again = await store.record_inbound(mail("e2", "<root-1@mail>", 300.0), now=300.0)
    assert again.conversation.id == chat.conversation.id
    # Once the open chat has been quiet past the continuity window, a new thread is its own.
    later = await store.record_inbound(mail("e3", "<root-2@mail>", 400_000.0), now=400_000.0)
    assert later.conversation.id != chat.conversation.id
    assert later.customer.id == chat.customer.id
