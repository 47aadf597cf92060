"""Agent assist: the articles and canned responses that fit the conversation an agent has
open, from what the customer wrote last (the knowledge base through `hub.knowledge`; canned
responses by the words they share with the customer's lines)."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from handoff.console.canned import Canned
from hub.knowledge import ARTICLES
from hub.model import Event
from hub.terms import terms

LINES = 3  # the customer's last lines read
CANNED = 3


def customer_text(events: Sequence[Event]) -> str:
    lines = [
        str(e.data.get("text") or "")
        for e in events
        if e.type == "message.in" and not str(e.data.get("text") or "").startswith("/")
    ]
    return " ".join(lines[-LINES:])


def assist(
    request: web.Request, events: Sequence[Event], canned: Sequence[Canned], lang: str
) -> dict[str, object]:
    text = customer_text(events)
    articles = request.app.get(ARTICLES)
    suggestions = articles.suggest(text, lang) if articles is not None and text else []
    return {
        "articles": [s.to_json() for s in suggestions],
        "canned": rank_canned(text, canned)[:CANNED],
    }


def rank_canned(text: str, canned: Sequence[Canned]) -> list[str]:
    """Names of the canned responses sharing words with `text`, most shared first."""
    wanted = set(terms(text))
    scored = [
        (len(wanted & set(terms(f"{c.title} {c.text}"))), index, c.name)
        for index, c in enumerate(canned)
    ]
    return [name for shared, _, name in sorted(scored, key=lambda s: (-s[0], s[1])) if shared]
