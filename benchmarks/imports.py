"""Register import at scale (issue 17): a synthetic police-register XLSX of ``--rows`` rows
imported through the production path, dry run, real run and re-import, on a fresh SQLite
file and a fresh PostgreSQL database.

    python -m benchmarks.imports --rows 100000 [--database-url URL] [--backends sqlite,postgresql]
    scripts/bench.sh --only IMPORT [--import-rows 100000]

The file is written by ``devtools.import_samples.write_police_xlsx`` (the columns of
``config/import/police-register.toml``; names from devtools/synth's pools, varied dates,
documents and codes; a date of birth or an age, a document or none). Each database is
created empty, migrated and seeded with the documented commands (``flask db upgrade``,
``flask seed``). Each step runs in a process of its own (``--step``), so its peak RSS
(``ru_maxrss``) is its own: the app is created, then
``caseapp.imports.services.import_file`` runs as ``flask import run`` calls it, and the
transaction is committed. Wall and CPU seconds cover reading the file, checking and
writing every row, the relink and the commit (not the interpreter start). The real run's
``facts.relink_all`` (when the batch triggers one) is timed by a wrapper around it, its behaviour
unchanged. On PostgreSQL the server's CPU is the session backend's
(``/proc/<pid>/stat``, as B3C). The section of docs/performance.md between the IMPORT
markers is rewritten.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks import machine
from benchmarks.env import PROJECT_ROOT, BenchEnv, recreate_database

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/ruta_bench_import"
DOCS = PROJECT_ROOT / "docs" / "performance.md"
PROFILE = "police-register"
ORG = "PNP-TRATA-LIM"
STEPS = ("dry", "real", "again")
GOAL_SECONDS = 60.0
GOAL_RSS_MB = 1024.0
#: worker processes for the import (``--workers``); None: ``services.workers_default()``
WORKERS: int | None = None

START = "<!-- IMPORT:start (python -m benchmarks.imports rewrites this section) -->"
END = "<!-- IMPORT:end -->"
HEADING = "## Register import (issue 17)"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- one step, in its own process -------------------------------------------------------------


def run_step(step: str, path: Path, org_code: str, profile_out: Path | None) -> dict[str, Any]:
    """Import ``path`` once (``step``: dry, real or again) in this process; the figures."""
    from caseapp import create_app
    from caseapp.accounts.models import Organization
    from caseapp.audit.services import SYSTEM
    from caseapp.extensions import db
    from caseapp.facts import services as facts
    from caseapp.imports import profiles, services
    from caseapp.screening.models import Screening

    app = create_app()
    workers = WORKERS if WORKERS is not None else services.workers_default()
    relink: dict[str, float] = {}
    original = facts.relink_all

    def timed_relink(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        db_cpu = _db_cpu(probe)
        try:
            return original(*args, **kwargs)
        finally:
            relink["wall"] = relink.get("wall", 0.0) + time.perf_counter() - wall
            relink["cpu"] = relink.get("cpu", 0.0) + time.process_time() - cpu
            relink["db_cpu"] = relink.get("db_cpu", 0.0) + _db_cpu(probe) - db_cpu

    facts.relink_all = timed_relink  # the service calls facts.relink_all(): same behaviour
    probe = None
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            from benchmarks.b3_cost import Probe

            probe = Probe()
            probe.attach(db.engine)
        profile = profiles.load(PROFILE)
        org = db.session.scalar(sa.select(Organization).where(Organization.code == org_code))
        if org is None:
            raise SystemExit(f"no organization {org_code!r}")
        before = int(db.session.scalar(sa.select(sa.func.count()).select_from(Screening)) or 0)
        db.session.rollback()
        rss_before = _rss_mb()
        profiler = None
        if profile_out is not None:
            import cProfile

            profiler = cProfile.Profile()
        wall, cpu = time.perf_counter(), time.process_time()
        workers_cpu = _children_cpu()
        db_cpu = _db_cpu(probe)
        sampler = TreeMemory()
        sampler.start()
        if profiler is not None:
            profiler.enable()
        data = path.read_bytes()
        try:
            result = services.import_file(
                SYSTEM,
                org,
                profile,
                data,
                filename=path.name,
                dry_run=step == "dry",
                workers=workers,
            )
        except services.ImportRefused as exc:
            db.session.rollback()
            raise SystemExit(f"refused: {exc.result.summary()}") from exc
        db.session.commit()
        if profiler is not None:
            profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        sampler.stop()
        workers_cpu = _children_cpu() - workers_cpu
        db_cpu = _db_cpu(probe) - db_cpu
        after = int(db.session.scalar(sa.select(sa.func.count()).select_from(Screening)) or 0)
        linked = int(
            db.session.scalar(sa.select(sa.func.count(sa.distinct(facts_person_column())))) or 0
        )
        db.session.rollback()
        db.engine.dispose()
    if profiler is not None and profile_out is not None:
        profiler.dump_stats(str(profile_out))
    return {
        "step": step,
        "backend": app.config["DATABASE_URL"].split(":", 1)[0].split("+", 1)[0],
        "wall": wall,
        "cpu": cpu,
        "db_cpu": db_cpu if probe is not None else None,
        "rss_mb": _rss_mb(),
        "rss_before_mb": rss_before,
        "workers": workers,
        "workers_cpu": workers_cpu,
        "workers_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "tree_pss_mb": sampler.peak_mb,
        "rows": result.rows,
        "created": result.created,
        "existing": result.existing,
        "problems": result.problems_count,
        "screenings_new": after - before,
        "persons": linked,
        "relink": relink or None,
    }


def facts_person_column() -> Any:
    from caseapp.facts.models import ScreeningFact

    return ScreeningFact.person_id


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _children_cpu() -> float:
    """CPU seconds of the finished worker processes (the pool's, joined when it closes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class TreeMemory:
    """The peak of the memory this process and its workers hold together, sampled every
    0.5 s (reading smaps_rollup costs the kernel a walk of the page tables): the sum of
    their proportional set sizes (``Pss`` of /proc/PID/smaps_rollup: a page shared by
    the forked workers and their parent counts once, split among them). The workers'
    own peaks (``ru_maxrss``) do not add up: they count the parent's shared pages again,
    and the workers are gone before the main process links the batch."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self.peak_mb = max(self.peak_mb, _tree_pss_kb(os.getpid()) / 1024)
            if self._done.wait(0.5):
                return


def _tree_pss_kb(pid: int) -> int:
    total = 0
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            pids += [int(p) for p in task.read_text().split()]
        except OSError:
            continue
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:  # a worker that just ended
            continue
    return total


def memory_mb(s: dict[str, Any]) -> float:
    """Peak memory of a step: the process tree's sampled PSS (older result files: RSS)."""
    return float(s.get("tree_pss_mb") or s["rss_mb"])


def _db_cpu(probe: Any) -> float:
    return probe.database_cpu() if probe is not None else 0.0


# -- the benchmark ------------------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    url: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    setup_seconds: float = 0.0


def make_file(rows: int, folder: Path, seed: int) -> tuple[Path, float]:
    from devtools.import_samples import write_police_xlsx

    path = folder / f"police-register-{rows}.xlsx"
    t0 = time.perf_counter()
    write_police_xlsx(path, rows, seed=seed, wide_names=True)
    return path, time.perf_counter() - t0


def prepare(env: BenchEnv, backend: str) -> None:
    """An empty database, migrated and seeded (the documented commands)."""
    if backend == "postgresql":
        recreate_database(env.url)
    env.flask("db", "upgrade")
    env.flask("seed")


def step_process(
    env: BenchEnv, step: str, path: Path, org: str, profile_out: Path | None
) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.imports", "--step", step, "--file", str(path)]
    cmd += ["--org", org]
    if WORKERS is not None:
        cmd += ["--workers", str(WORKERS)]
    if profile_out is not None:
        cmd += ["--cprofile", str(profile_out)]
    done = subprocess.run(
        cmd,
        cwd=PROJECT_ROOT,
        env=env.environ("production"),
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"step {step} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run(
    rows: int,
    backends: list[str],
    pg_url: str,
    *,
    seed: int = 17,
    org: str = ORG,
    cprofile: str | None = None,
    file: Path | None = None,
) -> tuple[list[Backend], dict[str, Any]]:
    folder = Path(tempfile.mkdtemp(prefix="ruta-import-bench-"))
    info: dict[str, Any] = {"rows": rows, "seed": seed}
    if file is None:
        log(f"writing a {rows:,}-row police-register XLSX")
        file, info["generate_seconds"] = make_file(rows, folder, seed)
    info["file_mb"] = file.stat().st_size / 1e6
    log(f"  {file} ({info['file_mb']:.1f} MB)")
    out = []
    for name in backends:
        url = pg_url if name == "postgresql" else f"sqlite:///{folder / 'import.sqlite3'}"
        env = BenchEnv(url, instance=folder / f"instance-{name}")
        env.instance.mkdir(mode=0o700, exist_ok=True)
        backend = Backend(name, url)
        log(f"{name}: fresh database (migrate, seed)")
        t0 = time.perf_counter()
        prepare(env, name)
        backend.setup_seconds = time.perf_counter() - t0
        for step in STEPS:
            log(f"{name}: {step}")
            prof = None
            if cprofile and step in cprofile.split(","):
                prof = folder / f"{name}-{step}.pstats"
            figures = step_process(env, step, file, org, prof)
            if prof is not None:
                figures["cprofile"] = str(prof)
                log(f"  profile: {prof}")
            backend.steps.append(figures)
            log("  " + describe_step(figures))
        out.append(backend)
        if name == "postgresql":
            info["postgres"] = env.postgres_version()
    return out, info


def describe_step(s: dict[str, Any]) -> str:
    db_cpu = f" + db {s['db_cpu']:.1f} s" if s.get("db_cpu") is not None else ""
    relink = ""
    if s.get("relink"):
        relink = f"; relink {s['relink']['wall']:.1f} s wall"
    return (
        f"{s['wall']:.1f} s wall, {s['cpu']:.1f} s CPU + workers {s.get('workers_cpu', 0):.1f} s"
        f"{db_cpu}, peak RSS {s['rss_mb']:.0f} MB + {s.get('workers', 0)} × "
        f"{s.get('workers_rss_mb', 0):.0f} MB, together (PSS) {memory_mb(s):.0f} MB, "
        f"{s['rows']:,} rows, {s['created']:,} created, {s['existing']:,} already imported, "
        f"{s['problems']} problems{relink}"
    )


# -- docs ---------------------------------------------------------------------------------------


def goal_met(s: dict[str, Any]) -> bool:
    return s["wall"] <= GOAL_SECONDS and memory_mb(s) < GOAL_RSS_MB


def render(
    backends: list[Backend],
    info: dict[str, Any],
    *,
    started: datetime,
    commit: str,
    command: str,
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
    notes: str = "",
) -> str:
    m = machine.describe(info.get("postgres", "not used"))
    lines = [START, HEADING, ""]
    lines.append(f"- Date: {started:%Y-%m-%d %H:%M} UTC; commit `{commit}`")
    lines.append(f"- Command: `{command}`")
    lines.append(
        f"- Machine: {m.cpu}, {m.cores} cores, {m.memory_gib:.1f} GiB RAM; PostgreSQL "
        f"{m.postgres}; Python {m.python}"
    )
    lines.append(
        f"- Load averages (1, 5, 15 min): {machine.fmt_load(load_start)} at start, "
        f"{machine.fmt_load(load_end)} at end"
    )
    generated = info.get("generate_seconds")
    lines.append(
        f"- File: {info['rows']:,} rows, police-register profile, XLSX of "
        f"{info['file_mb']:.1f} MB"
        + (f" (written in {generated:.0f} s)" if generated is not None else "")
        + "; goal per step: ≤ 60 s, peak memory of all its processes < 1 GB; "
        "re-import: 0 new records"
    )
    lines.append("")
    lines.append(
        "| database | step | wall s | CPU s (app: main + workers) | CPU s (PostgreSQL) | "
        "peak RSS (main + workers) | peak memory, all processes (PSS) | rows | "
        "created | already imported | relink (in the real run) | goal met? |"
    )
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    labels = {"dry": "dry run", "real": "real run", "again": "re-import"}
    for b in backends:
        for s in b.steps:
            relink = "—"
            if s.get("relink"):
                r = s["relink"]
                relink = f"{r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU"
                if s.get("db_cpu") is not None:
                    relink += f" + {r['db_cpu']:.1f} s db"
            met = goal_met(s) and (s["step"] != "again" or s["screenings_new"] == 0)
            lines.append(
                f"| {b.name} | {labels[s['step']]} | {s['wall']:.1f} | "
                f"{s['cpu']:.1f} + {s.get('workers_cpu', 0):.1f} | "
                + (f"{s['db_cpu']:.1f}" if s.get("db_cpu") is not None else "—")
                + f" | {s['rss_mb']:.0f} + {s.get('workers', 0)} × "
                f"{s.get('workers_rss_mb', 0):.0f} MB | {memory_mb(s):.0f} MB | "
                f"{s['rows']:,} | {s['screenings_new']:,} | "
                f"{s['existing']:,} | {relink} | {'yes' if met else '**no**'} |"
            )
    lines.append("")
    for b in backends:
        real = next((s for s in b.steps if s["step"] == "real"), None)
        if real:
            lines.append(
                f"- {b.name}: after the real run {real['persons']:,} persons "
                f"(distinct linked person ids) for {real['screenings_new']:,} screenings; "
                f"the process held {real['rss_before_mb']:.0f} MB before the import "
                f"(interpreter, app); database setup {b.setup_seconds:.0f} s (not timed)."
            )
    lines.append("")
    if notes:
        lines.append(notes.rstrip())
        lines.append("")
    lines.append(METHOD)
    lines.append(END)
    return "\n".join(lines) + "\n"


METHOD = """\
How (`benchmarks/imports.py`): the file comes from `devtools/import_samples.py`
(`write_police_xlsx(…, wide_names=True)`: names from devtools/synth's pools — frequent
Peruvian and Venezuelan names, Zipf-weighted, plus an invented long tail: 99.8 % of the
100,000 rows have a name pair of their own —, 80 % women, 15 % Venezuelan, half with a
date of birth and half with an age, 70 % with a document, 1–3 acts, 0–2 means, weighted
purposes, 12 regions, dates 2017–2025). Each database is new (`flask db upgrade`, `flask
seed`); each step is its own process (`python -m benchmarks.imports --step …`), so its
peak RSS (`ru_maxrss`, interpreter and app included) is its own; its workers' CPU and
largest peak RSS come from `RUSAGE_CHILDREN`, and the memory of all its processes
together is the peak of their summed PSS, sampled every 0.5 s. A step is what `flask
import run FILE --profile police-register --org PNP-TRATA-LIM [--dry-run]` does:
`caseapp.imports.services.import_file` with one worker process per core (streaming read
in the main process; mapping, the screening contract, the rules, encodings and bound
values in the workers; on a real run cases, persons, screenings, facts, linkage
encodings and provenance written by the main process in chunks of 2,000 rows through
`core.bulk`, then `facts.link_new`: here one `facts.relink_all()`, the database being
empty), then the commit. Wall and CPU cover the file read to the commit; the relink
column is a timer around `facts.relink_all` inside the real run (already in its wall
time). PostgreSQL CPU
is the session backend's user + system time (`/proc/<pid>/stat`), background writers not
included. The re-import is the same file again: every row is found by its keyed source
id and nothing is written.
"""


def replace_section(doc: str, section: str) -> str:
    """``doc`` with the IMPORT section replaced (or added before the HTCDS section, else
    before "How each benchmark measures", else at the end)."""
    start, end = doc.find(START), doc.find(END)
    if start >= 0 and end > start:
        tail = doc[end + len(END) :].lstrip("\n")
        return doc[:start] + section + "\n" + tail
    for anchor in ("## HTCDS round trip", "## How each benchmark measures"):
        at = doc.find("\n" + anchor)
        if at >= 0:
            return doc[: at + 1] + section + "\n" + doc[at + 1 :]
    return doc.rstrip() + "\n\n" + section


def extract_section(doc: str) -> str:
    start, end = doc.find(START), doc.find(END)
    return doc[start : end + len(END)] + "\n" if start >= 0 and end > start else ""


# -- command line -----------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.imports",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--rows", type=int, default=100_000, help="rows in the file")
    p.add_argument(
        "--database-url",
        default=os.environ.get("CASEAPP_BENCH_IMPORT_DATABASE_URL") or DEFAULT_PG,
        help="PostgreSQL database, dropped and recreated (its name must start with ruta_bench)",
    )
    p.add_argument("--backends", default="sqlite,postgresql", help="sqlite, postgresql or both")
    p.add_argument("--seed", type=int, default=17)
    p.add_argument("--org", default=ORG, help="importing organization (seeded directory)")
    p.add_argument("--file", type=Path, help="import this file instead of writing one")
    p.add_argument(
        "--cprofile",
        default="",
        help="steps to profile (e.g. real,dry): a .pstats file each; its top is printed",
    )
    p.add_argument(
        "--workers", type=int, help="import worker processes (default: one per core; 0: none)"
    )
    p.add_argument("--no-docs", action="store_true", help="do not write docs/performance.md")
    p.add_argument("--output", type=Path, default=DOCS)
    p.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)  # the child process
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    global WORKERS
    WORKERS = a.workers
    if a.step:
        prof = Path(a.cprofile) if a.cprofile else None
        print(json.dumps(run_step(a.step, a.file, a.org, prof)))
        return 0
    if a.rows < 1:
        raise SystemExit("--rows must be at least 1")
    backends = [b.strip() for b in a.backends.split(",") if b.strip()]
    if any(b not in ("sqlite", "postgresql") for b in backends):
        raise SystemExit("--backends: sqlite, postgresql")
    from benchmarks.run import git_commit

    started = datetime.now(UTC)
    load_start = machine.load_averages()
    log(f"register import: {a.rows:,} rows on {', '.join(backends)}; load {load_start}")
    results, info = run(
        a.rows,
        backends,
        a.database_url,
        seed=a.seed,
        org=a.org,
        cprofile=a.cprofile,
        file=a.file,
    )
    load_end = machine.load_averages()
    for b in results:
        for s in b.steps:
            print(f"{b.name:10} {s['step']:6} " + describe_step(s))
            if s.get("cprofile"):
                top(s["cprofile"])
    command = f"python -m benchmarks.imports --rows {a.rows}"
    if a.backends != "sqlite,postgresql":
        command += f" --backends {a.backends}"
    if a.file is not None:
        command += f" --file {a.file.name}"
    if not a.no_docs:
        doc = a.output.read_text(encoding="utf-8") if a.output.exists() else "# Performance\n"
        notes = _kept_notes(doc)
        section = render(
            results,
            info,
            started=started,
            commit=git_commit(),
            command=command,
            load_start=load_start,
            load_end=load_end,
            notes=notes,
        )
        a.output.write_text(replace_section(doc, section), encoding="utf-8")
        log(f"wrote the IMPORT section of {a.output}")
    missed = [
        f"{b.name} {s['step']}"
        for b in results
        for s in b.steps
        if not goal_met(s) or (s["step"] == "again" and s["screenings_new"])
    ]
    if missed:
        log("goals missed: " + ", ".join(missed))
    return 0


NOTES_START = "<!-- IMPORT:notes -->"
NOTES_END = "<!-- IMPORT:notes-end -->"


def _kept_notes(doc: str) -> str:
    """The analysis written by hand between the notes markers (kept across runs)."""
    section = extract_section(doc)
    start, end = section.find(NOTES_START), section.find(NOTES_END)
    if start < 0 or end < start:
        return ""
    return section[start : end + len(NOTES_END)]


def top(path: str, n: int = 25) -> None:
    import pstats

    stats = pstats.Stats(path)
    stats.sort_stats("cumulative").print_stats(n)
    stats.sort_stats("tottime").print_stats(n)


if __name__ == "__main__":
    raise SystemExit(main())
