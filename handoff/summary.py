"""The structured hand-off summary: everything an agent needs so the customer never repeats.

Deterministic and offline: built from the conversation log, the customer record and the
customer's recent history. JSON for the API and the console, readable text for
notifications. Nothing external is called: no service, no model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handoff import sentiment
from hub.model import Customer, Event

KEY_SENTENCES = 3
RECENCY = 0.7  # each older customer message weighs this much of the next one in the mood
# The demo's status commands; the engine passes the configured ones. Asking for a person
# says nothing about the problem either.
STATUS_CHECKS = frozenset({"status", "/status", "ticket status", "进度", "查询进度", "状态"})
PERSON_REQUESTS = frozenset(
    {
        "转人工",
        "人工",
        "人工客服",
        "找人工",
        "找客服",
        "真人",
        "human",
        "agent",
        "a human",
        "talk to a human",
        "talk to a person",
        "speak to a person",
        "real person",
        "human agent",
    }
)
# Human labels of common slots (en, zh); any other slot name is spelled out from its id.
SLOT_LABELS: dict[str, tuple[str, str]] = {
    "order_id": ("Order number", "订单号"),
    "order_status": ("Order status", "订单状态"),
    "email": ("Email", "邮箱"),
    "phone": ("Phone", "电话"),
    "amount": ("Amount", "金额"),
    "model": ("Model", "型号"),
    "date": ("Date", "日期"),
    "on_after_hold": ("Turns on after holding power", "长按电源后能开机"),
    "charging_light": ("Charging light", "充电指示灯"),
    "on_after_charge": ("Turns on after charging", "充电后能开机"),
    "light_other_charger": ("Light with another charger", "换充电器后指示灯"),
}
_SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？]*")
_WORD = re.compile(r"[a-z0-9']+|[\u4e00-\u9fff]")
_DIGITS = re.compile(r"\d{3,}")
_STOP = frozenset(
    str.split(
        "the a an and or but to of in on at for with is are was were be been it this that i you "
        "me my we our your he she they them have has had do does did not no yes ok okay hi hello "
        "hey thanks thank please can could would will just so very really what how why when"
    )
)
_FILLER_ZH = frozenset("的了吗呢吧啊呀我你您是在有就都也还和")


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerFacts:
    """What the hand-off engine knows of the customer's past 90 days."""

    conversations_90d: int = 0
    complaints_90d: int = 0
    last_csat: int | None = None


