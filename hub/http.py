"""HTTP plumbing every endpoint shares: JSON errors, body limits, bearer auth."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from hub.errors import InputError
from hub.stores import is_outage

log = logging.getLogger("frontdesk.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"status": status, "message": message}}, status=status)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes a JSON error with a precise message; never a traceback."""
    try:
        return await handler(request)
    except InputError as error:
        return error_response(error.status, error.message)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app._client_max_size
        return error_response(413, f"body is larger than the limit of {limit} bytes")
    except web.HTTPException as error:
        if error.status < 400:
            raise
        message = (
            error.text if error.text and error.content_type == "application/json" else error.reason
        )
        if error.content_type == "application/json" and error.text:
            return web.Response(
                status=error.status, text=error.text, content_type="application/json"
            )
        return error_response(error.status, message)
    except Exception as error:
        if is_outage(error):
            return store_unavailable(request, error)
        log.exception("unhandled error", extra={"path": request.path, "method": request.method})
        return error_response(500, "internal error; the incident is logged")


STORE_RETRY_AFTER = 5  # seconds; a store outage is usually a restart or a failover


def store_unavailable(request: web.Request, error: BaseException) -> web.Response:
    """A store outage is the client's cue to retry, not a bug: 503 with `Retry-After`."""
    log.error(
        "store unavailable",
        extra={"path": request.path, "method": request.method, "error": repr(error)[:200]},
    )
    response = error_response(503, "the store is unavailable; try again shortly")
    response.headers["Retry-After"] = str(STORE_RETRY_AFTER)
    return response


async def read_json(request: web.Request) -> Any:
    """The request body as JSON, or an InputError saying exactly what is wrong with it."""
    if request.content_length is not None and request.content_length > request.app._client_max_size:
        raise InputError(
            f"body is larger than the limit of {request.app._client_max_size} bytes", status=413
        )
    body = await request.read()
    if not body:
        raise InputError("body is empty; expected a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"body is not valid UTF-8 (byte {error.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None


def require_bearer(request: web.Request, token: str, *, realm: str) -> None:
    """401 unless the request carries `Authorization: Bearer <token>`; constant-time compare."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if (
        not token
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(given.strip().encode(), token.encode())
    ):
        raise web.HTTPUnauthorized(
            text=json.dumps(
                {
                    "error": {
                        "status": 401,
                        "message": f"missing or wrong bearer token for the {realm}",
                    }
                }
            ),
            content_type="application/json",
            headers={"WWW-Authenticate": f'Bearer realm="{realm}"'},
        )


class Fields:
    """Typed access to a JSON object's fields with 422 errors that name the field."""

    def __init__(self, data: Any, *, what: str = "body") -> None:
        if not isinstance(data, dict):
            raise InputError(f"{what} must be a JSON object, not {type(data).__name__}", status=422)
        self.data = data
        self.what = what

    def text(
        self, name: str, *, required: bool = True, max_length: int = 10_000, default: str = ""
    ) -> str:
        value = self.data.get(name)
        if value is None:
            if required:
                raise InputError(f"field '{name}' is required", status=422)
            return default
        if not isinstance(value, str):
            raise InputError(
                f"field '{name}' must be a string, not {_json_type(value)}", status=422
            )
        if required and not value.strip():
            raise InputError(f"field '{name}' must not be empty", status=422)
        if len(value) > max_length:
            raise InputError(f"field '{name}' is longer than {max_length} characters", status=422)
        return value

    def number(self, name: str, *, default: float) -> float:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(
                f"field '{name}' must be a number, not {_json_type(value)}", status=422
            )
        return float(value)

    def items(self, name: str, *, max_items: int = 20) -> list[Any]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise InputError(f"field '{name}' must be a list, not {_json_type(value)}", status=422)
        if len(value) > max_items:
            raise InputError(f"field '{name}' has more than {max_items} items", status=422)
        return value

    def mapping(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise InputError(
                f"field '{name}' must be an object, not {_json_type(value)}", status=422
            )
        return value


def _json_type(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }.get(type(value), type(value).__name__)
