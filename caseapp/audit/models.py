"""Append-only, hash-chained audit events."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.core.db import UTCDateTime
from caseapp.extensions import db


class AuditEvent(db.Model):  # type: ignore[name-defined]
    """One audited action. Never updated or deleted (database triggers refuse it).

    ``hash`` = SHA-256 over the previous event's hash and this event's canonical fields,
    so editing, inserting or deleting any event breaks the chain from that point on.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_user_id: Mapped[int | None] = mapped_column()
    actor_email: Mapped[str] = mapped_column(sa.String(254), default="")
    actor_org_id: Mapped[int | None] = mapped_column()
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(40), default="")
    object_id: Mapped[str] = mapped_column(sa.String(64), default="", index=True)
    details: Mapped[str] = mapped_column(sa.Text, default="{}")
    is_flagged: Mapped[bool] = mapped_column(default=False)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
