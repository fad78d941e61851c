"""``python -m benchmarks.run [--persons N] [--only B1,B3] [--quick]`` (via scripts/bench.sh).

Builds the data in the bench database (``CASEAPP_BENCH_DATABASE_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/ruta_bench``; dropped and recreated),
runs the benchmarks, prints the table and writes docs/performance.md.

B6 (linkage quality against Splink, benchmarks/b6_linkage.py) needs no database: with
``--only B6`` nothing is built and only the B6 section of docs/performance.md is
rewritten; its synthetic file has ``--persons`` persons.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from benchmarks import machine, report
from benchmarks.env import DEFAULT_URL, PROJECT_ROOT, BenchEnv, check_bench_url
from benchmarks.stats import (
    HEADERS,
    Result,
    fmt_count,
    fmt_value,
    percentile,
    summarize,
    text_table,
)

ALL = ("B5", "B1", "B2", "B4", "B3", "B3C", "B6", "IMPORT")
DATABASE_BENCHMARKS = ("B5", "B1", "B2", "B4", "B3", "B3C")
#: runs of only these leave the main table (another run's) as it was
PARTIAL = {"B3", "B3C", "B6", "IMPORT"}
QUICK_PERSONS = 20_000
B3C_PERSONS = 20_000  # B3C alone: its data size unless --persons says otherwise
B4_TARGET = 100_000
B3_ORG = "PNP-TRATA-CUS"
B1_ORG = "PNP-TRATA-LIM"


@dataclass
class Plan:
    persons: int
    only: tuple[str, ...]
    quick: bool
    b1_rounds: int
    relink_runs: int
    record_runs: int
    record_per_run: int
    b4_requests: int
    b3_configs: list[str]
    b3_trial_seconds: float
    b3_runs: int
    b3_seconds: float
    b3_clients: int
    output: str
    reuse_data: bool = False
    b3c_rounds: int = 5
    b3c_requests: int = 100
    b6_splink_threshold: float | None = None
    b6_ruta_threshold: float | None = None
    b6_workdir: str | None = None
    b3c_seed: int = 1
    b3c_profile: str | None = None
    import_rows: int = 100_000


def parse_args(argv: Sequence[str] | None = None) -> Plan:
    p = argparse.ArgumentParser(
        prog="scripts/bench.sh",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--persons",
        type=int,
        default=None,
        help="synthetic persons (default 1,000,000; 20,000 with --quick)",
    )
    p.add_argument(
        "--only",
        default="",
        help="comma list of B1..B5, B3C, B6, IMPORT (default: all); B3C alone runs at "
        "20,000 persons",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 20,000 persons, fewer repeats, a 15 s load test",
    )
    p.add_argument(
        "--b3-config",
        default=None,
        help="gunicorn configs to try, e.g. sync:5,gthread:3x4 (the best is kept)",
    )
    p.add_argument("--b3-seconds", type=float, default=None, help="length of each load run")
    p.add_argument("--b3-runs", type=int, default=None, help="load runs with the chosen config")
    p.add_argument("--b3-clients", type=int, default=20, help="concurrent clients")
    p.add_argument("--b3c-rounds", type=int, default=5, help="B3C rounds per path")
    p.add_argument(
        "--b3c-requests", type=int, default=100, help="B3C screenings per round and path"
    )
    p.add_argument(
        "--b6-splink-threshold",
        type=float,
        default=None,
        help="B6: Splink's clustering match probability (default 0.95, as its examples)",
    )
    p.add_argument(
        "--b6-ruta-threshold",
        type=float,
        default=None,
        help="B6: passed to `flask linkage evaluate --threshold` (default: its configuration)",
    )
    p.add_argument(
        "--b6-workdir",
        default=None,
        help="B6: keep the CSV files and both tools' clusters in this folder",
    )
    p.add_argument(
        "--b3c-seed",
        type=int,
        default=1,
        help="B3C payload seed (another seed on --reuse-data: new people, not matches)",
    )
    p.add_argument(
        "--b3c-profile",
        default=None,
        help="B3C under cProfile: write the .pstats file here (its figures are then not "
        "representative: write them to another --output)",
    )
    p.add_argument(
        "--import-rows",
        type=int,
        default=None,
        help="IMPORT: rows of the police-register XLSX (default 100,000; 20,000 with --quick)",
    )
    p.add_argument(
        "--reuse-data",
        action="store_true",
        help="(development) keep the data of the previous run on this database",
    )
    p.add_argument(
        "--output",
        default=str(PROJECT_ROOT / "docs" / "performance.md"),
        help="where to write the results (Markdown)",
    )
    a = p.parse_args(argv)
    only = tuple(x.strip().upper() for x in a.only.split(",") if x.strip()) or ALL
    unknown = [x for x in only if x not in ALL]
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(ALL)}")
    persons = a.persons or (
        QUICK_PERSONS if a.quick else B3C_PERSONS if only == ("B3C",) else 1_000_000
    )
    if a.b3c_rounds < 1 or a.b3c_requests < 1:
        p.error("--b3c-rounds and --b3c-requests must be at least 1")
    if persons < 1000:
        p.error("--persons must be at least 1,000")
    if not 1 <= a.b3_clients <= 200:
        p.error("--b3-clients must be between 1 and 200")
    q = a.quick
    return Plan(
        persons=persons,
        only=only,
        quick=q,
        b1_rounds=3 if q else 5,
        relink_runs=1 if q else 2,
        record_runs=3 if q else 5,
        record_per_run=200 if q else 500,
        b4_requests=50 if q else 200,
        b3_configs=(a.b3_config or "sync:5,gthread:3x4").split(","),
        b3_trial_seconds=0 if q else 20,
        b3_runs=a.b3_runs or (1 if q else 2),
        b3_seconds=min(a.b3_seconds or (15 if q else 60), 600),
        b3_clients=a.b3_clients,
        output=a.output,
        reuse_data=a.reuse_data,
        b3c_rounds=a.b3c_rounds,
        b3c_requests=a.b3c_requests,
        b6_splink_threshold=a.b6_splink_threshold,
        b6_ruta_threshold=a.b6_ruta_threshold,
        b6_workdir=a.b6_workdir,
        b3c_seed=a.b3c_seed,
        b3c_profile=a.b3c_profile,
        import_rows=a.import_rows or (20_000 if q else 100_000),
    )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Context:
    plan: Plan
    env: BenchEnv
    results: list[Result] = field(default_factory=list)
    details: dict[str, list[str]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    b3c: dict[str, Any] = field(default_factory=dict)  # path → b3_cost.Round list
    b3: dict[str, Any] = field(default_factory=dict)  # B3's headline, for its runs table
    app: Any = None
    synth_link: float | None = None  # seconds of synth's relink_all from scratch (B5)

    def add(self, result: Result) -> None:
        self.results.append(result)

    def detail(self, bench: str, line: str) -> None:
        self.details.setdefault(bench, []).append(line)

    @property
    def size(self) -> str:
        return (
            f"{fmt_count(self.sizes.get('persons', 0))} persons / "
            f"{fmt_count(self.sizes.get('screenings', 0))} screenings"
        )


def vacuum_analyze(env: BenchEnv) -> None:
    engine = sa.create_engine(env.url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    finally:
        engine.dispose()


def count_sizes(ctx: Context) -> None:
    from caseapp.extensions import db

    with ctx.app.app_context():
        for table in ("screenings", "screening_facts", "cases"):
            ctx.sizes[table] = int(
                db.session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() or 0
            )
        ctx.sizes["linked_persons"] = int(
            db.session.execute(
                sa.text("SELECT count(DISTINCT person_id) FROM screening_facts")
            ).scalar()
            or 0
        )
        db.session.rollback()


# -- the benchmarks ------------------------------------------------------------------------


def bench_b5(ctx: Context) -> None:
    from benchmarks import b5_synth

    plan = ctx.plan
    log(f"B5 synth: {plan.persons:,} persons (flask synth, progress bar below)")
    run = b5_synth.run_synth(ctx.env, plan.persons)
    ctx.sizes.update(persons=run.persons, screenings=run.screenings)
    ctx.synth_link = run.phase("link")
    goal_s = 300 * plan.persons / 1_000_000
    ctx.add(
        Result(
            "B5",
            "flask synth --persons N (build rows, COPY, link, commit)",
            f"{fmt_count(run.persons)} persons / {fmt_count(run.screenings)} screenings / "
            f"{fmt_count(run.rows)} rows",
            "s",
            [run.wall],
            f"≤ {fmt_value(goal_s, 's')} (5 min per 1M)",
            run.wall <= goal_s,
        )
    )
    ctx.detail(
        "B5",
        f"`flask synth --persons {plan.persons} --seed 1`: {run.wall:.1f} s wall "
        f"(synth reports {run.elapsed:.1f} s: {run.phases}); "
        f"{run.linked_persons:,} linked persons; linkage precision "
        f"{run.precision} recall {run.recall}.",
    )
    ctx.detail(
        "B5",
        "One run: it is the data build of every other benchmark (repeating it "
        "would not fit the time budget).",
    )
    log(f"  {run.wall:.1f} s ({run.phases})")


def bench_b1(ctx: Context, statistician_token: str) -> None:
    from benchmarks import b1_reports

    log("B1 statistics (report API vs hand-written SQL)")
    timings = b1_reports.run(ctx.app, statistician_token, ctx.plan.b1_rounds, log)
    for t in timings:
        floor = summarize(t.floor).median
        service = summarize(t.service).median
        ratio = service / floor if floor else float("nan")
        ctx.add(
            Result(
                "B1",
                f"{t.report.what}: GET /api/v1/reports/victims (statistician)",
                f"{ctx.size}; {t.total_persons:,} persons counted",
                "s",
                t.service,
                "< 2 s and ≤ 1.5× SQL",
                service < 2 and ratio <= 1.5,
                ratio,
            )
        )
        ctx.add(
            Result(
                "B1",
                f"{t.report.what}: SQL floor ({t.floor_name})",
                "same",
                "s",
                t.floor,
                "—",
                None,
            )
        )
        parts = ", ".join(f"{name} {v:.2f} s" for name, v in t.first_pass.items())
        ctx.detail(
            "B1",
            f"{t.report.what} ({t.cells} cells, {t.total_persons:,} persons): "
            f"hand-written forms, one timed run each while checking their counts: "
            f"{parts}; the fastest ({t.floor_name}) is the floor.",
        )


def bench_b2(ctx: Context) -> None:
    from benchmarks import b2_linkage

    plan = ctx.plan
    log("B2 linkage")
    relinks = b2_linkage.run_relink(ctx.app, plan.relink_runs, log)
    ctx.add(
        Result(
            "B2",
            "relink_all(): full recompute of every person (linked data, rolled back)",
            f"{relinks[0].screenings:,} screenings → {relinks[0].persons:,} persons",
            "s",
            [r.seconds for r in relinks],
            "≤ 60 s",
            summarize([r.seconds for r in relinks]).median <= 60,
        )
    )
    if ctx.synth_link is not None:
        ctx.add(
            Result(
                "B2",
                "relink_all() from scratch (every fact its own person): synth's link phase",
                f"{ctx.sizes.get('screenings', 0):,} screenings",
                "s",
                [ctx.synth_link],
                "≤ 60 s",
                ctx.synth_link <= 60,
            )
        )
    records = b2_linkage.run_record(ctx.app, plan.record_runs, plan.record_per_run, log)
    means = [sum(r) / len(r) * 1000 for r in records]
    pooled = [x * 1000 for r in records for x in r]
    ctx.add(
        Result(
            "B2",
            f"new screening: facts.record (fact insert + link_one), mean of "
            f"{plan.record_per_run} per run",
            ctx.size,
            "ms",
            means,
            "≤ 5 ms",
            summarize(means).median <= 5,
        )
    )
    ctx.detail(
        "B2",
        f"Per new screening, pooled over {len(pooled)}: p50 "
        f"{percentile(pooled, 50):.2f} ms, p95 {percentile(pooled, 95):.2f} ms, max "
        f"{max(pooled):.1f} ms.",
    )


def bench_b4(ctx: Context) -> None:
    from benchmarks import b4_cases, users
    from caseapp.extensions import db

    log("B4 case lists")
    with ctx.app.app_context():
        org, code, have = b4_cases.largest_org()
        added = b4_cases.top_up(org, B4_TARGET)
        db.session.commit()
    if added:
        vacuum_analyze(ctx.env)
    ctx.detail(
        "B4",
        f"Organization {code}: {have:,} synthetic cases, topped up with "
        f"{added:,} cloned cases to {B4_TARGET:,}.",
    )
    with ctx.app.app_context():
        screener = users.ensure_user("b4.screener@bench.invalid", "screener", code)
        document = b4_cases.sample_document(org)
        region_codes = b4_cases.regions(org)
        db.session.rollback()
    endpoints = b4_cases.measure(
        ctx.app,
        screener.token,
        screener.email,
        screener.password,
        document,
        region_codes,
        requests=ctx.plan.b4_requests,
        log=log,
    )
    for e in endpoints:
        s = e.summary
        ctx.add(
            Result(
                "B4",
                e.what,
                f"{B4_TARGET:,} cases in {code}",
                "ms",
                e.latencies_ms,
                "p95 ≤ 100 ms",
                s["p95"] <= 100,
                spread_override=f"p95 {s['p95']:.1f} ms; max {s['max']:.0f} ms "
                f"(n={len(e.latencies_ms)})",
            )
        )


def cpu_ms(run: Any) -> float:
    """All cores' busy time per acknowledged request, minus the load generator's."""
    cores = os.cpu_count() or 1
    if not run.throughput:
        return float("nan")
    return (run.machine_busy * cores - run.generator_cpu) * 1000 / run.throughput


def bench_b3(ctx: Context, screener_token: str) -> None:
    from benchmarks import b3_throughput

    plan = ctx.plan
    configs = [b3_throughput.ServerConfig.parse(c) for c in plan.b3_configs]
    log(
        f"B3 screening throughput ({plan.b3_clients} clients, {plan.b3_seconds:.0f} s × "
        f"{plan.b3_runs})"
    )
    chosen, trials, runs = b3_throughput.run(
        ctx.env,
        ctx.app,
        screener_token,
        configs,
        runs=plan.b3_runs,
        seconds=plan.b3_seconds,
        concurrency=plan.b3_clients,
        log=log,
        trial_seconds=plan.b3_trial_seconds,
    )
    acked = [i for r in runs for i in r.acknowledged]
    missing = b3_throughput.missing_ids(ctx.app, acked)
    pooled = [x for r in runs for x in r.latencies]
    errors = sum(r.errors for r in runs)
    p95 = percentile(pooled, 95)
    size = f"{ctx.size}; {plan.b3_clients} clients × {plan.b3_seconds:.0f} s"
    tps = [r.throughput for r in runs]
    ctx.add(
        Result(
            "B3",
            f"POST /api/v1/screenings throughput, gunicorn {chosen.label}",
            size,
            "req/s",
            tps,
            "≥ 150 req/s",
            summarize(tps).median >= 150,
        )
    )
    ctx.add(
        Result(
            "B3",
            "POST /api/v1/screenings latency (all requests of all runs)",
            size,
            "ms",
            pooled,
            "p95 ≤ 150 ms",
            p95 <= 150,
            spread_override=f"p95 {p95:.0f} ms; p99 {percentile(pooled, 99):.0f} ms "
            f"(n={len(pooled)})",
        )
    )
    ctx.add(
        Result(
            "B3",
            "errors / acknowledged (201) screenings missing from the database",
            size,
            "",
            [float(errors + len(missing))],
            "0 errors, 0 lost",
            errors == 0 and not missing,
            median_override=f"{errors} errors / {len(missing)} lost",
            spread_override=f"{len(acked):,} acknowledged, all looked up",
        )
    )
    for t in trials:
        ctx.detail(
            "B3",
            f"Trial {t.config} ({t.seconds:.0f} s): {t.throughput:.0f} req/s, "
            f"p95 {t.latency_ms['p95']:.0f} ms, errors {t.errors}.",
        )
    for i, r in enumerate(runs, 1):
        ctx.detail(
            "B3",
            f"Run {i} ({r.config}, {r.seconds:.0f} s): {r.requests:,} requests, "
            f"{r.throughput:.0f} req/s, p50 {r.latency_ms['p50']:.0f} / p95 "
            f"{r.latency_ms['p95']:.0f} / p99 {r.latency_ms['p99']:.0f} ms, errors "
            f"{r.errors} {r.error_statuses or ''}, all cores busy "
            f"{r.machine_busy:.0%} (about {cpu_ms(r):.0f} ms of CPU per request, "
            f"server and database), load generator {r.generator_cpu:.2f} cores, "
            f"keep-alive resends {r.retries}.",
        )
    ctx.detail("B3", f"Chosen: gunicorn {chosen.label}.")
    cpu = [cpu_ms(r) for r in runs]
    ctx.b3 = {
        "config": chosen.label,
        "tps": tps,
        "p95": p95,
        "cpu_ms": summarize(cpu).median if cpu else float("nan"),
        "errors": errors,
        "lost": len(missing),
        "acknowledged": len(acked),
        "clients": plan.b3_clients,
        "seconds": plan.b3_seconds,
    }


def bench_b3c(ctx: Context, screener: Any) -> None:
    from benchmarks import b3_cost

    plan = ctx.plan
    log(
        f"B3C cost of one screening ({plan.b3c_rounds} rounds × {plan.b3c_requests} "
        f"per path, in process)"
    )
    profiler = None
    if plan.b3c_profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    ctx.b3c = b3_cost.run(
        ctx.app,
        screener.token,
        screener.email,
        screener.password,
        rounds=plan.b3c_rounds,
        requests=plan.b3c_requests,
        log=log,
        seed=plan.b3c_seed,
    )
    if profiler is not None and plan.b3c_profile:
        profiler.disable()
        profiler.dump_stats(plan.b3c_profile)
        log(f"  cProfile of B3C written to {plan.b3c_profile}")


def git_commit() -> str:
    """The short commit measured, with ``+`` when the application (``caseapp/``) has
    uncommitted changes."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--", "caseapp").splitlines()
    return head + ("+" if changed else "")


