"""Importing a register file: check it, import it (one transaction), list, inspect and roll
back batches. Every function takes an explicit actor and never commits: the CLI command or
the page's request commits once, or rolls back (ADR 0019).

Each row becomes the screening request of the API and is validated by its contract
(``screening.schema.parse_screening``); the determination and profile come from the same
pure rules (``screening.rules``). What differs from ``intake.screen_person`` is on purpose:
no referral is planned (a 2019 record must not send anyone to a UPE today), the rows are
written in bulk (chunks of executemany, the batch linked once, not per row),
and each screening keeps its provenance (``import_records``). The fact counts in the list
the profile names (``list``: an organization kind, the lists of the overlap table and the
estimate), ADR 0022.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import sqlalchemy as sa

from caseapp.accounts.models import Organization
from caseapp.audit import services as audit
from caseapp.core import bulk
from caseapp.core.db import keyring, new_uuid, utcnow
from caseapp.core.errors import Conflict, NotFound, ValidationFailed
from caseapp.core.time import LIMA
from caseapp.extensions import db
from caseapp.facts import encoding
from caseapp.facts import services as facts
from caseapp.facts.models import LinkageBlock, LinkageRecord, ScreeningFact, ScreeningFactPurpose
from caseapp.imports import readers, rules
from caseapp.imports.models import ImportBatch, ImportRecord
from caseapp.imports.rules import Problem, Profile
from caseapp.screening import rules as screening_rules
from caseapp.screening import services as screening_services
from caseapp.screening.models import Case, Person, Screening
from caseapp.screening.schema import ScreeningInput, parse_screening

#: rows written per bulk round (memory stays flat; fewer round trips)
CHUNK = 2000
#: problems kept in full; beyond, they are counted (a file of garbage has a million)
MAX_PROBLEMS = 100_000

#: (rows done since the last call, rows in the file when known)
Progress = Callable[[int, int | None], None]


class ImportRefused(Exception):
    """A real run found bad rows and was not told to skip them: nothing is imported."""

    def __init__(self, result: Result) -> None:
        self.result = result
        super().__init__(f"{result.rows_bad} bad rows; nothing imported")


@dataclass
class Result:
    profile: Profile
    dry_run: bool
    rows: int = 0
    created: int = 0
    existing: int = 0
    bad_lines: set[int] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    problems_count: int = 0
    file_error: bool = False
    batch: ImportBatch | None = None

    @property
    def rows_bad(self) -> int:
        return len(self.bad_lines) + (1 if self.file_error else 0)

    @property
    def ok(self) -> bool:
        return self.problems_count == 0

    def add(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.problems_count += 1
            if len(self.problems) < MAX_PROBLEMS:
                self.problems.append(problem)
            if problem.line and not self.file_error:
                self.bad_lines.add(problem.line)

    def report_csv(self) -> str:
        return report_csv(self.problems)

    def summary(self) -> dict[str, Any]:
        return {
            "profile": self.profile.name,
            "register": self.profile.register,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "bad_rows": self.rows_bad,
            "problems": self.problems_count,
            "created": self.created,
            "already_imported": self.existing,
            "batch": self.batch.uuid if self.batch else None,
        }


def report_csv(problems: Sequence[Problem]) -> str:
    """The problems as CSV; a value that a spreadsheet would run as a formula is quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(rules.REPORT_HEADER)
    for problem in problems:
        writer.writerow([_inert(v) for v in problem.as_row()])
    return out.getvalue()


