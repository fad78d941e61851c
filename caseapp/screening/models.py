"""Cases, the persons they concern, and screenings with their stored decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.accounts.models import Organization, User
from caseapp.core.db import EncryptedText, UTCDateTime, new_uuid, utcnow
from caseapp.extensions import db


class Case(db.Model):  # type: ignore[name-defined]
    """A case belongs to the organization that opened it (domain.md §7)."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(sa.String(12), default="open")
    region: Mapped[str] = mapped_column(sa.String(8))
    #: latest determination (overridden status if any), kept here for fast lists
    determination: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: retention (docs/decisions/0009): a case under legal hold is never purged
    legal_hold: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: when `flask retention purge` removed the personal data (coded data stays)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    organization: Mapped[Organization] = relationship()
    person: Mapped[Person] = relationship(back_populates="case", uselist=False)
    screenings: Mapped[list[Screening]] = relationship(
        back_populates="case", order_by="Screening.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.Index("ix_cases_org_created", "organization_id", "created_at"),
        # case lists (screening.services.list_cases): every filter in the index, so a
        # filtered page reads only its rows and its count needs no table access
        sa.Index(
            "ix_cases_org_filters",
            "organization_id",
            "status",
            "determination",
            "region",
            "created_at",
        ),
        sa.Index("ix_cases_org_region", "organization_id", "region", "created_at"),
        sa.CheckConstraint("status IN ('open','closed')", name="status_known"),
    )


class Person(db.Model):  # type: ignore[name-defined]
    """The screened person. Identifying fields are AES-GCM encrypted; exact search goes
    through keyed blind indexes (domain.md §7)."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), unique=True)
    given_names: Mapped[str | None] = mapped_column(EncryptedText("persons.given_names"))
    family_names: Mapped[str | None] = mapped_column(EncryptedText("persons.family_names"))
    date_of_birth: Mapped[str | None] = mapped_column(EncryptedText("persons.date_of_birth"))
    document_type: Mapped[str | None] = mapped_column(sa.String(20))
    document_number: Mapped[str | None] = mapped_column(EncryptedText("persons.document_number"))
    contact: Mapped[str | None] = mapped_column(EncryptedText("persons.contact"))
    address: Mapped[str | None] = mapped_column(EncryptedText("persons.address"))
    name_index: Mapped[str | None] = mapped_column(sa.String(64))
    document_index: Mapped[str | None] = mapped_column(sa.String(64))
    # Not identifying on their own; needed by rules, referrals and statistics.
    sex: Mapped[str] = mapped_column(sa.String(10))
    gender_identity: Mapped[str | None] = mapped_column(sa.String(20))
    lgbtqi: Mapped[bool | None] = mapped_column()
    age_years: Mapped[int | None] = mapped_column()
    age_estimated: Mapped[bool] = mapped_column(default=False)
    appears_minor: Mapped[bool | None] = mapped_column()
    nationality: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    migration_status: Mapped[str | None] = mapped_column(sa.String(20))
    pregnant: Mapped[bool] = mapped_column(default=False)
    disability: Mapped[bool] = mapped_column(default=False)
    unaccompanied: Mapped[bool] = mapped_column(default=False)

    case: Mapped[Case] = relationship(back_populates="person")

    __table_args__ = (
        sa.Index("ix_persons_name_index", "name_index"),
        sa.Index("ix_persons_document_index", "document_index"),
    )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_names, self.family_names) if p) or ""


class Screening(db.Model):  # type: ignore[name-defined]
    """One screening with the facts, the decision, its reasons and rule version."""

    __tablename__ = "screenings"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    identified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    region: Mapped[str] = mapped_column(sa.String(8))
    identification_context: Mapped[str | None] = mapped_column(sa.String(30))
    acts: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    means: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    purposes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    indicators: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    needs: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    stated_consent: Mapped[bool] = mapped_column(default=False)
    context: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    notes: Mapped[str | None] = mapped_column(EncryptedText("screenings.notes"))
    #: the full input of the rules (with personal data), encrypted, for replay
    facts: Mapped[str | None] = mapped_column(EncryptedText("screenings.facts"))
    # decision (domain.md §1.10)
    status: Mapped[str] = mapped_column(sa.String(16))
    missing_elements: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    aggravating: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    exploitation_form: Mapped[str] = mapped_column(sa.String(30))
    explanation: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    alerts: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    rule_version: Mapped[str] = mapped_column(sa.String(20))
    # profile (domain.md §2) at the date of identification
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    age_years: Mapped[int | None] = mapped_column()
    age_group: Mapped[str] = mapped_column(sa.String(12))
    unodc_category: Mapped[str] = mapped_column(sa.String(10))
    mp_band: Mapped[str] = mapped_column(sa.String(10))
    ctdc_band: Mapped[str] = mapped_column(sa.String(10))
    # supervisor override (§1.11): the advice above is kept unchanged
    override_status: Mapped[str | None] = mapped_column(sa.String(16))
    override_justification: Mapped[str | None] = mapped_column(
        EncryptedText("screenings.override_justification")
    )
    override_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    override_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="screenings")
    organization: Mapped[Organization] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    override_by: Mapped[User | None] = relationship(foreign_keys=[override_by_id])

    @property
    def effective_status(self) -> str:
        return self.override_status or self.status
