"""HTTP plumbing every endpoint shares: JSON errors, body limits, bearer auth."""

from __future__ import annotations

import hmac
import json
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from hub import jsonio
from hub.errors import InputError
from hub.stores import is_outage

log = logging.getLogger("frontdesk.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(status: int, message: str) -> web.Response:
    return json_response({"error": {"status": status, "message": message}}, status=status)


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
        if client_gone(request, error):
            # Not a fault: the client hung up before its request was read (a closed tab,
            # a dropped mobile connection). Nothing was done; nobody is left to answer.
            log.info("client went away", extra={"path": request.path, "method": request.method})
            return error_response(400, "the connection closed before the request was read")
        log.exception("unhandled error", extra={"path": request.path, "method": request.method})
        return error_response(500, "internal error; the incident is logged")


def client_gone(request: web.Request, error: BaseException) -> bool:
    """Whether `error` is this request's own connection lost: a reset while the client's
    transport is closing (a reset from a connection the handler opened, to a provider or
    the store, is not the client going away)."""
    transport = request.transport
    return isinstance(error, ConnectionResetError) and (transport is None or transport.is_closing())


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


async def read_json(request: web.Request, *, what: str = "body") -> Any:
    """The request body as JSON under the shared limits (`hub.jsonio`: size, nesting depth,
    finite 64-bit numbers, valid Unicode), or an InputError saying exactly what is wrong."""
    if request.content_length is not None and request.content_length > request.app._client_max_size:
        raise InputError(
            f"body is larger than the limit of {request.app._client_max_size} bytes", status=413
        )
    body = await request.read()
    if not body:
        raise InputError("body is empty; expected a JSON object")
    return jsonio.loads(body, what=what)


async def read_object(request: web.Request, *, what: str = "body") -> dict[str, Any]:
    """`read_json` for endpoints that take a JSON object: anything else is a 422."""
    data = await read_json(request, what=what)
    if not isinstance(data, dict):
        raise InputError(f"{what} must be a JSON object, not {_json_type(data)}", status=422)
    return data


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """A urlencoded or multipart form, or a 400 when its bytes are not valid UTF-8 (aiohttp
    raises `UnicodeDecodeError` from inside `post()`, which would otherwise be a 500)."""
    try:
        form = await request.post()
    except UnicodeDecodeError as error:
        raise InputError(f"form is not valid UTF-8 (byte {error.start})") from None
    except ValueError as error:  # a malformed multipart body
        raise InputError(f"form is malformed: {error}") from None
    return form


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """`web.json_response` made strict: NaN or infinity is never sent (`ValueError`). The
    bytes are otherwise aiohttp's own, so clients see the same formatting as before."""
    return web.json_response(data, status=status, headers=headers, dumps=_strict_dumps)


# One encoder for every response: `json.dumps` called with any option (here `allow_nan`)
# builds a new `JSONEncoder` each time. Same bytes as `json.dumps(data, allow_nan=False)`.
_strict_dumps = json.JSONEncoder(allow_nan=False).encode


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

    def number(
        self, name: str, *, default: float, low: float = -math.inf, high: float = math.inf
    ) -> float:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(
                f"field '{name}' must be a number, not {_json_type(value)}", status=422
            )
        # The shared reader already refuses NaN and overflow; data built in code may not.
        if not math.isfinite(value) or not low <= value <= high:
            bounds = [f"from {_number(low)}"] if math.isfinite(low) else []
            bounds += [f"to {_number(high)}"] if math.isfinite(high) else []
            range_ = " ".join(["a finite number", *bounds])
            raise InputError(f"field '{name}' must be {range_}", status=422)
        return float(value)

    def whole(self, name: str, *, low: int = 0, high: int = jsonio.MAX_INT) -> int | None:
        """A whole number in [low, high] (``12.0`` counts), or None when absent."""
        value = self.data.get(name)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (isinstance(value, float) and not value.is_integer())
            or not low <= value <= high
        ):
            raise InputError(
                f"field '{name}' must be a whole number from {low} to {high}", status=422
            )
        return int(value)

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


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


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
