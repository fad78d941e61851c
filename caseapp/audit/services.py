"""Writing and verifying the audit chain.

Services call :func:`record` inside the same transaction as the change they audit, so
either both are committed or neither is. Reads of case data are recorded the same way.

Each event's hash is an HMAC-SHA256 under ``AUDIT_KEY``, a key the database never holds,
and signed checkpoints of the chain's head are kept outside the database
(:mod:`caseapp.audit.checkpoints`): someone who can rewrite the table can neither
recompute a valid chain nor cut its tail unnoticed (docs/decisions/0012).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from caseapp.audit import checkpoints
from caseapp.audit.models import AuditEvent
from caseapp.core.db import utcnow
from caseapp.extensions import db

GENESIS = "0" * 64
log = logging.getLogger(__name__)
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


_CANONICAL = (
    "seq",
    "actor_user_id",
    "actor_email",
    "actor_org_id",
    "action",
    "object_type",
    "object_id",
    "details",
    "prev_hash",
)


def _canonical_fields(fields: Mapping[str, Any]) -> bytes:
    occurred = fields["occurred_at"]
    occurred = occurred.replace(tzinfo=UTC) if occurred.tzinfo is None else occurred
    payload = {name: fields[name] for name in _CANONICAL}
    payload["occurred_at"] = occurred.astimezone(UTC).isoformat(timespec="microseconds")
    payload["is_flagged"] = bool(fields["is_flagged"])
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def _canonical(event: AuditEvent) -> bytes:
    return _canonical_fields(
        {name: getattr(event, name) for name in (*_CANONICAL, "occurred_at", "is_flagged")}
    )


def _hmac(key: bytes, canonical: bytes) -> str:
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def compute_hash(event: AuditEvent, key: bytes | None = None) -> str:
    """HMAC-SHA256 of the event's canonical fields (which include the previous hash).

    ``key`` defaults to the configured ``AUDIT_KEY``. Without the key nobody can produce
    a hash that verifies, so a chain rewritten in the database (and re-hashed) fails.
    """
    key = current_app.config["AUDIT_KEY_BYTES"] if key is None else key
    return _hmac(key, _canonical(event))


_PENDING = "caseapp_audit_pending"
_APPENDED = "caseapp_audit_appended"


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


def pending(object_type: str, object_id: str) -> list[AuditEvent]:
    """This transaction's events about one object, not yet chained (they join the chain
    at commit): unsaved ``AuditEvent`` objects, so a response built before the request's
    one commit (caseapp/core/transaction.py) can already show them in a history."""
    return [
        AuditEvent(**{**event, "details": event["details"]})
        for event in db.session().info.get(_PENDING, ())
        if event["object_type"] == object_type and event["object_id"] == str(object_id)
    ]


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
    first = seq + 1
    key = current_app.config["AUDIT_KEY_BYTES"]
    rows = []
    for fields in pending:
        seq += 1
        row = {**fields, "seq": seq, "prev_hash": prev}
        row["hash"] = prev = _hmac(key, _canonical_fields(row))
        rows.append(row)
    # one INSERT … VALUES for all of them (nothing reads them back as objects)
    session.execute(sa.insert(AuditEvent.__table__).values(rows))
    session.info[_APPENDED] = (first, seq, prev)


def _discard_pending(session: Session, *_args: Any) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_APPENDED, None)


def _checkpoint_after_commit(session: Session) -> None:
    """Sign the head when this commit crossed a multiple of ``AUDIT_CHECKPOINT_EVERY``.

    After the commit, so a checkpoint never names an event that was rolled back. The data
    is committed by then: a checkpoint that cannot be written is logged, not raised
    (``flask audit checkpoint`` from cron is the path that fails loudly).
    """
    appended = session.info.pop(_APPENDED, None)
    if appended is None:
        return
    first, last, head_hash = appended
    every = int(current_app.config.get("AUDIT_CHECKPOINT_EVERY") or 0)
    if every <= 0 or last // every == (first - 1) // every:
        return
    try:
        checkpoints.write_head(checkpoint_dir(), last, head_hash, last)
    except (OSError, ValueError) as exc:
        log.error("audit checkpoint at event %s not written: %s", last, exc)


sa.event.listen(Session, "before_commit", _append_pending)
sa.event.listen(Session, "after_commit", _checkpoint_after_commit)
sa.event.listen(Session, "after_soft_rollback", _discard_pending)


def checkpoint_dir() -> Path:
    return Path(current_app.config["AUDIT_CHECKPOINT_DIR"])


def head() -> tuple[int, str]:
    """The latest event's (seq, hash), or (0, GENESIS) for an empty chain."""
    last = db.session.execute(
        sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (last[0], last[1]) if last else (0, GENESIS)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int
    broken_seq: int | None = None
    problem: str = ""
    problem_code: str = ""
    checkpoint: checkpoints.Checkpoint | None = None  # the furthest signed head checked
    checkpoints_checked: int = 0
    checkpoints_superseded: int = 0  # signed before a restore rolled the chain back


def _iter_events() -> Iterator[AuditEvent]:
    stmt = sa.select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=2000)
    yield from db.session.scalars(stmt)


def verify(checkpoint_directory: Path | None = None) -> VerifyResult:
    """Walk the chain; report the first event that was edited, inserted or removed.

    Every event's keyed hash is recomputed, and the chain is compared with every signed
    checkpoint in the checkpoint directory: an event that differs from a signed head, or
    a chain that ends before the furthest signed head (its tail was cut), is reported.
    A checkpoint whose signature does not verify is reported before anything else.
    """
    try:
        found = checkpoints.load(checkpoint_directory or checkpoint_dir())
    except checkpoints.InvalidCheckpoint as exc:
        return VerifyResult(False, 0, exc.seq, str(exc), "checkpoint_invalid")
    expected: dict[int, list[checkpoints.Checkpoint]] = {}
    for cp in found.active:
        expected.setdefault(cp.head_seq, []).append(cp)
    key = current_app.config["AUDIT_KEY_BYTES"]
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
        if compute_hash(event, key) != event.hash:
            return VerifyResult(False, count, event.seq, "event content altered", "altered")
        for cp in expected.get(event.seq, ()):
            if cp.head_hash != event.hash:
                return VerifyResult(
                    False,
                    count,
                    event.seq,
                    f"differs from the signed checkpoint {cp.name} (chain rewritten)",
                    "checkpoint_mismatch",
                )
        prev = event.hash
        expected_seq += 1
        count += 1
    furthest = max(found.active, key=lambda cp: cp.head_seq, default=None)
    if furthest is not None and furthest.head_seq > count:
        return VerifyResult(
            False,
            count,
            count + 1,
            f"events {count + 1} to {furthest.head_seq} missing: the chain ends at event "
            f"{count} but checkpoint {furthest.name} was signed at event "
            f"{furthest.head_seq} (tail deleted)",
            "truncated",
        )
    return VerifyResult(
        True,
        count,
        checkpoint=furthest,
        checkpoints_checked=len(found.active),
        checkpoints_superseded=found.superseded,
    )


def recent(limit: int = 100, *, before_seq: int | None = None) -> list[AuditEvent]:
    stmt = sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if before_seq is not None:
        stmt = stmt.where(AuditEvent.seq < before_seq)
    return list(db.session.scalars(stmt))


def parse_details(event: AuditEvent) -> dict[str, Any]:
    loaded = json.loads(event.details or "{}")
    return loaded if isinstance(loaded, dict) else {}
