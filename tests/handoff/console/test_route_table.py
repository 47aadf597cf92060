"""Every route of the whole app, walked with no session, an agent's session and a
supervisor's session: each console and API route must answer as its role says.

A new route fails this test until it is classified below: that is the point.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from handoff.console.accounts import Role
from tests.handoff.console.helpers import console_app, console_env, login, seed_sqlite
from tests.support import api_auth

# Routes anyone may call: liveness and readiness for the infrastructure, the login form and
# the console's static files, and the channels, which authenticate callers their own way.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/favicon.ico"),
    ("GET", "/readyz"),
    ("GET", "/"),  # the web chat demo shop page
    ("GET", "/webchat/ws"),
    ("POST", "/webchat/hello"),
    ("GET", "/webchat/poll"),
    ("POST", "/webchat/messages"),
    ("POST", "/webchat/read"),
    ("POST", "/webchat/attachments"),  # the visitor token
    ("GET", "/webchat/attachments/{attachment_id}"),  # a link signed for one visitor
    ("OPTIONS", "/webchat/{endpoint}"),
    ("GET", "/webchat/widget.js"),
    ("GET", "/webchat/widget.css"),
    ("POST", "/webhooks/telegram"),
    ("POST", "/api/v1/channels/api/messages"),  # the api channel's own bearer token
    ("POST", "/api/v1/channels/{channel}/messages"),  # answers 404 for unknown channels
    ("GET", "/console/login"),
    ("POST", "/console/login"),
    ("GET", "/console"),  # a redirect to /console/
    ("GET", "/console/static"),
}

# Console routes and the least role each needs (page=True: no session redirects to login).
CONSOLE: dict[tuple[str, str], tuple[Role, bool]] = {
    ("GET", "/console/"): (Role.AGENT, True),
    ("GET", "/console/supervisor"): (Role.SUPERVISOR, True),
    ("GET", "/console/reports"): (Role.SUPERVISOR, True),
    ("GET", "/console/qa"): (Role.AGENT, True),
    ("GET", "/console/qa/{conversation_id}"): (Role.SUPERVISOR, True),
    ("GET", "/console/api/qa"): (Role.AGENT, False),
    ("POST", "/console/api/qa/{conversation_id}/review"): (Role.SUPERVISOR, False),
    ("GET", "/console/reports/{name}"): (Role.SUPERVISOR, True),
    ("GET", "/console/followups"): (Role.AGENT, True),
    ("POST", "/console/followups/{conversation_id}"): (Role.AGENT, True),
    ("GET", "/console/api/reports/{name}"): (Role.SUPERVISOR, False),
    ("GET", "/console/api/me"): (Role.AGENT, False),
    ("POST", "/console/api/me/language"): (Role.AGENT, False),
    ("GET", "/console/api/accounts"): (Role.OPERATOR, False),
    ("POST", "/console/logout"): (Role.AGENT, False),
    ("GET", "/console/api/snapshot"): (Role.AGENT, False),
    ("GET", "/console/ws"): (Role.AGENT, False),
    ("POST", "/console/api/presence"): (Role.AGENT, False),
    ("GET", "/console/api/conversations/{conversation_id}"): (Role.AGENT, False),
    ("POST", "/console/api/conversations/{conversation_id}/accept"): (Role.AGENT, False),
    ("POST", "/console/api/conversations/{conversation_id}/reply"): (Role.AGENT, False),
    ("POST", "/console/api/conversations/{conversation_id}/note"): (Role.AGENT, False),
    ("POST", "/console/api/conversations/{conversation_id}/transfer"): (Role.AGENT, False),
    ("POST", "/console/api/conversations/{conversation_id}/resolve"): (Role.AGENT, False),
    ("POST", "/console/api/conversations/{conversation_id}/handback"): (Role.AGENT, False),
    ("POST", "/console/api/conversations/{conversation_id}/typing"): (Role.AGENT, False),
    ("POST", "/console/api/conversations/{conversation_id}/reassign"): (Role.SUPERVISOR, False),
    ("GET", "/console/api/conversations"): (Role.AGENT, False),
    ("GET", "/console/api/search"): (Role.AGENT, False),
    ("GET", "/console/api/dashboard"): (Role.SUPERVISOR, False),
    ("PUT", "/console/api/agents/{agent_id}"): (Role.SUPERVISOR, False),
    # The contact panel (an agent sees only the customers of conversations they may open).
    ("GET", "/console/api/customers/{customer_id}/contact"): (Role.AGENT, False),
    ("PATCH", "/console/api/customers/{customer_id}"): (Role.AGENT, False),
    ("POST", "/console/api/customers/{customer_id}/notes"): (Role.AGENT, False),
    ("GET", "/console/api/customers/{customer_id}/conversations"): (Role.AGENT, False),
    (
        "GET",
        "/console/api/customers/{customer_id}/conversations/{conversation_id}",
    ): (Role.AGENT, False),
    # A conversation to read (agents: a customer whose hand-off they may see; else 404).
    ("GET", "/console/api/transcripts/{conversation_id}"): (Role.AGENT, False),
    # The supervisor's tools.
    ("GET", "/console/api/dashboard/conversations"): (Role.SUPERVISOR, False),
    ("POST", "/console/api/conversations/{conversation_id}/join"): (Role.SUPERVISOR, False),
    ("POST", "/console/api/conversations/{conversation_id}/whisper"): (Role.SUPERVISOR, False),
    # Files (docs/attachments.md).
    ("POST", "/console/api/conversations/{conversation_id}/attachments"): (Role.AGENT, False),
    ("GET", "/console/api/attachments/{attachment_id}"): (Role.AGENT, False),
    ("GET", "/console/api/attachments/{attachment_id}/thumbnail"): (Role.AGENT, False),
}

# Everything else under /api/v1/ is the operator API: only the operator's bearer token.
OPERATOR_API = "/api/v1/"
# Outside it, the same token guards the metrics (unless `server.metrics_public`).
OPERATOR_TOKEN = {("GET", "/metrics")}


def _sample(path: str) -> str:
    """A concrete path for a route pattern (unknown ids: the guard must answer first)."""
    return re.sub(r"\{[^}]+\}", "no-such-id", path)


async def test_every_route_is_guarded_by_its_role(tmp_path: Path, aiohttp_client) -> None:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("sara", Role.SUPERVISOR))
    env = console_env(tmp_path, FRONTDESK_HANDOFF_PATH="config/handoff.yaml")
    app = console_app(env)
    client: TestClient[Any, Any] = await aiohttp_client(app)

    sessions: dict[str, tuple[str, str]] = {}
    for account_id in ("mei", "sara"):
        csrf = await login(client, account_id)
        sessions[account_id] = (
            client.session.cookie_jar.filter_cookies(client.make_url("/console/"))[
                "fd_console"
            ].value,
            csrf,
        )
    client.session.cookie_jar.clear()

    async def call(method: str, path: str, who: str | None, **headers: str) -> int:
        client.session.cookie_jar.clear()
        if who is not None:
            cookie, csrf = sessions[who]
            headers = {"Cookie": f"fd_console={cookie}", "X-CSRF-Token": csrf, **headers}
        response = await client.request(
            method, _sample(path), headers=headers, allow_redirects=False, data=b"{}"
        )
        assert response.status < 500, f"{method} {path} as {who}: {response.status}"
        return response.status

    routes = sorted({(r.method, r.resource.canonical) for r in app.router.routes() if r.resource})
    walked = 0
    for method, path in routes:
        if method == "HEAD" or (method, path) in PUBLIC:
            continue
        walked += 1
        if (method, path) == ("POST", "/console/logout"):
            continue  # walked last: it ends the session
        if (method, path) in CONSOLE:
            role, page = CONSOLE[(method, path)]
            anonymous = await call(method, path, None)
            assert anonymous == (303 if page and method == "GET" else 401), (method, path)
            for who, their_role in (("mei", Role.AGENT), ("sara", Role.SUPERVISOR)):
                status = await call(method, path, who)
                if their_role.allows(role):
                    assert status not in (401, 403), f"{method} {path} as {who}: {status}"
                else:
                    assert status == 403, f"{method} {path} as {who}: {status}"
            if method != "GET":
                cookie, _ = sessions["mei"]
                status = await call(method, path, None, Cookie=f"fd_console={cookie}")
                assert status == 403, f"{method} {path} without its CSRF token: {status}"
            continue
        assert path.startswith(OPERATOR_API) or (method, path) in OPERATOR_TOKEN, (
            f"unclassified route {method} {path}"
        )
        for caller in (None, "mei", "sara"):
            assert await call(method, path, caller) == 401, f"{method} {path} as {caller}"
        assert await call(method, path, None, **api_auth()) not in (401, 403), (method, path)

    assert walked > 20  # the whole table, not an empty one
    assert await call("POST", "/console/logout", None) == 401
    assert await call("POST", "/console/logout", "mei") == 303
    assert await call("GET", "/console/api/me", "mei") == 401  # that session is over
    assert await call("GET", "/console/api/me", "sara") == 200