def _inert(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# -- the run ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Valid:
    line: int
    source_id: str
    source_key: str
    data: ScreeningInput


def source_key(register: str, source_id: str) -> str:
    """Keyed hash of a source record id (idempotence without a plain identifier)."""
    return str(keyring().blind_index(f"{register}\x1f{source_id}", purpose="import-source"))


def import_file(
    actor: Any,
    organization: Organization,
    profile: Profile,
    data: bytes,
    *,
    filename: str = "",
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
    batch: ImportBatch | None = None,
) -> Result:
    """Check (``dry_run``) or import one file. A real run with bad rows raises
    :class:`ImportRefused` (the caller rolls back) unless ``skip_bad_rows``; rows already
    imported from this register by this organization are counted, not imported again."""
    result = Result(profile, dry_run)
    try:
        table = readers.read(data, profile)
        result.add(rules.header_problems(profile, table.header))
    except readers.ReadError as exc:
        result.file_error = True
        result.add([Problem(exc.line, "", "", str(exc))])
    if not result.ok:  # unreadable, or columns missing: no row can be read
        result.file_error = True
        if dry_run:
            return result
        raise ImportRefused(result)
    headers = {rules.normalized(h): h for h in table.header if h}
    existing = _existing_keys(organization.id, profile.register)
    now = utcnow()
    today = now.astimezone(LIMA).date()
    seen: dict[str, int] = {}
    pending: list[_Valid] = []
    writer = None if dry_run else _Writer(actor, organization, profile, now)
    if writer is not None:
        batch = writer.open_batch(batch, filename, data, skip_bad_rows)
    try:
        for line, cells in table.rows:
            result.rows += 1
            if progress is not None and result.rows % 500 == 0:
                progress(500, table.total)
            row = rules.map_row(profile, line, cells, headers=headers, today=today)
            problems = row.problems
            if row.source_id:
                first = seen.setdefault(row.source_id, line)
                if first != line:
                    problems.append(rules.duplicate_problem(profile, line, row.source_id, first))
            try:
                screening = parse_screening(row.payload, now=now)
            except ValidationFailed as exc:
                # a cell that could not be read is missing for the contract too: one problem
                named = {p.column for p in problems}
                problems.extend(
                    p
                    for p in rules.contract_problems(profile, row, exc.fields)
                    if p.column not in named
                )
            if problems:
                result.add(problems)
                continue
            key = source_key(profile.register, row.source_id)
            if key in existing:
                result.existing += 1
                continue
            if writer is None or (result.bad_lines and not skip_bad_rows):
                result.created += 1 if writer is None else 0
                continue
            pending.append(_Valid(line, row.source_id, key, screening))
            if len(pending) >= CHUNK:
                result.created += writer.write(pending)
                pending = []
    except readers.ReadError as exc:
        result.file_error = True
        result.add([Problem(exc.line, "", "", str(exc))])
    if progress is not None:
        progress(result.rows % 500, table.total)
    if dry_run:
        # what a real run would create
        return _finish(actor, organization, profile, data, filename, result, batch)
    if result.file_error or (result.problems_count and not skip_bad_rows):
        result.created = 0
        raise ImportRefused(result)
    assert writer is not None
    result.created += writer.write(pending)
    # once per batch: linked to the stored persons with the stored model, or a full relink
    # when the model is due for a new estimate (facts.link_new, ADR 0027)
    facts.link_new(writer.screening_ids)
    return _finish(actor, organization, profile, data, filename, result, batch)


def _existing_keys(organization_id: int, register: str) -> set[str]:
    return set(
        db.session.scalars(
            sa.select(ImportRecord.source_key).where(
                ImportRecord.organization_id == organization_id,
                ImportRecord.register == register,
            )
        )
    )


def _finish(
    actor: Any,
    organization: Organization,
    profile: Profile,
    data: bytes,
    filename: str,
    result: Result,
    batch: ImportBatch | None,
) -> Result:
    if result.dry_run or batch is None:
        return result
    batch.status = "imported"
    batch.imported_at = utcnow()
    batch.upload = None
    _counts(batch, result)
    result.batch = batch
    audit.record(
        actor,
        "import.run",
        object_type="import_batch",
        object_id=batch.uuid,
        details={
            "organization": organization.code,
            "profile": profile.name,
            "register": profile.register,
            "file_sha256": batch.file_sha256,
            **{k: v for k, v in result.summary().items() if k not in ("batch", "dry_run")},
        },
    )
    return result


def _counts(batch: ImportBatch, result: Result) -> None:
    batch.rows_total = result.rows
    batch.rows_bad = result.rows_bad
    batch.rows_created = result.created
    batch.rows_existing = result.existing
    batch.problems_count = result.problems_count
    batch.report = result.report_csv() if result.problems else None


# -- bulk writing -----------------------------------------------------------------------------


def _facts_json(data: ScreeningInput) -> str:
    """``screenings.facts`` exactly as ``screening.services`` stores it (for replay)."""

    def default(value: Any) -> Any:
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(type(value))

    return json.dumps(data.model_dump(), default=default, sort_keys=True)


class _Writer:
    """Cases, persons, screenings, facts and provenance of a chunk of valid rows, in a
    few executemany statements (ids come back with ``RETURNING``, in row order)."""

    def __init__(self, actor: Any, organization: Organization, profile: Profile, now: datetime):
        self.actor_id = actor.id if isinstance(getattr(actor, "id", None), int) else None
        self.actor_email = str(getattr(actor, "email", "") or "")
        self.organization = organization
        self.profile = profile
        self.now = now
        self.batch: ImportBatch | None = None
        self.screening_ids: list[int] = []  # written so far, for the linkage

    def open_batch(
        self, batch: ImportBatch | None, filename: str, data: bytes, skip_bad_rows: bool
    ) -> ImportBatch:
        if batch is None:
            batch = ImportBatch(
                uuid=new_uuid(),
                organization_id=self.organization.id,
                created_by_id=self.actor_id,
                actor_email=self.actor_email,
                profile=self.profile.name,
                register=self.profile.register,
                list_kind=self.profile.list_kind,
                filename=filename[:255],
                file_sha256=hashlib.sha256(data).hexdigest(),
                status="checked",
            )
            db.session.add(batch)
        batch.skip_bad_rows = skip_bad_rows
        db.session.flush()
        self.batch = batch
        return batch

    def write(self, chunk: list[_Valid]) -> int:
        if not chunk:
            return 0
        assert self.batch is not None
        profile, org, now = self.profile, self.organization, self.now
        closed = profile.case_status == "closed"
        cases: list[dict[str, Any]] = []
        persons: list[dict[str, Any]] = []
        screenings: list[dict[str, Any]] = []
        decided = []
        for item in chunk:
            data = item.data
            inputs = screening_services.facts_from(data)
            determination = screening_rules.determine(inputs)
            person_profile = screening_rules.profile(inputs)
            decided.append((determination, person_profile))
            cases.append(
                {
                    "uuid": new_uuid(),
                    "organization_id": org.id,
                    "created_by_id": self.actor_id,
                    "status": profile.case_status,
                    "region": data.region,
                    "determination": determination.status,
                    "created_at": now,
                    "updated_at": now,
                    "closed_at": now if closed else None,
                    "legal_hold": False,
                    "version": 1,
                }
            )
        case_ids = bulk.insert(cast(sa.Table, Case.__table__), cases, ids=True)
        for item, case_id, (determination, person_profile) in zip(
            chunk, case_ids, decided, strict=True
        ):
            data = item.data
            p = data.person
            document = p.document.recorded if p.document else None
            persons.append(
                {
                    "case_id": case_id,
                    "given_names": p.given_names,
                    "family_names": p.family_names,
                    "date_of_birth": p.date_of_birth.isoformat() if p.date_of_birth else None,
                    "document_type": document.type if document else None,
                    "document_number": document.number if document else None,
                    "contact": p.contact,
                    "address": p.address,
                    "name_index": screening_services.name_index(p.given_names, p.family_names),
                    "document_index": screening_services.document_index(
                        document.number if document else None
                    ),
                    "sex": p.sex,
                    "gender_identity": p.gender_identity,
                    "lgbtqi": p.lgbtqi,
                    "age_years": p.age_years,
                    "age_estimated": p.age_estimated,
                    "appears_minor": p.appears_minor,
                    "nationality": list(p.nationality),
                    "languages": list(p.languages),
                    "migration_status": p.migration_status,
                    "pregnant": p.pregnant,
                    "disability": p.disability,
                    "unaccompanied": p.unaccompanied,
                }
            )
            screenings.append(
                {
                    "uuid": new_uuid(),
                    "case_id": case_id,
                    "organization_id": org.id,
                    "created_by_id": self.actor_id,
                    "created_at": now,
                    "identified_at": data.identified_at,
                    "region": data.region,
                    "identification_context": data.identification_context,
                    "acts": list(data.acts),
                    "means": list(data.means),
                    "purposes": list(data.purposes),
                    "indicators": list(data.indicators),
                    "needs": list(data.needs),
                    "stated_consent": data.stated_consent,
                    "context": data.context_facts.model_dump(),
                    "notes": data.notes,
                    "facts": _facts_json(data),
                    "status": determination.status,
                    "missing_elements": list(determination.missing_elements),
                    "aggravating": list(determination.aggravating),
                    "exploitation_form": determination.exploitation_form,
                    "explanation": [r.as_dict() for r in determination.explanation],
                    "alerts": list(determination.alerts),
                    "rule_version": determination.rule_version,
                    "tags": list(person_profile.tags),
                    "age_years": person_profile.age_years,
                    "age_group": person_profile.age_group,
                    "unodc_category": person_profile.unodc_category,
                    "mp_band": person_profile.mp_band,
                    "ctdc_band": person_profile.ctdc_band,
                }
            )
        bulk.insert(cast(sa.Table, Person.__table__), persons)
        screening_ids = bulk.insert(cast(sa.Table, Screening.__table__), screenings, ids=True)
        self.screening_ids += screening_ids
        fact_rows: list[dict[str, Any]] = []
        purpose_rows: list[dict[str, Any]] = []
        link_rows: list[dict[str, Any]] = []
        block_rows: list[dict[str, int]] = []
        records: list[dict[str, Any]] = []
        key_id = encoding.encoder(keyring().index_key).key_id
        for item, case_id, screening_id, person, screening in zip(
            chunk, case_ids, screening_ids, persons, screenings, strict=True
        ):
            view = SimpleNamespace(
                id=screening_id,
                organization_id=org.id,
                effective_status=screening["status"],
                case=SimpleNamespace(person=SimpleNamespace(**person)),
                **{k: screening[k] for k in _VIEW_FIELDS},
            )
            fact_rows.append(facts.fact_values(cast(Any, view), profile.list_kind))
            keys = facts.encode(cast(Any, view))
            link_rows.append({"screening_id": screening_id, **facts.linkage_values(keys, key_id)})
            block_rows.extend(facts.block_rows(screening_id, keys))
            purpose_rows.extend(
                {"screening_id": screening_id, "purpose": p}
                for p in sorted(set(screening["purposes"]))
            )
            records.append(
                {
                    "batch_id": self.batch.id,
                    "organization_id": org.id,
                    "register": profile.register,
                    "source_key": item.source_key,
                    "source_record_id": item.source_id,
                    "line": item.line,
                    "case_id": case_id,
                    "screening_id": screening_id,
                    "imported_at": now,
                }
            )
        for model_, rows in (
            (ScreeningFact, fact_rows),
            (ScreeningFactPurpose, purpose_rows),
            (LinkageRecord, link_rows),
            (LinkageBlock, block_rows),
            (ImportRecord, records),
        ):
            bulk.insert(cast(sa.Table, model_.__table__), rows)
        return len(chunk)


_VIEW_FIELDS = (
    "identified_at",
    "region",
    "age_group",
    "unodc_category",
    "mp_band",
    "ctdc_band",
    "exploitation_form",
    "identification_context",
    "context",
    "age_years",
    "purposes",
)


# -- the page's two steps: check, then confirm ----------------------------------------------------


#: how long a checked file waits for its confirmation; then it is dropped
CHECK_KEPT = timedelta(hours=24)


def expire_checks(organization_id: int) -> int:
    """Drop the files and reports of checks nobody confirmed within :data:`CHECK_KEPT`
    (they hold personal data that was never imported); the counts stay."""
    result = db.session.execute(
        sa.update(ImportBatch)
        .where(
            ImportBatch.organization_id == organization_id,
            ImportBatch.status == "checked",
            ImportBatch.created_at < utcnow() - CHECK_KEPT,
            sa.or_(ImportBatch.upload.is_not(None), ImportBatch.report.is_not(None)),
        )
        .values(upload=None, report=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def check_upload(
    actor: Any, organization: Organization, profile: Profile, filename: str, data: bytes
) -> ImportBatch:
    """A dry run kept as a ``checked`` batch: its report, and the file (encrypted) until
    the supervisor confirms the import, or for :data:`CHECK_KEPT` (older unconfirmed checks
    of the organization are dropped here)."""
    expire_checks(organization.id)
    result = import_file(actor, organization, profile, data, filename=filename, dry_run=True)
    batch = ImportBatch(
        uuid=new_uuid(),
        organization_id=organization.id,
        created_by_id=actor.id if isinstance(getattr(actor, "id", None), int) else None,
        actor_email=str(getattr(actor, "email", "") or ""),
        profile=profile.name,
        register=profile.register,
        list_kind=profile.list_kind,
        filename=filename[:255],
        file_sha256=hashlib.sha256(data).hexdigest(),
        status="checked",
        upload=None if result.file_error else base64.b64encode(data).decode("ascii"),
    )
    _counts(batch, result)
    db.session.add(batch)
    db.session.flush()
    audit.record(
        actor,
        "import.check",
        object_type="import_batch",
        object_id=batch.uuid,
        details={"profile": profile.name, "rows": result.rows, "problems": result.problems_count},
    )
    return batch


def confirm(actor: Any, batch_uuid: str, profile: Profile, *, skip_bad_rows: bool) -> Result:
    """Import a checked batch's file (raises ImportRefused when bad rows are not skipped)."""
    batch = get_batch(actor, batch_uuid, lock=True)
    if batch.status != "checked" or batch.upload is None:
        raise Conflict("This batch is not waiting for confirmation", code="import_not_checked")
    data = base64.b64decode(batch.upload)
    return import_file(
        actor,
        batch.organization,
        profile,
        data,
        filename=batch.filename,
        skip_bad_rows=skip_bad_rows,
        batch=batch,
    )


# -- batches ------------------------------------------------------------------------------------


def list_batches(actor: Any, limit: int = 100) -> list[ImportBatch]:
    """Newest first; an organization's users see its own batches, the CLI every batch."""
    stmt = sa.select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit)
    if getattr(actor, "organization_id", None) is not None:
        stmt = stmt.where(ImportBatch.organization_id == actor.organization_id)
    return list(db.session.scalars(stmt))


def get_batch(actor: Any, batch_uuid: str, *, lock: bool = False) -> ImportBatch:
    """One batch of the actor's organization (any, for the CLI). ``lock``: hold its row
    until the commit and read it afresh, so two confirmations or rollbacks of one batch
    run one after the other and the second finds it already done (PostgreSQL; SQLite has
    one writer at a time anyway)."""
    stmt = sa.select(ImportBatch).where(ImportBatch.uuid == str(batch_uuid))
    if getattr(actor, "organization_id", None) is not None:
        stmt = stmt.where(ImportBatch.organization_id == actor.organization_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    batch = db.session.scalar(stmt)
    if batch is None:
        raise NotFound("Import batch not found")
    return batch


def batch_records(actor: Any, batch: ImportBatch, limit: int = 50) -> list[dict[str, Any]]:
    """The first records of a batch with their case (audited: source ids are case data)."""
    rows = db.session.execute(
        sa.select(ImportRecord, Case.uuid, Screening.status)
        .join(Case, Case.id == ImportRecord.case_id)
        .join(Screening, Screening.id == ImportRecord.screening_id)
        .where(ImportRecord.batch_id == batch.id)
        .order_by(ImportRecord.line)
        .limit(limit)
    ).all()
    audit.record(actor, "import.read", object_type="import_batch", object_id=batch.uuid)
    return [
        {
            "line": r.line,
            "source_record_id": r.source_record_id,
            "case": case_uuid,
            "status": status,
            "imported_at": r.imported_at,
        }
        for r, case_uuid, status in rows
    ]


def batch_report(actor: Any, batch: ImportBatch) -> str:
    """The problems of a batch as CSV (audited: it holds the values of rejected rows)."""
    audit.record(
        actor,
        "import.report",
        object_type="import_batch",
        object_id=batch.uuid,
        details={"problems": batch.problems_count},
    )
    return batch.report or ""


#: tables written by an import: everything else pointing at its cases is later work
_OWN_TABLES = {
    "persons",
    "screenings",
    "screening_facts",
    "linkage_records",
    "linkage_blocks",
    "import_records",
}


def rollback(actor: Any, batch_uuid: str) -> ImportBatch:
    """Remove what a batch imported (audited). Refused (409) when any of its cases has
    been worked on since (edited, screened again, a referral, a consent…): then they are
    real cases now and are closed one by one, never deleted in bulk."""
    batch = get_batch(actor, batch_uuid, lock=True)
    if batch.status != "imported":
        raise Conflict("Only an imported batch can be rolled back", code="import_not_imported")
    case_ids = sa.select(ImportRecord.case_id).where(ImportRecord.batch_id == batch.id)
    screening_ids = sa.select(ImportRecord.screening_id).where(ImportRecord.batch_id == batch.id)
    touched = _touched(case_ids, screening_ids)
    if touched:
        raise Conflict(
            f"{touched} imported case(s) have been worked on since the import; close them instead",
            code="import_cases_worked_on",
            worked_on=touched,
        )
    removed = int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ImportRecord)
            .where(ImportRecord.batch_id == batch.id)
        )
        or 0
    )
    ids = list(db.session.scalars(screening_ids))
    cids = list(db.session.scalars(case_ids))
    for start in range(0, len(ids), 5000):
        part = ids[start : start + 5000]
        for child in (ScreeningFactPurpose, LinkageBlock, LinkageRecord):
            db.session.execute(sa.delete(child).where(child.screening_id.in_(part)))
        db.session.execute(sa.delete(ScreeningFact).where(ScreeningFact.screening_id.in_(part)))
    db.session.execute(sa.delete(ImportRecord).where(ImportRecord.batch_id == batch.id))
    for start in range(0, len(ids), 5000):
        db.session.execute(sa.delete(Screening).where(Screening.id.in_(ids[start : start + 5000])))
    for start in range(0, len(cids), 5000):
        part = cids[start : start + 5000]
        db.session.execute(sa.delete(Person).where(Person.case_id.in_(part)))
        db.session.execute(
            sa.delete(Case).where(Case.id.in_(part)).execution_options(synchronize_session=False)
        )
    if removed:
        facts.relink_all()  # a removed screening may have joined two persons
    batch.status = "rolled_back"
    batch.rolled_back_at = utcnow()
    batch.rolled_back_by = str(getattr(actor, "email", "") or "")
    audit.record(
        actor,
        "import.rollback",
        object_type="import_batch",
        object_id=batch.uuid,
        details={"removed": removed, "register": batch.register},
    )
    return batch


def _touched(case_ids: sa.Select[Any], screening_ids: sa.Select[Any]) -> int:
    """How many of the cases carry anything an import did not write."""
    edited = int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Case)
            .where(Case.id.in_(case_ids), Case.version > 1)
        )
        or 0
    )
    if edited:
        return edited
    cases = Case.__table__
    screenings_t = Screening.__table__
    for table in db.metadata.sorted_tables:
        if table.name in _OWN_TABLES or table.name == "cases":
            continue
        for fk in table.foreign_keys:
            target = fk.column.table
            if target is cases:
                ids = case_ids
            elif target is screenings_t:
                ids = screening_ids
            else:
                continue
            count = db.session.scalar(
                sa.select(sa.func.count()).select_from(table).where(fk.parent.in_(ids))
            )
            if count:
                return int(count)
    # a second screening of the same case (screened again in Ruta)
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Screening)
            .where(Screening.case_id.in_(case_ids), Screening.id.not_in(screening_ids))
        )
        or 0
    )
