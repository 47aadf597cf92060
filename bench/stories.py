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

Three sets, each with a dev split (for working on the bot) and a test split (run once):
`stories_*` (a question about an intent, about an article, a generic "what should I do?", a
question the shop cannot answer, a story about one topic asking about another),
`remedies_*` (a story whose own topic answers a general question: "charged twice… can I
get my money back?" is the double charge, not the refund policy) and `followups_*` (two
messages 20 seconds apart, the second leaning on the first: "can I cancel an order I placed
an hour ago" … "what if it already shipped?"; the second is scored). A fourth, `pairs`, is
made here from the NLU set's lines (`bench/data/frontdesk-bilingual/`, its dev and test
splits): each line said after an unrelated question the bot answers (another FAQ's line,
drawn with a fixed seed), to see that a new question is still read as itself. A fifth,
`short` (dev only), is chat shorthand: a word or two asking for a person, hello, goodbye,
thanks, and short lines with the same words that ask for something else. A sixth, `inflow`
(dev only), is the second message said while a flow waits for an answer (the power-on
troubleshooting's "Did the device turn on?", the order lookup's order number): an answer
or a remark that must not be taken for another question (`none`: "I already charged it",
"正在充电呢") or a question that must interrupt the flow (its intent: "修一下要多少钱").

    .venv/bin/python bench/stories.py                        # every set and split
    .venv/bin/python bench/stories.py --split dev --misses   # list what went wrong
    .venv/bin/python bench/stories.py --repo ../frontdesk-before   # another checkout's code
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
DATA = HERE / "bench" / "data" / "stories-bilingual"
SETS = ("stories", "remedies", "followups", "short", "inflow", "pairs")
NLU = HERE / "bench" / "data" / "frontdesk-bilingual"
#: Intents whose lines do not open a pair: flows and small talk leave no topic.
NOT_A_TOPIC = {
    "oos",
    "greet",
    "thanks",
    "goodbye",
    "talk_to_human",
    "complaint",
    "check_order",
    "delivery_problem",
    "device_wont_power_on",
}
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


#: One scored message: its language, its label and what the customer says, the last of
#: which is scored (`followups_*`: the first question, then the follow-up).
Row = tuple[str, str, tuple[str, ...]]


def load(name: str, split: str) -> list[Row]:
    if name == "pairs":
        return pairs(split)
    lines = (DATA / f"{name}_{split}.tsv").read_text(encoding="utf-8").splitlines()
    rows: list[Row] = []
    for line in lines[1:]:
        if not line.strip():
            continue
        lang, *cells = line.split("\t")
        said = tuple(cells[1::2])  # label, text, [label, text]: the texts
        rows.append((lang, cells[-2], said))
    return rows


def outcome(label: str, turn: dict[str, Any], article: str | None) -> tuple[str, str]:
    """(right/wrong/fallback, what the bot did) for one scored turn."""
    intent = turn.get("intent")
    asked = {q["intent"] for q in turn.get("questions", ())}
    did = intent or (f"kb:{article}" if article else "none")
    if label == did or label in asked or (label.startswith("kb:") and label == f"kb:{article}"):
        return "right", did
    return ("fallback" if did == "none" else "wrong"), did


def pairs(split: str) -> list[Row]:
    """Each line of the NLU set's `split` after a line of another FAQ intent (fixed seed)."""
    draw = random.Random(f"pairs-{split}")
    rows: list[Row] = []
    for lang in ("en", "zh"):
        lines = (NLU / f"{split}_{lang}.tsv").read_text(encoding="utf-8").splitlines()[1:]
        labelled = [tuple(line.split("\t", 1)) for line in lines if line.strip()]
        for intent, text in labelled:
            openers = [t for i, t in labelled if i != intent and i not in NOT_A_TOPIC]
            rows.append((lang, "none" if intent == "oos" else intent, (draw.choice(openers), text)))
    return rows


async def score(repo: Path, rows: list[Row], misses: bool) -> Counter[str]:
    from dialogs.engine import DialogEngine
    from tests.dialogs.talk import Chat

    engine = DialogEngine.from_path(
        repo / "config" / "dialogs", knowledge_path=repo / "config" / "knowledge"
    )
    tally: Counter[str] = Counter()
    for lang, label, said in rows:
        chat = Chat(engine)
        for text in said:
            result = await chat.say(text, wait=20.0)
        turn = chat.event(result, "bot.turn") or {}
        answered = chat.event(result, "kb.answered")
        verdict, did = outcome(label, turn, answered["article"] if answered else None)
        tally[f"{lang} {verdict}"] += 1
        if misses and verdict != "right":
            print(f"  {lang} {verdict:<8} want {label:<24} got {did:<24} {' || '.join(said)}")
    return tally


def main() -> None:
    args = parse()
    repo = args.repo.resolve()
    sys.path.insert(0, str(repo))
    splits = ("dev", "test") if args.split == "all" else (args.split,)
    print(f"dialog engine of {repo}")
    for name in SETS:
        for split in splits:
            if name != "pairs" and not (DATA / f"{name}_{split}.tsv").exists():
                continue  # `short` and `inflow` have a dev split only
            tally = asyncio.run(score(repo, load(name, split), args.misses))
            for lang in ("en", "zh"):
                counts = [tally[f"{lang} {o}"] for o in OUTCOMES]
                figures = ", ".join(f"{o} {n}" for o, n in zip(OUTCOMES, counts, strict=True))
                print(f"{name}_{split} {lang}: {sum(counts)} messages: {figures}")


if __name__ == "__main__":
    main()