def command_line(plan: Plan) -> str:
    return (
        f"scripts/bench.sh --persons {plan.persons}"
        + (f" --only {','.join(plan.only)}" if len(plan.only) < len(ALL) else "")
        + (" --quick" if plan.quick else "")
        + (" --reuse-data" if plan.reuse_data else "")
        + (f" --b3c-seed {plan.b3c_seed}" if plan.b3c_seed != 1 else "")
    )


def bench_b6(plan: Plan) -> tuple[str, str, list[str]]:
    """Run B6; return its section of docs/performance.md, its terminal table and the
    datasets whose goal was missed."""
    from pathlib import Path

    from benchmarks import b6_linkage

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    load_start = machine.load_averages()
    log(f"B6 linkage quality against Splink (synth: {plan.persons:,} persons)")
    rows = b6_linkage.run(
        plan.persons,
        log,
        workdir=Path(plan.b6_workdir) if plan.b6_workdir else None,
        ruta_threshold=plan.b6_ruta_threshold,
        splink_threshold=plan.b6_splink_threshold,
    )
    elapsed = time.perf_counter() - t0
    command = f"scripts/bench.sh --only B6 --persons {plan.persons}"
    if plan.b6_ruta_threshold is not None:
        command += f" --b6-ruta-threshold {plan.b6_ruta_threshold}"
    if plan.b6_splink_threshold is not None:
        command += f" --b6-splink-threshold {plan.b6_splink_threshold}"
    cells = [b6_linkage.cells(r) for r in rows]
    section = report.render_b6(
        rows=cells,
        headers=b6_linkage.HEADERS,
        started=started,
        elapsed=elapsed,
        command=command,
        machine=machine.describe("not used"),
        load_start=load_start,
        load_end=machine.load_averages(),
        versions=b6_linkage.versions(),
        notes=b6_linkage.notes(rows),
        splink_threshold=plan.b6_splink_threshold or b6_linkage.splink_default_threshold(),
    )
    missed = [r.dataset.label for r in rows if r.met() is False]
    return section, text_table(b6_linkage.HEADERS, cells), missed


