"""`action_check_order`: look up the status of a demo order.

Reads slot ``order_id`` (8 digits), sets slot ``order_status`` (``shipped``, ``processing``,
``delivered`` or ``not_found``) and answers in the customer's language (slot ``language``:
``en`` or ``zh``). An unknown number gets buttons to try another one or to talk to a human.
Without an ``order_id`` at all the action rejects the call: the flow must ask for the number
first, and the dialog engine answers with its fallback message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection

ORDER_ID = re.compile(r"\d{8}")


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoOrder:
    status: str  # shipped, processing or delivered
    carrier: tuple[str, str] = ("", "")  # (English, Chinese): a carrier is named in each
    # Days from today: the demo's dates move with the calendar, so a shipped order is never
    # "due" on a day already past, whenever the demo is run.
    eta_in_days: int = 0  # shipped orders: when the parcel should arrive
    delivered_days_ago: int = 0  # delivered orders

    def eta(self, today: date) -> str:
        return (today + timedelta(days=self.eta_in_days)).isoformat()

    def delivered_on(self, today: date) -> str:
        return (today - timedelta(days=self.delivered_days_ago)).isoformat()


# A real deployment asks the order system here; the demo keeps a table in the file.
DEMO_ORDERS: dict[str, DemoOrder] = {
    "20261001": DemoOrder(status="shipped", carrier=("SF Express", "顺丰速运"), eta_in_days=2),
    "20261002": DemoOrder(status="processing"),
    "20261003": DemoOrder(status="delivered", delivered_days_ago=3),
}

# (English, Chinese) per answer; `{id}`, `{carrier}`, `{eta}`, `{date}` are filled in.
# Chinese text uses full-width punctuation on purpose (hence the RUF001 waivers).
TEXTS: dict[str, tuple[str, str]] = {
    "shipped": (
        "Order {id} has shipped with {carrier} and should arrive by {eta}.",
        "订单 {id} 已由{carrier}发出，预计 {eta} 前送达。",
    ),
    "processing": (
        "Order {id} is being prepared; we will send you the tracking number once it ships.",
        "订单 {id} 正在备货，发货后我们会把快递单号发给您。",
    ),
    "delivered": (
        "Order {id} was delivered on {date}.",
        "订单 {id} 已于 {date} 签收。",
    ),
    "not_found": (
        "I could not find an order with the number {id}. Order numbers have 8 digits.",
        "没有找到订单号为 {id} 的订单。订单号是 8 位数字。",
    ),
}

NOT_FOUND_BUTTONS: tuple[tuple[tuple[str, str], str], ...] = (
    # ((English title, Chinese title), payload): payloads come back as the customer's text.
    (("Try another number", "换一个订单号"), "check my order"),
    (("Talk to a human", "转人工客服"), "talk to a human"),
)
# A delivered order asked about is often one that did not arrive ("my order … hasn't
# arrived"): the way on is one tap, the delivery-problem flow with this order's number.
DELIVERED_BUTTONS: tuple[tuple[tuple[str, str], str], ...] = (
    (("I didn't receive it", "我没有收到"), '/delivery_problem{{"order_number": "{id}"}}'),
)


def language_of(tracker: Tracker) -> int:
    """0 for English, 1 for Chinese: the index into `TEXTS` entries."""
    language = tracker.get_slot("language")
    return 1 if isinstance(language, str) and language.lower().startswith("zh") else 0


class ActionCheckOrder(Action):
    """Answers "where is my order?" from slot ``order_id``."""

    def name(self) -> str:
        return "action_check_order"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any] | None,
    ) -> list[dict[str, Any]]:
        raw = tracker.get_slot("order_id")
        if raw is None or str(raw).strip() == "":
            raise ActionExecutionRejection(self.name(), "slot order_id is not set")
        order_id = str(raw).strip()
        lang = language_of(tracker)
        order = DEMO_ORDERS.get(order_id) if ORDER_ID.fullmatch(order_id) else None
        if order is None:
            dispatcher.utter_message(
                text=TEXTS["not_found"][lang].format(id=order_id[:40]),
                buttons=[
                    {"title": titles[lang], "payload": payload}
                    for titles, payload in NOT_FOUND_BUTTONS
                ],
            )
            return [SlotSet("order_status", "not_found")]
        today = date.today()
        buttons = DELIVERED_BUTTONS if order.status == "delivered" else ()
        dispatcher.utter_message(
            text=TEXTS[order.status][lang].format(
                id=order_id,
                carrier=order.carrier[lang],
                eta=order.eta(today),
                date=order.delivered_on(today),
            ),
            buttons=[
                {"title": titles[lang], "payload": payload.format(id=order_id)}
                for titles, payload in buttons
            ],
        )
        return [SlotSet("order_status", order.status)]
