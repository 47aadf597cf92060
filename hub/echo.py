"""A minimal bot that answers every turn; the hub's stand-in before a dialog engine is set."""

from __future__ import annotations

from hub.abc import ConversationHandler, Turn, TurnResult
from hub.model import Outbound


class EchoBot(ConversationHandler):
    """Repeats the customer's text back (attachments are acknowledged by count)."""

    async def handle(self, turn: Turn) -> TurnResult:
        text = turn.inbound.text.strip()
        if not text and turn.inbound.attachments:
            text = f"{len(turn.inbound.attachments)} attachment(s)"
        return TurnResult(replies=(Outbound(text=f"You said: {text}"),))