def bench_import(plan: Plan) -> None:
    """The register import (benchmarks/imports.py: its own SQLite file and PostgreSQL
    database ``ruta_bench_import``); it rewrites its own section of the results file."""
    from benchmarks import imports

    log(f"IMPORT register import: {plan.import_rows:,} rows (benchmarks/imports.py)")
    imports.main(["--rows", str(plan.import_rows), "--output", plan.output])


def keep_other_sections(doc: str, previous: str) -> str:
    """The sections other commands write (register import, HTCDS round trip), carried over
    from the previous document when a full run rewrites it."""
    from benchmarks import imports

    kept = imports.extract_section(previous)
    if kept and not imports.extract_section(doc):
        doc = imports.replace_section(doc, kept.rstrip() + "\n")
    htcds = report.extract_section(previous, "## HTCDS round trip")
    if htcds and report.extract_section(doc, "## HTCDS round trip") is None:
        doc = doc.rstrip() + "\n\n" + htcds
    return doc


def write_b6_only(output: str, section: str) -> None:
    """Replace (or add) the B6 section of the results file, leaving the rest as it was."""
    from pathlib import Path

    path = Path(output)
    doc = path.read_text(encoding="utf-8") if path.exists() else report.INTRO
    path.write_text(report.replace_section(doc, report.B6_HEADING, section), encoding="utf-8")


