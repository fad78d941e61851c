"""B1 — statistics: the persons report through the real API (bearer token of a
statistician, Flask test client, production config), against the fastest hand-written
SQL for the same numbers over the same tables, in the same run.

"Persons" (reports.md §1, ADR 0007): unduplicated persons over the screenings whose
status is selected (default indicated, possible) and whose date is in the period; each
person's attributes come from their most recent selected screening (ties: the higher
screening id); ``month`` is the month of the person's first selected screening.

Before timing, every hand-written query must return exactly the counts of the service's
own statement (``queries.victim_counts``), and every published (unsuppressed) cell of the
API response must equal them. The hand-written queries run with the same memory
setting as the service's (``REPORTS_WORK_MEM``, ``queries.sort_in_memory``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

STATUSES = ("indicated", "possible")
_STATUS_SQL = "status IN ('indicated', 'possible')"


def sql_latest_antijoin(dims: Sequence[str]) -> str:
    """Attributes of each person's latest selected screening via a hash anti-join."""
    cols = ", ".join(f"f.{d}" for d in dims)
    return f"""
SELECT {cols}, count(*) FROM screening_facts f
WHERE f.{_STATUS_SQL}
  AND NOT EXISTS (
    SELECT 1 FROM screening_facts l
    WHERE l.person_id = f.person_id AND l.{_STATUS_SQL}
      AND (l.identified_at, l.screening_id) > (f.identified_at, f.screening_id))
GROUP BY {cols}"""


def sql_latest_distinct_on(dims: Sequence[str]) -> str:
    """Latest selected screening per person with DISTINCT ON (one sort)."""
    cols = ", ".join(dims)
    return f"""
SELECT {cols}, count(*) FROM (
  SELECT DISTINCT ON (person_id) {cols} FROM screening_facts
  WHERE {_STATUS_SQL}
  ORDER BY person_id, identified_at DESC, screening_id DESC) u
GROUP BY {cols}"""


def sql_latest_by_max(dims: Sequence[str]) -> str:
    """Latest selected screening per person as the arg-max of (instant, id): a grouped
    MAX over an array key (hash aggregate), joined back by primary key."""
    cols = ", ".join(f"f.{d}" for d in dims)
    return f"""
SELECT {cols}, count(*) FROM (
  SELECT max(ARRAY[(extract(epoch FROM identified_at) * 1000000)::bigint,
                   screening_id::bigint]) AS k
  FROM screening_facts WHERE {_STATUS_SQL} GROUP BY person_id) m
JOIN screening_facts f ON f.screening_id = m.k[2]
GROUP BY {cols}"""


def sql_month_by_max(attr: str) -> str:
    """month × attr: one grouped aggregate per person gives both the first month (MIN)
    and the latest screening (MAX of an array key), joined back by primary key."""
    return f"""
SELECT f.{attr}, m.month, count(*) FROM (
  SELECT min(month) AS month,
         max(ARRAY[(extract(epoch FROM identified_at) * 1000000)::bigint,
                   screening_id::bigint]) AS k
  FROM screening_facts WHERE {_STATUS_SQL} GROUP BY person_id) m
JOIN screening_facts f ON f.screening_id = m.k[2]
GROUP BY m.month, f.{attr}"""


def sql_month_antijoin_groupby(attr: str) -> str:
    """month × attr: latest screening by anti-join, first month by a grouped MIN
    (hash aggregate) joined on person_id."""
    return f"""
SELECT f.{attr}, fm.month, count(*) FROM screening_facts f
JOIN (SELECT person_id, min(month) AS month FROM screening_facts
      WHERE {_STATUS_SQL} GROUP BY person_id) fm ON fm.person_id = f.person_id
WHERE f.{_STATUS_SQL}
  AND NOT EXISTS (
    SELECT 1 FROM screening_facts l
    WHERE l.person_id = f.person_id AND l.{_STATUS_SQL}
      AND (l.identified_at, l.screening_id) > (f.identified_at, f.screening_id))
GROUP BY fm.month, f.{attr}"""


def sql_month_distinct_on(attr: str) -> str:
    """month × attr: one sort by (person, instant desc, id desc) serves both the window
    MIN(month) (its frame is the whole partition) and DISTINCT ON."""
    return f"""
SELECT {attr}, month, count(*) FROM (
  SELECT DISTINCT ON (person_id) {attr}, min(month) OVER (
           PARTITION BY person_id ORDER BY identified_at DESC, screening_id DESC
           ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS month
  FROM screening_facts WHERE {_STATUS_SQL}
  ORDER BY person_id, identified_at DESC, screening_id DESC) u
GROUP BY month, {attr}"""


def sql_month_window_antijoin(attr: str) -> str:
    """month × attr as the window of ADR 0007, written by hand."""
    return f"""
SELECT {attr}, month, count(*) FROM (
  SELECT screening_id, person_id, identified_at, {attr},
         min(month) OVER (PARTITION BY person_id) AS month
  FROM screening_facts WHERE {_STATUS_SQL}) r
WHERE NOT EXISTS (
    SELECT 1 FROM screening_facts l
    WHERE l.person_id = r.person_id AND l.{_STATUS_SQL}
      AND (l.identified_at, l.screening_id) > (r.identified_at, r.screening_id))
GROUP BY month, {attr}"""


@dataclass(frozen=True)
class Report:
    key: str
    what: str
    by: tuple[str, ...]  # API dimensions (= fact columns here)
    candidates: dict[str, str]  # name -> hand-written SQL


