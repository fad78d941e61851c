"""``Idempotency-Key`` on POSTs that create (api.md §3).

The first response is stored under (user, key); the same key again returns it and
creates nothing. A key reused with a different body is a 409, not a silent replay.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.core.db import UTCDateTime, utcnow
from caseapp.core.errors import Conflict, ValidationFailed
from caseapp.extensions import db

MAX_KEY = 200


class IdempotencyRecord(db.Model):  # type: ignore[name-defined]
    __tablename__ = "idempotency_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(sa.String(MAX_KEY))
    endpoint: Mapped[str] = mapped_column(sa.String(100))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int] = mapped_column()
    response: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)


def body_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def lookup(user_id: int, key: str | None, endpoint: str, body: Any) -> tuple[int, Any] | None:
    """The stored (status, response) for this key, or None when it is new."""
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY:
        raise ValidationFailed({"Idempotency-Key": [f"must be 1 to {MAX_KEY} characters"]})
    row = db.session.scalar(
        sa.select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )
    if row is None:
        return None
    if row.endpoint != endpoint or row.request_hash != body_hash(body):
        raise Conflict(
            "This Idempotency-Key was already used for a different request",
            code="idempotency_key_reused",
        )
    return row.status, json.loads(row.response)


def claim(user_id: int, key: str, endpoint: str, body: Any) -> IdempotencyRecord:
    """A new record for (user, key), to be added and flushed before the work it guards;
    :func:`settle` fills in the result once the work is done."""
    return IdempotencyRecord(
        user_id=user_id,
        key=key,
        endpoint=endpoint,
        request_hash=body_hash(body),
        status=0,
        response="null",
    )


def settle(record: IdempotencyRecord, status: int, response: Any) -> None:
    record.status = status
    record.response = json.dumps(response)
