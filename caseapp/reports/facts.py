"""Writing statistics facts and linking screenings into persons (reports.md §3).

Called by the screening service in the same transaction as the screening, so a
screening is counted exactly when it exists. Linking is incremental: a new screening
joins (and may merge) the persons whose pseudonyms it matches; ``relink_all`` recomputes
every person from the stored pseudonyms with the pure union-find of ``linkage.link``.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from caseapp.core.db import keyring
from caseapp.extensions import db
from caseapp.reports import linkage
from caseapp.reports.models import ScreeningFact, ScreeningFactPurpose
from caseapp.screening.models import Person, Screening

LIMA = ZoneInfo("America/Lima")
_COLLAPSED = {
    "feminine": "woman",
    "masculine": "man",
    "trans_feminine": "trans_or_non_conforming",
    "trans_masculine": "trans_or_non_conforming",
    "non_conforming": "trans_or_non_conforming",
}


def collapsed_gender(person: Person) -> str:
    """reports.md §2: woman, man, trans_or_non_conforming, unknown."""
    if person.gender_identity in _COLLAPSED:
        return _COLLAPSED[person.gender_identity]
    return {"F": "woman", "M": "man"}.get(person.sex, "unknown")


def primary_nationality(nationality: list[str]) -> tuple[str, str]:
    if not nationality:
        return "unknown", "unknown"
    if "PER" in nationality:
        return "PER", "peruvian"
    return sorted(nationality)[0], "foreign"


def pseudonyms_of(screening: Screening) -> linkage.Pseudonyms:
    person = screening.case.person
    dob = date.fromisoformat(person.date_of_birth) if person.date_of_birth else None
    local = screening.identified_at.astimezone(LIMA).date()
    birth_year = None
    if dob is None and screening.age_years is not None:
        birth_year = local.year - screening.age_years
    return linkage.pseudonyms(
        keyring().index_key,
        doc_type=person.document_type,
        doc_number=person.document_number,
        given_names=person.given_names,
        family_names=person.family_names,
        date_of_birth=dob,
        sex=person.sex,
        birth_year=birth_year,
    )


def record(screening: Screening) -> ScreeningFact:
    person = screening.case.person
    org = screening.organization
    local = screening.identified_at.astimezone(LIMA)
    nationality, group = primary_nationality(list(person.nationality))
    keys = pseudonyms_of(screening)
    context = screening.context or {}
    fact = ScreeningFact(
        screening_id=screening.id,
        organization_id=screening.organization_id,
        org_kind=org.org_kind,
        identified_at=screening.identified_at,
        identified_on=local.date(),
        year=local.year,
        month=f"{local.year:04d}-{local.month:02d}",
        status=screening.effective_status,
        region=screening.region,
        exploitation_region=context.get("exploitation_region") or "unknown",
        sex=person.sex,
        gender_identity=collapsed_gender(person),
        age_group=screening.age_group,
        unodc_category=screening.unodc_category,
        mp_band=screening.mp_band,
        ctdc_band=screening.ctdc_band,
        nationality=nationality,
        nationality_group=group,
        exploitation_form=screening.exploitation_form,
        sector=context.get("sector") or "unknown",
        identification_context=screening.identification_context or "unknown",
        person_id=screening.id,
        doc_key=keys.doc,
        name_dob_key=keys.name_dob,
        name_sex_key=keys.name_sex_year,
        birth_year=keys.birth_year,
    )
    db.session.add(fact)
    db.session.add_all(
        ScreeningFactPurpose(screening_id=screening.id, purpose=p)
        for p in sorted(set(screening.purposes))
    )
    db.session.flush()
    link_one(fact)
    return fact


def link_one(fact: ScreeningFact) -> int:
    """Attach a new fact to the persons it matches, merging them; return its person id."""
    conditions = []
    if fact.doc_key:
        conditions.append(ScreeningFact.doc_key == fact.doc_key)
    if fact.name_dob_key:
        conditions.append(ScreeningFact.name_dob_key == fact.name_dob_key)
    if fact.name_sex_key and fact.birth_year is not None:
        conditions.append(
            sa.and_(
                ScreeningFact.name_sex_key == fact.name_sex_key,
                ScreeningFact.birth_year.between(fact.birth_year - 1, fact.birth_year + 1),
            )
        )
    if not conditions:
        return fact.person_id
    matches = set(
        db.session.scalars(
            sa.select(ScreeningFact.person_id).where(
                sa.or_(*conditions), ScreeningFact.screening_id != fact.screening_id
            )
        )
    )
    if not matches:
        return fact.person_id
    person_id = min(matches | {fact.person_id})
    merged = (matches | {fact.person_id}) - {person_id}
    fact.person_id = person_id
    if merged:
        db.session.execute(
            sa.update(ScreeningFact)
            .where(ScreeningFact.person_id.in_(merged))
            .values(person_id=person_id)
        )
    db.session.flush()
    return person_id


def update_status(screening: Screening) -> None:
    """Keep the fact's status in step with a supervisor's override."""
    db.session.execute(
        sa.update(ScreeningFact)
        .where(ScreeningFact.screening_id == screening.id)
        .values(status=screening.effective_status)
    )


def relink_all(batch: int = 50_000) -> tuple[int, int]:
    """Recompute every person from the stored pseudonyms; return (screenings, persons)."""
    rows = db.session.execute(
        sa.select(
            ScreeningFact.screening_id,
            ScreeningFact.doc_key,
            ScreeningFact.name_dob_key,
            ScreeningFact.name_sex_key,
            ScreeningFact.birth_year,
            ScreeningFact.sex,
            ScreeningFact.person_id,
        )
    ).all()
    mapping = linkage.link(
        (
            r[0],
            linkage.Pseudonyms(
                doc=r[1], name_dob=r[2], name_sex_year=r[3], birth_year=r[4], sex=r[5]
            ),
        )
        for r in rows
    )
    changes = [
        {"screening_id": r[0], "person_id": mapping[r[0]]} for r in rows if mapping[r[0]] != r[6]
    ]
    for start in range(0, len(changes), batch):
        # ORM bulk UPDATE by primary key (executemany)
        db.session.execute(sa.update(ScreeningFact), changes[start : start + batch])
    return len(rows), len(set(mapping.values()))
