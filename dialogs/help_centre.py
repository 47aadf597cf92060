"""The public help centre: the knowledge base's articles as server-rendered pages at `/help`.

No script, no cookies, nothing of the customer's: a list of articles, a search box (the same
index the bot answers from) and one page per article, in English or Chinese (`?lang=`, else
the browser's `Accept-Language`). Article Markdown is rendered with raw HTML switched off, so
whatever an operator (or an attacker who got into the files) wrote is shown as text, and
every value is escaped by Jinja2's autoescape.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jinja2
from aiohttp import web
from markdown_it import MarkdownIt
from markupsafe import Markup

from dialogs.kb_articles import LANGUAGES
from dialogs.knowledge import KnowledgeBase

MAX_QUERY = 200
RESULTS = 10
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
WORDS = {
    "en": {
        "title": "Help centre",
        "search": "Search",
        "placeholder": "Search the help centre",
        "results": "Results for",
        "none": "Nothing found. Try other words, or ask us in the chat.",
        "all": "All articles",
        "other": "This article is not available in English; here it is in Chinese.",
        "back": "← All articles",
        "missing": "No such article.",
        "switch": "中文",
    },
    "zh": {
        "title": "帮助中心",
        "search": "搜索",
        "placeholder": "搜索帮助中心",
        "results": "搜索结果：",
        "none": "没有找到相关内容。请换个关键词，或在聊天中咨询我们。",
        "all": "全部文章",
        "other": "本文暂无中文版本，以下为英文原文。",
        "back": "← 全部文章",
        "missing": "文章不存在。",
        "switch": "English",
    },
}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})
_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "help_templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)

KnowledgeGetter = Callable[[], KnowledgeBase | None]


def help_routes(knowledge: KnowledgeGetter) -> list[web.RouteDef]:
    """`GET /help` and `GET /help/{article}`, reading whichever knowledge base is current."""

    async def index(request: web.Request) -> web.Response:
        kb = _current(knowledge)
        lang = page_language(request)
        query = request.query.get("q", "").strip()
        if len(query) > MAX_QUERY:
            raise web.HTTPBadRequest(text=f"the search is limited to {MAX_QUERY} characters")
        results = []
        if query:
            for hit in kb.index.search(query, lang, k=RESULTS):
                article = kb.articles[hit.passage.article]
                results.append(
                    {
                        "id": article.id,
                        "title": article.title(hit.passage.lang),
                        "snippet": _snippet(hit.passage.text),
                        "lang": hit.passage.lang,
                    }
                )
        articles = sorted(kb.articles.values(), key=lambda a: a.title(lang).casefold())
        return _page(
            "help_index.html",
            lang=lang,
            query=query,
            results=results,
            articles=[{"id": a.id, "title": a.title(lang)} for a in articles],
        )

    async def article(request: web.Request) -> web.Response:
        kb = _current(knowledge)
        lang = page_language(request)
        found = kb.articles.get(request.match_info["article"])
        if found is None:
            return _page("help_missing.html", lang=lang, status=404)
        shown = lang if lang in found.bodies else found.languages[0]
        return _page(
            "help_article.html",
            lang=lang,
            article_id=found.id,
            title=found.title(shown),
            body=Markup(_markdown.render(found.bodies[shown])),
            other=shown != lang,
            tags=found.tags,
        )

    return [web.get("/help", index), web.get("/help/{article:[a-z0-9-]+}", article)]


def page_language(request: web.Request) -> str:
    asked = request.query.get("lang", "")
    if asked in LANGUAGES:
        return asked
    accept = request.headers.get("Accept-Language", "").lower()
    return "zh" if accept.startswith("zh") else "en"


def _current(knowledge: KnowledgeGetter) -> KnowledgeBase:
    kb = knowledge()
    if kb is None:
        raise web.HTTPNotFound(text="this hub has no help centre")
    return kb


def _snippet(markdown: str, limit: int = 220) -> str:
    text = " ".join(line.lstrip("#>*- ").strip() for line in markdown.splitlines()).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _page(template: str, *, lang: str, status: int = 200, **values: object) -> web.Response:
    html = _templates.get_template(template).render(lang=lang, t=WORDS[lang], **values)
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        headers={
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )
