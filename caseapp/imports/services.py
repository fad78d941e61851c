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
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app

from caseapp.accounts.models import Organization
from caseapp.audit import services as audit
from caseapp.core import bulk, cores
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
class _Checked:
    """One row as a worker left it: its problems and, in a real run, its bound rows."""

    line: int
    source_id: str
    problems: list[Problem]  # mapping problems
    contract: list[Problem]  # the contract's, for the columns the mapping did not name
    existing: bool = False
    rows: _Rows | None = None


@dataclass(slots=True)
class _Rows:
    """A valid row's table rows as bound value tuples, without the ids the writer assigns
    (cases.id; persons.case_id; screenings.id, case_id; the screening id of the rest)."""

    case: tuple[Any, ...]
    person: tuple[Any, ...]
    screening: tuple[Any, ...]
    fact: tuple[Any, ...]
    link: tuple[Any, ...]
    record: tuple[Any, ...]  # import_records: source key and id, line, import time
    purposes: list[str]
    blocks: tuple[int, ...]


@dataclass
class _Run:
    """What checking and preparing a row needs, fixed for the run (a worker process gets a
    copy when it starts)."""

    app: Any
    profile: Profile
    headers: dict[str, str]
    today: date
    now: datetime
    existing: set[str]
    prepare: bool  # a real run: bind the rows of the valid rows
    organization_id: int
    actor_id: int | None
    dialect: sa.Dialect
    binders: dict[str, bulk.Binder] = field(default_factory=dict)
    #: table → the columns of its bound tuples (after the ids), as the binders made them
    columns: dict[str, list[str]] = field(default_factory=dict)


def source_key(register: str, source_id: str) -> str:
    """Keyed hash of a source record id (idempotence without a plain identifier)."""
    return str(keyring().blind_index(f"{register}\x1f{source_id}", purpose="import-source"))


#: rows handed to a worker at a time, and chunks in flight per worker (memory stays flat)
WORK_ROWS = 500
_IN_FLIGHT = 3


def workers_default() -> int:
    """Worker processes for a command-line import: one per core (the main process reads
    the file and writes the database meanwhile), none on a single core."""
    usable = cores.usable()
    return 0 if usable < 2 else min(usable, 8)


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
    workers: int = 0,
) -> Result:
    """Check (``dry_run``) or import one file. A real run with bad rows raises
    :class:`ImportRefused` (the caller rolls back) unless ``skip_bad_rows``; rows already
    imported from this register by this organization are counted, not imported again.

    ``workers`` > 0 checks and prepares the rows in that many forked processes while this
    one reads the file and writes the database (ADR 0027); the result is the same."""
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
    now = utcnow()
    run = _Run(
        app=current_app._get_current_object(),  # type: ignore[attr-defined]
        profile=profile,
        headers={rules.normalized(h): h for h in table.header if h},
        today=now.astimezone(LIMA).date(),
        now=now,
        existing=_existing_keys(organization.id, profile.register),
        prepare=not dry_run,
        organization_id=organization.id,
        actor_id=actor.id if isinstance(getattr(actor, "id", None), int) else None,
        dialect=db.session.connection().dialect,
    )
    seen: dict[str, int] = {}
    pending: list[_Checked] = []
    writer = None if dry_run else _Writer(actor, organization, profile, now)
    if writer is not None:
        batch = writer.open_batch(batch, filename, data, skip_bad_rows)
    try:
        for row in _checked_rows(run, table.rows, workers):
            result.rows += 1
            if progress is not None and result.rows % 500 == 0:
                progress(500, table.total)
            problems = row.problems
            if row.source_id:
                first = seen.setdefault(row.source_id, row.line)
                if first != row.line:
                    problems.append(
                        rules.duplicate_problem(profile, row.line, row.source_id, first)
                    )
            if row.contract:
                named = {p.column for p in problems}
                problems.extend(p for p in row.contract if p.column not in named)
            if problems:
                result.add(problems)
                continue
            if row.existing:
                result.existing += 1
                continue
            if writer is None or (result.bad_lines and not skip_bad_rows):
                result.created += 1 if writer is None else 0
                continue
            pending.append(row)
            if len(pending) >= CHUNK:
                result.created += writer.write(pending, run.columns)
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
    result.created += writer.write(pending, run.columns)
    # once per batch: linked to the stored persons with the stored model, or a full relink
    # when the model is due for a new estimate (facts.link_new, ADR 0027)
    facts.link_new(writer.screening_ids)
    return _finish(actor, organization, profile, data, filename, result, batch)


