"""Server-side SVG charts for the report pages (no script, no inline style: CSP-safe).

Charts draw only what the table publishes. A suppressed cell is never drawn with its
true size: it gets a hatched band across the whole bar area, marked "suprimido", and its
accessible name says so. No axis shows tick values other than 0 and the largest
published count (published counts are 0 or at least k, so no small number appears).
Per-set totals of the overlap chart are deliberately absent: a set's total is a sum of
cells that may include a suppressed one, and would give it back by subtraction.

Colours, fonts and the hatch come from classes in `app.css` (the `/* --- reports --- */`
section); SVG presentation attributes (x, y, width, height, fill="url(#…)") are not
inline styles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup, escape

from caseapp.reports.layouts import Dim

WIDTH = 760
LABEL_WIDTH = 250
VALUE_WIDTH = 90
ROW = 26
BAR = 18
MAX_BARS = 120


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int | None
    suppressed: bool
    group: str | None = None
    complementary: bool = False  # hidden only to protect another count


def _fmt(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _open(chart_id: str, title: str, desc: str, height: int, css: str) -> list[str]:
    cid = escape(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css}" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{cid}-title {cid}-desc" id="{cid}">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
        "<defs>",
        f'<pattern id="{cid}-hatch" patternUnits="userSpaceOnUse" width="8" height="8" '
        'patternTransform="rotate(45)">'
        '<rect width="8" height="8" class="chart-hatch-bg"/>'
        '<line x1="0" y1="0" x2="0" y2="8" class="chart-hatch-line"/></pattern>',
        "</defs>",
    ]


def _suppressed_text(k: int, complementary: bool = False) -> str:
    if complementary:
        return _("oculto (protege otra cifra)")
    return _("suprimido (menos de %(k)d)", k=k)


def _suppressed_word(complementary: bool = False) -> str:
    return str(escape(_("oculto") if complementary else _("suprimido")))


def is_complementary(cell: Mapping[str, Any]) -> bool:
    """A published cell hidden only so that another cannot be deduced (disclosure.py)."""
    return bool(cell.get("suppressed")) and cell.get("suppression") == "complementary"


def bar_chart(chart_id: str, title: str, desc: str, bars: Sequence[Bar], k: int) -> Markup:
    """Horizontal bars, one row per cell; `group` values start a labelled block (grouped
    bars / small multiples for two or more dimensions)."""
    bars = list(bars)[:MAX_BARS]
    rows: list[tuple[str, Bar | str]] = []
    current: str | None = None
    for bar in bars:
        if bar.group is not None and bar.group != current:
            rows.append(("group", bar.group))
            current = bar.group
        rows.append(("bar", bar))
    height = max(len(rows), 1) * ROW + 30
    top = max([b.value or 0 for b in bars if not b.suppressed] or [0])
    area = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    out = _open(chart_id, title, desc, height, "chart-bars")
    out.append('<g role="list">')
    for i, (_kind, item) in enumerate(rows):
        y = 10 + i * ROW
        if isinstance(item, str):
            out.append(
                f'<text x="4" y="{y + 15}" class="chart-group">{escape(_short(item, 90))}</text>'
            )
            continue
        indent = 16 if item.group is not None else 4
        if item.suppressed:
            name = f"{item.label}: {_suppressed_text(k, item.complementary)}"
            out.append(
                f'<g role="listitem" aria-label="{escape(name)}" class="chart-row suppressed">'
                f"<title>{escape(name)}</title>"
                f'<text x="{indent}" y="{y + 14}" class="chart-label">{escape(_short(item.label))}'
                "</text>"
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{area}" height="{BAR}" '
                f'fill="url(#{escape(chart_id)}-hatch)" class="chart-bar-suppressed"/>'
                f'<text x="{LABEL_WIDTH + 6}" y="{y + 14}" class="chart-note">'
                f"{_suppressed_word(item.complementary)}</text></g>"
            )
            continue
        value = item.value or 0
        width = 0 if top == 0 else max(round(area * value / top), 1 if value else 0)
        name = f"{item.label}: {_fmt(value)}"
        out.append(
            f'<g role="listitem" aria-label="{escape(name)}" class="chart-row">'
            f"<title>{escape(name)}</title>"
            f'<text x="{indent}" y="{y + 14}" class="chart-label">{escape(_short(item.label))}'
            "</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR}" class="chart-bar"/>'
            f'<text x="{LABEL_WIDTH + width + 6}" y="{y + 14}" class="chart-value">'
            f"{_fmt(value)}</text></g>"
        )
    out.append("</g></svg>")
    return Markup("".join(out))  # noqa: S704 - every interpolated text is escaped above


def line_chart(chart_id: str, title: str, desc: str, points: Sequence[Bar], k: int) -> Markup:
    """A series over months or years; the line breaks at a suppressed point, which is
    drawn as a hatched column marked "suprimido"."""
    points = list(points)
    height, left, right, top_pad, bottom = 300, 70, 20, 20, 60
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom
    top = max([p.value or 0 for p in points if not p.suppressed] or [0])
    n = max(len(points), 1)
    step = plot_w / n
    out = _open(chart_id, title, desc, height, "chart-line")
    base = top_pad + plot_h
    out.append(
        f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" class="chart-axis"/>'
    )
    out.append(f'<text x="{left - 6}" y="{base + 4}" class="chart-tick" text-anchor="end">0</text>')
    if top:
        out.append(
            f'<text x="{left - 6}" y="{top_pad + 4}" class="chart-tick" '
            f'text-anchor="end">{_fmt(top)}</text>'
        )
        out.append(
            f'<line x1="{left}" y1="{top_pad}" x2="{left + plot_w}" y2="{top_pad}" '
            'class="chart-grid"/>'
        )
    segments: list[list[tuple[float, float]]] = [[]]
    every = max(1, round(n / 12))
    out.append('<g role="list">')
    for i, p in enumerate(points):
        x = left + step * (i + 0.5)
        if i % every == 0:
            out.append(
                f'<text x="{x:.1f}" y="{base + 18}" class="chart-tick" '
                f'text-anchor="middle">{escape(p.label)}</text>'
            )
        if p.suppressed:
            name = f"{p.label}: {_suppressed_text(k, p.complementary)}"
            out.append(
                f'<g role="listitem" aria-label="{escape(name)}" class="chart-row suppressed">'
                f"<title>{escape(name)}</title>"
                f'<rect x="{x - step / 2 + 1:.1f}" y="{top_pad}" width="{max(step - 2, 1):.1f}" '
                f'height="{plot_h}" fill="url(#{escape(chart_id)}-hatch)" '
                'class="chart-bar-suppressed"/></g>'
            )
            if segments[-1]:
                segments.append([])
            continue
        value = p.value or 0
        y = base - (plot_h * value / top if top else 0)
        segments[-1].append((x, y))
        name = f"{p.label}: {_fmt(value)}"
        out.append(
            f'<g role="listitem" aria-label="{escape(name)}" class="chart-row">'
            f"<title>{escape(name)}</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" class="chart-point"/></g>'
        )
    out.append("</g>")
    for seg in segments:
        if len(seg) > 1:
            coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in seg)
            out.append(f'<polyline points="{coords}" class="chart-series" fill="none"/>')
    if any(p.suppressed for p in points):
        note = escape(_("Columnas rayadas: cifra suprimida u oculta."))
        out.append(f'<text x="{left}" y="{height - 8}" class="chart-note">{note}</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every interpolated text is escaped above


@dataclass(frozen=True, slots=True)
class Combination:
    members: tuple[str, ...]
    value: int | None
    suppressed: bool
    complementary: bool = False


def upset_chart(
    chart_id: str,
    title: str,
    desc: str,
    sources: Sequence[tuple[str, str]],
    cells: Sequence[Combination],
    k: int,
) -> Markup:
    """UpSet-style overlap: one row per combination, a dot matrix of the organization
    kinds (filled = identified the person) and a bar with the persons."""
    col = 34
    matrix_left = 20
    header = 150
    bars_left = matrix_left + col * max(len(sources), 1) + 20
    area = WIDTH - bars_left - VALUE_WIDTH
    height = header + max(len(cells), 1) * ROW + 10
    top = max([c.value or 0 for c in cells if not c.suppressed] or [0])
    labels = dict(sources)
    out = _open(chart_id, title, desc, height, "chart-upset")
    for j, (_code, label) in enumerate(sources):
        x = matrix_left + col * j + col / 2
        out.append(
            f'<text x="{x:.1f}" y="{header - 8}" class="chart-label" '
            f'transform="rotate(-45 {x:.1f} {header - 8})">{escape(_short(label, 30))}'
            "</text>"
        )
    out.append('<g role="list">')
    for i, cell in enumerate(cells):
        y = header + i * ROW
        cy = y + BAR / 2
        names = " + ".join(labels.get(m, m) for m in cell.members)
        on = [j for j, (code, _label) in enumerate(sources) if code in cell.members]
        parts = []
        if len(on) > 1:
            x1 = matrix_left + col * on[0] + col / 2
            x2 = matrix_left + col * on[-1] + col / 2
            parts.append(
                f'<line x1="{x1:.1f}" y1="{cy:.1f}" x2="{x2:.1f}" y2="{cy:.1f}" '
                'class="upset-link"/>'
            )
        for j in range(len(sources)):
            cx = matrix_left + col * j + col / 2
            css = "upset-dot-on" if j in on else "upset-dot-off"
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" class="{css}"/>')
        if cell.suppressed:
            name = f"{names}: {_suppressed_text(k, cell.complementary)}"
            parts.append(
                f'<rect x="{bars_left}" y="{y}" width="{area}" height="{BAR}" '
                f'fill="url(#{escape(chart_id)}-hatch)" class="chart-bar-suppressed"/>'
                f'<text x="{bars_left + 6}" y="{y + 14}" class="chart-note">'
                f"{_suppressed_word(cell.complementary)}</text>"
            )
            css_row = "chart-row suppressed"
        else:
            value = cell.value or 0
            width = 0 if top == 0 else max(round(area * value / top), 1 if value else 0)
            name = f"{names}: {_fmt(value)}"
            parts.append(
                f'<rect x="{bars_left}" y="{y}" width="{width}" height="{BAR}" '
                'class="chart-bar"/>'
                f'<text x="{bars_left + width + 6}" y="{y + 14}" class="chart-value">'
                f"{_fmt(value)}</text>"
            )
            css_row = "chart-row"
        out.append(
            f'<g role="listitem" aria-label="{escape(name)}" class="{css_row}">'
            f"<title>{escape(name)}</title>{''.join(parts)}</g>"
        )
    out.append("</g></svg>")
    return Markup("".join(out))  # noqa: S704 - every interpolated text is escaped above


def _fill_periods(dim: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Absent months or years are published zeros: draw them as such on a time axis."""
    present = {str(r[dim]): r for r in rows}
    if not present:
        return rows
    keys = sorted(present)
    out: list[dict[str, Any]] = []
    if dim == "year":
        span = [str(y) for y in range(int(keys[0]), int(keys[-1]) + 1)]
    else:
        first, last = keys[0], keys[-1]
        y, m = int(first[:4]), int(first[5:7])
        span = []
        while f"{y:04d}-{m:02d}" <= last and len(span) < 600:
            span.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    for key in span:
        out.append(present.get(key, {dim: key, "count": 0, "suppressed": False}))
    return out


