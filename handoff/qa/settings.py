"""`config/qa.yaml`: sampling rules, the rubric and the pre-checks, validated with file:line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hub.config import Section, read_section

LANGUAGES = ("en", "zh")


@dataclass(frozen=True, slots=True)
class RubricItem:
    key: str
    weight: float
    labels: Mapping[str, str]

    def label(self, lang: str) -> str:
        return self.labels.get(lang) or self.labels["en"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Sampling:
    percent_per_agent_per_day: float = 30.0
    complaints: bool = True
    csat_at_most: int = 2  # 0 turns the rule off
    sla_breaches: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class QASettings:
    sampling: Sampling = field(default_factory=Sampling)
    rubric: tuple[RubricItem, ...] = ()
    silence_minutes: float = 5.0


def load_qa_settings(path: str | Path) -> QASettings:
    """Read and check `path`; raises `ConfigError` naming the file and line of a problem."""
    root = read_section(path)
    sampling_section = root.section("sampling")
    sampling = Sampling(
        percent_per_agent_per_day=_number(
            sampling_section, "percent_per_agent_per_day", 30.0, 100.0
        ),
        complaints=_all_or_none(sampling_section, "complaints"),
        csat_at_most=sampling_section.get_int("csat_at_most", 2, minimum=0, maximum=5),
        sla_breaches=_all_or_none(sampling_section, "sla_breaches"),
    )
    sampling_section.reject_unknown()
    rubric_section = root.section("rubric")
    items = []
    for key in rubric_section.names():
        item = rubric_section.section(key)
        weight = _number(item, "weight", 1.0, 100.0)
        labels = item.section("label")
        text = {lang: labels.get_str(lang, "") for lang in LANGUAGES}
        if not text["en"] or not text["zh"]:
            raise labels.error("en" if not text["en"] else "zh", "a rubric label needs en and zh")
        labels.reject_unknown()
        item.reject_unknown()
        items.append(RubricItem(key, weight, text))
    if not items:
        raise root.error("rubric", "the rubric needs at least one item")
    prechecks = root.section("prechecks")
    silence = _number(prechecks, "silence_minutes", 5.0, 1440.0)
    prechecks.reject_unknown()
    root.reject_unknown()
    return QASettings(sampling=sampling, rubric=tuple(items), silence_minutes=silence)


def _number(section: Section, key: str, default: float, maximum: float) -> float:
    value = section.get_float(key, default)
    if value > maximum:
        raise section.error(key, f"must be at most {maximum:g} (got {value:g})")
    return value


def _all_or_none(section: Section, key: str) -> bool:
    value = section.get_str(key, "all", choices=("all", "none"))
    return value == "all"
