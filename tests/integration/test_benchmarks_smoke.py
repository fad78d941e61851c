"""Benchmarks (scripts/bench.sh) are not part of the suite; this only imports their
modules and runs the pure helpers, so they cannot rot unnoticed."""

from __future__ import annotations

import importlib
import math
import random

import pytest

from benchmarks import b1_reports, b3_throughput, b5_synth, loadgen, machine, payloads, stats

MODULES = (
    "env",
    "run",
    "report",
    "users",
    "b1_reports",
    "b2_linkage",
    "b3_throughput",
    "b4_cases",
    "b5_synth",
    "b6_linkage",
    "b6_splink",
    "loadgen",
    "payloads",
    "machine",
    "stats",
)


@pytest.mark.parametrize("name", MODULES)
def test_every_benchmark_module_imports(name):
    importlib.import_module(f"benchmarks.{name}")


def test_percentiles_interpolate_like_numpy():
    values = [15, 20, 35, 40, 50]
    assert stats.percentile(values, 0) == 15
    assert stats.percentile(values, 100) == 50
    assert stats.percentile(values, 50) == 35
    assert stats.percentile(values, 40) == pytest.approx(29.0)
    assert stats.percentile([7.0], 95) == 7.0
    assert math.isnan(stats.percentile([], 50))
    with pytest.raises(ValueError):
        stats.percentile(values, 101)


def test_summary_and_formatting():
    s = stats.summarize([3.0, 1.0, 2.0, 10.0])
    assert (s.n, s.median, s.minimum, s.maximum) == (4, 2.5, 1.0, 10.0)
    assert stats.fmt_value(1.234, "s") == "1.23 s"
    assert stats.fmt_value(0.085, "s") == "85 ms"
    assert stats.fmt_value(162.4, "req/s") == "162 req/s"
    assert stats.fmt_value(3.456, "ms") == "3.46 ms"
    assert stats.fmt_spread(s, "s") == "1.00 s – 10.00 s (n=4)"
    assert stats.fmt_spread(stats.summarize([5.0]), "s") == "1 run"
    lat = stats.latency_summary([float(x) for x in range(1, 101)])
    assert lat["p50"] == pytest.approx(50.5) and lat["max"] == 100


def test_tables_render():
    result = stats.Result(
        "B1",
        "persons | by region",
        "1,000 persons",
        "s",
        [1.0, 2.0, 3.0],
        "< 2 s",
        True,
        ratio=1.25,
    )
    cells = result.cells()
    assert cells[3] == "2.00 s" and cells[6] == "1.25×" and cells[7] == "yes"
    md = stats.markdown_table(stats.HEADERS, [cells])
    lines = md.splitlines()
    assert lines[0].startswith("| benchmark | what |") and lines[1].startswith("|---|")
    assert "persons \\| by region" in lines[2]
    text = stats.text_table(["a", "bb"], [["xxx", "y"]])
    assert text.splitlines()[0] == "a    bb"


def test_http_helpers():
    request = loadgen.build_request(
        "POST", "/api/v1/screenings", "127.0.0.1:8000", {"Authorization": "Bearer t"}, b"{}"
    )
    assert request.startswith(b"POST /api/v1/screenings HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n")
    assert request.endswith(b"Content-Length: 2\r\n\r\n{}")
    status, headers = loadgen.parse_head(
        b"HTTP/1.1 201 CREATED\r\nContent-Length: 12\r\nConnection: close"
    )
    assert status == 201 and headers["content-length"] == "12"
    assert headers["connection"] == "close"
    with pytest.raises(ValueError):
        loadgen.parse_head(b"garbage")
    with pytest.raises(ValueError):
        loadgen.run("example.org", 80, lambda: ("GET", "/", {}, None), concurrency=1, seconds=0.1)


def test_payloads_are_varied_and_valid(app):
    from caseapp.screening.schema import parse_screening

    rng = random.Random(1)
    bodies = [payloads.screening(rng) for _ in range(50)]
    with app.app_context():
        for body in bodies:
            parse_screening(body)  # raises ValidationFailed on any unknown code
    assert len({b["person"]["family_names"] for b in bodies}) > 10
    assert len({b["region"] for b in bodies}) > 10


def test_parsers_of_other_tools_output():
    out = (
        "persons: 20000\nscreenings: 30408\nlinked persons: 20715\nrows: 150287\n"
        "elapsed: 37.3 s (4,033 rows/s; build+write 33.9 s, write 12.2 s, link 3.2 s)\n"
        "linkage precision 0.9947 recall 0.9257 (pairs: true 14883, linked 13850)\n"
    )
    run = b5_synth.parse_output(out, wall=40.0)
    assert (run.persons, run.screenings, run.rows) == (20000, 30408, 150287)
    assert run.elapsed == 37.3 and run.precision == 0.9947 and "link 3.2 s" in run.phases
    assert run.phase("link") == 3.2 and run.phase("write") == 12.2 and run.phase("x") is None
    assert machine.cpu_model("model name\t: Test CPU @ 2GHz\n") == "Test CPU @ 2GHz"
    assert machine.memory_gib("MemTotal:       25165824 kB\n") == 24.0
    config = b3_throughput.ServerConfig.parse("gthread:3x4")
    assert config.args() == ["-w", "3", "-k", "gthread", "--threads", "4"]
    assert b3_throughput.ServerConfig.parse("sync:5").label == "sync -w 5"


def test_hand_written_sql_compares_cells():
    assert b1_reports.normalize([("15", "girl", 3)], [0, 1]) == {("15", "girl"): 3}
    doc = {
        "rows": [
            {"region": "15", "count": 12, "suppressed": False},
            {"region": "16", "count": None, "suppressed": True},
        ]
    }
    assert b1_reports.published_cells(doc, ["region"]) == {("15",): 12}
    b1_reports.check_equal("same", {("a",): 1}, {("a",): 1})
    with pytest.raises(AssertionError):
        b1_reports.check_equal("differ", {("a",): 1}, {("a",): 2})
    for report in b1_reports.reports():
        for sql in report.candidates.values():
            assert "screening_facts" in sql and "count(*)" in sql