def table_chart(
    chart_id: str,
    title: str,
    dims: Mapping[str, Dim],
    doc: Mapping[str, Any],
    locale: str,
) -> Markup | None:
    """The chart for a report table: a line for one time dimension, bars for another
    single dimension, bars grouped by the other dimensions for two or more. `None` when
    there is nothing to draw or too much to draw legibly (the table stays)."""
    names = list(doc["dimensions"])
    rows = list(doc["rows"])
    k = int(doc["threshold"])
    if not names or not rows or len(rows) > MAX_BARS:
        return None
    desc = _("Cifras de la tabla; las suprimidas se muestran rayadas, sin su valor.")
    if len(names) == 1 and names[0] in ("year", "month"):
        points = [
            Bar(str(r[names[0]]), r["count"], r["suppressed"], None, is_complementary(r))
            for r in _fill_periods(names[0], rows)
        ]
        return line_chart(chart_id, title, desc, points, k)
    last = names[-1]
    bars = []
    for r in rows:
        group = " · ".join(dims[n].code_label(r[n], locale) for n in names[:-1]) or None
        label = dims[last].code_label(r[last], locale)
        bars.append(Bar(label, r["count"], r["suppressed"], group, is_complementary(r)))
    return bar_chart(chart_id, title, desc, bars, k)


