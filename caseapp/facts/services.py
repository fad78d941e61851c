"""Writing statistics facts and linking screenings into persons (reports.md §3).

Called by the screening service in the same transaction as the screening, so a
screening is counted exactly when it exists. Linking is incremental: a new screening
joins (and may merge) the persons whose pseudonyms it matches, exactly or fuzzily
(``fuzzy``); ``relink_all`` recomputes every person from the stored pseudonyms with the
pure union-find of ``fuzzy.link`` (``linkage.link`` plus fuzzy matches).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from caseapp.core.db import keyring
from caseapp.core.time import LIMA
from caseapp.extensions import db
from caseapp.facts import fuzzy, linkage
from caseapp.facts.models import NAME_BLOCK_KEYS, ScreeningFact, ScreeningFactPurpose
from caseapp.screening.models import Person, Screening

_TEXT_ARRAY = postgresql.ARRAY(sa.Text)
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


def fact_values(screening: Screening, org_kind: str) -> dict[str, Any]:
    """The fact row of a screening (its person still unlinked: its own id), as a dict.

    ``screening`` may be any object with the attributes read here (register import builds
    rows in bulk from plain views); ``org_kind`` is the list the screening counts in."""
    person = screening.case.person
    local = screening.identified_at.astimezone(LIMA)
    nationality, group = primary_nationality(list(person.nationality))
    keys = pseudonyms_of(screening)
    dob = date.fromisoformat(person.date_of_birth) if person.date_of_birth else None
    names = fuzzy.encoder(keyring().index_key).encode(
        person.given_names, person.family_names, person.sex, dob
    )
    context = screening.context or {}
    return {
        "screening_id": screening.id,
        "organization_id": screening.organization_id,
        "org_kind": org_kind,
        "identified_at": screening.identified_at,
        "identified_on": local.date(),
        "year": local.year,
        "month": f"{local.year:04d}-{local.month:02d}",
        "status": screening.effective_status,
        "region": screening.region,
        "exploitation_region": context.get("exploitation_region") or "unknown",
        "sex": person.sex,
        "gender_identity": collapsed_gender(person),
        "age_group": screening.age_group,
        "unodc_category": screening.unodc_category,
        "mp_band": screening.mp_band,
        "ctdc_band": screening.ctdc_band,
        "nationality": nationality,
        "nationality_group": group,
        "exploitation_form": screening.exploitation_form,
        "sector": context.get("sector") or "unknown",
        "identification_context": screening.identification_context or "unknown",
        "person_id": screening.id,
        "doc_key": keys.doc,
        "name_dob_key": keys.name_dob,
        "name_sex_key": keys.name_sex_year,
        "birth_year": keys.birth_year,
        "name_bloom": names.bloom,
        "name_blocks": names.blocks,
        "dob_key": names.dob,
    }


def record(screening: Screening) -> ScreeningFact:
    fact = ScreeningFact(**fact_values(screening, screening.organization.org_kind))
    db.session.add(fact)
    db.session.flush()
    purposes = sorted(set(screening.purposes))
    if purposes:  # one INSERT … VALUES; nothing reads them back as objects
        db.session.execute(
            sa.insert(ScreeningFactPurpose.__table__).values(
                [{"screening_id": screening.id, "purpose": p} for p in purposes]
            )
        )
    link_one(fact)
    return fact


def link_one(fact: ScreeningFact) -> int:
    """Attach a new fact to the persons it matches, merging them; return its person id."""
    _link_exact(fact)
    _link_fuzzy(fact)
    return fact.person_id


def _link_exact(fact: ScreeningFact) -> int:
    conditions = []
    if fact.doc_key:
        conditions.append(ScreeningFact.doc_key == fact.doc_key)
    if fact.name_dob_key:
        conditions.append(ScreeningFact.name_dob_key == fact.name_dob_key)
    if fact.name_sex_key and fact.birth_year is not None:
        same_name_year = sa.and_(
            ScreeningFact.name_sex_key == fact.name_sex_key,
            ScreeningFact.birth_year.between(fact.birth_year - 1, fact.birth_year + 1),
        )
        if fact.name_dob_key is not None:
            # as in linkage.link: two different dates of birth never join through (c)
            same_name_year = sa.and_(same_name_year, ScreeningFact.name_dob_key.is_(None))
        conditions.append(same_name_year)
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


def _link_fuzzy(fact: ScreeningFact) -> None:
    """Merge the persons whose screenings fuzzy-match this one (reports/fuzzy.py), best
    match first, unless their documents or their dates of birth are all different."""
    if not fact.name_blocks or fact.name_bloom is None:
        return
    stmt = sa.select(
        ScreeningFact.screening_id,
        ScreeningFact.person_id,
        ScreeningFact.sex,
        ScreeningFact.birth_year,
        ScreeningFact.name_bloom,
        ScreeningFact.name_blocks,
        ScreeningFact.dob_key,
    ).where(ScreeningFact.person_id != fact.person_id, _fuzzy_candidates(fact))
    rows = db.session.execute(stmt).all()
    if not rows:
        return
    person_of = {r.screening_id: r.person_id for r in rows}
    new = fuzzy.FuzzyRecord(
        fact.sex, fact.birth_year, fact.name_bloom, fact.name_blocks, fact.dob_key
    )
    others = (
        (
            r.screening_id,
            fuzzy.FuzzyRecord(r.sex, r.birth_year, r.name_bloom, r.name_blocks, r.dob_key),
        )
        for r in rows
    )
    best: dict[int, float] = {}
    for other, score in fuzzy.pairs_with(new, others):  # only pairs with the new fact
        person = person_of[other]
        best[person] = max(score, best.get(person, 0.0))
    if not best:
        return
    docs: dict[int, set[str]] = {}
    dobs: dict[int, set[str]] = {}
    for person_id, doc_key, dob_key in db.session.execute(
        sa.select(ScreeningFact.person_id, ScreeningFact.doc_key, ScreeningFact.dob_key).where(
            ScreeningFact.person_id.in_([*best, fact.person_id])
        )
    ):
        if doc_key:
            docs.setdefault(person_id, set()).add(doc_key)
        if dob_key:
            dobs.setdefault(person_id, set()).add(dob_key)
    for person in sorted(best, key=lambda p: (-best[p], p)):
        current = fact.person_id
        if person == current or any(fuzzy.disjoint(e, current, person) for e in (docs, dobs)):
            continue
        fact.person_id = min(current, person)
        db.session.execute(
            sa.update(ScreeningFact)
            .where(ScreeningFact.person_id == max(current, person))
            .values(person_id=fact.person_id)
        )
        for evidence in (docs, dobs):
            joined = evidence.pop(current, set()) | evidence.pop(person, set())
            if joined:
                evidence[fact.person_id] = joined
    db.session.flush()


def _fuzzy_candidates(fact: ScreeningFact) -> sa.ColumnElement[bool]:
    """Facts of the same sex that share a name-pair code with ``fact``, with a birth year
    at most one year from its own or none (any birth year when it has none).

    On PostgreSQL one array overlap on ``NAME_BLOCK_KEYS`` (``sex:year:code``, at most
    60 keys), answered by the GIN index ``ix_screening_facts_name_blocks``: the query
    repeats the indexed expression, and the keys already say the sex and the years, so
    no other condition lets the planner combine a large index with it. Elsewhere
    substring matches, the same test (codes are fixed-length and space-separated).
    """
    codes = (fact.name_blocks or "").split()
    if db.session.get_bind().dialect.name == "postgresql":
        if fact.birth_year is None:
            years: tuple[str, ...] = ("*",)
        else:
            years = (*(str(fact.birth_year + d) for d in (-1, 0, 1)), "-")
        keys = [f"{fact.sex}:{year}:{code}" for code in codes for year in years]
        wanted = sa.cast(sa.bindparam("block_keys", keys, type_=_TEXT_ARRAY), _TEXT_ARRAY)
        return sa.literal_column(NAME_BLOCK_KEYS).op("&&")(wanted)
    conditions = [
        ScreeningFact.sex == fact.sex,
        sa.or_(*(ScreeningFact.name_blocks.contains(code, autoescape=True) for code in codes)),
    ]
    if fact.birth_year is not None:
        conditions.append(
            sa.or_(
                ScreeningFact.birth_year.between(fact.birth_year - 1, fact.birth_year + 1),
                ScreeningFact.birth_year.is_(None),
            )
        )
    return sa.and_(*conditions)


def update_status(screening: Screening) -> None:
    """Keep the fact's status in step with a supervisor's override."""
    db.session.execute(
        sa.update(ScreeningFact)
        .where(ScreeningFact.screening_id == screening.id)
        .values(status=screening.effective_status)
    )


def _keep_purged_links(rows: Any, mapping: dict[int, int]) -> None:
    """Facts whose pseudonyms were purged (retention) cannot be re-linked from keys: they
    stay with the person they belonged to, so unduplicated counts do not grow after a
    purge."""
    keyless = {r[0] for r in rows if not any((r[1], r[2], r[3], r[7], r[8], r[9]))}
    if not keyless:
        return
    new_of_old: dict[int, int] = {}
    for r in rows:
        if r[0] not in keyless:
            new_of_old.setdefault(r[6], mapping[r[0]])
    for r in rows:
        if r[0] in keyless:
            mapping[r[0]] = new_of_old.get(r[6], r[6])


def relink_all(batch: int = 50_000) -> tuple[int, int]:
    """Recompute every person from the stored pseudonyms, exact keys and fuzzy matches
    (``fuzzy.link``); return (screenings, persons)."""
    rows = db.session.execute(
        sa.select(
            ScreeningFact.screening_id,
            ScreeningFact.doc_key,
            ScreeningFact.name_dob_key,
            ScreeningFact.name_sex_key,
            ScreeningFact.birth_year,
            ScreeningFact.sex,
            ScreeningFact.person_id,
            ScreeningFact.name_bloom,
            ScreeningFact.name_blocks,
            ScreeningFact.dob_key,
        )
    ).all()
    mapping = fuzzy.link(
        (
            r[0],
            linkage.Pseudonyms(
                doc=r[1], name_dob=r[2], name_sex_year=r[3], birth_year=r[4], sex=r[5]
            ),
            fuzzy.FuzzyRecord(sex=r[5], birth_year=r[4], bloom=r[7], blocks=r[8], dob=r[9]),
        )
        for r in rows
    )
    _keep_purged_links(rows, mapping)
    changes = [
        {"screening_id": r[0], "person_id": mapping[r[0]]} for r in rows if mapping[r[0]] != r[6]
    ]
    if changes and db.session.get_bind().dialect.name == "postgresql":
        _update_persons_postgres(changes)
    else:
        for start in range(0, len(changes), batch):
            # ORM bulk UPDATE by primary key (executemany)
            db.session.execute(sa.update(ScreeningFact), changes[start : start + batch])
    return len(rows), len(set(mapping.values()))


def _update_persons_postgres(changes: list[dict[str, int]]) -> None:
    """The new person ids through COPY into a temporary table and one joined UPDATE:
    an UPDATE per row (executemany) takes minutes for a million changes."""
    conn = db.session.connection()
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE relink_changes (screening_id integer PRIMARY KEY, "
        "person_id integer NOT NULL) ON COMMIT DROP"
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    with (
        raw.cursor() as cursor,
        cursor.copy("COPY relink_changes (screening_id, person_id) FROM STDIN") as copy,
    ):
        for change in changes:
            copy.write_row((change["screening_id"], change["person_id"]))
    conn.exec_driver_sql(
        "UPDATE screening_facts AS f SET person_id = c.person_id FROM relink_changes AS c "
        "WHERE f.screening_id = c.screening_id"
    )
    conn.exec_driver_sql("DROP TABLE relink_changes")


def refresh_keys(case_screenings: list[Screening]) -> None:
    """Recompute the pseudonyms of a case's facts after its identity data changed, and
    link them again (a corrected name or document may join another person)."""
    for screening in case_screenings:
        fact = db.session.get(ScreeningFact, screening.id)
        if fact is None:
            continue
        keys = pseudonyms_of(screening)
        person = screening.case.person
        dob = date.fromisoformat(person.date_of_birth) if person.date_of_birth else None
        names = fuzzy.encoder(keyring().index_key).encode(
            person.given_names, person.family_names, person.sex, dob
        )
        fact.doc_key, fact.name_dob_key = keys.doc, keys.name_dob
        fact.name_sex_key, fact.birth_year = keys.name_sex_year, keys.birth_year
        fact.name_bloom, fact.name_blocks, fact.dob_key = names.bloom, names.blocks, names.dob
        db.session.flush()
        link_one(fact)
