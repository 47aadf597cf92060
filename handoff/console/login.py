"""Signing in and out of the console.

The login form is protected by a double-submit token (a cookie and a hidden field that must
match) and SameSite=Strict, so another site cannot log a browser into an account of its
choosing. Attempts are counted per account and per address in the account store, so the
limit holds across hub processes; every attempt counts, successful or not, before the
password is checked, which also bounds the CPU an attacker can make argon2 burn.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
from dataclasses import replace
from typing import Any

from aiohttp import web

from handoff.console import passwords
from handoff.console.accounts import Account, Role, Session, new_secret, token_key, update
from handoff.console.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    authenticate,
    csrf_matches,
    principal_of,
    require,
    same_origin,
    set_cookie,
)
from handoff.console.i18n import pick_language
from handoff.console.render import render
from handoff.console.state import CONSOLE, ConsoleState
from handoff.console.throttle import LoginThrottle
from hub.edge import client_address
from hub.http import read_form

log = logging.getLogger("frontdesk.console.login")

routes = web.RouteTableDef()

MAX_NAME = 64


async def _form(request: web.Request, state: ConsoleState, **context: Any) -> web.Response:
    """The login form with a fresh double-submit token."""
    token = secrets.token_urlsafe(24)
    status = int(context.pop("status", 200))
    language = pick_language(request, state.settings.default_language)
    response = render(
        request, "login.html", language=language, status=status, csrf=token, **context
    )
    set_cookie(response, request, state, LOGIN_COOKIE, token, max_age=3600)
    return response


@routes.get("/console/login")
async def login_form(request: web.Request) -> web.StreamResponse:
    state = request.app[CONSOLE]
    if await authenticate(request, state) is not None:
        raise web.HTTPSeeOther("/console/")
    return await _form(request, state)


@routes.post("/console/login")
async def login(request: web.Request) -> web.StreamResponse:
    state = request.app[CONSOLE]
    form = await read_form(request)  # invalid UTF-8 → 400, not a traceback
    username = _field(form.get("username"))[:MAX_NAME].strip()
    password = _field(form.get("password"))
    given = _field(form.get("csrf"))
    if not same_origin(request) or not csrf_matches(request.cookies.get(LOGIN_COOKIE, ""), given):
        log.warning(
            "console login form without a valid token",
            extra={
                "remote": request.remote,
                "cross_site": not same_origin(request),
                "cookie": LOGIN_COOKIE in request.cookies,
            },
        )
        return await _form(request, state, status=403, error="login.expired", username=username)

    now = state.clock()
    address = client_address(request)
    throttle = LoginThrottle(state.accounts, state.settings.throttle, state.clock)
    wait = await throttle.wait(username, address)
    if wait > 0:
        # Refused unheard and uncounted: hammering does not make the wait any longer.
        log.warning(
            "console login throttled",
            extra={"account": username, "remote": address, "retry_after": round(wait, 1)},
        )
        response = await _form(
            request, state, status=429, error="login.throttled", username=username
        )
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response

    account = await state.accounts.get(username) if username else None
    stored_hash = account.password_hash if account and not account.disabled else None
    # argon2 takes tens of milliseconds on purpose: keep it off the event loop.
    ok = await asyncio.to_thread(passwords.verify_password, stored_hash, password)
    if account is None or not ok:
        await throttle.failed(username, address)
        log.warning("console login failed", extra={"account": username, "remote": address})
        return await _form(request, state, status=401, error="login.failed", username=username)

    await throttle.succeeded(username, address)
    if passwords.needs_rehash(account.password_hash):
        rehashed = await asyncio.to_thread(passwords.hash_password, password)
        old_hash = account.password_hash

        def rehash(stored: Account) -> Account:
            if stored.password_hash != old_hash:
                return stored  # the password was reset meanwhile: that one stands
            return replace(stored, password_hash=rehashed, updated_at=now)

        account = await update(state.accounts, account.id, rehash) or account
    secret = new_secret()  # always a new session: a planted cookie is never promoted
    await state.accounts.put_session(
        Session(
            key=token_key(secret),
            account_id=account.id,
            csrf=secrets.token_urlsafe(24),
            created_at=now,
            expires_at=now + min(state.settings.session_idle, state.settings.session_max),
            last_seen=now,
        )
    )
    log.info("console login", extra={"account": account.id, "role": account.role.value})
    response = _see_other("/console/")
    set_cookie(response, request, state, SESSION_COOKIE, secret)
    response.del_cookie(LOGIN_COOKIE, path="/console")
    return response


@routes.post("/console/logout")
@require(Role.AGENT)
async def logout(request: web.Request) -> web.StreamResponse:
    state = request.app[CONSOLE]
    principal = principal_of(request)
    await state.accounts.drop_session(principal.session.key)
    log.info("console logout", extra={"account": principal.account.id})
    response = _see_other("/console/login")
    response.del_cookie(SESSION_COOKIE, path="/console")
    return response


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _field(value: object) -> str:
    return value if isinstance(value, str) else ""
