"""The whole hub with every inbound JSON endpoint switched on, on a chosen store, and a
snapshot of everything an endpoint could write (the store, the hand-off engine's agents,
the console's accounts) so a test can say "nothing was written".

Real components only: the hub's own server, SQLite or a private redis-server, the api
channel's callbacks to a loopback receiver, python-telegram-bot against the fake Bot API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import redis.asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from ruamel.yaml import YAML

from connectors.telegram.connector import SECRET_HEADER, TelegramConnector
from handoff.api import HANDOFF
from handoff.console.accounts import Account, Role, Session, accounts_from_url, token_key
from handoff.console.state import CONSOLE
from hub.api import HUB
from hub.app import create_app
from hub.config import load_config
from hub.echo import EchoBot
from hub.hub import Hub
from hub.store_redis_connect import keyspace
from hub.stores import sqlite_path
from tests.connectors.telegram.fake_bot_api import TOKEN as TELEGRAM_TOKEN
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.handoff.console.helpers import HANDOFF_YAML, password_hash
from tests.support import DEMO_CONFIG, CallbackReceiver, api_auth, channel_auth, hub_env

TELEGRAM_SECRET = "bad-input-webhook-secret"
CONSOLE_TOKEN = "console-api-token-for-sara"
CUSTOMER = "ana"
AGENT = "sara"  # a supervisor, so every console and hand-off action is hers to take


def strict_loads(text: str) -> Any:
    """What a strict reader (a browser's JSON.parse, Go, Rust) accepts: no NaN/Infinity."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


class Rig:
    """`await start()`, then `client` talks to the hub; `snapshot()` is what is stored."""

    def __init__(self, tmp_path: Path, store_url: str) -> None:
        self.tmp_path = tmp_path
        self.store_url = store_url
        self.receiver = CallbackReceiver()
        self.telegram = FakeBotApi()
        self.client: TestClient[Any, Any] | None = None
        self.app = web.Application()  # replaced by the hub's in start()
        self.conversation_id = ""
        self.customer_id = ""
        self.visitor_token = ""
        self._update_id = 1000

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        await self.receiver.start()
        await self.telegram.start()
        handoff = self.tmp_path / "handoff.yaml"
        handoff.write_text(HANDOFF_YAML, encoding="utf-8")
        yaml = YAML(typ="rt")
        config = yaml.load(DEMO_CONFIG.read_text(encoding="utf-8"))
        config["channels"]["api"] = {"enabled": True, "callback_url": self.receiver.url}
        # Rate limits are another test's subject: here they would only turn bodies into 429s.
        config["channels"]["webchat"].update(
            rate_per_second=1000,
            rate_burst=1000,
            new_visitors_per_minute_per_address=100_000,
            messages_per_second_per_address=1000,
            message_burst_per_address=1000,
        )
        config["channels"]["telegram"].update(
            mode="webhook",
            webhook_url="https://localhost/webhooks/telegram",
            base_url=self.telegram.base_url,
            base_file_url=self.telegram.base_file_url,
            per_chat_interval=0,
        )
        # The outbox poll keeps its default (1 s): replies leave at once without it, and on
        # Python 3.11 a stop that lands as a short poll times out can be lost, which hangs
        # the hub's shutdown (see `Rig.stop`).
        config["delivery"].update(base_delay=0.05, max_delay=0.2)
        path = self.tmp_path / "frontdesk.yaml"
        with path.open("w", encoding="utf-8") as out:
            yaml.dump(config, out)
        env = hub_env(
            self.tmp_path,
            FRONTDESK_STORE_URL=self.store_url,
            FRONTDESK_HANDOFF_PATH=str(handoff),
            FRONTDESK_TELEGRAM_TOKEN=TELEGRAM_TOKEN,
            FRONTDESK_TELEGRAM_SECRET=TELEGRAM_SECRET,
            FRONTDESK_WEBCHAT_SECRET="w" * 32,
        )
        await self._seed_console_account()
        self.app = create_app(load_config(path, env), environ=env, bot=EchoBot())
        self.client = TestClient(TestServer(self.app, host="127.0.0.1"))
        await self.client.start_server()
        telegram = self.hub.connectors["telegram"]
        assert isinstance(telegram, TelegramConnector)
        await asyncio.wait_for(telegram.wait_ready(), 60)
        await self._seed_conversation()

    async def stop(self) -> None:
        # Bounded: a part that never stops fails the test instead of hanging the whole suite.
        await asyncio.wait_for(self._stop(), timeout=180)

    async def _stop(self) -> None:
        if self.client is not None:
            await self.client.close()
        await self.telegram.stop()
        await self.receiver.stop()

    async def _seed_console_account(self) -> None:
        accounts = accounts_from_url(self.store_url)
        await accounts.open()
        try:
            hashed = await password_hash()
            await accounts.add(
                Account(id=AGENT, name="Sara", role=Role.SUPERVISOR, password_hash=hashed)
            )
            now = time.time()
            await accounts.put_session(
                Session(
                    key=token_key(CONSOLE_TOKEN),
                    account_id=AGENT,
                    csrf="",
                    created_at=now,
                    expires_at=now + 86400,
                    last_seen=now,
                    api_token=True,
                )
            )
        finally:
            await accounts.close()

    async def _seed_conversation(self) -> None:
        """Ana asks for a person (queued for the hand-off); a web chat visitor says hello."""
        response = await self.http.post(
            "/api/v1/channels/api/messages",
            json={"id": "seed-1", "sender": CUSTOMER, "text": "I want to talk to a person"},
            headers=channel_auth(),
        )
        assert response.status == 202, await response.text()
        receipt = await response.json()
        self.conversation_id = receipt["conversation_id"]
        self.customer_id = receipt["customer_id"]
        hello = await self.http.post("/webchat/hello", json={})
        assert hello.status == 200, await hello.text()
        self.visitor_token = (await hello.json())["token"]
        await self.settle()

    async def take_conversation(self) -> None:
        """Sara goes online and accepts Ana's conversation (through the hand-off API)."""
        base = "/api/v1/handoff"
        for method, path, body in (
            ("PUT", f"{base}/agents/{AGENT}/presence", {"presence": "online"}),
            ("POST", f"{base}/conversations/{self.conversation_id}/accept", {"agent_id": AGENT}),
        ):
            response = await self.http.request(method, path, json=body, headers=api_auth())
            assert response.status == 200, await response.text()
        await self.settle()

    # ------------------------------------------------------------------ access
    @property
    def http(self) -> TestClient[Any, Any]:
        assert self.client is not None, "start() first"
        return self.client

    @property
    def hub(self) -> Hub:
        return self.app[HUB]

    def next_update_id(self) -> int:
        self._update_id += 1
        return self._update_id

    def headers(self, auth: str) -> dict[str, str]:
        """The credentials an endpoint of this kind takes."""
        return {
            "operator": api_auth(),
            "channel": channel_auth(),
            "visitor": {"Authorization": f"Bearer {self.visitor_token}"},
            "telegram": {SECRET_HEADER: TELEGRAM_SECRET},
            "console": {"Authorization": f"Bearer {CONSOLE_TOKEN}"},
            "none": {},
        }[auth]

    # ------------------------------------------------------------------ what is stored
    async def snapshot(self) -> str:
        """Everything an inbound endpoint could have written, as one strict JSON text:
        conversations with their events, customers with their audit trails, parked
        deliveries, the hand-off engine's agents and the console account."""
        store = self.hub.store
        conversations = await _all(store.list_conversations, limit=500)
        customers = await _all(store.list_customers, limit=500)
        parked = await _all(store.dead_letters, limit=500)
        engine = self.app[HANDOFF]
        account = await self.app[CONSOLE].accounts.get(AGENT)
        state = {
            "conversations": [
                {**c, "events": [e.to_json() async for e in store.iter_events(c["id"])]}
                for c in conversations
            ],
            "customers": [
                {**c, "audit": await store.audit_trail(c["id"], limit=-1)} for c in customers
            ],
            "parked": parked,
            "agents": {a: agent.to_json() for a, agent in sorted(engine.queue.agents.items())},
            "account": account.public() if account else None,
        }
        # Strict: a NaN anywhere in what is stored fails here, whichever endpoint let it in.
        return json.dumps(state, sort_keys=True, ensure_ascii=False, allow_nan=False)

    async def settle(self) -> str:
        """The snapshot once background work (turns, deliveries) has stopped changing it."""
        previous = await self.snapshot()
        for _ in range(1200):  # a minute at most, for a loaded machine
            await asyncio.sleep(0.05)
            current = await self.snapshot()
            if (
                current == previous
                and not await self.hub.store.pending_conversations()
                and not await self._deliveries_outstanding()
            ):
                return current
            previous = current
        raise AssertionError("the hub never became idle")

    async def _deliveries_outstanding(self) -> int:
        """Replies neither delivered nor parked: a retry of one (the outbox is polled once a
        second) would write its outcome after the snapshot looked still."""
        if self.store_url.startswith("sqlite"):
            path = sqlite_path(self.store_url)

            def count() -> int:
                with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                    query = "SELECT count(*) FROM outbox WHERE parked_at IS NULL"
                    return int(db.execute(query).fetchone()[0])

            return await asyncio.to_thread(count)
        client = redis.asyncio.Redis.from_url(self.store_url)
        try:
            # Each conversation's head delivery is in the due set until delivered or parked.
            return int(await client.zcard(f"{keyspace('fd:')}outbox"))
        finally:
            await client.aclose()

    async def stored_texts(self) -> list[str]:
        """Every text a message event in the store carries."""
        found = json.loads(await self.snapshot())
        texts = []
        for conversation in found["conversations"]:
            for event in conversation["events"]:
                data = event["data"]
                texts.append(str(data.get("text", "")))
                outbound = data.get("outbound")
                if isinstance(outbound, Mapping):
                    texts.append(str(outbound.get("text", "")))
        return texts


async def _all(listing: Any, *, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await listing(limit=limit, cursor=cursor)
        items.extend(item.to_json() for item in page.items)
        cursor = page.next_cursor
        if not cursor:
            return items
