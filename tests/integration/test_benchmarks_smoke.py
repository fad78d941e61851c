"""Benchmarks (scripts/bench.sh) are not part of the suite; this only imports their
modules and runs the pure helpers, so they cannot rot unnoticed."""

from __future__ import annotations

import importlib
import math
import random

import pytest

from benchmarks import (
    b1_reports,
    b3_cost,
    b3_throughput,
    b5_synth,
    loadgen,
    machine,
    payloads,
    stats,
)
from benchmarks import (
    report as bench_report,
)

MODULES = (
    "env",
    "run",
    "report",
    "users",
    "b1_reports",
    "b2_linkage",
    "b3_throughput",
    "b3_cost",
    "b4_cases",
    "b5_synth",
    "b6_linkage",
    "b6_splink",
    "imports",
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


def test_b3c_form_fields_post_the_same_facts_as_the_api_body(client, login_as):
    """B3C's web path types exactly what its API path posts (to the minute)."""
    import json

    import sqlalchemy as sa

    from caseapp.extensions import db
    from caseapp.screening.models import Screening
    from caseapp.screening.schema import parse_screening
    from tests.conftest import csrf_from

    login_as("screener")
    token = csrf_from(client.get("/screenings/new").get_data(as_text=True))
    rng = random.Random(3)
    for n in range(12):
        body = payloads.screening(rng)
        body["identified_at"] = body["identified_at"][:16] + ":00" + body["identified_at"][19:]
        data = {**b3_cost.form_fields(body), "csrf_token": token, "submission_id": f"k{n}"}
        response = client.post("/screenings/new", data=data)
        assert response.status_code == 303, response.get_data(as_text=True)[:1500]
        uuid = response.headers["Location"].rsplit("/", 1)[1]
        stored = db.session.scalar(sa.select(Screening.facts).where(Screening.uuid == uuid))
        expected = parse_screening(body).model_dump(mode="json")
        assert json.loads(stored) == expected


def test_b3c_reads_a_process_cpu_time_from_proc(tmp_path):
    (tmp_path / "42").mkdir()
    fields = ["S"] + ["0"] * 10 + ["250", "50"] + ["0"] * 30  # utime, stime: fields 14, 15
    (tmp_path / "42" / "stat").write_text("42 (postgres: a (b) c) " + " ".join(fields))
    ticks = b3_cost._CLOCK_TICKS
    assert b3_cost.backend_cpu_seconds(42, tmp_path) == pytest.approx(300 / ticks)


def test_b3c_section_replaces_itself_and_keeps_earlier_runs():
    from datetime import UTC, datetime

    def rounds(app_ms: float) -> dict[str, list[b3_cost.Round]]:
        r = b3_cost.Round("api", 10, app_ms / 100, 0.02, 0.3, 220, 10, [22] * 10, 1)
        return {"api": [r, r]}

    def section(app_ms: float, previous: str) -> str:
        return bench_report.render_b3c(
            command="scripts/bench.sh --only B3C",
            started=datetime(2026, 12, 5, 18, 0, tzinfo=UTC),
            commit="abc1234",
            load_start=(1.0, 1.0, 1.0),
            load_end=(1.0, 1.0, 1.0),
            sizes={"persons": 20_000},
            rounds=rounds(app_ms),
            cores=2,
            previous=previous,
        )

    doc = "# Performance\n\nintro\n\n## How each benchmark measures\n\n- B1\n"
    first = bench_report.splice_b3c(doc, section(20.0, doc))
    assert first.index("## B3C") < first.index("## How each benchmark measures")
    assert "| api | 20.0 ms (20.0–20.0) | 2.0 ms (2.0–2.0) | 22.0 ms | 22.0 (+ 1)" in first
    assert "91 req/s | **no** |" in first
    second = bench_report.splice_b3c(first, section(4.0, first))
    assert second.count("## B3C") == 1 and second.startswith("# Performance\n\nintro")
    runs = bench_report.b3c_runs(second)
    assert len(runs) == 2 and "| 4.0 |" in runs[0] and "| 20.0 |" in runs[1]
    assert "333 req/s | yes |" in second


def test_b3_runs_and_import_sections_keep_the_rest_of_the_document():
    from datetime import UTC, datetime

    from benchmarks import imports

    doc = "# Performance\n\n## Results\n\nmain\n\n## How each benchmark measures\n\n- B1\n"
    row = ["2026-12-05 21:00", "abc1234", "20,000 persons", "1.00 → 2.00", "sync -w 5"]
    first = bench_report.splice_b3_runs(doc, bench_report.render_b3_runs([*row, "40 (40)"]))
    second_section = bench_report.render_b3_runs([*row, "90 (90)"], first)
    second = bench_report.splice_b3_runs(first, second_section)
    assert second.count("## B3 runs kept") == 1 and "main" in second
    runs = bench_report.b3_runs(second)
    assert len(runs) == 2 and "90 (90)" in runs[0] and "40 (40)" in runs[1]
    assert second.index("## B3 runs") < second.index("## How each benchmark measures")

    backend = imports.Backend("sqlite", "sqlite://")
    step = {
        "step": "real",
        "wall": 50.0,
        "cpu": 40.0,
        "db_cpu": None,
        "rss_mb": 300.0,
        "rss_before_mb": 120.0,
        "workers": 2,
        "workers_cpu": 30.0,
        "workers_rss_mb": 400.0,
        "tree_pss_mb": 1100.0,
        "rows": 10,
        "created": 10,
        "existing": 0,
        "problems": 0,
        "screenings_new": 10,
        "persons": 9,
        "relink": {"wall": 2.0, "cpu": 1.5, "db_cpu": 0.0},
    }
    again = {
        **step,
        "step": "again",
        "wall": 70.0,
        "created": 0,
        "existing": 10,
        "screenings_new": 0,
        "relink": None,
    }
    backend.steps = [step, again]

    def section(notes: str = "") -> str:
        return imports.render(
            [backend],
            {"rows": 10, "file_mb": 0.1},
            started=datetime(2026, 12, 5, 21, 0, tzinfo=UTC),
            commit="abc1234",
            command="python -m benchmarks.imports --rows 10",
            load_start=(1.0, 1.0, 1.0),
            load_end=(2.0, 2.0, 2.0),
            notes=notes,
        )

    with_import = imports.replace_section(second, section())
    assert (
        "| sqlite | real run | 50.0 | 40.0 + 30.0 | — | 300 + 2 × 400 MB | 1100 MB | 10 | 10 | 0 "
        "| 2.0 s wall" in with_import
    )
    # the processes together (PSS) held over the 1 GB goal: the real run misses it
    assert with_import.count("| **no** |") == 2
    assert "| sqlite | re-import | 70.0 |" in with_import and "| **no** |" in with_import
    notes = f"{imports.NOTES_START}\nwhere the time goes\n{imports.NOTES_END}"
    kept = imports.replace_section(
        with_import,
        section(imports._kept_notes(imports.replace_section(with_import, section(notes)))),
    )
    assert kept.count(imports.HEADING) == 1 and "where the time goes" in kept
    assert bench_report.b3_runs(kept) == runs and "main" in kept
