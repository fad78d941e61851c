"""Statistics facts: one slim denormalized row per screening, and the linkage tables.

Reports read only ``screening_facts`` (no personal data is decrypted to count): the coded
attributes of reports.md §2 at the time of the screening and the person it belongs to.
The keyed encodings linkage compares live in their own narrow tables
(``linkage_records``, ``linkage_blocks``), the estimated model in ``linkage_models`` and
its keyed frequency table in ``linkage_frequencies`` (docs/linkage.md).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.core.db import UTCDateTime
from caseapp.extensions import db


class ScreeningFact(db.Model):  # type: ignore[name-defined]
    __tablename__ = "screening_facts"

    screening_id: Mapped[int] = mapped_column(sa.ForeignKey("screenings.id"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    org_kind: Mapped[str] = mapped_column(sa.String(30))
    identified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    identified_on: Mapped[date] = mapped_column(sa.Date)  # Lima calendar date
    year: Mapped[int] = mapped_column()
    month: Mapped[str] = mapped_column(sa.String(7))  # YYYY-MM
    status: Mapped[str] = mapped_column(sa.String(16))
    region: Mapped[str] = mapped_column(sa.String(8))
    exploitation_region: Mapped[str] = mapped_column(sa.String(8))
    sex: Mapped[str] = mapped_column(sa.String(10))
    gender_identity: Mapped[str] = mapped_column(sa.String(30))
    age_group: Mapped[str] = mapped_column(sa.String(12))
    unodc_category: Mapped[str] = mapped_column(sa.String(10))
    mp_band: Mapped[str] = mapped_column(sa.String(10))
    ctdc_band: Mapped[str] = mapped_column(sa.String(10))
    nationality: Mapped[str] = mapped_column(sa.String(8))
    nationality_group: Mapped[str] = mapped_column(sa.String(10))
    exploitation_form: Mapped[str] = mapped_column(sa.String(30))
    sector: Mapped[str] = mapped_column(sa.String(30))
    identification_context: Mapped[str] = mapped_column(sa.String(30))
    # the person (reports.md §3): the smallest screening id of its linked records
    person_id: Mapped[int] = mapped_column()

    __table_args__ = (
        sa.Index("ix_screening_facts_person", "person_id"),
        sa.Index("ix_screening_facts_identified", "identified_at"),
        sa.Index("ix_screening_facts_org", "organization_id"),
    )


class ScreeningFactPurpose(db.Model):  # type: ignore[name-defined]
    """Purposes are multi-valued: a person counts once under each (reports.md §2)."""

    __tablename__ = "screening_fact_purposes"

    screening_id: Mapped[int] = mapped_column(
        sa.ForeignKey("screening_facts.screening_id"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(sa.String(30), primary_key=True)


class LinkageRecord(db.Model):  # type: ignore[name-defined]
    """The keyed encodings of one screening (facts/encoding.py); never plaintext. All
    NULL after a retention purge (the fact keeps its person)."""

    __tablename__ = "linkage_records"

    screening_id: Mapped[int] = mapped_column(
        sa.ForeignKey("screening_facts.screening_id"), primary_key=True
    )
    key_id: Mapped[str | None] = mapped_column(sa.String(16))  # which index key encoded it
    sex: Mapped[str | None] = mapped_column(sa.String(10))
    birth_year: Mapped[int | None] = mapped_column()
    dated: Mapped[bool | None] = mapped_column()
    dob: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    doc_type: Mapped[str | None] = mapped_column(sa.String(20))
    doc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    given: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    family: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    given_value: Mapped[int | None] = mapped_column(sa.BigInteger)
    family_value: Mapped[int | None] = mapped_column(sa.BigInteger)
    blocks: Mapped[bytes | None] = mapped_column(sa.LargeBinary)


#: the keyed encoding columns of ``linkage_records`` (``encoding.LinkKeys``' fields), besides
#: ``screening_id`` and ``key_id``
KEY_COLUMNS = (
    "sex",
    "birth_year",
    "dated",
    "dob",
    "doc_type",
    "doc",
    "given",
    "family",
    "given_value",
    "family_value",
    "blocks",
)


class LinkageBlock(db.Model):  # type: ignore[name-defined]
    """One keyed blocking key of a screening: a new screening finds its candidates here.

    A derived index of ``linkage_records.blocks`` (~12 rows per screening), so it carries
    no foreign key: checking one per row was an eighth of a 100,000-row import's time on
    PostgreSQL (ADR 0027). Whatever deletes a ``screening_facts`` row deletes its blocks
    first (the import's rollback, the relink, the key rotation), and the retention purge
    reaches them through :data:`BLOCK_OWNER` (``maintenance/retention.py``)."""

    __tablename__ = "linkage_blocks"

    block: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    screening_id: Mapped[int] = mapped_column(primary_key=True)

    __table_args__ = (sa.Index("ix_linkage_blocks_screening", "screening_id"),)


#: the column of ``linkage_blocks`` naming its owner, and the owner's column (in place of a
#: foreign key; see :class:`LinkageBlock`)
BLOCK_OWNER = ("screening_id", "screening_facts.screening_id")


class LinkageModel(db.Model):  # type: ignore[name-defined]
    """An estimated Fellegi–Sunter model (facts/model.py) and the quality figures of the
    full relink that estimated it; the newest row is in use."""

    __tablename__ = "linkage_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(40))
    estimated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    records: Mapped[int] = mapped_column()
    pairs: Mapped[int] = mapped_column()
    threshold: Mapped[float] = mapped_column(sa.Float)
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON)


class LinkageFrequency(db.Model):  # type: ignore[name-defined]
    """Keyed frequency table of a model: records per name value (keyed code)."""

    __tablename__ = "linkage_frequencies"

    model_id: Mapped[int] = mapped_column(
        sa.ForeignKey("linkage_models.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column()