# -- checking and preparing rows, here or in worker processes ---------------------------------

_RUN: _Run | None = None  # a worker's copy of the run (set before the fork)


def _checked_rows(run: _Run, rows: Iterator[readers.Row], workers: int) -> Iterator[_Checked]:
    """The rows checked (and, in a real run, prepared) in file order. With ``workers`` the
    work goes to forked processes, a few chunks ahead of the caller; the file is still read
    here, so a read error surfaces at its line."""
    chunks = _chunks(rows, WORK_ROWS)
    if workers < 1:
        for chunk in chunks:
            yield from _check_chunk(run, chunk)
        return
    global _RUN
    _RUN = run
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_start
    )
    waiting: deque[Future[tuple[list[_Checked], dict[str, list[str]]]]] = deque()
    try:
        for chunk in chunks:
            waiting.append(pool.submit(_worker_chunk, chunk))
            if len(waiting) >= workers * _IN_FLIGHT:
                yield from _received(run, waiting.popleft().result())
        while waiting:
            yield from _received(run, waiting.popleft().result())
    finally:
        _RUN = None
        for future in waiting:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _chunks(rows: Iterator[readers.Row], size: int) -> Iterator[list[readers.Row]]:
    chunk: list[readers.Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _worker_start() -> None:
    assert _RUN is not None
    # the parent's connections are its own: this process never uses the database
    context = _RUN.app.app_context()
    context.push()
    engine = db.engine
    if isinstance(engine, sa.Engine):  # (tests bind the session to one connection)
        engine.dispose(close=False)


def _worker_chunk(
    chunk: list[readers.Row],
) -> tuple[list[_Checked], dict[str, list[str]]]:
    assert _RUN is not None
    return _check_chunk(_RUN, chunk), _RUN.columns


def _received(run: _Run, done: tuple[list[_Checked], dict[str, list[str]]]) -> list[_Checked]:
    checked, columns = done
    run.columns.update(columns)
    return checked


def _check_chunk(run: _Run, chunk: list[readers.Row]) -> list[_Checked]:
    profile = run.profile
    out: list[_Checked] = []
    for line, cells in chunk:
        row = rules.map_row(profile, line, cells, headers=run.headers, today=run.today)
        key = source_key(profile.register, row.source_id)
        checked = _Checked(line, row.source_id, row.problems, [])
        try:
            screening = parse_screening(row.payload, now=run.now)
        except ValidationFailed as exc:
            # a cell that could not be read is missing for the contract too: one problem
            named = {p.column for p in row.problems}
            checked.contract = [
                p
                for p in rules.contract_problems(profile, row, exc.fields)
                if p.column not in named
            ]
            screening = None
        checked.existing = key in run.existing
        if run.prepare and screening is not None and not row.problems and not checked.existing:
            checked.rows = _prepare(run, screening)
            checked.rows.record = _bind(
                run,
                _RECORDS,
                {
                    "source_key": key,
                    "source_record_id": row.source_id,
                    "line": line,
                    "imported_at": run.now,
                },
            )
        out.append(checked)
    return out


def _bind(run: _Run, table: sa.Table, row: dict[str, Any]) -> tuple[Any, ...]:
    binder = run.binders.get(table.name)
    if binder is None:
        binder = run.binders[table.name] = bulk.Binder(table, list(row), run.dialect)
        run.columns[table.name] = binder.columns
    return binder(row)


def _prepare(run: _Run, data: ScreeningInput) -> _Rows:
    """The bound rows of one valid row: the determination and profile by the screening
    rules, its fact and its keyed linkage encodings (ids are added by the writer)."""
    profile, now = run.profile, run.now
    inputs = screening_services.facts_from(data)
    determination = screening_rules.determine(inputs)
    person_profile = screening_rules.profile(inputs)
    case = {
        "uuid": new_uuid(),
        "organization_id": run.organization_id,
        "created_by_id": run.actor_id,
        "status": profile.case_status,
        "region": data.region,
        "determination": determination.status,
        "created_at": now,
        "updated_at": now,
        "closed_at": now if profile.case_status == "closed" else None,
        "legal_hold": False,
        "version": 1,
    }
    p = data.person
    document = p.document.recorded if p.document else None
    person = {
        "given_names": p.given_names,
        "family_names": p.family_names,
        "date_of_birth": p.date_of_birth.isoformat() if p.date_of_birth else None,
        "document_type": document.type if document else None,
        "document_number": document.number if document else None,
        "contact": p.contact,
        "address": p.address,
        "name_index": screening_services.name_index(p.given_names, p.family_names),
        "document_index": screening_services.document_index(document.number if document else None),
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
    screening = {
        "uuid": new_uuid(),
        "organization_id": run.organization_id,
        "created_by_id": run.actor_id,
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
    view = SimpleNamespace(
        id=0,  # the fact's screening_id and person_id are the writer's
        organization_id=run.organization_id,
        effective_status=screening["status"],
        case=SimpleNamespace(person=SimpleNamespace(**person)),
        **{k: screening[k] for k in _VIEW_FIELDS},
    )
    fact = facts.fact_values(cast(Any, view), profile.list_kind)
    del fact["screening_id"], fact["person_id"]
    keys = facts.encode(cast(Any, view))
    key_id = encoding.encoder(keyring().index_key).key_id
    return _Rows(
        case=_bind(run, _CASES, case),
        person=_bind(run, _PERSONS, person),
        screening=_bind(run, _SCREENINGS, screening),
        fact=_bind(run, _FACTS, fact),
        link=_bind(run, _LINKS, facts.linkage_values(keys, key_id)),
        record=(),
        purposes=sorted(set(data.purposes)),
        blocks=encoding.unpack_codes(keys.blocks),
    )


_CASES = cast(sa.Table, Case.__table__)
_PERSONS = cast(sa.Table, Person.__table__)
_SCREENINGS = cast(sa.Table, Screening.__table__)
_FACTS = cast(sa.Table, ScreeningFact.__table__)
_LINKS = cast(sa.Table, LinkageRecord.__table__)
_RECORDS = cast(sa.Table, ImportRecord.__table__)


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

    def write(self, chunk: list[_Checked], columns: dict[str, list[str]]) -> int:
        """Write the prepared rows of ``chunk``: ids first, then one bulk insert per table."""
        rows = [item.rows for item in chunk if item.rows is not None]
        if not rows:
            return 0
        assert self.batch is not None and len(rows) == len(chunk)
        case_ids = bulk.allocate_ids(_CASES, len(rows))
        screening_ids = bulk.allocate_ids(_SCREENINGS, len(rows))
        pairs = list(zip(case_ids, screening_ids, rows, strict=True))
        bulk.write(_CASES, ["id", *columns["cases"]], [(c, *r.case) for c, _, r in pairs])
        bulk.write(
            _PERSONS, ["case_id", *columns["persons"]], [(c, *r.person) for c, _, r in pairs]
        )
        bulk.write(
            _SCREENINGS,
            ["id", "case_id", *columns["screenings"]],
            [(s, c, *r.screening) for c, s, r in pairs],
        )
        bulk.write(
            _FACTS,
            ["screening_id", "person_id", *columns["screening_facts"]],
            [(s, s, *r.fact) for _, s, r in pairs],
        )
        bulk.write(
            cast(sa.Table, ScreeningFactPurpose.__table__),
            ["screening_id", "purpose"],
            [(s, p) for _, s, r in pairs for p in r.purposes],
        )
        bulk.write(
            _LINKS,
            ["screening_id", *columns["linkage_records"]],
            [(s, *r.link) for _, s, r in pairs],
        )
        # in key order: each insert lands next to the previous one in the key's index
        bulk.write(
            cast(sa.Table, LinkageBlock.__table__),
            ["block", "screening_id"],
            sorted((b, s) for _, s, r in pairs for b in r.blocks),
            integers=True,
        )
        batch = (self.batch.id, self.organization.id, self.profile.register)
        bulk.write(
            _RECORDS,
            ["batch_id", "organization_id", "register", "case_id", "screening_id"]
            + columns["import_records"],
            [(*batch, c, s, *r.record) for c, s, r in pairs],
        )
        self.screening_ids += screening_ids
        return len(rows)


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