def summarize(
    *,
    events: Sequence[Event],
    customer: Customer,
    facts: CustomerFacts,
    channel: str,
    requested_at: float,
    now: float,
    reasons: Sequence[str] = (),
    tried: Sequence[Mapping[str, Any]] = (),
    commands: frozenset[str] = STATUS_CHECKS,
) -> dict[str, Any]:
    """The summary as JSON-ready data (see `as_text` for the readable form). `commands`
    (the status commands) say nothing about the problem or the mood: they are left out."""
    scored: dict[int, float] = {}
    turn: Mapping[str, Any] = {}
    handoff: Mapping[str, Any] = {}
    messages: list[tuple[int, str]] = []
    answered: dict[str, int] = {}  # what the bot already told the customer, and how often
    for event in events:
        if event.type == "message.in":
            messages.append((event.seq, str(event.data.get("text", ""))))
        elif event.type == "sentiment.scored":
            scored[int(event.data.get("message_seq", 0))] = float(event.data.get("score", 0.0))
        elif event.type == "bot.turn" and event.data.get("intent"):
            turn = event.data
            if event.data.get("handled_as") == "faq" and not event.data.get("small_talk"):
                answer = str(event.data["intent"])
                answered[answer] = answered.get(answer, 0) + 1
        elif event.type == "kb.answered" and event.data.get("article"):
            answer = f"article {event.data['article']}"
            answered[answer] = answered.get(answer, 0) + 1
        elif event.type == "handoff.requested":
            handoff = event.data
    messages = [(seq, text) for seq, text in messages if not is_command(text, commands)]
    scores = [scored[seq] if seq in scored else sentiment.score(text) for seq, text in messages]
    slots = dict(handoff.get("slots") or turn.get("slots") or {})
    steps = list(tried or handoff.get("tried") or ())
    tags = sorted(customer.tags)
    return {
        "who": {
            "customer_id": customer.id,
            "name": str(customer.attributes.get("name", "")),
            "channels": sorted({i.split(":", 1)[0] for i in customer.identities}),
            "identities": list(customer.identities),
            "tags": tags,
            "vip": any(t.casefold() == "vip" for t in tags),
            "conversations_90d": facts.conversations_90d,
            "complaints_90d": facts.complaints_90d,
            "last_csat": facts.last_csat,
        },
        "what": {
            "intent": turn.get("intent") or handoff.get("intent") or "",
            "confidence": turn.get("confidence"),
            "reasons": list(reasons),
            "flow": handoff.get("flow") or turn.get("flow") or "",
            "slots": slots,
            "details": [
                {"slot": name, "label": slot_label(name), "value": value}
                for name, value in slots.items()
            ],
            "tried": [described for step in steps if (described := describe_step(step))],
            # An agent need not say again what the bot said, twice perhaps ("As I said above").
            "answered": [{"answer": a, "times": n} for a, n in answered.items()],
        },
        "feeling": feeling(scores, [text for _, text in messages]),
        "key_sentences": key_sentences([text for _, text in messages], scores),
        "messages": len(messages),
        "waiting_seconds": round(max(0.0, now - requested_at), 1),
        "channel": channel,
    }


def is_command(text: str, commands: frozenset[str] = STATUS_CHECKS) -> bool:
    """A command (``/csat 4``) or a status check (``status``, ``进度``): not what the problem
    is, and not how the customer feels."""
    folded = text.strip().casefold().rstrip("?？!！.。")
    return folded.startswith("/") or folded in commands or folded in PERSON_REQUESTS


def feeling(scores: Sequence[float], texts: Sequence[str]) -> dict[str, Any]:
    """The mood over the whole customer side, the latest messages weighing most and short
    acknowledgements least (an angry complaint followed by "ok" is still an angry
    conversation), plus the trend and the lowest point."""
    # The trend follows what the customer wrote, not their "ok"s.
    said = [score for score, text in zip(scores, texts, strict=True) if not _one_word(text)]
    mood = sentiment.mood(said or scores).to_json()
    if scores:
        mood["lowest"] = min(scores)
        weights = [
            RECENCY ** (len(scores) - 1 - i)
            * min(4, max(1, len(_WORD.findall(text.casefold()))))
            / 4
            for i, text in enumerate(texts)
        ]
        overall = sum(w * s for w, s in zip(weights, scores, strict=True)) / sum(weights)
        mood["latest"] = scores[-1]
        mood["score"] = round(overall, 4)
        mood["label"] = sentiment.label(overall)
    return mood


def slot_label(name: str) -> dict[str, str]:
    """``order_id`` → ``{"en": "Order number", "zh": "订单号"}``; unknown slots are spelled
    out (``delivery_city`` → ``Delivery city``)."""
    en, zh = SLOT_LABELS.get(name, ("", ""))
    spelled = name.replace("_", " ").strip().capitalize() or name
    return {"en": en or spelled, "zh": zh or en or spelled}


def describe_step(step: Mapping[str, Any]) -> str:
    """One tried step, short: ``held power 10s: yes`` or ``ran check_order (failed)``; ""
    for what the bot only said at a step the operator did not name (its number: "1"), which
    is an opening line ("Let's try a few things"), nothing the customer tried."""
    name = str(step.get("step") or step.get("flow") or "step").replace("_", " ")
    if "said" in step and name.isdigit():
        return ""
    if "answer" in step:
        return f"{name}: {step['answer']}"
    if "gave_up" in step:
        return f"{name}: no valid answer"
    if "action" in step:
        return f"ran {step['action']}" + (" (failed)" if step.get("failed") else "")
    if "said" in step:
        return f"{name}: told the customer"
    return name


