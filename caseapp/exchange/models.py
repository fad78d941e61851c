"""Which case an imported exchange record became: the key of idempotent imports."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.core.db import UTCDateTime, utcnow
from caseapp.extensions import db


class ExchangeRecord(db.Model):  # type: ignore[name-defined]
    """One imported source case: importing it again finds this row and changes nothing."""

    __tablename__ = "exchange_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    #: the format (``htcds``) and the source system's own case id
    source: Mapped[str] = mapped_column(sa.String(20))
    source_case_id: Mapped[str] = mapped_column(sa.String(100))
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint(
            "organization_id", "source", "source_case_id", name="uq_exchange_records_source"
        ),
    )
