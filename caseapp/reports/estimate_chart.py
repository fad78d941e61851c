"""The estimate chart of the overlap page: observed persons by combination (the overlap
report's published cells, suppressed ones hatched) and the estimated unseen persons with
their 95 % interval as a whisker. Server-side SVG in the style of charts.py (no script,
no inline style)."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from markupsafe import Markup, escape

from caseapp.reports import charts
from caseapp.reports.charts import BAR, LABEL_WIDTH, ROW, VALUE_WIDTH, WIDTH, Bar


def estimate_chart(
    chart_id: str,
    title: str,
    desc: str,
    observed: Sequence[Bar],
    unseen: int,
    low: int,
    high: int,
    k: int,
) -> Markup:
    """`observed`: published cells; `unseen`, `low`, `high`: the rounded estimate of the
    persons no list saw and its interval (already published numbers)."""
    bars = list(observed)[: charts.MAX_BARS]
    top = max([b.value or 0 for b in bars if not b.suppressed] + [high, unseen, 1])
    area = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = (len(bars) + 1) * ROW + 30

    def scale(value: int) -> int:
        return max(round(area * value / top), 1 if value else 0)

    out = charts._open(chart_id, title, desc, height, "chart-bars chart-estimate")
    out.append('<g role="list">')
    for i, bar in enumerate(bars):
        y = 10 + i * ROW
        if bar.suppressed:
            name = f"{bar.label}: {charts._suppressed_text(k, bar.complementary)}"
            body = (
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{area}" height="{BAR}" '
                f'fill="url(#{escape(chart_id)}-hatch)" class="chart-bar-suppressed"/>'
                f'<text x="{LABEL_WIDTH + 6}" y="{y + 14}" class="chart-note">'
                f"{charts._suppressed_word(bar.complementary)}</text>"
            )
            css = "chart-row suppressed"
        else:
            value = bar.value or 0
            width = scale(value)
            name = f"{bar.label}: {charts._fmt(value)}"
            body = (
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR}" '
                'class="chart-bar"/>'
                f'<text x="{LABEL_WIDTH + width + 6}" y="{y + 14}" class="chart-value">'
                f"{charts._fmt(value)}</text>"
            )
            css = "chart-row"
        out.append(
            f'<g role="listitem" aria-label="{escape(name)}" class="{css}">'
            f"<title>{escape(name)}</title>"
            f'<text x="4" y="{y + 14}" class="chart-label">{escape(charts._short(bar.label))}'
            f"</text>{body}</g>"
        )
    y = 10 + len(bars) * ROW
    label = _("Nadie las vio (estimación)")
    name = _(
        "%(label)s: unas %(n)s (intervalo del 95 %%: %(low)s a %(high)s)",
        label=label,
        n=charts._fmt(unseen),
        low=charts._fmt(low),
        high=charts._fmt(high),
    )
    x_low, x_high = LABEL_WIDTH + scale(low), LABEL_WIDTH + scale(high)
    mid = y + BAR / 2
    out.append(
        f'<g role="listitem" aria-label="{escape(name)}" class="chart-row chart-unseen">'
        f"<title>{escape(name)}</title>"
        f'<text x="4" y="{y + 14}" class="chart-label">{escape(charts._short(label))}</text>'
        f'<rect x="{LABEL_WIDTH}" y="{y}" width="{scale(unseen)}" height="{BAR}" '
        'class="chart-bar-estimate"/>'
        f'<line x1="{x_low}" y1="{mid}" x2="{x_high}" y2="{mid}" class="chart-interval"/>'
        f'<line x1="{x_low}" y1="{y + 3}" x2="{x_low}" y2="{y + BAR - 3}" '
        'class="chart-interval"/>'
        f'<line x1="{x_high}" y1="{y + 3}" x2="{x_high}" y2="{y + BAR - 3}" '
        'class="chart-interval"/>'
        f'<text x="{min(x_high + 6, WIDTH - VALUE_WIDTH + 4)}" y="{y + 14}" '
        f'class="chart-value">≈ {charts._fmt(unseen)}</text></g>'
    )
    out.append("</g></svg>")
    return Markup("".join(out))  # noqa: S704 - every interpolated text is escaped above
