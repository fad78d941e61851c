"""Statistics facts: one denormalized row per screening, with its linkage pseudonyms.

Reports read only these tables (no personal data is decrypted to count): the coded
attributes of reports.md §2 at the time of the screening, and the keyed pseudonyms of
reports.md §3 with the person (connected component) they belong to.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.core.db import UTCDateTime
from caseapp.extensions import db

#: PostgreSQL expression (and GIN index) of a fact's fuzzy-linkage block keys: for each
#: name-pair code, ``sex:birth_year:code`` (``-`` for no birth year) and ``sex:*:code``.
#: A dated screening looks up its three years and ``-``, so it visits only the same-sex
#: candidates of those years, not every bearer of a common pair of names; an undated one
#: looks up ``*`` (any year). ``fastupdate`` is off: every lookup would scan a pending
#: list. (Written as PostgreSQL prints it, so that Alembic sees no difference.)
NAME_BLOCK_KEYS = (
    "string_to_array(regexp_replace(name_blocks::text, '(\\S+)'::text, "
    "((((sex::text || ':'::text) || COALESCE(birth_year::text, '-'::text)) "
    "|| ':\\1 '::text) || sex::text) || ':*:\\1'::text, 'g'::text), ' '::text)"
)


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
    # linkage (reports.md §3): keyed pseudonyms only, never identifiers
    person_id: Mapped[int] = mapped_column()
    doc_key: Mapped[str | None] = mapped_column(sa.String(64))
    name_dob_key: Mapped[str | None] = mapped_column(sa.String(64))
    name_sex_key: Mapped[str | None] = mapped_column(sa.String(64))
    birth_year: Mapped[int | None] = mapped_column()
    # fuzzy linkage (reports/fuzzy.py): keyed Bloom filter of the name's bigrams, keyed
    # codes of its pairs of name parts, keyed code of the date of birth
    name_bloom: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    name_blocks: Mapped[str | None] = mapped_column(sa.String(200))
    dob_key: Mapped[str | None] = mapped_column(sa.String(16))

    __table_args__ = (
        sa.Index("ix_screening_facts_person", "person_id"),
        sa.Index("ix_screening_facts_identified", "identified_at"),
        sa.Index("ix_screening_facts_org", "organization_id"),
        sa.Index("ix_screening_facts_doc_key", "doc_key"),
        sa.Index("ix_screening_facts_name_dob_key", "name_dob_key"),
        sa.Index("ix_screening_facts_name_sex_key", "name_sex_key"),
        sa.Index("ix_screening_facts_sex_birth_year", "sex", "birth_year"),
        # PostgreSQL: fuzzy-linkage candidates (facts._link_fuzzy), see NAME_BLOCK_KEYS
        sa.Index(
            "ix_screening_facts_name_blocks",
            sa.text(NAME_BLOCK_KEYS),
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ).ddl_if(dialect="postgresql"),
    )


class ScreeningFactPurpose(db.Model):  # type: ignore[name-defined]
    """Purposes are multi-valued: a person counts once under each (reports.md §2)."""

    __tablename__ = "screening_fact_purposes"

    screening_id: Mapped[int] = mapped_column(
        sa.ForeignKey("screening_facts.screening_id"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
