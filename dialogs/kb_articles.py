"""Knowledge-base articles: Markdown files with YAML front matter, read and validated.

One file is one article, in one language or both:

    ---
    title:
      en: Trading in an old device
      zh: 以旧换新
    tags: [offers]
    intents: [trade_in]          # optional: intents this article also answers
    questions:                   # optional: how customers ask; indexed with the article
      en: [can I trade in my old phone]
      zh: [旧手机可以换新吗]
    ---
    <!-- en -->
    Bring your old device to any store …
    <!-- zh -->
    携带旧设备到任一门店……

A one-language article says `language: en` (or `zh`), gives `title` as a string and needs no
`<!-- en -->` marker. The id is the file name without `.md` (lower-case letters, digits and
hyphens: it is the article's URL). Every problem is reported with `file:line`, all at once,
as the dialogs are (`dialogs.yamlsource.Problems`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from dialogs.flows import Where
from dialogs.yamlsource import DialogsInvalid, Problems

#: An article larger than this is refused: a knowledge base answers questions, it is not a
#: document store, and one huge file would slow every reload.
MAX_ARTICLE_BYTES = 256 * 1024
LANGUAGES = ("en", "zh")
ARTICLE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")  # a file's name without .md
_MARKER = re.compile(r"^<!--\s*(\w+)\s*-->\s*$")
_FRONT = "---"


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    """One article in the languages it is written in."""

    id: str
    path: str
    titles: Mapping[str, str]  # language → title
    bodies: Mapping[str, str]  # language → Markdown
    questions: Mapping[str, tuple[str, ...]]  # language → sample questions
    tags: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(lang for lang in LANGUAGES if lang in self.bodies)

    def title(self, lang: str) -> str:
        """The title in `lang`, else in the article's first language."""
        return self.titles.get(lang) or next(iter(self.titles.values()))


def load_articles(path: str | Path) -> tuple[Article, ...]:
    """Every `*.md` under `path` (a folder or one file); raises `DialogsInvalid` on problems."""
    root = Path(path)
    problems = Problems()
    if not root.exists():
        problems.add(Where(path=str(root), line=1), "no such file or folder")
        raise DialogsInvalid(problems.items)
    files = article_files(root)
    articles: list[Article] = []
    seen: dict[str, str] = {}
    for file in files:
        article = read_article(file, problems)
        if article is None:
            continue
        if article.id in seen:
            problems.add(
                Where(path=str(file), line=1),
                f"article id '{article.id}' is also used by {seen[article.id]}",
            )
            continue
        seen[article.id] = str(file)
        articles.append(article)
    if problems:
        raise DialogsInvalid(problems.items)
    return tuple(articles)


def article_files(path: Path) -> list[Path]:
    """The articles under `path`: the file itself, or every `*.md` in it and its folders."""
    return [path] if path.is_file() else sorted(p for p in path.rglob("*.md") if p.is_file())


def read_article(file: Path, problems: Problems) -> Article | None:
    """One article, or None with its problems appended to `problems`."""

    def problem(line: int, message: str) -> None:
        problems.add(Where(path=str(file), line=line), message)

    size = file.stat().st_size
    if size > MAX_ARTICLE_BYTES:
        problem(1, f"the article is {size:,} bytes; the limit is {MAX_ARTICLE_BYTES:,}")
        return None
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        problem(1, f"not UTF-8 text (byte {error.start})")
        return None
    article_id = file.stem
    if not ARTICLE_ID.fullmatch(article_id):
        problem(1, "the file name must be lower-case letters, digits and hyphens (it is the URL)")
        return None
    lines = text.splitlines()
    if not lines or lines[0].strip() != _FRONT:
        problem(1, "an article starts with front matter between two '---' lines")
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == _FRONT)
    except StopIteration:
        problem(1, "the front matter is not closed by a '---' line")
        return None
    try:
        front = YAML(typ="safe", pure=True).load("\n".join(lines[1:end])) or {}
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = 2 + (mark.line if mark is not None else 0)
        problem(line, f"the front matter is not valid YAML: {getattr(error, 'problem', error)}")
        return None
    if not isinstance(front, dict):
        problem(2, "the front matter must be a mapping (title:, tags: …)")
        return None
    before = len(problems.items)
    languages = _languages(front, problem)
    titles = _per_language(front.get("title"), languages, "title", problem, required=True)
    questions = {
        lang: tuple(qs)
        for lang, qs in _questions(front.get("questions"), languages, problem).items()
    }
    tags = _names(front.get("tags"), "tags", problem)
    intents = _names(front.get("intents"), "intents", problem)
    unknown = set(front) - {"title", "language", "tags", "intents", "questions"}
    if unknown:
        problem(2, f"unknown front matter key(s): {', '.join(sorted(map(str, unknown)))}")
    bodies = _bodies(lines, end + 1, languages, problem)
    if len(problems.items) > before:
        return None
    return Article(
        id=article_id,
        path=str(file),
        titles={lang: str(t) for lang, t in titles.items()},
        bodies=bodies,
        questions=questions,
        tags=tags,
        intents=intents,
    )


