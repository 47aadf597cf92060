"""Small server-side SVG charts: no JavaScript library, nothing vendored, nothing inline
that could run. Every label is escaped; the markup is returned as `Markup` for Jinja2."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#2457c5", "#1f8a4c", "#b86e00", "#8e44ad", "#c62828", "#00838f")


def bar_chart(
    title: str, items: Sequence[tuple[str, float]], *, width: int = 360, unit: str = ""
) -> Markup:
    """Horizontal bars, one per item, scaled to the largest value."""
    row, label_width, top = 24, 110, 28
    height = top + row * max(1, len(items)) + 8
    largest = max((value for _, value in items), default=0.0) or 1.0
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    if not items:
        parts.append(f'<text x="0" y="{top + 16}" class="chart-empty">—</text>')
    span = width - label_width - 60
    for index, (label, value) in enumerate(items):
        y = top + index * row
        bar = max(1.0, span * value / largest) if value else 0.0
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<text x="0" y="{y + 15}" class="chart-label">{escape(label[:16])}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{bar:.1f}" height="16" rx="3" '
            f'fill="{colour}"/>'
            f'<text x="{label_width + bar + 6:.1f}" y="{y + 15}" class="chart-value">'
            f"{escape(_number(value))}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def gauge(title: str, share: float | None, *, width: int = 170) -> Markup:
    """A labelled bar from 0 to 100 %, for rates."""
    shown = "—" if share is None else f"{share * 100:.0f}%"
    filled = 0.0 if share is None else max(0.0, min(1.0, share)) * (width - 2)
    return Markup(
        f'<svg class="gauge" role="img" aria-label="{escape(title)} {escape(shown)}" '
        f'width="{width}" height="46" viewBox="0 0 {width} 46" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<text x="0" y="14" class="chart-title">{escape(title)}</text>'
        f'<rect x="1" y="22" width="{width - 2}" height="14" rx="4" fill="#e4e7ee"/>'
        f'<rect x="1" y="22" width="{filled:.1f}" height="14" rx="4" fill="#2457c5"/>'
        f'<text x="{width - 4}" y="14" text-anchor="end" class="chart-value">'
        f"{escape(shown)}</text></svg>"
    )


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def heatmap_chart(title: str, grid: Sequence[Sequence[int]], days: Sequence[str]) -> Markup:
    """Weekday × hour cells, darker for more; each cell says its count on hover."""
    cell, left, top = 22, 44, 30
    width, height = left + 24 * cell + 4, top + len(grid) * cell + 22
    largest = max((v for row in grid for v in row), default=0) or 1
    parts = [
        f'<svg class="chart heatmap" role="img" aria-label="{escape(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for d, row in enumerate(grid):
        y = top + d * cell
        parts.append(f'<text x="0" y="{y + 15}" class="chart-label">{escape(days[d])}</text>')
        for h, value in enumerate(row):
            parts.append(
                f'<rect x="{left + h * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'rx="2" fill="{PALETTE[0]}" fill-opacity="{0.06 + 0.94 * value / largest:.2f}">'
                f"<title>{escape(days[d])} {h:02d}:00 · {value}</title></rect>"
            )
    for h in range(0, 24, 3):
        parts.append(
            f'<text x="{left + h * cell}" y="{height - 4}" class="chart-label">{h:02d}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    title: str, values: Sequence[float], *, width: int = 560, height: int = 140
) -> Markup:
    """One series as a line, scaled to its largest value (the forecast by hour)."""
    top, bottom = 26, 8
    largest = max(values, default=0.0) or 1.0
    step = (width - 8) / max(1, len(values) - 1)
    points = " ".join(
        f"{4 + i * step:.1f},{top + (height - top - bottom) * (1 - v / largest):.1f}"
        for i, v in enumerate(values)
    )
    return Markup(
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        f'<text x="0" y="16" class="chart-title">{escape(title)} (max {escape(_number(largest))})'
        f"</text>"
        f'<polyline fill="none" stroke="{PALETTE[0]}" stroke-width="2" points="{points}"/></svg>'
    )
