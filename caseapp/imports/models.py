"""Import batches and the provenance of every imported screening."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.accounts.models import Organization
from caseapp.core.db import EncryptedText, UTCDateTime, new_uuid, utcnow
from caseapp.extensions import db

BATCH_STATUSES = ("checked", "imported", "rolled_back")


class ImportBatch(db.Model):  # type: ignore[name-defined]
    """One file brought in (or checked) with one profile by one organization.

    ``checked``: a dry run from the import page, its file kept (encrypted) until it is
    confirmed; ``imported``: the records exist; ``rolled_back``: they were removed again.
    """

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_email: Mapped[str] = mapped_column(sa.String(255), default="")
    profile: Mapped[str] = mapped_column(sa.String(80))
    register: Mapped[str] = mapped_column(sa.String(80))
    list_kind: Mapped[str] = mapped_column(sa.String(30))
    filename: Mapped[str] = mapped_column(sa.String(255), default="")
    file_sha256: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(12))
    skip_bad_rows: Mapped[bool] = mapped_column(default=False)
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_bad: Mapped[int] = mapped_column(default=0)
    rows_created: Mapped[int] = mapped_column(default=0)
    rows_existing: Mapped[int] = mapped_column(default=0)
    problems_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rolled_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rolled_back_by: Mapped[str | None] = mapped_column(sa.String(255))
    #: the problems as CSV (line, column, value, message): values of rejected rows
    report: Mapped[str | None] = mapped_column(EncryptedText("import_batches.report"))
    #: a checked file waiting for confirmation (base64), cleared once imported
    upload: Mapped[str | None] = mapped_column(EncryptedText("import_batches.upload"))

    organization: Mapped[Organization] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('checked','imported','rolled_back')", name="import_status_known"
        ),
    )


class ImportRecord(db.Model):  # type: ignore[name-defined]
    """Where an imported screening came from: register, record id, batch, time.

    ``source_key`` (a keyed hash of register and record id) makes a second import of the
    same record a no-op; the record id itself is kept encrypted for the batch's page.
    """

    __tablename__ = "import_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("import_batches.id"), index=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    register: Mapped[str] = mapped_column(sa.String(80))
    source_key: Mapped[str] = mapped_column(sa.String(64))
    source_record_id: Mapped[str | None] = mapped_column(
        EncryptedText("import_records.source_record_id")
    )
    line: Mapped[int] = mapped_column()
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    screening_id: Mapped[int] = mapped_column(sa.ForeignKey("screenings.id"), unique=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint(
            "organization_id", "register", "source_key", name="uq_import_records_source"
        ),
    )
