"""Counters and gauges in the Prometheus text format, without a dependency."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable


class Metrics:
    """Named counters with optional labels, plus gauges read at scrape time."""

    def __init__(self) -> None:
        self._counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self._help: dict[str, str] = {}
        self._gauges: dict[str, tuple[str, Callable[[], float]]] = {}

    def describe(self, name: str, help_text: str) -> None:
        self._help[name] = help_text

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        self._counters[(name, tuple(sorted(labels.items())))] += amount

    def value(self, name: str, **labels: str) -> float:
        return self._counters.get((name, tuple(sorted(labels.items()))), 0.0)

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        self._gauges[name] = (help_text, read)

    def render(self) -> str:
        lines: list[str] = []
        names = sorted({name for name, _ in self._counters} | set(self._help))
        for name in names:
            lines.append(f"# HELP {name} {self._help.get(name, name)}")
            lines.append(f"# TYPE {name} counter")
            for (counter, labels), value in sorted(self._counters.items()):
                if counter != name:
                    continue
                label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
                suffix = f"{{{label_text}}}" if label_text else ""
                lines.append(f"{name}{suffix} {value:g}")
        for name, (help_text, read) in sorted(self._gauges.items()):
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} gauge")
            lines.append(f"{name} {read():g}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
