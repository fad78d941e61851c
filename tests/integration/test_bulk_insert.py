"""``core.bulk.insert`` (COPY on PostgreSQL, the driver's executemany on SQLite) stores what
an ORM insert stores: encrypted columns, UTC times, JSON, Python-side defaults, and ids
assigned after the existing rows, in row order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa

from caseapp.accounts.models import Organization
from caseapp.core import bulk
from caseapp.core.db import new_uuid
from caseapp.extensions import db
from caseapp.screening.models import Case, Person


def test_bulk_rows_read_back_as_orm_rows(app: Any, db_tx: None) -> None:
    org = db.session.scalars(sa.select(Organization).limit(1)).one()
    first = Case(uuid=new_uuid(), organization_id=org.id, region="CUS", determination="indicated")
    db.session.add(first)
    db.session.flush()
    now = datetime(2024, 2, 2, 15, 30, tzinfo=UTC)
    cases = [
        {
            "uuid": new_uuid(),
            "organization_id": org.id,
            "status": "closed",
            "region": region,
            "determination": "indicated",
            "created_at": now,
            "updated_at": now,
        }
        for region in ("LIM", "PUN", "MDD")
    ]
    ids = bulk.insert(cast(sa.Table, Case.__table__), cases, ids=True)
    assert ids == sorted(ids) and len(set(ids)) == 3 and min(ids) > first.id
    people = [
        {"case_id": case_id, "given_names": name, "family_names": "Quispe", "sex": "F"}
        for case_id, name in zip(ids, ("Rosa", "Ana", None), strict=True)
    ]
    bulk.insert(cast(sa.Table, Person.__table__), people)
    db.session.expire_all()
    stored = {c.id: c for c in db.session.scalars(sa.select(Case).where(Case.id.in_(ids)))}
    assert [stored[i].region for i in ids] == ["LIM", "PUN", "MDD"]
    assert stored[ids[0]].created_at == now  # UTC in, UTC out
    assert stored[ids[0]].version == 1  # the column's Python default
    persons = {
        p.case_id: p for p in db.session.scalars(sa.select(Person).where(Person.case_id.in_(ids)))
    }
    assert [persons[i].given_names for i in ids] == ["Rosa", "Ana", None]
    assert persons[ids[0]].languages == []  # default=list
    raw = db.session.execute(
        sa.text("SELECT given_names FROM persons WHERE case_id = :id"), {"id": ids[0]}
    ).scalar_one()
    assert b"Rosa" not in bytes(raw)  # encrypted at rest, as the ORM writes it


def test_integer_rows_are_written_exactly(app: Any, db_tx: None) -> None:
    from caseapp.facts.models import LinkageBlock

    table = cast(sa.Table, LinkageBlock.__table__)
    rows = [(-(2**63), 7), (2**63 - 1, 7), (0, 8), (-1, 2**31 - 1)]
    bulk.write(table, ["block", "screening_id"], rows, integers=True)
    stored = db.session.execute(sa.select(table.c.block, table.c.screening_id)).all()
    assert sorted(tuple(r) for r in stored) == sorted(rows)
