"""Admissions to residential services; occupancy = active admissions (domain.md §6)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.core.db import EncryptedText, UTCDateTime, new_uuid, utcnow
from caseapp.directory.models import Service
from caseapp.extensions import db


class Admission(db.Model):  # type: ignore[name-defined]
    __tablename__ = "admissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id"), unique=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id"))
    admitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    bed: Mapped[str | None] = mapped_column(EncryptedText("admissions.bed"))  # free text
    planned_stay_days: Mapped[int | None] = mapped_column()
    discharged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    discharge_reason: Mapped[str | None] = mapped_column(sa.String(30))
    discharge_note: Mapped[str | None] = mapped_column(EncryptedText("admissions.discharge_note"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    service: Mapped[Service] = relationship()

    __table_args__ = (sa.Index("ix_admissions_service_active", "service_id", "discharged_at"),)


def occupancy_by_service(service_ids: list[int] | None = None) -> dict[int, int]:
    """Active admissions per residential service (live occupancy)."""
    stmt = (
        sa.select(Admission.service_id, sa.func.count(Admission.id))
        .where(Admission.discharged_at.is_(None))
        .group_by(Admission.service_id)
    )
    if service_ids is not None:
        stmt = stmt.where(Admission.service_id.in_(service_ids))
    return {sid: int(n) for sid, n in db.session.execute(stmt)}