def reports() -> list[Report]:
    region = ("region", "unodc_category")
    return [
        Report(
            "region_unodc",
            "persons by region × unodc_category",
            region,
            {
                "anti-join": sql_latest_antijoin(region),
                "DISTINCT ON": sql_latest_distinct_on(region),
                "grouped max": sql_latest_by_max(region),
            },
        ),
        Report(
            "form_month",
            "persons by exploitation_form × month (first identification)",
            ("exploitation_form", "month"),
            {
                "anti-join + grouped min": sql_month_antijoin_groupby("exploitation_form"),
                "DISTINCT ON + window": sql_month_distinct_on("exploitation_form"),
                "window + anti-join": sql_month_window_antijoin("exploitation_form"),
                "grouped min/max": sql_month_by_max("exploitation_form"),
            },
        ),
    ]


def normalize(rows: Sequence[Sequence[Any]], order: Sequence[int]) -> dict[tuple[Any, ...], int]:
    """{dimension values (in API order): count} from SQL rows ``(*dims, count)``."""
    return {tuple(r[i] for i in order): int(r[-1]) for r in rows}


def published_cells(doc: dict[str, Any], dims: Sequence[str]) -> dict[tuple[Any, ...], int]:
    """Unsuppressed cells of an API victims document."""
    out = {}
    for row in doc["rows"]:
        if not row.get("suppressed") and row.get("count") is not None:
            out[tuple(row[d] for d in dims)] = int(row["count"])
    return out


def _perturbed(app: Any, counts: Any) -> Callable[[int, int], int]:
    """The value the API publishes for a count and its record-key sum (ADR 0016)."""
    from caseapp.reports import cellkey, recordkeys, services

    k, max_noise = services.threshold(), recordkeys.max_noise()
    return lambda n, key: cellkey.perturb(n, cellkey.cell_key(key), k, max_noise)


def check_equal(name: str, expected: dict[Any, int], got: dict[Any, int]) -> None:
    if expected != got:
        missing = {k: v for k, v in expected.items() if got.get(k) != v}
        extra = {k: v for k, v in got.items() if k not in expected}
        raise AssertionError(
            f"{name}: counts differ from the service ({len(missing)} cells differ, "
            f"{len(extra)} extra; e.g. {list(missing.items())[:3]} {list(extra.items())[:3]})"
        )


@dataclass
class Timing:
    report: Report
    service: list[float]
    sql: dict[str, list[float]]
    total_persons: int
    cells: int
    first_pass: dict[str, float]  # every hand-written form, timed once while checking

    @property
    def floor_name(self) -> str:
        return min(self.sql, key=lambda k: sorted(self.sql[k])[len(self.sql[k]) // 2])

    @property
    def floor(self) -> list[float]:
        return self.sql[self.floor_name]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run(app: Any, token: str, runs: int, log: Callable[[str], None]) -> list[Timing]:
    """Check every hand-written form against the service (timing each once), then time
    the service and the fastest form ``runs`` times each, interleaved."""
    from caseapp.extensions import db
    from caseapp.reports import queries

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    out: list[Timing] = []
    for report in reports():
        url = f"/api/v1/reports/victims?by={','.join(report.by)}&unit=persons"

        def call_api(url: str = url) -> dict[str, Any]:
            response = client.get(url, headers=headers, base_url="https://localhost")
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code} {response.get_data(True)}")
            return dict(response.get_json())

        with app.app_context():
            flt = queries.FactFilter(None, None, STATUSES, None)
            counts = queries.victim_counts("persons", report.by, flt)
            expected = dict(counts.cells)
            first: dict[str, float] = {}
            for name, sql in report.candidates.items():
                queries.sort_in_memory()  # the service's memory setting, for a fair floor
                seconds, rows = timed(lambda sql=sql: db.session.execute(sa.text(sql)).all())
                first[name] = seconds
                got = normalize(rows, range(len(report.by)))
                check_equal(f"{report.key}/{name}", expected, got)
            db.session.rollback()
        doc = call_api()
        published = published_cells(doc, report.by)
        # published counts carry cell-key noise (ADR 0016): the same noise from the keys
        with app.app_context():
            noisy = _perturbed(app, counts)
        check_equal(
            f"{report.key}/API (published cells)",
            {k: noisy(v, counts.keys[k]) for k, v in expected.items() if k in published},
            published,
        )
        total = noisy(counts.total, counts.total_key)
        if doc["total"].get("count") not in (None, total):
            raise AssertionError(f"{report.key}: API total {doc['total']} != {total}")
        log(
            f"  {report.key}: {len(expected)} cells, {counts.total:,} persons; "
            f"{len(report.candidates)} SQL forms agree with the service"
        )

        # The fastest form of the checking pass is the floor; it and the service are
        # then timed ``runs`` times each, alternating which goes first.
        best = min(first, key=lambda k: first[k])
        best_sql = sa.text(report.candidates[best])

        def run_floor(stmt: Any = best_sql) -> Any:
            return db.session.execute(stmt).all()

        service: list[float] = []
        floor: list[float] = []
        for i in range(runs):
            for which in ("service", "sql") if i % 2 == 0 else ("sql", "service"):
                if which == "service":
                    service.append(timed(call_api)[0])
                    continue
                with app.app_context():
                    queries.sort_in_memory()
                    floor.append(timed(run_floor)[0])
                    db.session.rollback()
        out.append(Timing(report, service, {best: floor}, counts.total, len(expected), first))
        log(
            f"  {report.key}: service {sorted(service)[len(service) // 2]:.2f} s, floor "
            f"{best} {sorted(floor)[len(floor) // 2]:.2f} s"
        )
    return out
