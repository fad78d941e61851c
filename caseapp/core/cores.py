"""How many CPU cores this process may use (pure): the import's worker processes and the
linkage's comparison threads are sized by it."""

from __future__ import annotations

import os


def usable() -> int:
    """The cores this process may run on (its CPU affinity where the system has one), at
    least 1."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)
