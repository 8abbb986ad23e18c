"""Charts drawn on the server as inline SVG: no script, no CDN, nothing for a CSP to allow.

Each chart prints its numbers beside its marks and tells series apart by pattern as well as
colour, so it reads in greyscale and to colour-blind eyes; the page puts the same numbers
in a table under it for screen readers and copying. Colours come from the stylesheet
(classes ``chart-*``), never from inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 480  # viewBox units; a chart fills its card, so text stays readable at card width
LABEL_WIDTH = 150
VALUE_WIDTH = 120
ROW_HEIGHT = 24
BAR_HEIGHT = 16

# Fills told apart without colour: solid, diagonal hatch, dots, cross-hatch, horizontal lines, open.
PATTERNS = ("solid", "hatch", "dots", "cross", "lines", "open")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the number as printed beside the bar, e.g. "12% (3 of 25)"
    href: str = ""


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[int, ...]  # one per column


def _pattern_defs(prefix: str) -> SafeString:
    # Each pattern paints over the series' colour class with a darker ink, so hatching shows in print.
    shapes = {
        "hatch": '<path d="M0,6 L6,0" class="chart-ink"/>',
        "dots": '<circle cx="3" cy="3" r="1.3" class="chart-ink-fill"/>',
        "cross": '<path d="M0,6 L6,0 M0,0 L6,6" class="chart-ink"/>',
        "lines": '<path d="M0,3 L6,3" class="chart-ink"/>',
    }
    parts = [
        format_html('<pattern id="{}-{}" width="6" height="6" patternUnits="userSpaceOnUse">'
                    '<rect width="6" height="6" class="chart-s{}"/>{}</pattern>',
                    prefix, name, index, mark_safe(shapes[name]))  # fmt: skip
        for index, name in enumerate(PATTERNS) if name in shapes
    ]
    return format_html("<defs>{}</defs>", mark_safe("".join(parts)))


def _fill(prefix: str, index: int) -> tuple[str, str]:
    """(fill attribute, class) for series ``index``: a pattern url, or a plain class."""
    name = PATTERNS[index % len(PATTERNS)]
    if name in ("solid", "open"):
        return "", f"chart-s{index % len(PATTERNS)} chart-{name}"
    return f"url(#{prefix}-{name})", "chart-outline"


def bar_chart(*, chart_id: str, title: str, bars: Sequence[Bar], maximum: float | None = None) -> SafeString:
    """Horizontal bars, one per row, each labelled with its name and its number."""
    top = maximum if maximum is not None else max((b.value for b in bars), default=0)
    top = top or 1
    height = ROW_HEIGHT * max(len(bars), 1) + 8
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    rows = []
    for index, bar in enumerate(bars):
        y = 4 + index * ROW_HEIGHT
        length = max(0.0, min(1.0, bar.value / top)) * span
        label = format_html('<text x="{}" y="{}" class="chart-label" text-anchor="end">{}</text>',
                            LABEL_WIDTH - 8, y + BAR_HEIGHT - 3, _clip(bar.label, 26))  # fmt: skip
        if bar.href:
            label = format_html('<a href="{}">{}</a>', bar.href, label)
        rows.append(format_html(
            '<g>{}<rect x="{}" y="{}" width="{}" height="{}" class="chart-bar"/>'
            '<text x="{}" y="{}" class="chart-value">{}</text></g>',
            label, LABEL_WIDTH, y, f"{length:.1f}", BAR_HEIGHT, f"{LABEL_WIDTH + length + 6:.1f}", y + BAR_HEIGHT - 3, bar.text,
        ))  # fmt: skip
    return format_html(
        '<svg class="chart" id="{}" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title">'
        '<title id="{}-title">{}</title>{}</svg>',
        chart_id, WIDTH, height, chart_id, chart_id, title, mark_safe("".join(rows)),
    )  # fmt: skip


def stacked_columns(*, chart_id: str, title: str, columns: Sequence[str], series: Sequence[Series]) -> SafeString:
    """One column per entry of ``columns`` (e.g. days), stacked by series, total printed on top.

    A legend under the chart repeats each series' pattern with its name.
    """
    plot_top, plot_bottom = 18, 190
    totals = [sum(s.values[i] for s in series) for i in range(len(columns))]
    top = max(totals, default=0) or 1
    slot = (WIDTH - 20) / max(len(columns), 1)
    width = max(6.0, slot * 0.7)
    marks = []
    for column_index, column in enumerate(columns):
        x = 10 + column_index * slot + (slot - width) / 2
        y = float(plot_bottom)
        for series_index, one in enumerate(series):
            value = one.values[column_index]
            if not value:
                continue
            size = value / top * (plot_bottom - plot_top)
            y -= size
            fill, css = _fill(chart_id, series_index)
            marks.append(format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" class="{}"{}><title>{}: {} {}</title></rect>',
                f"{x:.1f}", f"{y:.1f}", f"{width:.1f}", f"{size:.1f}", css,
                format_html(' fill="{}"', fill) if fill else "", column, value, one.label,
            ))  # fmt: skip
        marks.append(format_html('<text x="{}" y="{}" class="chart-value" text-anchor="middle">{}</text>',
                                 f"{x + width / 2:.1f}", f"{y - 4:.1f}", totals[column_index]))  # fmt: skip
        if len(columns) <= 8 or (len(columns) - 1 - column_index) % 2 == 0:  # every other one, the last included
            marks.append(format_html('<text x="{}" y="{}" class="chart-label" text-anchor="middle">{}</text>',
                                     f"{x + width / 2:.1f}", plot_bottom + 16, column))  # fmt: skip
    legend = []
    for series_index, one in enumerate(series):
        x = 10 + (series_index % 3) * 155
        y = plot_bottom + 30 + (series_index // 3) * 18
        fill, css = _fill(chart_id, series_index)
        legend.append(format_html(
            '<rect x="{}" y="{}" width="14" height="12" class="{}"{}/><text x="{}" y="{}" class="chart-label">{}</text>',
            x, y, css, format_html(' fill="{}"', fill) if fill else "", x + 20, y + 10, _clip(one.label, 22),
        ))  # fmt: skip
    height = plot_bottom + 36 + ((len(series) + 2) // 3) * 18
    return format_html(
        '<svg class="chart" id="{}" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title">'
        '<title id="{}-title">{}</title>{}{}{}</svg>',
        chart_id, WIDTH, height, chart_id, chart_id, title, _pattern_defs(chart_id),
        mark_safe("".join(marks)), format_html_join("", "{}", ((m,) for m in legend)),
    )  # fmt: skip


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"
