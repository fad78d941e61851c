"""HTCDS round trip (issue 17): synthetic cases → statistics → HTCDS export of every
organization → import into an empty database → the same statistics.

``python -m benchmarks.htcds_roundtrip [--cases 1000] [--sqlite | --url URL] [--write-docs]``
(also ``scripts/bench.sh --only HTCDS …``). The source and target databases are dropped
and recreated: SQLite files in a temp folder, or the PostgreSQL databases ``URL`` and
``URL``'s name + ``_rt`` (default ``ruta_exchange``, which must start with
``ruta_exchange``). Both apps share one set of keys: the linkage encodings are keyed
HMAC codes and keyed Bloom filters (docs/linkage.md), so the same
INDEX_KEY is needed for the imported persons to link as the exported ones did.

The statistics come from the reports services (unduplicated persons by sex and age group,
screenings, the overlap of registers by organization kind), published without suppression
or noise so that any difference shows. Each organization is exported by itself (scoped as
in production) and imported into the same organization code, so the registers stay apart.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from benchmarks.env import BenchEnv

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/ruta_exchange"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
SECTION = "## HTCDS round trip"


@dataclass
class Timing:
    wall: float = 0.0
    cpu: float = 0.0


@dataclass
class RoundTrip:
    backend: str
    cases: int = 0
    organizations: int = 0
    bytes: int = 0
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    #: before the reference relink: the linkage each import did as it went
    incremental: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Timing] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return self.before == self.after


@contextmanager
def timed(into: dict[str, Timing], name: str) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    into[name] = Timing(time.perf_counter() - wall, time.process_time() - cpu)


def statistics() -> dict[str, Any]:
    """Unduplicated persons by sex × age group, screenings, and the overlap of registers,
    from the reports services, as a statistician (all organizations) would publish them."""
    from caseapp.audit.services import SystemActor
    from caseapp.reports import services as reports

    actor = SystemActor(email="system:bench-htcds", role="statistician")

    def victims(unit: str, by: str) -> dict[str, Any]:
        params = reports.parse_params({"unit": unit, "by": by}, reports.VICTIMS)
        doc = reports.victims_report(actor, params)
        return {"rows": doc["rows"], "total": doc["total"]}

    overlap = reports.overlap_report(actor, reports.parse_params({}, reports.OVERLAP))
    return {
        "persons_by_sex_age": victims("persons", "sex,age_group"),
        "persons_by_org_kind": victims("persons", "org_kind"),
        "screenings_by_sex": victims("screenings", "sex"),
        "overlap": {"cells": overlap["cells"], "totals": overlap["totals"]},
    }


def make_app(url: str, instance: Path, keys: dict[str, str]) -> Flask:
    from caseapp import create_app

    return create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(instance),
            "SUPPRESSION_THRESHOLD": 1,
            "PERTURBATION_MAX_NOISE": 0,
            **keys,
        }
    )


def prepare(app: Flask) -> None:
    """Empty schema, migrated and seeded (code lists, regions, the demo directory)."""
    import flask_migrate

    from caseapp.directory import services as directory
    from caseapp.extensions import db

    with app.app_context():
        flask_migrate.upgrade()
        directory.seed_codes()
        directory.seed_regions()
        rows = directory.read_csv(directory.DEFAULT_DIRECTORY.read_text(encoding="utf-8"))
        result = directory.load_directory(None, rows)
        assert not result.errors, result.errors
        db.session.commit()


def synthesize(persons: int, seed: int) -> int:
    """Synthetic persons with their screenings (devtools/synth); returns the cases made."""
    from caseapp.audit.services import SystemActor
    from caseapp.extensions import db
    from caseapp.screening.models import Case
    from devtools import synth

    synth.generate(SystemActor(email="system:bench-htcds"), persons, seed=seed, workers=1)
    db.session.commit()
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Case)) or 0)


def export_all() -> dict[str, str]:
    """Every organization's HTCDS file (as text), each exported in its own scope."""
    from caseapp.accounts.models import Organization
    from caseapp.audit.services import SystemActor
    from caseapp.exchange import htcds_export
    from caseapp.extensions import db
    from caseapp.screening.models import Case

    codes = db.session.scalars(
        sa.select(Organization).where(Organization.id.in_(sa.select(Case.organization_id)))
    ).all()
    files = {}
    for org in codes:
        actor = SystemActor(email="system:bench-htcds", organization_id=org.id)
        doc = htcds_export.export_cases(actor, org)
        files[org.code] = json.dumps(doc, ensure_ascii=False)
    db.session.commit()
    return files


def import_all(files: dict[str, str]) -> int:
    """Import each file into the organization of the same code; one commit per file."""
    from caseapp.accounts.models import Organization
    from caseapp.audit.services import SystemActor
    from caseapp.exchange import htcds_import
    from caseapp.extensions import db

    created = 0
    for code, text in files.items():
        org = db.session.scalar(sa.select(Organization).where(Organization.code == code))
        actor = SystemActor(email="system:bench-htcds", organization_id=org.id)
        result = htcds_import.import_cases(actor, org, htcds_import.read_file(text.encode()))
        if not result.ok:
            db.session.rollback()
            raise RuntimeError(f"{code}: {result.errors[:5]}")
        db.session.commit()
        created += result.created
    return created


