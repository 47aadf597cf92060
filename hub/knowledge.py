"""The knowledge base as the rest of the hub may ask it: "which articles answer this?".

The articles live with the dialogs (`dialogs/knowledge.py`); the agent console (in `handoff/`)
may not import `dialogs/`, so the wiring (`hub/app.py`) hands it this small port instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aiohttp import web


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An article that may answer a line: its title, the passage that matched, its page."""

    article: str
    title: str
    passage: str
    link: str
    confidence: float

    def to_json(self) -> dict[str, object]:
        return {
            "article": self.article,
            "title": self.title,
            "passage": self.passage,
            "link": self.link,
            "confidence": round(self.confidence, 3),
        }


class ArticleSearch(Protocol):
    def suggest(self, text: str, lang: str, k: int = 3) -> list[Suggestion]:
        """The `k` best articles for `text` in `lang`, best first (none below a floor)."""
        ...


ARTICLES = web.AppKey("articles", ArticleSearch)
