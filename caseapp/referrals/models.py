"""Consent, referrals with their history, and gaps (unmet need)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.accounts.models import Organization, User
from caseapp.core.db import EncryptedText, UTCDateTime, new_uuid, utcnow
from caseapp.directory.models import Service
from caseapp.extensions import db
from caseapp.screening.models import Case, Screening


class Consent(db.Model):  # type: ignore[name-defined]
    """One consent decision (given, refused or withdrawn). The latest row is current;
    earlier ones are kept as history (domain.md §4)."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    given: Mapped[bool] = mapped_column()
    scope: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    given_by: Mapped[str] = mapped_column(sa.String(30))
    method: Mapped[str] = mapped_column(sa.String(10))
    is_withdrawal: Mapped[bool] = mapped_column(default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recorded_by: Mapped[User | None] = relationship()


class Referral(db.Model):  # type: ignore[name-defined]
    """A proposed or sent referral of a case to a provider (domain.md §3, §5)."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    screening_id: Mapped[int] = mapped_column(sa.ForeignKey("screenings.id"), index=True)
    referring_org_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    provider_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    provider_service_id: Mapped[int | None] = mapped_column(sa.ForeignKey("services.id"))
    previous_id: Mapped[int | None] = mapped_column(sa.ForeignKey("referrals.id"))
    rule: Mapped[str] = mapped_column(sa.String(8))
    service_type: Mapped[str] = mapped_column(sa.String(40))
    priority: Mapped[str] = mapped_column(sa.String(12))
    status: Mapped[str] = mapped_column(sa.String(20))
    requires_consent: Mapped[bool] = mapped_column()
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    interpreter_language: Mapped[str | None] = mapped_column(sa.String(8))
    reasons: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    gap: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    risk_notes: Mapped[str | None] = mapped_column(EncryptedText("referrals.risk_notes"))
    decline_reason: Mapped[str | None] = mapped_column(sa.String(20))
    consent_overridden: Mapped[bool] = mapped_column(default=False)
    access_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship()
    screening: Mapped[Screening] = relationship()
    referring_org: Mapped[Organization] = relationship(foreign_keys=[referring_org_id])
    provider_org: Mapped[Organization | None] = relationship(foreign_keys=[provider_org_id])
    provider_service: Mapped[Service | None] = relationship()
    previous: Mapped[Referral | None] = relationship(remote_side=[id])
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="ReferralEvent.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.Index("ix_referrals_provider_status", "provider_org_id", "status"),
        sa.Index("ix_referrals_referring_status", "referring_org_id", "status"),
    )


class ReferralEvent(db.Model):  # type: ignore[name-defined]
    """Every transition with actor, time and reason: a history, never overwritten."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    action: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str | None] = mapped_column(sa.String(40))
    note: Mapped[str | None] = mapped_column(EncryptedText("referral_events.note"))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class GapRecord(db.Model):  # type: ignore[name-defined]
    """A named absence of service for a profile (first-class data for unmet-need reports)."""

    __tablename__ = "gaps"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    screening_id: Mapped[int] = mapped_column(sa.ForeignKey("screenings.id"), index=True)
    referral_id: Mapped[int | None] = mapped_column(sa.ForeignKey("referrals.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    code: Mapped[str] = mapped_column(sa.String(40))
    service_type: Mapped[str | None] = mapped_column(sa.String(40))
    region: Mapped[str] = mapped_column(sa.String(8))
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    es: Mapped[str] = mapped_column(sa.Text)
    en: Mapped[str] = mapped_column(sa.Text)
    next_opening: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
