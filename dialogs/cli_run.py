"""What `frontdesk dialogs check|test|try|evaluate` do (`cli.py` declares them and their
arguments; this module is imported only when one runs, with the dialog engine it needs)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from dialogs.cli import DEFAULT_CONFIG, EXIT_FAILED, EXIT_INVALID
from dialogs.conversation_tests import TestResult, load_tests, report, run_test, test_files
from dialogs.engine import DialogEngine
from dialogs.yamlsource import DialogsInvalid, Problems
from hub.abc import Turn
from hub.config import load_config
from hub.errors import ConfigError
from hub.model import Conversation, ConversationStatus, Customer, Event, Inbound


def _load(path: str, action_endpoint: str = "", knowledge_path: str = "") -> DialogEngine | None:
    try:
        return DialogEngine.from_path(
            path, action_endpoint=action_endpoint, knowledge_path=knowledge_path
        )
    except DialogsInvalid as error:
        for problem in error.problems:
            print(problem.located(), file=sys.stderr)
        print(f"{len(error.problems)} problem(s) found", file=sys.stderr)
        return None


def hub_settings(args: argparse.Namespace) -> tuple[str, str] | None:
    """The action endpoint and the knowledge-base folder the hub would use: each flag, else
    the hub config's `bot.action_endpoint` / `bot.knowledge_path` (with their environment
    overrides); None (reported) when an explicitly named config file cannot be read."""
    path = Path(args.config or DEFAULT_CONFIG)
    if not path.exists():
        if args.config:
            print(f"{path}: no such config file", file=sys.stderr)
            return None
        endpoint = os.environ.get("FRONTDESK_ACTION_ENDPOINT", "")
        knowledge = os.environ.get("FRONTDESK_KNOWLEDGE_PATH", "")
    else:
        try:
            config = load_config(path)
        except ConfigError as error:
            print(f"{error.located()}", file=sys.stderr)
            return None
        endpoint, knowledge = config.action_endpoint, config.knowledge_path
    if args.action_endpoint:
        endpoint = str(args.action_endpoint)
    if args.knowledge is not None:
        knowledge = str(args.knowledge)
    return endpoint, knowledge


def _check(args: argparse.Namespace) -> int:
    engine = _load(args.path)
    if engine is None:
        return EXIT_INVALID
    print(f"{args.path}: OK ({engine.bot.summary()})")
    return 0


def _engine_and_endpoint(args: argparse.Namespace) -> tuple[DialogEngine, str] | None:
    """`test`'s and `try`'s engine with the action endpoint it calls; None (reported) when
    the config or the dialogs are invalid."""
    settings = hub_settings(args)
    if settings is None:
        return None
    endpoint, knowledge = settings
    engine = _load(args.path, endpoint, knowledge)
    return None if engine is None else (engine, endpoint)


def _test(args: argparse.Namespace) -> int:
    loaded = _engine_and_endpoint(args)
    if loaded is None:
        return EXIT_INVALID
    engine, endpoint = loaded
    problems = Problems()
    files = test_files(Path(args.tests or args.path))
    tests = load_tests(files, problems)
    if problems:
        for problem in problems.items:
            print(problem.located(), file=sys.stderr)
        return EXIT_INVALID
    if not tests:
        print(f"no conversation tests found in {args.tests or args.path}", file=sys.stderr)
        return EXIT_FAILED

    async def run_all() -> list[TestResult]:
        try:
            return [await run_test(engine, t, number=n) for n, t in enumerate(tests, 1)]
        finally:
            await engine.stop()

    results = asyncio.run(run_all())
    print(report(results))
    if not endpoint and any(not r.passed for r in results):
        print(
            "note: no action endpoint is configured; tests of custom actions need "
            "bot.action_endpoint in the config, --action-endpoint URL or "
            "FRONTDESK_ACTION_ENDPOINT",
            file=sys.stderr,
        )
    return 0 if all(r.passed for r in results) else EXIT_FAILED


def _evaluate(args: argparse.Namespace) -> int:
    from dialogs.evaluation import evaluate, render_html, render_markdown
    from dialogs.training import bot_vocabulary

    engine = _load(args.path)
    if engine is None:
        return EXIT_INVALID
    if not 2 <= args.folds <= 20:
        print("--folds must be between 2 and 20", file=sys.stderr)
        return EXIT_INVALID
    bot = engine.bot
    result = evaluate(
        {name: intent.examples for name, intent in bot.intents.items()},
        languages=bot.settings.languages,
        folds=args.folds,
        word_vectors=bot.settings.word_vectors,
        vocabulary=bot_vocabulary(bot.intents.values()),
        large=bot.classifier.is_large,  # the kind of model the bot was trained as
    )
    print(render_markdown(result), end="")
    if args.report:
        page = render_html(result) if args.report.endswith((".html", ".htm")) else None
        try:
            Path(args.report).write_text(page or render_markdown(result), encoding="utf-8")
        except OSError as error:
            print(f"cannot write {args.report}: {error.strerror}", file=sys.stderr)
            return EXIT_FAILED
        print(f"report written to {args.report}", file=sys.stderr)
    return 0


def _try(args: argparse.Namespace) -> int:
    loaded = _engine_and_endpoint(args)
    if loaded is None:
        return EXIT_INVALID
    return asyncio.run(chat(loaded[0], sys.stdin, sys.stdout))


async def chat(engine: DialogEngine, stdin: TextIO, stdout: TextIO) -> int:
    """A terminal conversation; a number picks one of the last buttons; Ctrl+D ends."""
    print(f"Chatting with {engine.bot.summary()}. Ctrl+D to quit.", file=stdout)
    customer = Customer(id="terminal", identities=("terminal:you",))
    state: dict[str, object] = {}
    status = ConversationStatus.BOT
    buttons: list[str] = []
    try:
        for seq, line in enumerate(_lines(stdin, stdout), 1):
            text = line.rstrip("\n")
            if text.strip().isdigit() and 1 <= int(text) <= len(buttons):
                text = buttons[int(text) - 1]
            if status != ConversationStatus.BOT:
                print("(a person has this conversation now; the bot stays silent)", file=stdout)
                continue
            conversation = Conversation(
                id="terminal",
                customer_id=customer.id,
                status=status,
                channel="terminal",
                address="you",
                state=state,
            )
            now = time.time()
            turn = Turn(
                conversation=conversation,
                customer=customer,
                event=Event(conversation_id="terminal", seq=seq, type="message.in", at=now),
                inbound=Inbound(channel="terminal", sender="you", message_id=str(seq), text=text),
                now=now,
            )
            result = await engine.handle(turn)
            state = dict(result.state or state)
            status = result.status or status
            buttons = []
            for reply in result.replies:
                print(f"bot> {reply.text}", file=stdout)
                for button in reply.buttons:
                    buttons.append(button.payload)
                    print(f"      [{len(buttons)}] {button.title}", file=stdout)
            for event in result.events:
                if event.type == "handoff.requested":
                    data = event.data
                    print(
                        f"(handed off: {data['reason']}, {data['priority']}, "
                        f"skill {data['skill'] or '-'})",
                        file=stdout,
                    )
    finally:
        await engine.stop()
    return 0


def _lines(stdin: TextIO, stdout: TextIO) -> Iterator[str]:
    while True:
        print("you> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            print(file=stdout)
            return
        yield line


# The commands `cli.py` declares, by name.
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": _check,
    "test": _test,
    "try": _try,
    "evaluate": _evaluate,
}