def key_sentences(
    texts: Sequence[str], scores: Sequence[float] | None = None, count: int = KEY_SENTENCES
) -> list[str]:
    """The `count` most informative customer sentences, in the order they were said.

    `scores` are the messages' sentiment scores (from the log), so nothing is rescored."""
    seen: set[str] = set()
    candidates: list[tuple[float, int, str]] = []
    index = 0
    for position, text in enumerate(texts):
        mood_score = scores[position] if scores is not None else sentiment.score(text)
        if is_command(text) or _one_word(text):
            continue  # "进度", "ok", "/csat 4": nothing an agent needs to read
        for match in _SENTENCE.finditer(text):
            sentence = match.group().strip()
            folded = sentence.casefold()
            if not sentence or folded in seen:
                continue
            seen.add(folded)
            candidates.append((_information(sentence, mood_score), index, sentence))
            index += 1
    best = sorted(candidates, key=lambda c: (-c[0], c[1]))[:count]
    return [sentence for score, _, sentence in sorted(best, key=lambda c: c[1]) if score > 0]


def _one_word(text: str) -> bool:
    """``ok``, ``进度``, ``开机了``: one word (Chinese: at most two characters besides
    particles)."""
    words = _WORD.findall(text.casefold())
    han = [w for w in words if "\u4e00" <= w <= "\u9fff"]
    content = sum(1 for w in han if w not in _FILLER_ZH)
    return len(words) - len(han) <= 1 and content <= 2


def _information(sentence: str, mood_score: float) -> float:
    words = _WORD.findall(sentence.casefold())
    content = {w for w in words if w not in _STOP and w not in _FILLER_ZH and len(w) > 1}
    content |= {w for w in words if "\u4e00" <= w <= "\u9fff" and w not in _FILLER_ZH}
    if len(content) < 2:
        return 0.0
    value = min(len(content), 15) / 3
    if _DIGITS.search(sentence):
        value += 2.0  # order numbers, error codes, amounts
    value += 2.0 * max(0.0, -mood_score)  # upset sentences tell the agent what matters
    return round(value, 4)


def as_text(summary: Mapping[str, Any]) -> str:
    """The summary as a few readable lines (notifications, e-mail, chat ops)."""
    who, what, feeling = summary["who"], summary["what"], summary["feeling"]
    name = who["name"] or who["customer_id"]
    tags = f" [{', '.join(who['tags'])}]" if who["tags"] else ""
    csat = who["last_csat"] if who["last_csat"] is not None else "–"
    elsewhere = [channel for channel in who["channels"] if channel != summary["channel"]]
    also = f" (also {', '.join(elsewhere)})" if elsewhere else ""
    lines = [
        f"Who: {name}{tags} via {summary['channel']}{also}; "
        f"{who['conversations_90d']} conversations and {who['complaints_90d']} complaints "
        f"in 90 days; last CSAT {csat}",
        f"Why: {', '.join(what['reasons']) or 'asked'}; intent {what['intent'] or 'unknown'}"
        + (f" ({what['confidence']:.2f})" if isinstance(what["confidence"], float) else ""),
    ]
    if what["details"]:
        lines.append(
            "Details: " + "; ".join(f"{d['label']['en']}: {d['value']}" for d in what["details"])
        )
    if what["tried"]:
        lines.append("Tried: " + "; ".join(what["tried"]))
    if what["answered"]:
        lines.append(
            "Answered: "
            + "; ".join(
                a["answer"] + (f" ×{a['times']}" if a["times"] > 1 else "")
                for a in what["answered"]
            )
        )
    lines.append(f"Feeling: {feeling['label']} ({feeling['score']:+.2f}), {feeling['trend_label']}")
    for sentence in summary["key_sentences"]:
        lines.append(f"» {sentence}")
    lines.append(f"Waiting: {round(summary['waiting_seconds'] / 60)} min")
    return "\n".join(lines)
