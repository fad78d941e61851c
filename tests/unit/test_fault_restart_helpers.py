"""benchmarks/fault_restart.py is run by hand (it starts its own PostgreSQL and gunicorn);
this checks its tally and verdict, so the script cannot rot or pass vacuously."""

from __future__ import annotations

from benchmarks.fault_restart import Outcome
from benchmarks.loadgen import Sample


def outcome(*samples: Sample, found: int | None = None) -> Outcome:
    o = Outcome(seconds=60, clients=20, workers=3, restart_at=20.0, restart_took=1.5)
    o.record(list(samples))
    o.acknowledged = sum(1 for s in samples if s.status == 201)
    o.found = o.acknowledged if found is None else found
    o.audit = "audit chain ok (3 events)"
    return o


def test_a_clean_run_passes_and_counts_the_recovery() -> None:
    o = outcome(
        Sample(1.0, 0.1, 201),
        Sample(20.5, 0.01, 503),
        Sample(21.4, 0.2, 201),
        Sample(22.0, 0.1, 201),
    )
    assert o.ok
    assert (o.sent, o.statuses, o.acknowledged_after) == (4, {201: 3, 503: 1}, 1)
    assert o.first_ok_after is not None and abs(o.first_ok_after - 0.1) < 1e-9
    table = o.table()
    assert (
        "| **500** | **0** |" in table and "| **lost** (acknowledged, not found) | **0** |" in table
    )
    assert "| 503 service_unavailable (Retry-After) | 1 |" in table


def test_a_500_a_lost_screening_or_no_recovery_fails() -> None:
    assert not outcome(Sample(1.0, 0.1, 201), Sample(20.5, 0.1, 500), Sample(22.0, 0.1, 201)).ok
    assert not outcome(Sample(1.0, 0.1, 201), Sample(22.0, 0.1, 201), found=1).ok
    assert not outcome(Sample(1.0, 0.1, 201), Sample(20.5, 0.1, 503)).ok  # never recovered
    failed = outcome(Sample(1.0, 0.1, 201), Sample(22.0, 0.1, 201))
    failed.restart_error = "pg_ctl failed"
    assert not failed.ok and "FAILED: pg_ctl failed" in failed.table()
