"""`frontdesk knowledge check [PATH]` and `frontdesk knowledge search QUERY`: the operator's
tools for the articles under `config/knowledge/` (docs/knowledge.md). The knowledge base is
imported by the commands as they run, not to build the parser."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dialogs.flows import Bot
    from dialogs.kb_articles import Article

DEFAULT_PATH = "config/knowledge"
DEFAULT_DIALOGS = "config/dialogs"
EXIT_INVALID = 2


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `knowledge check|search` to the `frontdesk` command."""
    knowledge = commands.add_parser("knowledge", help="check and search the knowledge base")
    sub = knowledge.add_subparsers(dest="knowledge_command", required=True)
    check = sub.add_parser("check", help="validate the articles (file:line for each problem)")
    check.add_argument("path", nargs="?", default=DEFAULT_PATH)
    check.add_argument(
        "--dialogs",
        default=DEFAULT_DIALOGS,
        help="the bot whose FAQs may name articles (`articles:`); '' for none",
    )
    check.add_argument(
        "--questions",
        action="store_true",
        help="also index the articles and note each listed question that finds another one",
    )
    check.set_defaults(run=_check)
    search = sub.add_parser("search", help="what the bot would answer a line with, and why")
    search.add_argument("query")
    search.add_argument("--path", default=DEFAULT_PATH)
    search.add_argument("--dialogs", default=DEFAULT_DIALOGS, help="the bot that calibrates")
    search.add_argument("--lang", choices=("en", "zh"), default="", help="default: detected")
    search.set_defaults(run=_search)


def _check(args: argparse.Namespace) -> int:
    from dialogs.kb_articles import load_articles
    from dialogs.yamlsource import DialogsInvalid

    try:
        articles = load_articles(args.path)
    except DialogsInvalid as error:
        for problem in error.problems:
            print(problem.located(), file=sys.stderr)
        print(f"{len(error.problems)} problem(s) found", file=sys.stderr)
        return EXIT_INVALID
    bot: Bot | None = None
    if args.dialogs:
        from dialogs.knowledge import missing_articles
        from dialogs.loader import load_bot

        try:
            bot = load_bot(args.dialogs)
        except DialogsInvalid as error:
            for problem in error.problems:
                print(problem.located(), file=sys.stderr)
            return EXIT_INVALID
        missing = missing_articles(bot, {a.id: a for a in articles})
        for line in missing:
            print(line, file=sys.stderr)
        if missing:
            print(f"{len(missing)} problem(s) found", file=sys.stderr)
            return EXIT_INVALID
    both = sum(1 for a in articles if len(a.languages) == 2)
    print(f"{args.path}: OK ({len(articles)} articles, {both} in both languages)")
    if args.questions:  # building the index takes seconds; the check alone, a fraction
        for line in _question_notes(articles, bot):
            print(line)
    return 0


def _question_notes(articles: Sequence[Article], bot: Bot | None) -> list[str]:
    """Advice on the articles' `questions:`, which the index finds them by: a language an
    article is written in with none listed, and a listed question the index answers with
    another article (or with none), so the operator sees which wording to change. Not
    problems: the articles are valid without them."""
    from dialogs.knowledge import index_articles

    index = index_articles(articles, bot)
    notes: list[str] = []
    for article in articles:
        for lang in article.languages:
            questions = article.questions.get(lang, ())
            if not questions:
                notes.append(
                    f"{article.path}: note: no questions in {lang} (how customers ask, "
                    "in their words: the index finds the article by them)"
                )
            for question in questions:
                hit = index.answer(question, lang)
                if hit is None:
                    notes.append(
                        f"{article.path}: note: its question “{question}” ({lang}) "
                        "gets no answer: under the threshold"
                    )
                elif hit.passage.article != article.id:
                    notes.append(
                        f"{article.path}: note: its question “{question}” ({lang}) "
                        f"finds “{hit.passage.article}” first"
                    )
    return notes


def _search(args: argparse.Namespace) -> int:
    from dialogs.knowledge import KnowledgeBase
    from dialogs.loader import load_bot
    from dialogs.yamlsource import DialogsInvalid
    from hub.text import detect_language

    try:
        kb = KnowledgeBase.load(args.path, load_bot(args.dialogs))
    except DialogsInvalid as error:
        for problem in error.problems:
            print(problem.located(), file=sys.stderr)
        return EXIT_INVALID
    lang = args.lang or detect_language(args.query, previous="en", languages=("en", "zh"))
    threshold = kb.index.thresholds.get(lang, 0.0)
    print(f"language {lang}, answer threshold {threshold:.3f}")
    for rank, hit in enumerate(kb.index.search(args.query, lang, k=3), 1):
        mark = "answers" if rank == 1 and hit.confidence >= threshold else "       "
        print(
            f"{rank}. {mark} {hit.confidence:.3f}  {hit.passage.article}"
            f" #{hit.passage.position} (bm25 {hit.bm25:.2f}, cosine {hit.cosine:.2f})"
        )
    return 0
