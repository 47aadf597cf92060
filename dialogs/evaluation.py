"""`frontdesk dialogs evaluate`: how well a bot understands its own examples.

Like `rasa test nlu`: k-fold cross-validation over the bot's examples (each example scored by a
classifier trained without it), then per language (`en`, `zh`, … by `detect_language`):
accuracy, per-intent precision / recall / F1, the most confused pairs of intents, the examples
another intent claims (held back, they went elsewhere, most confident first), examples that two
intents share once normalized (Traditional and Simplified spellings, contractions …), and the
calibrated out-of-scope threshold with what it costs. `render_markdown` and `render_html` write
the report with a confusion table.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dialogs.nlu import large_by_size
from dialogs.nlu_calibration import Calibration, HeldBack, choose_threshold, held_back
from dialogs.training import OUT_OF_SCOPE, scorer
from hub.text import detect_language, normalize

__all__ = [
    "Evaluation",
    "IntentFigures",
    "LanguageReport",
    "evaluate",
    "render_html",
    "render_markdown",
]

#: How many confused pairs and claimed examples a report lists.
TOP = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class IntentFigures:
    intent: str
    support: int
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True, slots=True, kw_only=True)
class LanguageReport:
    """The cross-validation figures of the examples written in one language."""

    lang: str
    examples: int
    accuracy: float
    intents: tuple[IntentFigures, ...]
    confused: tuple[tuple[str, str, int], ...]  # (true intent, predicted, count), worst first
    claimed: tuple[HeldBack, ...]  # held-back examples predicted as another intent
    calibration: Calibration  # the bot's threshold and what it costs on this language
    confusion: Mapping[str, Mapping[str, int]]  # true → predicted → count


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    folds: int
    threshold: float
    languages: tuple[LanguageReport, ...]
    shared: tuple[tuple[str, str, str], ...] = field(default=())  # (normalized, intent, intent)


def evaluate(
    examples: Mapping[str, Sequence[str]],
    *,
    languages: tuple[str, ...] = ("en", "zh"),
    folds: int = 5,
    word_vectors: bool = True,
    vocabulary: Sequence[str] = (),
    large: bool | None = None,
) -> Evaluation:
    """Cross-validate `examples` (intent → utterances; `out_of_scope` lines are the
    out-of-scope class) as the kind of model `large` says (`IntentClassifier.is_large`;
    None: by the number of examples)."""
    in_scope = {k: list(v) for k, v in examples.items() if k != OUT_OF_SCOPE}
    out_of_scope = list(examples.get(OUT_OF_SCOPE, ()))
    if large is None:
        large = large_by_size(sum(map(len, in_scope.values())) + len(out_of_scope))
    scored, rounds = held_back(
        in_scope, out_of_scope, scorer(word_vectors, vocabulary, large=large), folds=folds
    )
    threshold = choose_threshold(scored, folds=rounds).threshold

    def lang_of(text: str) -> str:
        return detect_language(text, previous=languages[0], languages=languages)

    reports = []
    for lang in languages:
        mine = [s for s in scored if lang_of(s.text) == lang]
        inside = [s for s in mine if s.intent is not None]
        if not inside:
            continue
        reports.append(_language_report(lang, inside, mine, threshold, rounds))
    return Evaluation(
        folds=rounds, threshold=threshold, languages=tuple(reports), shared=_shared(in_scope)
    )


def _language_report(
    lang: str, inside: list[HeldBack], mine: list[HeldBack], threshold: float, rounds: int
) -> LanguageReport:
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for s in inside:
        assert s.intent is not None
        confusion[s.intent][s.predicted] += 1
    predicted_totals: Counter[str] = Counter(s.predicted for s in inside)
    figures = []
    for intent in sorted(confusion):
        hits = confusion[intent][intent]
        support = sum(confusion[intent].values())
        precision = hits / predicted_totals[intent] if predicted_totals[intent] else 0.0
        recall = hits / support
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        figures.append(
            IntentFigures(intent=intent, support=support, precision=precision, recall=recall, f1=f1)
        )
    confused = sorted(
        (
            (true, guess, count)
            for true, row in confusion.items()
            for guess, count in row.items()
            if guess != true
        ),
        key=lambda item: (-item[2], item[0], item[1]),
    )
    claimed = sorted((s for s in inside if s.predicted != s.intent), key=lambda s: -s.confidence)
    # The bot's one threshold, and what it costs on this language's held-back examples.
    cost = _cost_at(mine, threshold, rounds)
    return LanguageReport(
        lang=lang,
        examples=len(inside),
        accuracy=sum(s.predicted == s.intent for s in inside) / len(inside),
        intents=tuple(figures),
        confused=tuple(confused[:TOP]),
        claimed=tuple(claimed[:TOP]),
        calibration=cost,
        confusion={k: dict(v) for k, v in confusion.items()},
    )


def _cost_at(scored: list[HeldBack], threshold: float, rounds: int) -> Calibration:
    inside = [s for s in scored if s.intent is not None]
    outside = [s for s in scored if s.intent is None]
    correct = [s for s in inside if s.predicted == s.intent]
    return Calibration(
        threshold=threshold,
        folds=rounds,
        in_scope=len(inside),
        out_of_scope=len(outside),
        accuracy=len(correct) / len(inside) if inside else 0.0,
        accepted_correct=(
            sum(s.confidence >= threshold for s in correct) / len(inside) if inside else 0.0
        ),
        rejected=(
            sum(s.confidence < threshold for s in correct) / len(correct) if correct else 0.0
        ),
        oos_caught=(
            sum(s.confidence < threshold for s in outside) / len(outside) if outside else None
        ),
    )


def _shared(examples: Mapping[str, Sequence[str]]) -> tuple[tuple[str, str, str], ...]:
    """Examples of two intents that are one text once normalized (`dialogs check` compares
    them as written, so "退貨" and "退货" pass it)."""
    owner: dict[str, str] = {}
    found = []
    for intent, texts in examples.items():
        for text in texts:
            key = "".join(ch for ch in normalize(text) if ch.isalnum())
            if key in owner and owner[key] != intent:
                found.append((text, owner[key], intent))
            owner.setdefault(key, intent)
    return tuple(found)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def _summary_lines(evaluation: Evaluation) -> list[tuple[str, str]]:
    rows = [("folds", str(evaluation.folds)), ("calibrated threshold", f"{evaluation.threshold}")]
    for report in evaluation.languages:
        c = report.calibration
        rows.append(
            (
                report.lang,
                f"{report.examples} examples, accuracy {_pct(report.accuracy)}; at the "
                f"threshold: answered correctly {_pct(c.accepted_correct)}, understood but "
                f"turned away {_pct(c.rejected)}, out-of-scope caught {_pct(c.oos_caught)} "
                f"({c.out_of_scope} lines)",
            )
        )
    return rows


def render_markdown(evaluation: Evaluation) -> str:
    """The report as Markdown (cells escaped for tables)."""

    def cell(text: object) -> str:
        # Markdown renders inline HTML: examples are customer-like text, so escape it.
        return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")

    out = ["# NLU evaluation", ""]
    out += [f"- **{cell(k)}**: {cell(v)}" for k, v in _summary_lines(evaluation)]
    for report in evaluation.languages:
        out += ["", f"## {report.lang}", "", "| intent | support | precision | recall | F1 |"]
        out += ["|---|---|---|---|---|"]
        out += [
            f"| {cell(f.intent)} | {f.support} | {f.precision:.2f} | {f.recall:.2f} | {f.f1:.2f} |"
            for f in report.intents
        ]
        out += ["", "Most confused (true → predicted):", ""]
        out += [f"- {cell(t)} → {cell(p)}: {n}" for t, p, n in report.confused] or ["- none"]
        out += ["", "Examples another intent claims:", ""]
        out += [
            f"- {cell(s.text)} ({cell(s.intent)} → {cell(s.predicted)}, {s.confidence:.2f})"
            for s in report.claimed
        ] or ["- none"]
        names = sorted(report.confusion)
        out += ["", "Confusion (rows: true, columns: predicted):", ""]
        out += ["| | " + " | ".join(cell(n) for n in names) + " |"]
        out += ["|---" * (len(names) + 1) + "|"]
        for true in names:
            row = report.confusion[true]
            out += [f"| {cell(true)} | " + " | ".join(str(row.get(p, "")) for p in names) + " |"]
    if evaluation.shared:
        out += ["", "## Examples two intents share once normalized", ""]
        out += [f"- {cell(t)}: {cell(a)} and {cell(b)}" for t, a, b in evaluation.shared]
    return "\n".join(out) + "\n"


def render_html(evaluation: Evaluation) -> str:
    """The report as a standalone HTML page (every text escaped)."""
    e = html.escape
    out = [
        "<!doctype html><meta charset=utf-8><title>NLU evaluation</title>",
        "<style>body{font:14px sans-serif}td,th{border:1px solid #ccc;padding:2px 6px}"
        "table{border-collapse:collapse}</style><h1>NLU evaluation</h1><ul>",
    ]
    out += [f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in _summary_lines(evaluation)]
    out.append("</ul>")
    for report in evaluation.languages:
        out.append(f"<h2>{e(report.lang)}</h2><table><tr><th>intent<th>support<th>precision")
        out.append("<th>recall<th>F1</tr>")
        out += [
            f"<tr><td>{e(f.intent)}<td>{f.support}<td>{f.precision:.2f}<td>{f.recall:.2f}"
            f"<td>{f.f1:.2f}</tr>"
            for f in report.intents
        ]
        out.append("</table><h3>Most confused</h3><ul>")
        out += [f"<li>{e(t)} → {e(p)}: {n}</li>" for t, p, n in report.confused]
        out.append("</ul><h3>Examples another intent claims</h3><ul>")
        out += [
            f"<li>{e(s.text)} ({e(str(s.intent))} → {e(s.predicted)}, {s.confidence:.2f})</li>"
            for s in report.claimed
        ]
        names = sorted(report.confusion)
        out.append("</ul><h3>Confusion (rows: true, columns: predicted)</h3><table><tr><th>")
        out += [f"<th>{e(n)}" for n in names]
        out.append("</tr>")
        for true in names:
            row = report.confusion[true]
            out.append(
                f"<tr><th>{e(true)}" + "".join(f"<td>{row.get(p, '')}" for p in names) + "</tr>"
            )
        out.append("</table>")
    if evaluation.shared:
        out.append("<h2>Examples two intents share once normalized</h2><ul>")
        out += [f"<li>{e(t)}: {e(a)} and {e(b)}</li>" for t, a, b in evaluation.shared]
        out.append("</ul>")
    return "\n".join(out) + "\n"
