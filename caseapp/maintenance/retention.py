"""Retention: purge the personal data of old cases, keep their anonymous statistics.

A purge NULLs, for every case it selects, every ``EncryptedText`` column of every row
that belongs to the case (found by type and by foreign keys leading to ``cases``, never
from a fixed list), the persons' blind indexes and the statistics facts' linkage
pseudonyms (they allow re-linking a person, so they are personal data too). Coded data
stays — sex, age group, determinations, referral statuses, gaps, facts — so reports
still count the case. ``cases.purged_at`` records when. A case under legal hold is
never purged. Idempotency records (their stored responses contain screening documents)
are kept only 24 hours.

Which cases (0 days = that rule never purges):

- ``RETENTION_DAYS_CLOSED``: closed more than N days ago, with nothing recorded since;
- ``RETENTION_DAYS_OPEN``: open, with nothing recorded for N days;
- ``RETENTION_DAYS_NOT_INDICATED``: latest determination ``not_indicated``, open or
  closed, with nothing recorded for N days.

"Nothing recorded" means no change to the case, its screenings (or an override), its
referrals and their history, consents or admissions, and no person currently admitted
to a shelter. Reading a case is not activity.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from caseapp.audit import notes
from caseapp.audit import services as audit
from caseapp.audit.services import Actor, SystemActor
from caseapp.core.contract import parse
from caseapp.core.db import utcnow
from caseapp.core.errors import Conflict, Forbidden, NotFound
from caseapp.core.idempotency import IdempotencyRecord
from caseapp.core.security import Permission, has_permission
from caseapp.extensions import db
from caseapp.facts.models import BLOCK_OWNER, KEY_COLUMNS
from caseapp.maintenance.keys import encrypted_columns
from caseapp.referrals.models import Consent, Referral, ReferralEvent
from caseapp.screening.models import Case, Screening
from caseapp.shelters.models import Admission

IDEMPOTENCY_KEEP = timedelta(hours=24)
#: personal columns that are not encrypted: keyed hashes that re-identify or re-link
PSEUDONYM_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "persons": ("name_index", "document_index"),
    "linkage_records": ("key_id", *KEY_COLUMNS),
}
#: tables whose rows are keyed pseudonyms only: a purge deletes the case's rows. Each names
#: its column that points to its owner and the owner's column ("table.column"): they are
#: derived rows written in bulk, without a foreign key (facts/models.py)
PSEUDONYM_ROWS: Mapping[str, tuple[str, str]] = {"linkage_blocks": BLOCK_OWNER}
RULES = ("closed", "open", "not_indicated")
MAX_REASON = 500


@dataclass(frozen=True)
class RetentionPolicy:
    days_closed: int
    days_open: int
    days_not_indicated: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None = None) -> RetentionPolicy:
        cfg = current_app.config if config is None else config
        days = {
            name: int(cfg.get(f"RETENTION_DAYS_{name.upper()}", 0) or 0)
            for name in ("closed", "open", "not_indicated")
        }
        negative = [k for k, v in days.items() if v < 0]
        if negative:
            raise ValueError(f"RETENTION_DAYS_{negative[0].upper()} must be 0 or more")
        return cls(days["closed"], days["open"], days["not_indicated"])

    def days(self, rule: str) -> int:
        return {
            "closed": self.days_closed,
            "open": self.days_open,
            "not_indicated": self.days_not_indicated,
        }[rule]

    def describe(self) -> str:
        return ", ".join(
            f"{rule} {self.days(rule)} days" if self.days(rule) else f"{rule} never"
            for rule in RULES
        )


@dataclass(frozen=True)
class Candidate:
    case_id: int
    uuid: str
    rule: str


@dataclass
class PurgeResult:
    policy: RetentionPolicy
    dry_run: bool
    candidates: list[Candidate] = field(default_factory=list)
    idempotency_records: int = 0

    @property
    def by_rule(self) -> dict[str, int]:
        return dict(Counter(c.rule for c in self.candidates))


# -- which cases --------------------------------------------------------------------------
def _activity_since(cutoff: datetime) -> sa.ColumnElement[bool]:
    """Something was recorded about the case at or after ``cutoff`` (or a person of the
    case is in a shelter now)."""
    return sa.or_(
        Case.created_at >= cutoff,
        Case.updated_at >= cutoff,
        sa.and_(Case.closed_at.is_not(None), Case.closed_at >= cutoff),  # never NULL
        sa.exists().where(
            Screening.case_id == Case.id,
            sa.or_(Screening.created_at >= cutoff, Screening.override_at >= cutoff),
        ),
        sa.exists().where(
            Referral.case_id == Case.id,
            sa.or_(Referral.created_at >= cutoff, Referral.updated_at >= cutoff),
        ),
        sa.exists().where(
            ReferralEvent.referral_id == Referral.id,
            Referral.case_id == Case.id,
            ReferralEvent.at >= cutoff,
        ),
        sa.exists().where(Consent.case_id == Case.id, Consent.recorded_at >= cutoff),
        sa.exists().where(
            Admission.case_id == Case.id,
            sa.or_(
                Admission.discharged_at.is_(None),
                Admission.admitted_at >= cutoff,
                Admission.discharged_at >= cutoff,
            ),
        ),
    )


def find_candidates(policy: RetentionPolicy, now: datetime) -> list[Candidate]:
    """Cases to purge now, each with the first rule that selects it."""
    base = sa.select(Case.id, Case.uuid).where(sa.not_(Case.legal_hold), Case.purged_at.is_(None))
    conditions: dict[str, sa.ColumnElement[bool]] = {
        "closed": sa.and_(Case.status == "closed", Case.closed_at.is_not(None)),
        "open": Case.status == "open",
        "not_indicated": Case.determination == "not_indicated",
    }
    chosen: dict[int, Candidate] = {}
    for rule in RULES:
        days = policy.days(rule)
        if not days:
            continue
        cutoff = now - timedelta(days=days)
        stmt = base.where(conditions[rule], sa.not_(_activity_since(cutoff)))
        for case_id, uuid in db.session.execute(stmt.order_by(Case.id)):
            chosen.setdefault(case_id, Candidate(case_id, uuid, rule))
    return sorted(chosen.values(), key=lambda c: c.case_id)


# -- what belongs to a case ------------------------------------------------------------------
FkPath = list[tuple[sa.Column[Any], sa.Column[Any]]]  # (child column, parent column) hops


def case_path(table: sa.Table) -> FkPath | None:
    """Shortest chain of foreign keys from ``table`` to ``cases.id`` (None: not case data)."""
    cases = Case.__table__
    if table is cases:
        return []
    queue: deque[tuple[sa.Table, FkPath]] = deque([(table, [])])
    seen = {table}
    while queue:
        current, path = queue.popleft()
        for fk in sorted(current.foreign_keys, key=lambda f: f.parent.name):
            parent = fk.column.table
            hop = [*path, (fk.parent, fk.column)]
            if parent is cases:
                return hop
            if parent not in seen:
                seen.add(parent)
                queue.append((parent, hop))
    return None


def _belongs(table: sa.Table, path: FkPath, case_ids: list[int]) -> sa.ColumnElement[bool]:
    if not path:
        return table.c.id.in_(case_ids)
    child, parent = path[0]
    if len(path) == 1:
        return child.in_(case_ids)
    return child.in_(sa.select(parent).where(_belongs(parent.table, path[1:], case_ids)))


def personal_columns() -> dict[sa.Table, tuple[FkPath, list[str]]]:
    """Per table holding case data: its path to ``cases`` and the columns a purge NULLs."""
    tables: dict[sa.Table, list[str]] = {}
    for col in encrypted_columns():
        tables.setdefault(col.table, []).append(col.column.name)
    for name, pseudonyms in PSEUDONYM_COLUMNS.items():
        tables.setdefault(db.metadata.tables[name], []).extend(pseudonyms)
    result = {}
    for table, columns in tables.items():
        path = case_path(table)
        if path is not None:  # e.g. users.totp_secret is staff data, not case data
            result[table] = (path, columns)
    return result


def pseudonym_rows() -> dict[sa.Table, FkPath]:
    """The tables of :data:`PSEUDONYM_ROWS` and their path to ``cases``: through their owner."""
    out = {}
    for name, (column, owner) in PSEUDONYM_ROWS.items():
        table = db.metadata.tables[name]
        owner_table, owner_column = owner.split(".")
        target = db.metadata.tables[owner_table]
        hops = case_path(target)
        if hops is None:  # a programming error, never a case without its rows purged
            raise RuntimeError(f"{owner_table} does not lead to cases")
        out[table] = [(table.c[column], target.c[owner_column]), *hops]
    return out


# -- purge ------------------------------------------------------------------------------------
def purge(
    actor: Actor | None,
    *,
    policy: RetentionPolicy | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = 500,
    on_batch: Callable[[], None] | None = None,
) -> PurgeResult:
    """Purge the personal data of every case the policy selects (see the module doc).

    ``dry_run`` writes nothing (no audit event either) and reports what would happen.
    ``on_batch`` runs after each batch of cases (the CLI commits there).
    """
    policy = policy or RetentionPolicy.from_config()
    now = now or utcnow()
    result = PurgeResult(policy, dry_run, find_candidates(policy, now))
    stale = IdempotencyRecord.created_at < now - IDEMPOTENCY_KEEP
    if dry_run:
        result.idempotency_records = (
            db.session.scalar(sa.select(sa.func.count(IdempotencyRecord.id)).where(stale)) or 0
        )
        return result
    targets = personal_columns()
    for start in range(0, len(result.candidates), batch_size):
        batch = result.candidates[start : start + batch_size]
        _purge_batch(actor, batch, targets, now)
        if on_batch is not None:
            on_batch()
    deleted = db.session.execute(sa.delete(IdempotencyRecord).where(stale))
    result.idempotency_records = int(getattr(deleted, "rowcount", 0) or 0)
    audit.record(
        actor,
        "retention.purge_run",
        object_type="retention",
        details={
            "purged": len(result.candidates),
            "by_rule": result.by_rule,
            "policy_days": {rule: policy.days(rule) for rule in RULES},
            "idempotency_records_deleted": result.idempotency_records,
        },
    )
    return result


def _purge_batch(
    actor: Actor | None,
    batch: list[Candidate],
    targets: Mapping[sa.Table, tuple[FkPath, list[str]]],
    now: datetime,
) -> None:
    ids = [c.case_id for c in batch]
    db.session.flush()
    for table, (path, columns) in targets.items():
        db.session.execute(
            sa.update(table).where(_belongs(table, path, ids)).values(dict.fromkeys(columns))
        )
    for table, hops in pseudonym_rows().items():
        db.session.execute(sa.delete(table).where(_belongs(table, hops, ids)))
    cases = Case.__table__
    # a new version: an editor still holding the old one cannot write the data back
    db.session.execute(
        sa.update(cases)
        .where(cases.c.id.in_(ids))
        .values(purged_at=now, version=cases.c.version + 1)
    )
    notes.purge_for("case", [c.uuid for c in batch])  # e.g. legal hold reasons
    db.session.expire_all()  # ORM objects loaded earlier must not show the old values
    for candidate in batch:
        audit.record(
            actor,
            "retention.purge",
            object_type="case",
            object_id=candidate.uuid,
            details={"rule": candidate.rule},
        )


# -- legal hold --------------------------------------------------------------------------------
def set_legal_hold(actor: Actor, case_uuid: str, hold: Any, reason: Any) -> Case:
    """Place or release a legal hold; a held case is never purged.

    Supervisors act on their own organization's cases (others are "not found"); the CLI
    (a system actor) on any case. The reason is kept encrypted in an audit note
    (purged with the case's personal data); the audit event holds only the note's id.
    """
    from caseapp.maintenance.contract import LegalHoldRequest

    request = parse(LegalHoldRequest, {"hold": hold, "reason": reason})
    hold, reason = request.hold, request.reason
    system = isinstance(actor, SystemActor)
    if not system and not has_permission(getattr(actor, "role", None), Permission.CONSENT_OVERRIDE):
        raise Forbidden("Only a supervisor can place or release a legal hold")
    stmt = sa.select(Case).where(Case.uuid == case_uuid)
    if not system:
        stmt = stmt.where(Case.organization_id == actor.organization_id)
    case = db.session.scalar(stmt)
    if case is None:
        raise NotFound("Case not found")
    if hold and case.purged_at is not None:
        raise Conflict(
            "The personal data of this case was already purged; there is nothing to hold",
            code="case_purged",
        )
    previous = case.legal_hold
    case.legal_hold = hold
    db.session.flush()
    audit.record(
        actor,
        "case.legal_hold" if hold else "case.legal_hold_release",
        object_type="case",
        object_id=case.uuid,
        details={
            "hold": hold,
            "was": previous,
            "note": notes.keep("legal_hold_reason", "case", case.uuid, reason.strip()),
        },
        flagged=not hold,  # a release makes the case purgeable again
    )
    return case
