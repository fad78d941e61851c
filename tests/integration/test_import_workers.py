"""Register import in worker processes (ADR 0027): the same file imported with forked
workers and in one process gives the same problems, the same counts and the same stored
rows, on both databases."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from caseapp.audit.services import SYSTEM
from caseapp.extensions import db
from caseapp.facts.models import LinkageBlock, LinkageRecord, ScreeningFact
from caseapp.imports import profiles, services
from caseapp.imports.models import ImportRecord
from caseapp.screening.models import Case, Person, Screening
from devtools.import_samples import police_rows
from tests.integration.test_imports import org, police_xlsx

PERSON = [c.name for c in Person.__table__.columns if c.name not in ("id", "case_id")]
SCREENING = [
    c.name
    for c in Screening.__table__.columns
    if c.name not in ("id", "case_id", "uuid", "created_at")
]
FACT = [
    c.name for c in ScreeningFact.__table__.columns if c.name not in ("screening_id", "person_id")
]
LINK = [c.name for c in LinkageRecord.__table__.columns if c.name != "screening_id"]


def xlsx(tmp_path: Path) -> bytes:
    rows = [list(r) for r in police_rows(60, seed=11)]
    rows[4][13] = "Explotación minera ilegal"  # line 6: unknown purpose
    rows[9][1] = (date.today() + timedelta(days=10)).strftime("%d/%m/%Y")  # line 11: future
    rows[30][0] = rows[2][0]  # line 32: the source id of line 4 again (another chunk)
    rows[41][6], rows[41][7] = 130, None  # line 43: the contract refuses the age
    return police_xlsx(tmp_path, rows).read_bytes()


def stored(code: str) -> dict[int, dict[str, Any]]:
    """What the import stored for each line of the file, without ids and uuids."""
    out: dict[int, dict[str, Any]] = {}
    records = db.session.scalars(
        sa.select(ImportRecord).where(ImportRecord.organization_id == org(code).id)
    ).all()
    for record in records:
        case = db.session.get(Case, record.case_id)
        screening = db.session.get(Screening, record.screening_id)
        fact = db.session.get(ScreeningFact, record.screening_id)
        link = db.session.get(LinkageRecord, record.screening_id)
        assert case is not None and screening is not None and fact is not None
        assert link is not None
        blocks = db.session.scalars(
            sa.select(LinkageBlock.block).where(LinkageBlock.screening_id == record.screening_id)
        ).all()
        out[record.line] = {
            "source": record.source_record_id,
            "case": (case.status, case.region, case.determination),
            "person": {c: getattr(case.person, c) for c in PERSON},
            "screening": {c: getattr(screening, c) for c in SCREENING if c != "organization_id"},
            "fact": {c: getattr(fact, c) for c in FACT if c != "organization_id"},
            "link": {c: getattr(link, c) for c in LINK},
            "blocks": sorted(blocks),
        }
    return out


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # several chunks per worker and several write rounds in a 60-row file
    monkeypatch.setattr(services, "WORK_ROWS", 7)
    monkeypatch.setattr(services, "CHUNK", 10)


def test_workers_and_one_process_report_the_same_problems(
    app: Any, db_tx: None, tmp_path: Path, small_chunks: None
) -> None:
    data, profile = xlsx(tmp_path), profiles.load("police-register")
    one = services.import_file(SYSTEM, org("PNP-TRATA-MDD"), profile, data, dry_run=True)
    two = services.import_file(SYSTEM, org("PNP-TRATA-MDD"), profile, data, dry_run=True, workers=2)
    assert one.summary() == two.summary()
    assert one.summary()["bad_rows"] == 4 and one.summary()["created"] == 56
    assert [p.as_row() for p in one.problems] == [p.as_row() for p in two.problems]
    assert {p.line for p in two.problems} == {6, 11, 32, 43}


def test_workers_and_one_process_store_the_same_rows(
    app: Any, db_tx: None, tmp_path: Path, small_chunks: None
) -> None:
    data, profile = xlsx(tmp_path), profiles.load("police-register")
    one = services.import_file(
        SYSTEM, org("PNP-TRATA-MDD"), profile, data, skip_bad_rows=True, workers=0
    )
    two = services.import_file(
        SYSTEM, org("PNP-TRATA-LIM"), profile, data, skip_bad_rows=True, workers=2
    )
    db.session.flush()
    assert one.created == two.created == 56
    here, there = stored("PNP-TRATA-MDD"), stored("PNP-TRATA-LIM")
    assert sorted(here) == sorted(there) and len(here) == 56
    assert 6 not in here and 4 in here and 32 not in here  # the first of a repeated id stays
    for line, row in here.items():
        assert there[line] == row, line
    # a second run with workers finds every row already imported
    again = services.import_file(
        SYSTEM, org("PNP-TRATA-LIM"), profile, data, skip_bad_rows=True, workers=2
    )
    assert again.created == 0 and again.existing == 56