# -- main ---------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    plan = parse_args(argv)
    if not any(b in DATABASE_BENCHMARKS for b in plan.only):  # B6, IMPORT: no bench database
        if "B6" in plan.only:
            section, table, b6_missed = bench_b6(plan)
            print(table)
            write_b6_only(plan.output, section)
            log(f"wrote the B6 section of {plan.output}")
            if b6_missed:
                log("goals missed: " + "; ".join(f"B6 {m}" for m in b6_missed))
        if "IMPORT" in plan.only:
            bench_import(plan)
        return 0
    url = os.environ.get("CASEAPP_BENCH_DATABASE_URL", "").strip() or DEFAULT_URL
    check_bench_url(url)
    env = BenchEnv.for_url(url, reuse=plan.reuse_data)
    started = datetime.now(UTC)
    t_start = time.perf_counter()
    load_start = machine.load_averages()
    log(
        f"Ruta benchmarks: {plan.persons:,} persons, {', '.join(plan.only)}; database "
        f"{url}; load averages {machine.fmt_load(load_start)}"
    )
    ctx = Context(plan, env)

    if plan.reuse_data:
        log("reusing the data of the previous run")
    else:
        log("building the database (drop, create, migrate, seed)")
        env.build_empty()
    if plan.reuse_data:
        pass
    elif "B5" in plan.only:
        bench_b5(ctx)
    else:
        from benchmarks import b5_synth

        log(f"data: flask synth --persons {plan.persons:,} (B5 not selected: not reported)")
        run = b5_synth.run_synth(env, plan.persons)
        ctx.sizes.update(persons=run.persons, screenings=run.screenings)
        ctx.synth_link = run.phase("link")
    if not plan.reuse_data:
        vacuum_analyze(env)
    ctx.app = env.create_app()
    count_sizes(ctx)
    ctx.sizes.setdefault("persons", plan.persons)

    from benchmarks import users

    with ctx.app.app_context():
        statistician = users.ensure_user("b1.statistician@bench.invalid", "statistician", B1_ORG)
        screener = users.ensure_user("b3.screener@bench.invalid", "screener", B3_ORG)

    if "B1" in plan.only:
        bench_b1(ctx, statistician.token)
    if "B2" in plan.only:
        bench_b2(ctx)
    if "B4" in plan.only:
        bench_b4(ctx)
    if "B3" in plan.only:
        bench_b3(ctx, screener.token)
    if "B3C" in plan.only:
        with ctx.app.app_context():
            cost_user = users.ensure_user("b3c.screener@bench.invalid", "screener", B3_ORG)
        bench_b3c(ctx, cost_user)
    b6_section, b6_table, b6_missed = None, "", []
    if "B6" in plan.only:
        b6_section, b6_table, b6_missed = bench_b6(plan)

    load_end = machine.load_averages()
    elapsed = time.perf_counter() - t_start
    info = machine.describe(env.postgres_version())
    rows = [r.cells() for r in ctx.results]
    if rows:
        print(text_table(HEADERS, rows))
    if b6_table:
        print(b6_table)
    try:
        with open(plan.output, encoding="utf-8") as f:
            previous = f.read()
    except FileNotFoundError:
        previous = ""
    section = report.b3c_section(previous)
    if ctx.b3c:
        section = report.render_b3c(
            command=command_line(plan),
            started=started,
            commit=git_commit(),
            load_start=load_start,
            load_end=load_end,
            sizes=ctx.sizes,
            rounds=ctx.b3c,
            cores=os.cpu_count() or 1,
            previous=previous,
            analysis=report.B3C_ANALYSIS,
        )
        print(section)
    b3_runs = report.b3_runs_section(previous)
    if ctx.b3:
        b3 = ctx.b3
        tps = summarize(b3["tps"])
        b3_runs = report.render_b3_runs(
            [
                f"{started:%Y-%m-%d %H:%M}",
                git_commit(),
                f"{fmt_count(ctx.sizes.get('persons', 0))} persons; {b3['clients']} clients "
                f"× {b3['seconds']:.0f} s",
                f"{load_start[0]:.2f} → {load_end[0]:.2f}",
                b3["config"],
                f"{tps.median:.0f} ({', '.join(f'{t:.0f}' for t in b3['tps'])})",
                f"{b3['p95']:.0f} ms",
                f"{b3['cpu_ms']:.0f} ms",
                f"{b3['errors']} / {b3['lost']} of {b3['acknowledged']:,}",
            ],
            previous,
        )
        print(b3_runs)
    if set(plan.only) <= PARTIAL:  # the rest of the document is another run's: kept
        doc = previous or report.INTRO
        if section:
            doc = report.splice_b3c(doc, section)
        if b3_runs:
            doc = report.splice_b3_runs(doc, b3_runs)
    else:
        doc = report.render(
            plan=plan,
            machine=info,
            started=started,
            elapsed=elapsed,
            load_start=load_start,
            load_end=load_end,
            sizes=ctx.sizes,
            results=ctx.results,
            details=ctx.details,
            url=url,
            command=command_line(plan),
        )
        if section:
            doc = report.splice_b3c(doc, section)
        if b3_runs:
            doc = report.splice_b3_runs(doc, b3_runs)
        doc = keep_other_sections(doc, previous)
    b6_section = b6_section or report.extract_section(previous, report.B6_HEADING)
    if b6_section:  # this run's, or the previous run's kept
        doc = report.replace_section(doc, report.B6_HEADING, b6_section)
    with open(plan.output, "w", encoding="utf-8") as f:
        f.write(doc)
    log(f"wrote {plan.output} ({elapsed / 60:.1f} min; load averages {machine.fmt_load(load_end)})")
    with ctx.app.app_context():
        from caseapp.extensions import db

        db.engine.dispose()
    missed = [f"{r.bench} {r.what}" for r in ctx.results if r.met is False]
    missed += [f"B6 {m}" for m in b6_missed]
    if "IMPORT" in plan.only:  # its own databases; writes its own section
        bench_import(plan)
    if missed:
        log("goals missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
