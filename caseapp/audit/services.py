"""Writing and verifying the audit chain.

Services call :func:`record` inside the same transaction as the change they audit, so
either both are committed or neither is. Reads of case data are recorded the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from caseapp.audit.models import AuditEvent
from caseapp.core.db import utcnow
from caseapp.extensions import db

GENESIS = "0" * 64
_PG_LOCK_ID = 72_430_129  # arbitrary constant: serialises appends to the chain on PostgreSQL


class Actor(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def email(self) -> str: ...
    @property
    def organization_id(self) -> int | None: ...


@dataclass(frozen=True)
class SystemActor:
    """The actor for CLI commands and scheduled jobs."""

    email: str = "system"
    id: int | None = None
    organization_id: int | None = None
    role: str = "system"


#: The actor of operator commands (`flask …`) on the server.
SYSTEM = SystemActor(email="system:cli")


def _canonical(event: AuditEvent) -> bytes:
    occurred = event.occurred_at
    occurred = occurred.replace(tzinfo=UTC) if occurred.tzinfo is None else occurred
    payload = {
        "seq": event.seq,
        "occurred_at": occurred.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_user_id": event.actor_user_id,
        "actor_email": event.actor_email,
        "actor_org_id": event.actor_org_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "details": event.details,
        "is_flagged": bool(event.is_flagged),
        "prev_hash": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


_PENDING = "caseapp_audit_pending"


def record(
    actor: Actor | None,
    action: str,
    *,
    object_type: str = "",
    object_id: str | int = "",
    details: Mapping[str, Any] | None = None,
    flagged: bool = False,
) -> None:
    """Audit one action as part of the current transaction (never commits).

    The event is chained when the transaction commits (``before_commit`` below), so the
    chain's lock is held only for the commit itself, not for the whole request; if the
    transaction rolls back, the event goes with it.
    """
    session = db.session()
    session.info.setdefault(_PENDING, []).append(
        {
            "occurred_at": utcnow(),
            "actor_user_id": getattr(actor, "id", None),
            "actor_email": getattr(actor, "email", "") or "",
            "actor_org_id": getattr(actor, "organization_id", None),
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "details": json.dumps(dict(details or {}), sort_keys=True, separators=(",", ":")),
            "is_flagged": flagged,
        }
    )


def pending_count() -> int:
    return len(db.session().info.get(_PENDING, ()))


def _append_pending(session: Session) -> None:
    """Chain the transaction's pending events, serialized across writers."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_ID})
    last = session.execute(
        sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    for fields in pending:
        seq += 1
        event = AuditEvent(seq=seq, prev_hash=prev, **fields)
        event.hash = prev = compute_hash(event)
        session.add(event)
    session.flush()


def _discard_pending(session: Session, *_args: Any) -> None:
    session.info.pop(_PENDING, None)


sa.event.listen(Session, "before_commit", _append_pending)
sa.event.listen(Session, "after_soft_rollback", _discard_pending)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int
    broken_seq: int | None = None
    problem: str = ""
    problem_code: str = ""


def _iter_events() -> Iterator[AuditEvent]:
    stmt = sa.select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=2000)
    yield from db.session.scalars(stmt)


def verify() -> VerifyResult:
    """Walk the chain; report the first event that was edited, inserted or removed."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for event in _iter_events():
        if event.seq != expected_seq:
            return VerifyResult(False, count, expected_seq, "event missing (deleted)", "missing")
        if event.prev_hash != prev:
            return VerifyResult(
                False, count, event.seq, "link to previous event broken", "link_broken"
            )
        if compute_hash(event) != event.hash:
            return VerifyResult(False, count, event.seq, "event content altered", "altered")
        prev = event.hash
        expected_seq += 1
        count += 1
    return VerifyResult(True, count)


def recent(limit: int = 100, *, before_seq: int | None = None) -> list[AuditEvent]:
    stmt = sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if before_seq is not None:
        stmt = stmt.where(AuditEvent.seq < before_seq)
    return list(db.session.scalars(stmt))


def parse_details(event: AuditEvent) -> dict[str, Any]:
    loaded = json.loads(event.details or "{}")
    return loaded if isinstance(loaded, dict) else {}
