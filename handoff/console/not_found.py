"""A console page for a URL that leads nowhere, for browsers only.

The hub answers every error as JSON (`hub.http.json_errors`), which a browser shows as raw text.
A person who follows a stale link or mistypes a console URL gets a small page in the console's
style and language instead; the console's API, its static files and clients that do not ask for
HTML keep the JSON error their code reads.
"""

from __future__ import annotations

from aiohttp import web

from handoff.console.auth import authenticate
from handoff.console.i18n import pick_language
from handoff.console.render import render
from handoff.console.state import CONSOLE
from hub.http import Handler

SHOWN_PATH = 200  # characters of the asked path shown back; a URL can be kilobytes long


def wants_page(request: web.Request) -> bool:
    path = request.path
    return (
        request.method in ("GET", "HEAD")
        and path.startswith("/console/")
        and not path.startswith(("/console/api/", "/console/static/"))
        and "text/html" in request.headers.get("Accept", "")
    )


@web.middleware
async def not_found_page(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPNotFound:
        if not wants_page(request):
            raise
    state = request.app[CONSOLE]
    principal = await authenticate(request, state)
    language = (
        principal.account.language
        if principal is not None
        else pick_language(request, state.settings.default_language)
    )
    path = request.path
    if len(path) > SHOWN_PATH:
        path = path[:SHOWN_PATH] + "…"
    # The template autoescapes: the path is whatever the visitor typed.
    return render(request, "not_found.html", language=language, status=404, path=path)