def relink() -> None:
    """The reference linkage (`flask reports relink`, ADR 0006) over every fact."""
    from caseapp.extensions import db
    from caseapp.facts import services as facts

    facts.relink_all()
    db.session.commit()


def run(
    source_url: str, target_url: str, persons: int, seed: int = 7, *, own_keys: bool = False
) -> RoundTrip:
    """``own_keys``: the target gets keys of its own (another installation): the file is
    plaintext, so only the linkage (INDEX_KEY) can tell."""
    env = BenchEnv(source_url)
    keys = dict(env.keys)
    out = RoundTrip(backend=sa.engine.make_url(source_url).get_backend_name())
    source = make_app(source_url, env.instance, keys)
    target_env = BenchEnv(target_url) if own_keys else env
    target = make_app(target_url, target_env.instance, dict(target_env.keys))
    prepare(source)
    prepare(target)
    with source.app_context():
        with timed(out.timings, "synth"):
            out.cases = synthesize(persons, seed)
        relink()
        out.before = statistics()
        with timed(out.timings, "export"):
            files = export_all()
    out.organizations = len(files)
    out.bytes = sum(len(t.encode()) for t in files.values())
    with target.app_context():
        with timed(out.timings, "import"):
            imported = import_all(files)
        assert imported == out.cases, (imported, out.cases)
        out.incremental = statistics()
        with timed(out.timings, "relink"):
            relink()
        out.after = statistics()
    return out


# -- command line and docs --------------------------------------------------------------------


def recreate_pg(url: str) -> None:
    parsed = sa.engine.make_url(url)
    name = parsed.database or ""
    if not name.startswith("ruta_exchange"):
        raise SystemExit(f"refusing to drop {name!r}: the name must start with ruta_exchange")
    engine = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()


def urls(args: argparse.Namespace) -> tuple[str, str]:
    if args.sqlite:
        folder = Path(tempfile.mkdtemp(prefix="ruta-htcds-"))
        return f"sqlite:///{folder / 'source.sqlite3'}", f"sqlite:///{folder / 'target.sqlite3'}"
    source = args.url
    target = sa.engine.make_url(source)
    target = target.set(database=f"{target.database}_rt").render_as_string(hide_password=False)
    recreate_pg(source)
    recreate_pg(target)
    return source, target


def summary(rt: RoundTrip) -> dict[str, Any]:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "backend": rt.backend,
        "cases": rt.cases,
        "organizations": rt.organizations,
        "bytes": rt.bytes,
        "persons": rt.before["persons_by_sex_age"]["total"],
        "persons_after": rt.after["persons_by_sex_age"]["total"],
        "identical": rt.identical,
        "identical_before_relink": rt.incremental == rt.before,
        "timings": {
            k: {"wall": round(v.wall, 2), "cpu": round(v.cpu, 2)} for k, v in rt.timings.items()
        },
        "max_rss_mb": round(rss),
    }


def write_docs(results: list[dict[str, Any]], command: str) -> None:
    """Replace (or add) this benchmark's own section of docs/performance.md."""
    lines = [
        SECTION,
        "",
        f"`{command}` — synthetic cases (devtools/synth) → statistics → HTCDS 2.0 export of",
        "every organization (each in its own scope) → import into an empty database "
        "(`flask exchange import-htcds`'s service, one transaction per file) → relink → the",
        "same statistics. Both databases use the same INDEX_KEY (the linkage encodings are",
        "keyed). Statistics compared: persons by sex × age group and by organization kind,",
        "screenings by sex, the overlap of registers — unsuppressed, without noise.",
        "",
        "| backend | cases | orgs | file size | persons | export wall / CPU s | "
        "import wall / CPU s | relink s | identical |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        t = r["timings"]
        lines.append(
            f"| {r['backend']} | {r['cases']:,} | {r['organizations']} | "
            f"{r['bytes'] / 1e6:.1f} MB | {r['persons']['count']:,} | "
            f"{t['export']['wall']} / {t['export']['cpu']} | "
            f"{t['import']['wall']} / {t['import']['cpu']} | {t['relink']['wall']} | "
            f"{'yes' if r['identical'] else '**no**'} |"
        )
    lines.append("")
    section = "\n".join(lines)
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Performance\n"
    if SECTION in text:
        start = text.index(SECTION)
        rest = text[start + len(SECTION) :]
        end = rest.find("\n## ")
        text = text[:start] + section + ("" if end < 0 else rest[end:])
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.htcds_roundtrip", description=__doc__)
    p.add_argument("--persons", type=int, default=700, help="synthetic persons (≈1.4 cases each)")
    p.add_argument("--sqlite", action="store_true", help="SQLite files instead of PostgreSQL")
    p.add_argument("--url", default=DEFAULT_PG, help="PostgreSQL source database (dropped)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--own-keys",
        action="store_true",
        help="the target database gets keys of its own (shows what INDEX_KEY changes)",
    )
    args = p.parse_args(argv)
    source, target = urls(args)
    rt = run(source, target, args.persons, args.seed, own_keys=args.own_keys)
    result = summary(rt)
    if not rt.identical:
        for key in rt.before:
            if rt.before[key] != rt.after.get(key):
                print(f"differs: {key}", file=sys.stderr)
    print(json.dumps(result))
    return 0 if rt.identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