@dataclass(frozen=True, slots=True)
class Bin:
    low: float
    high: float
    count: int


def histogram_chart(
    chart_id: str,
    title: str,
    desc: str,
    bins: Sequence[Bin],
    threshold: float,
    near: float,
) -> Markup:
    """Columns of counts over a numeric axis (the match weights of the compared pairs),
    on a logarithmic scale (non-matches outnumber matches by orders of magnitude), with
    the threshold as a vertical line and the band ``near`` either side of it shaded.
    Every column has an accessible name with its range and count."""
    import math

    bins = list(bins)
    height, left, right, top_pad, bottom = 320, 70, 20, 24, 62
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom
    base = top_pad + plot_h
    lo = bins[0].low if bins else 0.0
    hi = bins[-1].high if bins else 1.0
    span = (hi - lo) or 1.0
    top = max([b.count for b in bins] or [0])
    scale = math.log10(top + 1) if top else 1.0

    def x_of(value: float) -> float:
        return left + plot_w * (min(max(value, lo), hi) - lo) / span

    def y_of(count: int) -> float:
        return base - plot_h * math.log10(count + 1) / scale if top else base

    out = _open(chart_id, title, desc, height, "chart-histogram")
    band_x1, band_x2 = x_of(threshold - near), x_of(threshold + near)
    out.append(
        f'<rect x="{band_x1:.1f}" y="{top_pad}" width="{band_x2 - band_x1:.1f}" '
        f'height="{plot_h}" class="chart-band"/>'
    )
    decade = 1
    while top and decade <= top:  # grid lines at 1, 10, 100, … (log scale)
        y = y_of(decade)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="chart-grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="chart-tick" text-anchor="end">'
            f"{_fmt(decade)}</text>"
        )
        decade *= 10
    out.append(
        f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" class="chart-axis"/>'
        f'<text x="{left - 6}" y="{base + 4}" class="chart-tick" text-anchor="end">0</text>'
    )
    out.append('<g role="list">')
    every = max(1, round(len(bins) / 12))
    for k, b in enumerate(bins):
        x1, x2 = x_of(b.low), x_of(b.high)
        if k % every == 0:
            out.append(
                f'<text x="{x1:.1f}" y="{base + 18}" class="chart-tick" text-anchor="middle">'
                f"{b.low:g}</text>"
            )
        name = _(
            "%(low)s a %(high)s bits: %(count)s pares",
            low=f"{b.low:g}",
            high=f"{b.high:g}",
            count=_fmt(b.count),
        )
        y = y_of(b.count)
        out.append(
            f'<g role="listitem" aria-label="{escape(name)}" class="chart-row">'
            f"<title>{escape(name)}</title>"
            f'<rect x="{x1 + 1:.1f}" y="{y:.1f}" width="{max(x2 - x1 - 2, 1):.1f}" '
            f'height="{base - y:.1f}" class="chart-bar"/></g>'
        )
    out.append("</g>")
    if bins:
        out.append(
            f'<text x="{x_of(hi):.1f}" y="{base + 18}" class="chart-tick" '
            f'text-anchor="middle">{hi:g}</text>'
        )
    tx = x_of(threshold)
    label = escape(_("umbral: %(t)s bits", t=format_decimal(threshold, format="0.0")))
    out.append(
        f'<line x1="{tx:.1f}" y1="{top_pad - 6}" x2="{tx:.1f}" y2="{base}" '
        'class="chart-threshold"/>'
        f'<text x="{tx + 4:.1f}" y="{top_pad - 10}" class="chart-note">{label}</text>'
    )
    axis = escape(_("Peso de coincidencia (bits); escala logarítmica de pares"))
    out.append(f'<text x="{left}" y="{height - 10}" class="chart-note">{axis}</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every interpolated text is escaped above
