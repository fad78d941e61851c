"""Regions and the services organizations offer (the referral directory)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.accounts.models import Organization
from caseapp.core.db import UTCDateTime, utcnow
from caseapp.extensions import db


class Region(db.Model):  # type: ignore[name-defined]
    """INEI department (Lima Metropolitana separate) with its capital's coordinates."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    capital: Mapped[str] = mapped_column(sa.String(100))
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)


class Service(db.Model):  # type: ignore[name-defined]
    """One service an organization provides, with who it can take and when it is open."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    service_type: Mapped[str] = mapped_column(sa.String(40), index=True)
    min_age: Mapped[int] = mapped_column(default=0)
    max_age: Mapped[int] = mapped_column(default=120)
    sexes: Mapped[str] = mapped_column(sa.String(8), default="any")
    accepts_transgender: Mapped[bool] = mapped_column(default=True)
    accepts_foreign: Mapped[bool] = mapped_column(default=True)
    capacity: Mapped[int | None] = mapped_column()
    hours: Mapped[str] = mapped_column(sa.String(100), default="24/7")
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    nationalities: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    serves: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="services")

    __table_args__ = (
        sa.UniqueConstraint("organization_id", "service_type", name="uq_services_org_type"),
        sa.CheckConstraint("min_age >= 0 AND max_age >= min_age", name="age_range"),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_nonneg"),
    )


class CodeLabel(db.Model):  # type: ignore[name-defined]
    """Copy of the code lists (caseapp.core.codes) for SQL joins and other systems.

    The Python module stays the single source; ``flask seed`` refreshes this table.
    """

    __tablename__ = "code_labels"

    list_name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    es: Mapped[str] = mapped_column(sa.String(200))
    en: Mapped[str] = mapped_column(sa.String(200))
