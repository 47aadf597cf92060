"""Knowledge-base retrieval: recall@1, recall@3 and MRR per language, answer and false-answer
rates at the calibrated threshold, and retrieval latency with 5,000 passages.

The labelled questions are `bench/data/knowledge-bilingual/questions.tsv` (the project's
own, 168 per language over the 21 demo articles in `config/knowledge/`): the first three of
each article and language are the validation split, used for tuning; the rest the test split.
Out-of-scope lines are the NLU's held-out ones (`bench/data/frontdesk-bilingual/oos_*.tsv`,
printed with the test split) and, to tune on, `bench/data/knowledge-bilingual/oos_validation.tsv`
(printed with the validation split): the threshold is calibrated on the demo bot's own
`out_of_scope` examples, never on these.

    .venv/bin/python bench/knowledge.py                  # both splits, and the latency
    .venv/bin/python bench/knowledge.py --split validation --no-latency
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dialogs.kb_articles import Article  # noqa: E402
from dialogs.kb_index import KnowledgeIndex  # noqa: E402
from dialogs.knowledge import KnowledgeBase  # noqa: E402
from dialogs.loader import load_bot  # noqa: E402
from dialogs.nlu_features import default_word_vectors  # noqa: E402

QUESTIONS = REPO / "bench" / "data" / "knowledge-bilingual" / "questions.tsv"
OOS = REPO / "bench" / "data" / "frontdesk-bilingual"
OOS_VALIDATION = REPO / "bench" / "data" / "knowledge-bilingual" / "oos_validation.tsv"
VALIDATION_PER_ARTICLE = 3

Question = tuple[str, str, str, str]  # lang, article, text, split


def load_questions() -> list[Question]:
    seen: dict[tuple[str, str], int] = {}
    rows: list[Question] = []
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lang, article, text = line.split("\t")
        count = seen.get((lang, article), 0)
        seen[(lang, article)] = count + 1
        rows.append(
            (lang, article, text, "validation" if count < VALIDATION_PER_ARTICLE else "test")
        )
    return rows


def load_oos(lang: str) -> list[str]:
    lines = (OOS / f"oos_{lang}.tsv").read_text(encoding="utf-8").splitlines()
    return [line for line in lines[1:] if line.strip()]


def load_oos_validation(lang: str) -> list[str]:
    """The out-of-scope lines to tune on (`oos_validation.tsv`), not the held-out ones."""
    lines = OOS_VALIDATION.read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]
    return [text for line_lang, text in rows if line_lang == lang]


def retrieval(kb: KnowledgeBase, rows: Sequence[Question]) -> dict[str, float]:
    ranks: list[int] = []
    answered = correct_answers = 0
    for lang, article, text, _ in rows:
        hits = kb.index.search(text, lang, k=10)
        found = [hit.passage.article for hit in hits]
        ranks.append(found.index(article) + 1 if article in found else 0)
        answer = kb.answer(text, lang)
        answered += answer is not None
        correct_answers += answer is not None and answer.passage.article == article
    n = len(rows)
    return {
        "questions": n,
        "recall@1": sum(r == 1 for r in ranks) / n,
        "recall@3": sum(0 < r <= 3 for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks if r) / n,
        "answered": answered / n,
        "answered_right": correct_answers / max(answered, 1),
    }


def false_answers(kb: KnowledgeBase, lines: Sequence[str], lang: str) -> tuple[int, float]:
    return len(lines), sum(kb.answer(line, lang) is not None for line in lines) / len(lines)


def synthetic_articles(articles: Sequence[Article], passages: int, seed: int = 7) -> list[Article]:
    """Articles whose paragraphs are shuffled sentences of the real ones: a realistic
    vocabulary at `passages` scale (about one passage per paragraph)."""
    rng = random.Random(seed)
    sentences = {
        lang: [
            s.strip()
            for a in articles
            if lang in a.bodies
            for s in a.bodies[lang].replace("。", "。\n").replace(". ", ".\n").splitlines()
            if s.strip() and not s.startswith("#")
        ]
        for lang in ("en", "zh")
    }
    made: list[Article] = []
    per_article = 4  # paragraphs, each over the passage size so each becomes one passage
    for number in range(passages // (2 * per_article)):
        bodies = {
            lang: "\n\n".join(" ".join(rng.sample(pool, 6)) for _ in range(per_article))
            for lang, pool in sentences.items()
        }
        made.append(
            Article(
                id=f"synthetic-{number}",
                path="",
                titles={"en": f"Synthetic {number}", "zh": f"合成文章 {number}"},
                bodies=bodies,
                questions={},
            )
        )
    return made


def latency(
    articles: Sequence[Article], rows: Sequence[Question], passages: int
) -> dict[str, float]:
    corpus = list(articles) + synthetic_articles(articles, passages)
    started = time.perf_counter()
    index = KnowledgeIndex(corpus, vectors=default_word_vectors())
    build = time.perf_counter() - started
    # Wall time, and the thread's CPU time: on a busy machine the first measures the
    # scheduler as much as the search; the second only the search.
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(3):
        for lang, _, text, _ in rows:
            started, started_cpu = time.perf_counter(), time.thread_time()
            index.search(text, lang, k=3)
            cpu.append(time.thread_time() - started_cpu)
            wall.append(time.perf_counter() - started)
    wall.sort()
    cpu.sort()
    return {
        "passages": len(index),
        "build_s": build,
        "p50_ms": statistics.median(wall) * 1000,
        "p99_ms": wall[int(0.99 * (len(wall) - 1))] * 1000,
        "cpu_p50_ms": statistics.median(cpu) * 1000,
        "cpu_p99_ms": cpu[int(0.99 * (len(cpu) - 1))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("validation", "test", "both"), default="both")
    parser.add_argument("--passages", type=int, default=5000)
    parser.add_argument("--no-latency", action="store_true")
    args = parser.parse_args()
    bot = load_bot(REPO / "config" / "dialogs")
    kb = KnowledgeBase.load(REPO / "config" / "knowledge", bot)
    rows = load_questions()
    print(
        f"{len(kb.articles)} articles, {len(kb.index)} passages; thresholds {kb.index.thresholds}"
    )
    splits = ("validation", "test") if args.split == "both" else (args.split,)
    print("| split | lang | questions | recall@1 | recall@3 | MRR | answered | answers right |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for split in splits:
        for lang in ("en", "zh"):
            chosen = [r for r in rows if r[3] == split and r[0] == lang]
            m = retrieval(kb, chosen)
            print(
                f"| {split} | {lang} | {m['questions']:.0f} | {m['recall@1']:.1%} | "
                f"{m['recall@3']:.1%} | {m['mrr']:.3f} | {m['answered']:.1%} | "
                f"{m['answered_right']:.1%} |"
            )
    for lang in ("en", "zh"):
        if "validation" in splits:
            count, rate = false_answers(kb, load_oos_validation(lang), lang)
            print(f"out of scope {lang}: {rate:.1%} of {count} validation lines answered (wrongly)")
        if "test" in splits:
            count, rate = false_answers(kb, load_oos(lang), lang)
            print(f"out of scope {lang}: {rate:.1%} of {count} held-out lines answered (wrongly)")
    if not args.no_latency:
        figures = latency(list(kb.articles.values()), rows, args.passages)
        print(
            f"latency with {figures['passages']:,} passages (index built in "
            f"{figures['build_s']:.1f} s): search p50 {figures['p50_ms']:.2f} ms, "
            f"p99 {figures['p99_ms']:.2f} ms wall; CPU p50 {figures['cpu_p50_ms']:.2f} ms, "
            f"p99 {figures['cpu_p99_ms']:.2f} ms"
        )


if __name__ == "__main__":
    main()
