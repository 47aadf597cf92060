"""Who is asking, and may they: sessions, API tokens, roles, CSRF and security headers.

Every console route is wrapped in `require(role)`; there is no default-allow path. A browser
proves itself with the session cookie (HttpOnly, SameSite=Strict, Secure over TLS) and, for
every state-changing request, with the session's CSRF token (header `X-CSRF-Token` or form
field `csrf`); a cross-site `Origin` is refused as well. Integrations use an API token as
`Authorization: Bearer …` on `/console/api/` routes; a token is no cookie, so no CSRF.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from aiohttp import web

from handoff.console.accounts import Account, Role, Session, token_key
from hub.http import error_response, read_form

if TYPE_CHECKING:
    from handoff.console.state import ConsoleState

log = logging.getLogger("frontdesk.console.auth")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSION_COOKIE = "fd_console"
LOGIN_COOKIE = "fd_console_login"  # double-submit CSRF token of the login form
COOKIE_PATH = "/console"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOUCH_EVERY = 60.0  # seconds between writes of a session's last activity

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",  # no inline script, no eval: customer text can never run
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """The person behind a request."""

    account: Account
    session: Session

    @property
    def role(self) -> Role:
        return self.account.role

    @property
    def via_token(self) -> bool:
        return self.session.api_token


PRINCIPAL = web.RequestKey("console_principal", Principal)


def principal_of(request: web.Request) -> Principal:
    """The principal `require` established (only inside a guarded handler)."""
    principal = request.get(PRINCIPAL)
    if not isinstance(principal, Principal):
        raise RuntimeError("principal_of() outside a require()d handler")
    return principal


def is_tls(request: web.Request, state: ConsoleState) -> bool:
    if request.secure:
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return state.settings.trust_forwarded_proto and forwarded == "https"


def secure_cookies(request: web.Request, state: ConsoleState) -> bool:
    mode = state.settings.secure_cookies
    return mode == "always" or (mode == "auto" and is_tls(request, state))


def set_cookie(
    response: web.StreamResponse,
    request: web.Request,
    state: ConsoleState,
    name: str,
    value: str,
    *,
    max_age: float | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=secure_cookies(request, state),
        max_age=None if max_age is None else int(max_age),
    )


async def authenticate(request: web.Request, state: ConsoleState) -> Principal | None:
    """The session or API token the request carries, if it is valid now."""
    now = state.clock()
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    via_token = scheme.lower() == "bearer" and request.path.startswith("/console/api/")
    if not via_token:
        secret = request.cookies.get(SESSION_COOKIE, "")
    secret = secret.strip()
    if not secret or len(secret) > 256:
        return None
    session = await state.accounts.get_session(token_key(secret), now=now)
    if session is None or session.api_token != via_token:
        return None
    account = await state.accounts.get(session.account_id)
    if account is None or account.disabled:
        await state.accounts.drop_session(session.key)
        return None
    if not session.api_token and now - session.last_seen >= TOUCH_EVERY:
        # Sliding idle timeout, capped by the absolute lifetime.
        session = replace(
            session,
            last_seen=now,
            expires_at=min(
                session.created_at + state.settings.session_max, now + state.settings.session_idle
            ),
        )
        await state.accounts.put_session(session)
    return Principal(account=account, session=session)


async def session_alive(state: ConsoleState, key: str) -> bool:
    """Whether a session still stands (not logged out, not expired, account enabled),
    without touching its idle timer: an open socket is not activity."""
    session = await state.accounts.get_session(key, now=state.clock())
    if session is None:
        return False
    account = await state.accounts.get(session.account_id)
    return account is not None and not account.disabled


def same_origin(request: web.Request) -> bool:
    """False when the browser says the request comes from another site.

    `Sec-Fetch-Site` (which page scripts cannot set) decides when a browser sends it; else
    a mismatching `Origin` refuses. Clients that send neither are no browsers: they still
    need the CSRF token or an API token.
    """
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if site is not None and site not in ("same-origin", "none"):
        return False
    if origin is None or (origin == "null" and site is not None):
        return True
    return origin in {f"{request.scheme}://{request.host}", f"https://{request.host}"}


def csrf_matches(expected: str, given: str) -> bool:
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


async def _check_csrf(request: web.Request, principal: Principal) -> bool:
    if request.method in SAFE_METHODS or principal.via_token:
        return True
    if not same_origin(request):
        return False
    given = request.headers.get("X-CSRF-Token", "")
    if not given and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        form = await read_form(request)
        value = form.get("csrf", "")
        given = value if isinstance(value, str) else ""
    return csrf_matches(principal.session.csrf, given)


def require(role: Role, *, page: bool = False) -> Callable[[Handler], Handler]:
    """Let through only a valid session or token whose role includes `role`.

    No session: a page redirects to the login form, anything else answers 401. The wrong
    role answers 403, and so does a state-changing request without the CSRF token.
    """

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            from handoff.console.state import CONSOLE

            state = request.app[CONSOLE]
            principal = await authenticate(request, state)
            if principal is None:
                if page and request.method in SAFE_METHODS:
                    raise web.HTTPSeeOther("/console/login")
                return error_response(401, "log in to the console first")
            if not principal.role.allows(role):
                log.warning(
                    "console access refused",
                    extra={"account": principal.account.id, "path": request.path, "need": role},
                )
                return error_response(403, f"this needs the {role.value} role")
            if not await _check_csrf(request, principal):
                log.warning(
                    "console CSRF check failed",
                    extra={"account": principal.account.id, "path": request.path},
                )
                return error_response(403, "missing or wrong CSRF token; reload the page")
            request[PRINCIPAL] = principal
            return await handler(request)

        guarded.__name__ = handler.__name__
        guarded.__doc__ = handler.__doc__
        return guarded

    return wrap


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: CSP and friends on every console response, errors included."""
    if not request.path.startswith(COOKIE_PATH):
        return
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # "same-origin", not "no-referrer": the latter makes Chromium send `Origin: null`.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if not request.path.startswith("/console/static/"):
        headers.setdefault("Cache-Control", "no-store")
