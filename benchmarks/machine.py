"""What the numbers were measured on: CPU, cores, memory, PostgreSQL, load averages."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path


def cpu_model(cpuinfo: str | None = None) -> str:
    """The ``model name`` of /proc/cpuinfo (or the platform's processor string)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        except OSError:
            cpuinfo = ""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def memory_gib(meminfo: str | None = None) -> float:
    if meminfo is None:
        try:
            meminfo = Path("/proc/meminfo").read_text(encoding="utf-8")
        except OSError:
            return float("nan")
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def load_averages() -> tuple[float, float, float]:
    """1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def fmt_load(load: tuple[float, float, float]) -> str:
    return ", ".join(f"{x:.2f}" for x in load)


@dataclass
class Machine:
    cpu: str
    cores: int
    memory_gib: float
    postgres: str
    python: str

    def lines(self) -> list[str]:
        return [
            f"CPU: {self.cpu}, {self.cores} cores",
            f"RAM: {self.memory_gib:.1f} GiB",
            f"PostgreSQL: {self.postgres}",
            f"Python: {self.python}",
        ]


def describe(postgres_version: str) -> Machine:
    return Machine(
        cpu=cpu_model(),
        cores=os.cpu_count() or 1,
        memory_gib=memory_gib(),
        postgres=postgres_version,
        python=platform.python_version(),
    )
