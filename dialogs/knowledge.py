"""The knowledge base a bot answers from when it has no confident intent.

`KnowledgeBase.load(path, bot)` reads the articles under `path` (`dialogs.kb_articles`) and
builds the index (`dialogs.kb_index`), calibrated on the bot's own `out_of_scope` lines. The
dialog engine holds one and swaps it whole when the files change, like the flows: an invalid
edit is logged with its `file:line` problems and the previous articles keep serving.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dialogs.flows import Bot
from dialogs.kb_articles import Article, load_articles
from dialogs.kb_index import Hit, KnowledgeIndex, Passage
from dialogs.training import OUT_OF_SCOPE
from hub.knowledge import Suggestion
from hub.text import has_cjk

log = logging.getLogger("frontdesk.dialogs.kb")


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """Articles and their index: the unit a reload swaps."""

    path: Path
    index: KnowledgeIndex
    #: Where the help centre is reached from outside (`bot.public_url`); "" keeps links
    #: relative to the hub, which the web chat widget resolves.
    public_url: str = ""

    @property
    def articles(self) -> Mapping[str, Article]:
        return self.index.articles

    def link(self, article_id: str, lang: str) -> str:
        """The help-centre page of an article, in `lang`."""
        return f"{self.public_url.rstrip('/')}/help/{article_id}?lang={lang}"

    @classmethod
    def load(cls, path: str | Path, bot: Bot | None = None, public_url: str = "") -> KnowledgeBase:
        """Read and index; raises `DialogsInvalid` listing every problem of the files."""
        articles = load_articles(path)
        index = index_articles(articles, bot)
        log.info("knowledge base: %d articles, %d passages", len(articles), len(index))
        # An FAQ whose article is missing still answers, with its own text: warn, not refuse.
        for problem in missing_articles(bot, index.articles) if bot is not None else ():
            log.warning("knowledge base: %s", problem)
        return cls(Path(path), index, public_url)

    def suggest(self, text: str, lang: str, k: int = 3) -> list[Suggestion]:
        """Articles for an agent to consider (`hub.knowledge.ArticleSearch`): the best `k`,
        down to half the answer threshold — an agent judges what the bot would not risk."""
        floor = self.index.thresholds.get(lang, 0.0) / 2
        return [
            Suggestion(
                article=hit.passage.article,
                title=self.articles[hit.passage.article].title(hit.passage.lang),
                passage=hit.passage.text,
                link=self.link(hit.passage.article, hit.passage.lang),
                confidence=hit.confidence,
            )
            for hit in self.index.search(text, lang, k=k)
            if hit.confidence >= floor
        ]

    def passage_of(self, text: str, lang: str, articles: Sequence[str]) -> Passage | None:
        """The passage of `articles` that answers `text` best (an FAQ's `articles:`)."""
        return self.index.passage_of(text, lang, articles)

    def answer(self, text: str, lang: str, *, read_alone: bool = True) -> Hit | None:
        """The passage to answer with, when it reaches the calibrated threshold (see
        `KnowledgeIndex.answer` for `read_alone`)."""
        return self.index.answer(text, lang, read_alone=read_alone)


def index_articles(articles: Sequence[Article], bot: Bot | None) -> KnowledgeIndex:
    """The index of `articles`, with the word vectors unless `bot` turns them off, and its
    thresholds calibrated on `bot`'s out-of-scope lines."""
    vectors = None
    if bot is None or bot.settings.word_vectors:
        try:
            from dialogs.nlu_features import default_word_vectors

            vectors = default_word_vectors()
        except FileNotFoundError:
            log.warning("knowledge base: no word vectors; ranking by words only")
    return KnowledgeIndex(articles, vectors=vectors, negatives=negatives_of(bot))


def missing_articles(bot: Bot, articles: Mapping[str, Article]) -> list[str]:
    """`file:line` lines for the FAQs whose `articles:` name one the knowledge base lacks."""
    return [
        f"{faq.where}: FAQ {faq.intent!r} names article {name!r}, which the knowledge base"
        " does not have (its own answer is given instead)"
        for faq in bot.faqs.values()
        for name in faq.articles
        if name not in articles
    ]


def negatives_of(bot: Bot | None) -> dict[str, list[str]]:
    """The bot's out-of-scope lines by language: what the knowledge base must not answer."""
    lines: dict[str, list[str]] = {"en": [], "zh": []}
    intent = bot.intents.get(OUT_OF_SCOPE) if bot is not None else None
    for example in intent.examples if intent is not None else ():
        lines["zh" if has_cjk(example) else "en"].append(example)
    return lines
