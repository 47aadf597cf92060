"""Stories around one question, through the dialog engine: how many are handled as meant.

Customers tell what happened before they ask ("I ordered a speaker last night and my sister
gave me hers. Can I still cancel it?"). Each message of `bench/data/stories-bilingual/` is
said to the demo bot with its knowledge base, in a conversation of its own, and scored by
what the turn did:

- **right**: the intent it was labelled with (or, for a question only a help-centre article
  answers, `kb:<article>`, that article quoted; for `none`, a question the shop cannot
  answer, nothing answered: the bot says it did not understand);
- **wrong**: another intent or article answered;
- **fallback**: nothing answered where something should have been.

Two sets, each with a dev split (for working on the bot) and a test split (run once):
`stories_*` (a question about an intent, about an article, a generic "what should I do?", a
question the shop cannot answer, a story about one topic asking about another) and
`remedies_*` (a story whose own topic answers a general question: "charged twice… can I
get my money back?" is the double charge, not the refund policy).

    .venv/bin/python bench/stories.py                        # every set and split
    .venv/bin/python bench/stories.py --split dev --misses   # list what went wrong
    .venv/bin/python bench/stories.py --repo ../frontdesk-before   # another checkout's code
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
DATA = HERE / "bench" / "data" / "stories-bilingual"
SETS = ("stories", "remedies")
OUTCOMES = ("right", "wrong", "fallback")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--misses", action="store_true", help="print each message not right")
    parser.add_argument(
        "--repo",
        type=Path,
        default=HERE,
        help="the checkout whose dialog engine and demo bot to run (default: this one)",
    )
    return parser.parse_args()


def load(name: str, split: str) -> list[tuple[str, str, str]]:
    lines = (DATA / f"{name}_{split}.tsv").read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines[1:] if line.strip()]
    return [(lang, label, text) for lang, label, text in rows]


def outcome(label: str, turn: dict[str, Any], article: str | None) -> tuple[str, str]:
    """(right/wrong/fallback, what the bot did) for one scored turn."""
    intent = turn.get("intent")
    asked = {q["intent"] for q in turn.get("questions", ())}
    did = intent or (f"kb:{article}" if article else "none")
    if label == did or label in asked or (label.startswith("kb:") and label == f"kb:{article}"):
        return "right", did
    return ("fallback" if did == "none" else "wrong"), did


async def score(repo: Path, rows: list[tuple[str, str, str]], misses: bool) -> Counter[str]:
    from dialogs.engine import DialogEngine
    from tests.dialogs.talk import Chat

    engine = DialogEngine.from_path(
        repo / "config" / "dialogs", knowledge_path=repo / "config" / "knowledge"
    )
    tally: Counter[str] = Counter()
    for lang, label, text in rows:
        chat = Chat(engine)
        result = await chat.say(text)
        turn = chat.event(result, "bot.turn") or {}
        answered = chat.event(result, "kb.answered")
        verdict, did = outcome(label, turn, answered["article"] if answered else None)
        tally[f"{lang} {verdict}"] += 1
        if misses and verdict != "right":
            print(f"  {lang} {verdict:<8} want {label:<24} got {did:<24} {text}")
    return tally


def main() -> None:
    args = parse()
    repo = args.repo.resolve()
    sys.path.insert(0, str(repo))
    splits = ("dev", "test") if args.split == "all" else (args.split,)
    print(f"dialog engine of {repo}")
    for name in SETS:
        for split in splits:
            tally = asyncio.run(score(repo, load(name, split), args.misses))
            for lang in ("en", "zh"):
                counts = [tally[f"{lang} {o}"] for o in OUTCOMES]
                figures = ", ".join(f"{o} {n}" for o, n in zip(OUTCOMES, counts, strict=True))
                print(f"{name}_{split} {lang}: {sum(counts)} messages: {figures}")


if __name__ == "__main__":
    main()
