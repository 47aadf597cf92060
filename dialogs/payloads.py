"""A button's payload that names an intent and the values it comes with:
`/intent{"entity": "value"}`, the form of Rasa's buttons.

A reply that knows a value the next flow will need passes it along: under "Order 20261003
was delivered", the button "I didn't receive it" sends `/delivery_problem{"order_number":
"20261003"}`, and the delivery-problem flow does not ask for the order number the customer
has just given. Each value is read as its entity reads a message (`dialogs.entities`): a
value the entity would not find in a message ("12", an unknown entity) is left out, so a
payload fills no slot with what a customer could not have typed. Anything else that starts
with "/" is a plain payload (`/intent`) or text, as before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Container, Mapping

__all__ = ["MAX_VALUES", "intent_with_values"]

MAX_VALUES = 8  # values per payload; more is not a button's job
_FORM = re.compile(r"/([A-Za-z0-9_.-]+)(\{.*\})", re.DOTALL)


def intent_with_values(text: str, intents: Container[str]) -> tuple[str, dict[str, str]] | None:
    """(`/intent`, its values) when `text` is `/intent{...}` naming a known intent with a
    JSON object of strings or numbers; None for anything else (read as it is)."""
    match = _FORM.fullmatch(text)
    if match is None or match[1] not in intents:
        return None
    try:
        values = json.loads(match[2])
    except ValueError:
        return None
    if not isinstance(values, Mapping):
        return None
    kept = {
        str(name): str(value)
        for name, value in values.items()
        if isinstance(value, str | int | float) and not isinstance(value, bool)
    }
    return f"/{match[1]}", dict(list(kept.items())[:MAX_VALUES])
