"""Rendering console pages: one Jinja2 environment, autoescaped, with the words in `t`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handoff.console.i18n import script_strings, translator
from handoff.console.state import CONSOLE


def render(
    request: web.Request, name: str, *, language: str, status: int = 200, **context: Any
) -> web.Response:
    templates = request.app[CONSOLE].templates
    html = templates.get_template(name).render(
        t=translator(language), language=language, strings=script_strings(language), **context
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
