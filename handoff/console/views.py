"""Pure functions that turn the hand-off index and the log into what the console shows.

Nothing here escapes anything: the JSON goes to `textContent` in the browser and templates
autoescape. Nothing here does I/O either, so every rule is tested directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from handoff.queue import Agent, Ticket
from handoff.tickets import label
from hub.model import Conversation, Customer, Event

# The timeline shows these; the rest (delivery receipts, scores …) is plumbing.
TIMELINE_TYPES = (
    "conversation.opened",
    "message.in",
    "message.out",
    "bot.turn",
    "handoff.",
    "sla.",
    "csat.",
    "nps.",
    "status.changed",
    "customer.merged",
    "delivery.parked",
)


def sla_state(ticket: Ticket, now: float) -> dict[str, Any]:
    """The clock that matters now (pick-up until accepted, then resolution) and its colour:
    `ok`, `amber` from the warning time, `red` once due."""
    if ticket.accepted:
        kind, warn, due = "resolve", ticket.resolve_warn, ticket.resolve_due
    else:
        kind, warn, due = "pickup", ticket.pickup_warn, ticket.pickup_due
    level = "red" if now >= due else "amber" if now >= warn else "ok"
    return {"kind": kind, "warn": warn, "due": due, "level": level, "left": round(due - now, 1)}


def ticket_view(ticket: Ticket, now: float, *, position: int = 0) -> dict[str, Any]:
    return {
        "conversation_id": ticket.conversation_id,
        "ticket": label(ticket.number, ticket.conversation_id),
        "channel": ticket.channel,
        "language": ticket.language,
        "skill": ticket.skill,
        "priority": f"P{ticket.priority}",
        "reasons": list(ticket.reasons),
        "requested_at": ticket.requested_at,
        "waiting": round(now - ticket.requested_at, 1),
        "agent_id": ticket.agent_id,
        "accepted": ticket.accepted,
        "offline": ticket.offline,
        "position": position,
        "sla": sla_state(ticket, now),
        "alerts": sorted(ticket.alerts),
    }


def agent_view(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "name": agent.spec.name,
        "presence": agent.presence.value,
        "skills": sorted(agent.spec.skills),
        "languages": sorted(agent.spec.languages),
        "capacity": agent.spec.capacity,
        "team": agent.spec.team,
        "load": len(agent.active),
        "supervisor": agent.spec.supervisor,
    }


def queue_by_skill(waiting: Iterable[Ticket]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ticket in waiting:
        skill = ticket.skill or "general"
        counts[skill] = counts.get(skill, 0) + 1
    return dict(sorted(counts.items()))


def timeline(events: Sequence[Event], *, channel: str) -> list[dict[str, Any]]:
    """The conversation as people read it: who said what on which channel, and what
    happened in between. Agent replies are told apart from the bot's by the
    `handoff.agent_message` event committed with them."""
    items: list[dict[str, Any]] = []
    agent_reply: Mapping[str, Any] | None = None
    for event in events:
        kind = event.type
        if not kind.startswith(TIMELINE_TYPES):
            continue
        data = event.data
        item: dict[str, Any] = {"seq": event.seq, "at": event.at, "type": kind}
        if kind == "message.in":
            item.update(
                who="customer",
                channel=str(data.get("channel") or channel),
                text=str(data.get("text", "")),
                # The channel could not prove who sent it (e.g. a mail failing DKIM/DMARC).
                unverified=data.get("sender_verified") is False,
                attachments=_files(data.get("attachments")),
            )
        elif kind == "message.out":
            outbound = data.get("outbound") or {}
            if agent_reply is not None:
                item.update(who="agent", agent=str(agent_reply.get("agent_name", "")))
                agent_reply = None
            else:
                item.update(who="bot")
            item["text"] = str(outbound.get("text", ""))
            item["buttons"] = [str(b.get("title", "")) for b in outbound.get("buttons", ())]
            item["attachments"] = _files(outbound.get("attachments"))
        elif kind == "handoff.agent_message":
            agent_reply = data
            continue
        elif kind == "handoff.note":
            item.update(who="note", agent=str(data.get("agent_id", "")), text=str(data["text"]))
        elif kind == "handoff.whisper":  # a supervisor's word to the agent, never the customer's
            item.update(who="whisper", agent=str(data.get("by_name", "")), text=str(data["text"]))
        elif kind == "bot.turn":
            item.update(who="event", text=_bot_turn(data))
        else:
            item.update(who="event", text=_describe(kind, data))
        items.append(item)
    return items


def _files(logged: Any) -> list[dict[str, Any]]:
    """A message's files as the transcript shows them: a stored one links to the console's
    download route (the browser shows sniffed images inline, anything else downloads)."""
    files = []
    for item in logged if isinstance(logged, list) else ():
        if not isinstance(item, Mapping):
            continue
        attachment_id = str(item.get("id", ""))
        files.append(
            {
                "kind": str(item.get("kind", "")),
                "name": str(item.get("name", "")),
                "mime_type": str(item.get("mime_type", "")),
                "size": item.get("size") if isinstance(item.get("size"), int) else None,
                "url": f"/console/api/attachments/{attachment_id}" if attachment_id else "",
                # Images are shown by their thumbnail (a 404 when none could be made).
                "thumbnail_url": f"/console/api/attachments/{attachment_id}/thumbnail"
                if attachment_id and item.get("kind") == "image"
                else "",
            }
        )
    return files


def _bot_turn(data: Mapping[str, Any]) -> str:
    questions = data.get("questions")
    if isinstance(questions, list) and questions:
        # A message asking several things: every intent answered, in the order answered.
        return "bot: " + " + ".join(_intent(q) for q in questions if isinstance(q, Mapping))
    return f"bot: {_intent(data)}"


def _intent(data: Mapping[str, Any]) -> str:
    intent = data.get("intent") or "?"
    confidence = data.get("confidence")
    if isinstance(confidence, int | float):
        return f"{intent} ({confidence:.2f})"
    return str(intent)


def _describe(kind: str, data: Mapping[str, Any]) -> str:
    """One line for an event; values are data, shown as text."""
    # `note`: a transfer's or reassign's reason, for the agent who receives it.
    keys: tuple[str, ...] = ("agent_id", "by", "to_agent", "to_skill", "priority", "kind")
    keys += ("score", "to", "reasons", "note")
    details = ", ".join(
        f"{k}={_short(data[k], 500 if k == 'note' else 80)}"
        for k in keys
        if data.get(k) not in (None, "")
    )
    return f"{kind} {details}".strip()


def _short(value: Any, limit: int = 80) -> str:
    if isinstance(value, list | tuple):
        return "/".join(str(v) for v in value)
    return str(value)[:limit]


def profile(customer: Customer, conversations: Sequence[Conversation]) -> dict[str, Any]:
    """The side panel: who the customer is and their other conversations, newest first."""
    return {
        "customer_id": customer.id,
        "name": str(customer.attributes.get("name", "")),
        "identities": list(customer.identities),
        "tags": list(customer.tags),
        "attributes": {str(k): _short(v) for k, v in customer.attributes.items()},
        "since": customer.created_at,
        "conversations": [
            {
                "id": c.id,
                "channel": c.channel,
                "status": c.status.value,
                "created_at": c.created_at,
                "updated_at": c.updated_at,
            }
            for c in sorted(conversations, key=lambda c: c.created_at, reverse=True)[:20]
        ],
    }