#: How the helpers below report a problem: (line, message).
Report = Callable[[int, str], None]


def _languages(front: Mapping[str, Any], problem: Report) -> tuple[str, ...]:
    declared = front.get("language")
    if declared is None:
        return LANGUAGES if isinstance(front.get("title"), dict) else ()
    values = declared if isinstance(declared, list) else [declared]
    bad = [v for v in values if v not in LANGUAGES]
    if bad:
        problem(2, f"language must be one of {', '.join(LANGUAGES)}, not {bad[0]!r}")
        return ()
    return tuple(str(v) for v in values)


def _per_language(
    value: Any, languages: Sequence[str], what: str, problem: Report, *, required: bool
) -> dict[str, str]:
    if value is None:
        if required:
            problem(2, f"'{what}' is missing")
        return {}
    if isinstance(value, str):
        if len(languages) != 1:
            problem(2, f"'{what}' is one string: say which language with 'language: en' or 'zh'")
            return {}
        return {languages[0]: value.strip()}
    if isinstance(value, dict):
        bad = [k for k in value if k not in LANGUAGES]
        if bad:
            problem(2, f"'{what}' has an unknown language {bad[0]!r} (en or zh)")
            return {}
        empty = [k for k, v in value.items() if not isinstance(v, str) or not v.strip()]
        if empty:
            problem(2, f"'{what}' in {empty[0]} must be non-empty text")
            return {}
        return {str(k): str(v).strip() for k, v in value.items()}
    problem(2, f"'{what}' must be text or a mapping of en/zh to text")
    return {}


def _questions(value: Any, languages: Sequence[str], problem: Report) -> dict[str, list[str]]:
    if value is None:
        return {}
    if isinstance(value, list) and len(languages) == 1:
        value = {languages[0]: value}
    if not isinstance(value, dict) or any(k not in LANGUAGES for k in value):
        problem(2, "'questions' must map en/zh to lists of questions")
        return {}
    result: dict[str, list[str]] = {}
    for lang, items in value.items():
        if not isinstance(items, list) or not all(isinstance(q, str) and q.strip() for q in items):
            problem(2, f"'questions' in {lang} must be a list of non-empty questions")
            return {}
        result[str(lang)] = [q.strip() for q in items]
    return result


def _names(value: Any, what: str, problem: Report) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problem(2, f"'{what}' must be a list of names")
        return ()
    return tuple(v.strip() for v in value)


def _bodies(
    lines: Sequence[str], start: int, languages: Sequence[str], problem: Report
) -> dict[str, str]:
    """The Markdown of each language, split at `<!-- en -->` / `<!-- zh -->` markers."""
    if not languages:
        return {}
    parts: dict[str, list[str]] = {}
    current = languages[0] if len(languages) == 1 else ""
    for number, line in enumerate(lines[start:], start + 1):
        marker = _MARKER.match(line.strip())
        if marker and marker.group(1) in LANGUAGES:
            current = marker.group(1)
            if current not in languages:
                problem(number, f"a {current} section in an article declared as {languages}")
            elif current in parts:
                problem(number, f"a second {current} section")
            parts.setdefault(current, [])
            continue
        if not current:
            if line.strip():
                problem(number, "text before the first '<!-- en -->' or '<!-- zh -->' marker")
                return {}
            continue
        parts.setdefault(current, []).append(line)
    bodies = {lang: "\n".join(text).strip() for lang, text in parts.items()}
    for lang in languages:
        if not bodies.get(lang):
            problem(start + 1, f"the article has no {lang} text")
    return bodies
