"""Pure helpers: percentiles, summaries of repeated runs, number and table formatting.

No Flask, no database: the smoke test (tests/integration/test_benchmarks_smoke.py) runs
these directly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) with linear interpolation between closest ranks
    (numpy's default "linear" method); ``nan`` for no values."""
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


@dataclass(frozen=True)
class Summary:
    """Median and spread of repeated measurements."""

    n: int
    median: float
    minimum: float
    maximum: float
    p25: float
    p75: float

    @property
    def iqr(self) -> float:
        return self.p75 - self.p25


def summarize(samples: Sequence[float]) -> Summary:
    if not samples:
        raise ValueError("no samples")
    return Summary(
        n=len(samples),
        median=percentile(samples, 50),
        minimum=min(samples),
        maximum=max(samples),
        p25=percentile(samples, 25),
        p75=percentile(samples, 75),
    )


def fmt_value(value: float, unit: str) -> str:
    """A measurement with a sensible precision: ``1.23 s``, ``85 ms``, ``162 req/s``."""
    if math.isnan(value):
        return "—"
    if unit == "s":
        if value >= 100:
            return f"{value:,.0f} s"
        if value >= 1:
            return f"{value:.2f} s"
        return f"{value * 1000:.0f} ms" if value >= 0.01 else f"{value * 1000:.1f} ms"
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 10 else f"{value:.2f} ms"
    if unit == "req/s":
        return f"{value:,.0f} req/s"
    if unit == "":
        return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
    return f"{value:,.2f} {unit}"


def fmt_spread(summary: Summary, unit: str) -> str:
    """``min–max (n runs)``; a single run has no spread."""
    if summary.n == 1:
        return "1 run"
    low, high = fmt_value(summary.minimum, unit), fmt_value(summary.maximum, unit)
    return f"{low} – {high} (n={summary.n})"


def fmt_count(n: int) -> str:
    return f"{n:,}"


@dataclass
class Result:
    """One row of the results table."""

    bench: str
    what: str
    size: str
    unit: str
    samples: list[float]
    goal: str
    met: bool | None
    ratio: float | None = None  # to the hand-written SQL floor (B1)
    notes: list[str] = field(default_factory=list)
    median_override: str | None = None
    spread_override: str | None = None  # e.g. the p95 of pooled request latencies

    @property
    def summary(self) -> Summary:
        return summarize(self.samples)

    def cells(self) -> list[str]:
        s = self.summary
        return [
            self.bench,
            self.what,
            self.size,
            self.median_override or fmt_value(s.median, self.unit),
            self.spread_override or fmt_spread(s, self.unit),
            self.goal,
            "—" if self.ratio is None else f"{self.ratio:.2f}×",
            {True: "yes", False: "**no**", None: "—"}[self.met],
        ]


HEADERS = [
    "benchmark",
    "what",
    "data size",
    "median",
    "spread",
    "goal",
    "ratio to SQL floor (B1)",
    "met?",
]


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table; ``|`` in cells is escaped."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    out = [line(headers), "|" + "|".join("---" for _ in headers) + "|"]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain aligned table for the terminal."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max of request latencies (milliseconds)."""
    return {
        "p50": percentile(latencies_ms, 50),
        "p95": percentile(latencies_ms, 95),
        "p99": percentile(latencies_ms, 99),
        "max": max(latencies_ms) if latencies_ms else math.nan,
    }
