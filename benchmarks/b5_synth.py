"""B5 — data generation: ``flask synth --persons N`` (the documented command, in a
subprocess, with its progress bar on the terminal) against the bench database."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass

from benchmarks.env import PROJECT_ROOT, BenchEnv, bin_path

_LINE = re.compile(r"^(persons|screenings|linked persons|rows): (\d+)$", re.M)
_ELAPSED = re.compile(r"^elapsed: ([\d.]+) s \((.*)\)$", re.M)
_QUALITY = re.compile(r"linkage precision ([\d.]+) recall ([\d.]+)")


@dataclass
class SynthRun:
    persons: int
    screenings: int
    linked_persons: int
    rows: int
    wall: float  # seconds, the whole command (interpreter start to commit)
    elapsed: float  # seconds, as synth reports it (generation, writing, linking)
    phases: str
    precision: float | None
    recall: float | None

    def phase(self, name: str) -> float | None:
        """Seconds of one phase synth reports ("link 2.4 s" -> 2.4), if it does."""
        match = re.search(rf"(?:^|, ){re.escape(name)} ([\d.]+) s", self.phases)
        return float(match.group(1)) if match else None


def parse_output(text: str, wall: float) -> SynthRun:
    """The summary ``flask synth`` prints (reports/cli.py)."""
    values = {k: int(v) for k, v in _LINE.findall(text)}
    elapsed = _ELAPSED.search(text)
    quality = _QUALITY.search(text)
    return SynthRun(
        persons=values.get("persons", 0),
        screenings=values.get("screenings", 0),
        linked_persons=values.get("linked persons", 0),
        rows=values.get("rows", 0),
        wall=wall,
        elapsed=float(elapsed.group(1)) if elapsed else wall,
        phases=elapsed.group(2) if elapsed else "",
        precision=float(quality.group(1)) if quality else None,
        recall=float(quality.group(2)) if quality else None,
    )


def run_synth(env: BenchEnv, persons: int, seed: int = 1) -> SynthRun:
    """One ``flask synth`` run; the progress bar goes to this terminal (stderr)."""
    started = time.perf_counter()
    result = subprocess.run(
        [
            bin_path("flask"),
            "--app",
            "caseapp",
            "synth",
            "--persons",
            str(persons),
            "--seed",
            str(seed),
        ],
        cwd=PROJECT_ROOT,
        env=env.environ("development"),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
        timeout=3600,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"flask synth failed ({result.returncode}):\n{result.stdout}")
    return parse_output(result.stdout, wall)
