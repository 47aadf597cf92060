"""Realistic bilingual history, so the reports can be tried on a fresh demo store.

`frontdesk demo seed --days 60` writes conversations into the configured store through the
store's own write path (`record_inbound`, then `commit_turn` with the turn's events, so every
message is marked handled and nothing is queued for delivery): arrivals follow a weekly and
daily rhythm (busy weekday evenings, quiet nights) with Poisson noise; each conversation is an
answered FAQ, a question the bot could not answer, a knowledge-base answer rated helpful or
not, or a complaint handed to an agent, accepted, resolved and rated. Everything is drawn from
a seeded random generator: the same seed writes the same history.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from hub.abc import TurnResult
from hub.model import ConversationStatus, Inbound, NewEvent
from hub.ports import EventLog

CHANNELS = ("webchat", "telegram", "email", "api")
ANSWERED = {
    "en": [
        ("opening_hours", "what are your opening hours"),
        ("refund_policy", "how do returns work"),
        ("shipping_cost", "how much is shipping"),
        ("check_order", "where is my order"),
        ("gift_cards", "do you sell gift cards"),
    ],
    "zh": [
        ("opening_hours", "你们几点开门"),
        ("refund_policy", "怎么退货"),
        ("shipping_cost", "运费多少"),
        ("check_order", "我的订单到哪了"),
        ("gift_cards", "有礼品卡吗"),
    ],
}
UNANSWERED = {
    "en": [
        "do you sell refurbished phones",
        "do you have refurbished laptops",
        "are there any refurbished tablets for sale",
        "can I rent a laptop for a month",
        "do you rent out cameras",
    ],
    "zh": [
        "有没有翻新机卖",
        "你们卖官方翻新的电脑吗",
        "翻新平板有货吗",
        "可以租一台电脑用一个月吗",
        "相机可以租吗",
    ],
}
COMPLAINTS = {
    "en": [
        ("refund_delay", "my refund still hasn't arrived after two weeks"),
        ("late_delivery", "my parcel is a week late and nobody answers"),
        ("rude_staff", "the staff in your store were really rude to me"),
    ],
    "zh": [
        ("refund_delay", "退款两个星期了还没到账"),
        ("late_delivery", "快递晚了一周也没人管"),
        ("rude_staff", "门店店员态度太差了"),
    ],
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedPlan:
    days: int = 60
    per_hour_peak: float = 6.0  # expected arrivals in the busiest hour of the week
    seed: int = 20261129
    zone: str = "Asia/Shanghai"  # whose evenings are busy


def hourly_rate(weekday: int, hour: int, peak: float) -> float:
    """Expected arrivals: a daily curve peaking at 20:00, quieter at weekends, near zero at 4:00."""
    evening = min(abs(hour - 20), 24 - abs(hour - 20))  # hours from 20:00, around the clock
    daily = 0.08 + 0.92 * math.exp(-(evening**2) / 18) + 0.5 * math.exp(-((hour - 11) ** 2) / 8)
    weekly = 0.7 if weekday >= 5 else 1.0
    return peak * weekly * daily / 1.5


async def seed_history(
    store: EventLog,
    *,
    now: float,
    plan: SeedPlan | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> int:
    """Write `plan.days` of history ending at `now`; returns the number of conversations.
    `progress(day, days, written)` is called after each day."""
    plan = plan or SeedPlan()
    rng = random.Random(plan.seed)
    start = now - now % 3600 - plan.days * 86400
    written = 0
    tz = ZoneInfo(plan.zone)
    for hour in range(plan.days * 24):
        at = start + hour * 3600
        local = datetime.fromtimestamp(at, tz)
        rate = hourly_rate(local.weekday(), local.hour, plan.per_hour_peak)
        for _ in range(_poisson(rng, rate)):
            await _conversation(store, rng, at + rng.uniform(0, 3599), written, now)
            written += 1
        if progress is not None and hour % 24 == 23:
            progress(hour // 24 + 1, plan.days, written)
    return written


async def _conversation(
    store: EventLog, rng: random.Random, at: float, number: int, now: float
) -> None:
    lang = rng.choice(("en", "zh"))
    channel = rng.choice(CHANNELS)
    kind = rng.choices(("answered", "unanswered", "complaint"), weights=(70, 15, 15))[0]
    if kind == "answered":
        intent, text = rng.choice(ANSWERED[lang])
        turn = {"intent": intent, "confidence": 0.9, "handled_as": "faq", "lang": lang}
        await write_conversation(
            store, channel, number, text, at, [NewEvent(type="bot.turn", data=turn)]
        )
    elif kind == "unanswered":
        text = rng.choice(UNANSWERED[lang])
        turn = {"intent": None, "confidence": 0.1, "handled_as": "fallback", "lang": lang}
        await write_conversation(
            store, channel, number, text, at, [NewEvent(type="bot.turn", data=turn)]
        )
    else:
        reason, text = rng.choice(COMPLAINTS[lang])
        turn = {"intent": "complaint", "confidence": 0.8, "handled_as": "flow", "lang": lang}
        accepted = at + rng.uniform(30, 900)
        resolved = accepted + rng.uniform(300, 1800)
        events = [
            NewEvent(type="bot.turn", data=turn),
            NewEvent(
                type="handoff.requested",
                data={"reason": reason, "intent": "complaint", "language": lang},
            ),
        ]
        conversation_id = await write_conversation(store, channel, number, text, at, events)
        agent = rng.choice(("tom", "mei", "sara"))
        await store.append_events(
            conversation_id,
            [NewEvent(type="handoff.accepted", data={"agent_id": agent})],
            now=accepted,
        )
        await store.append_events(
            conversation_id,
            [
                NewEvent(type="handoff.resolved", data={"agent_id": agent}),
                NewEvent(type="csat.answered", data={"score": rng.choice((2, 3, 4, 4, 5, 5))}),
            ],
            now=resolved,
        )
        await _followup(store, conversation_id, number, resolved + 86400, now)


#: What the complaints' follow-ups (a day after resolution) came to, in turn: drawn from the
#: conversation's number, not the random generator, so the rest of the history stays the same.
FOLLOWUP_OUTCOMES = ("solved", "solved", "unsolved", "solved", "no_answer", "opted_out")


async def _followup(
    store: EventLog, conversation_id: str, number: int, at: float, now: float
) -> None:
    if at + 3600 > now:
        return  # not due yet when the history ends
    outcome = FOLLOWUP_OUTCOMES[number % len(FOLLOWUP_OUTCOMES)]
    sent = NewEvent(type="followup.sent", data={"rule": "complaints", "due": at})
    await store.append_events(conversation_id, [sent], now=at)
    closing = (
        NewEvent(type="followup.expired", data={})
        if outcome == "no_answer"
        else NewEvent(type="followup.answered", data={"outcome": outcome, "by": "customer"})
    )
    await store.append_events(conversation_id, [closing], now=at + 3600)


async def write_conversation(
    store: EventLog, channel: str, number: int, text: str, at: float, events: Sequence[NewEvent]
) -> str:
    """One customer line at `at`, its turn's `events` committed: the conversation's id."""
    inbound = Inbound(
        channel=channel, sender=f"seed-{number}", message_id=f"seed-{number}", text=text
    )
    ingested = await store.record_inbound(inbound, now=at)
    await store.commit_turn(
        ingested.conversation.id,
        handled_seq=ingested.event.seq,
        result=TurnResult(events=tuple(events), status=ConversationStatus.RESOLVED),
        now=at + 1,
        lease=0.0,
    )
    return ingested.conversation.id


def _poisson(rng: random.Random, rate: float) -> int:
    # Knuth's method: rates here are small (a few an hour).
    limit, count, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
