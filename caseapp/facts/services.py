"""Writing statistics facts and linking screenings into persons (reports.md §3).

Called by the screening service in the same transaction as the screening, so a
screening is counted exactly when it exists. Each fact gets its keyed encodings
(``linkage_records``) and blocking keys (``linkage_blocks``); linking is incremental:
a new screening is compared with the records sharing one of its blocks only, scored
with the stored Fellegi–Sunter model (``model``), and joins (and may merge) the persons
it matches, under the same constraints as ``cluster``. ``relink_all`` re-estimates the
model on every stored encoding and recomputes every person (``probabilistic.link``).
"""

from __future__ import annotations

import dataclasses
import math
import struct
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any, cast

import numpy as np
import sqlalchemy as sa
from flask import current_app

from caseapp.core import bulk
from caseapp.core.db import keyring
from caseapp.core.time import LIMA
from caseapp.extensions import db
from caseapp.facts import blocking, cluster, encoding, model, probabilistic, table
from caseapp.facts.models import (
    KEY_COLUMNS,
    LinkageBlock,
    LinkageFrequency,
    LinkageModel,
    LinkageRecord,
    ScreeningFact,
    ScreeningFactPurpose,
)
from caseapp.screening.models import Person, Screening

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


def threshold() -> float:
    """The floor (bits): what the default model links at, and the least any model does."""
    return float(current_app.config.get("LINKAGE_THRESHOLD", model.DEFAULT_THRESHOLD))


def match_probability() -> float:
    return float(
        current_app.config.get("LINKAGE_MATCH_PROBABILITY", model.DEFAULT_MATCH_PROBABILITY)
    )


def encode(screening: Screening, index_key: bytes | None = None) -> encoding.LinkKeys:
    """The keyed encodings of a screening's person (age-only: birth year from the
    screening's Lima date)."""
    person = screening.case.person
    dob = date.fromisoformat(person.date_of_birth) if person.date_of_birth else None
    birth_year = None
    if dob is None and screening.age_years is not None:
        local = screening.identified_at.astimezone(LIMA).date()
        birth_year = local.year - screening.age_years
    return encoding.encoder(index_key or keyring().index_key).encode(
        given_names=person.given_names,
        family_names=person.family_names,
        sex=person.sex,
        date_of_birth=dob,
        birth_year=birth_year,
        doc_type=person.document_type,
        doc_number=person.document_number,
    )


def linkage_values(keys: encoding.LinkKeys, key_id: str) -> dict[str, Any]:
    """The ``linkage_records`` columns of an encoding."""
    values = {c: getattr(keys, c) for c in KEY_COLUMNS}
    values["key_id"] = key_id
    return values


def block_rows(screening_id: int, keys: encoding.LinkKeys) -> list[dict[str, int]]:
    return [{"block": b, "screening_id": screening_id} for b in encoding.unpack_codes(keys.blocks)]


def _store_keys(screening_id: int, keys: encoding.LinkKeys) -> None:
    key_id = encoding.encoder(keyring().index_key).key_id
    row = db.session.get(LinkageRecord, screening_id)
    if row is None:
        db.session.add(LinkageRecord(screening_id=screening_id, **linkage_values(keys, key_id)))
    else:
        for column, value in linkage_values(keys, key_id).items():
            setattr(row, column, value)
    db.session.execute(sa.delete(LinkageBlock).where(LinkageBlock.screening_id == screening_id))
    rows = block_rows(screening_id, keys)
    if rows:
        db.session.execute(sa.insert(LinkageBlock), rows)


def fact_values(screening: Screening, org_kind: str) -> dict[str, Any]:
    """The fact row of a screening (its person still unlinked: its own id), as a dict.

    ``screening`` may be any object with the attributes read here (register import builds
    rows in bulk from plain views); ``org_kind`` is the list the screening counts in."""
    person = screening.case.person
    local = screening.identified_at.astimezone(LIMA)
    nationality, group = primary_nationality(list(person.nationality))
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
    keys = encode(screening)
    _store_keys(screening.id, keys)
    link_one(fact, keys)
    return fact


# -- the model in use ----------------------------------------------------------------------


def current_model() -> tuple[model.Model, LinkageModel | None]:
    """The newest stored model (with its frequency table), or the default parameters."""
    row = db.session.scalars(
        sa.select(LinkageModel).order_by(LinkageModel.id.desc()).limit(1)
    ).first()
    if row is None:
        return model.default_model(), None
    return model.Model.from_dict(row.params, {}), row


def model_summary() -> dict[str, Any]:
    """The model in use, as plain data for the quality report (``reports/linkage.py``):
    its version and date, m and u per comparison level, and the quality figures of the
    relink that estimated it. No encoding and no frequency-table entry leaves here.

    ``stored`` is false before the first relink (the default parameters, not stored);
    ``estimated`` is false while the data were too few to estimate from
    (``model.MIN_RECORDS_TO_ESTIMATE``), when the stored model is the defaults."""
    fitted, row = current_model()
    quality_ = dict(row.params.get("quality") or {}) if row is not None else {}
    return {
        "stored": row is not None,
        "estimated": row is not None and not fitted.version.endswith("-default"),
        "version": fitted.version,
        "estimated_at": row.estimated_at if row is not None else None,
        "records": row.records if row is not None else 0,
        "pairs": row.pairs if row is not None else 0,
        # what link_one links at: the stored model's threshold, else the floor
        "threshold": row.threshold if row is not None else threshold(),
        "match_probability": match_probability(),
        "threshold_floor": threshold(),
        "match_share": fitted.match_share,
        "term_frequency": fitted.adjust,
        "min_records": model.MIN_RECORDS_TO_ESTIMATE,
        "near_threshold": model.NEAR_THRESHOLD,
        "fields": [
            {
                "field": name,
                "levels": [
                    {
                        "level": level,
                        "m": fitted.m[name][k],
                        "u": fitted.u[name][k],
                        "weight": math.log2(fitted.m[name][k] / fitted.u[name][k]),
                    }
                    for k, level in enumerate(model.LEVELS[name])
                ],
            }
            for name in model.FIELDS
        ],
        "quality": quality_,
    }


def _frequency_table(model_id: int) -> dict[str, dict[int, int]]:
    """A stored model's keyed frequency table (values held by more than one record)."""
    out: dict[str, dict[int, int]] = {"given": {}, "family": {}}
    for name, value, count in db.session.execute(
        sa.select(LinkageFrequency.field, LinkageFrequency.value, LinkageFrequency.count).where(
            LinkageFrequency.model_id == model_id
        )
    ):
        out.setdefault(name, {})[int(value)] = int(count)
    return out


#: the newest stored model with its frequency table, read once per process (its identity
#: columns are the key)
_LINKING_MODEL: dict[tuple[Any, ...], model.Model] = {}


def _model_for_linking() -> tuple[model.Model, int | None, float]:
    """The model ``link_one`` scores with, its id and its threshold. Each call reads the
    newest model's identity (one narrow row), so a relink's new model is used at once;
    its parameters and frequency table are read only when that identity changes (the
    table has one row per name value held by several records: ~9,000 at 20,000 persons)."""
    head = db.session.execute(
        sa.select(
            LinkageModel.id,
            LinkageModel.version,
            LinkageModel.estimated_at,
            LinkageModel.records,
            LinkageModel.pairs,
            LinkageModel.threshold,
        )
        .order_by(LinkageModel.id.desc())
        .limit(1)
    ).first()
    if head is None:
        return model.default_model(), None, threshold()
    key = tuple(head)
    fitted = _LINKING_MODEL.get(key)
    if fitted is None:
        params: dict[str, Any] = db.session.execute(
            sa.select(LinkageModel.params).where(LinkageModel.id == head.id)
        ).scalar_one()
        fitted = model.Model.from_dict(params, _frequency_table(int(head.id)))
        _LINKING_MODEL.clear()
        _LINKING_MODEL[key] = fitted
    return (
        dataclasses.replace(fitted, m=dict(fitted.m), u=dict(fitted.u)),
        int(head.id),
        float(head.threshold),
    )


# -- incremental linkage -------------------------------------------------------------------


def keys_from(values: Any) -> encoding.LinkKeys:
    """``LinkKeys`` from stored columns (a row or a mapping of ``KEY_COLUMNS``)."""
    get = values.get if isinstance(values, dict) else lambda c: getattr(values, c)
    kw: dict[str, Any] = {c: get(c) for c in KEY_COLUMNS}
    kw["dated"] = bool(kw["dated"])
    kw["blocks"] = kw["blocks"] or b""
    return encoding.LinkKeys(**kw)


def _stored_records() -> sa.Select[Any]:
    """Every fact's screening id, person id and stored encodings (``KEY_COLUMNS``; all
    ``None`` for a fact whose encodings were purged), to be narrowed with ``where``."""
    columns = [getattr(LinkageRecord, c) for c in KEY_COLUMNS]
    return sa.select(ScreeningFact.screening_id, ScreeningFact.person_id, *columns).outerjoin(
        LinkageRecord, LinkageRecord.screening_id == ScreeningFact.screening_id
    )


def _table_of(rows: Sequence[Sequence[Any]]) -> table.Table:
    """The linkage table of ``_stored_records`` rows, built from their key columns (no
    ``LinkKeys`` per row: a relink reads 1.5 million)."""
    columns: Sequence[Sequence[Any]] = list(zip(*rows, strict=True))[2:] or [
        () for _ in KEY_COLUMNS
    ]
    return table.build_columns(*columns)


def link_one(fact: ScreeningFact, keys: encoding.LinkKeys | None = None) -> int:
    """Attach a fact to the persons it matches, merging them (best match first, unless
    they conflict); return its person id. Only the records sharing one of its blocks
    (of at most ``blocking.MAX_BLOCK`` members) are compared."""
    if keys is None:
        row = db.session.get(LinkageRecord, fact.screening_id)
        if row is None:
            return fact.person_id
        keys = keys_from(row)
    wanted = list(encoding.unpack_codes(keys.blocks))
    if not wanted:
        return fact.person_id
    sizes = db.session.execute(
        sa.select(LinkageBlock.block, sa.func.count())
        .where(LinkageBlock.block.in_(wanted))
        .group_by(LinkageBlock.block)
    ).all()
    small = [b for b, n in sizes if n <= blocking.MAX_BLOCK]
    if not small:
        return fact.person_id
    candidate_ids = (
        sa.select(LinkageBlock.screening_id)
        .where(LinkageBlock.block.in_(small), LinkageBlock.screening_id != fact.screening_id)
        .distinct()
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(LinkageRecord, ScreeningFact.person_id)
        .join(ScreeningFact, ScreeningFact.screening_id == LinkageRecord.screening_id)
        .where(LinkageRecord.screening_id.in_(candidate_ids))
    ).all()
    if not rows:
        return fact.person_id
    others = [keys_from(r) for r, _ in rows]
    fitted, _, limit = _model_for_linking()
    t = table.build([keys, *others])
    j = np.arange(1, len(others) + 1)
    i = np.zeros(len(j), dtype=np.int64)
    levels, swap = model.compare_pairs(t, i, j)
    weight = model.score(fitted, t, i, j, levels, swap)
    same_doc = levels[:, model.FIELDS.index("doc")] == 0
    # ``limit``: the stored model's threshold (set for its data size at the last relink)
    # as in cluster.cluster: documents first, then best weight, ties by content
    content = cluster.content(t)
    best: dict[int, tuple[bool, float, int, int]] = {}
    for k, (_, person) in enumerate(rows):
        if not (same_doc[k] or weight[k] >= limit) or person == fact.person_id:
            continue
        a, b = int(content[0]), int(content[k + 1])
        value = (not same_doc[k], -float(weight[k]), min(a, b), max(a, b))
        best[person] = min(value, best.get(person, value))
    if not best:
        return fact.person_id
    evidence = _person_evidence([*best, fact.person_id], fact, keys)
    for person in sorted(best, key=lambda p: (best[p], p)):
        current = fact.person_id
        forced = not best[person][0]
        if not forced and cluster.conflict(evidence[current], evidence[person]):
            continue
        root, child = min(current, person), max(current, person)
        db.session.execute(
            sa.update(ScreeningFact).where(ScreeningFact.person_id == child).values(person_id=root)
        )
        merged = evidence.pop(current)
        cluster.merge_into(merged, evidence.pop(person), one_class=forced)
        evidence[root] = merged
        fact.person_id = root
    db.session.flush()
    return fact.person_id


#: ids per ``IN (…)`` list of a bulk query (SQLite allows 32,766 parameters)
_IN_CHUNK = 5000


def _chunks(values: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield list(values[start : start + _IN_CHUNK])


def refit_due(model_records: int | None, estimated: bool, records_now: int) -> bool:
    """Whether new records should re-estimate the model (a full relink) rather than be
    linked with the stored one: no model yet, a default model and enough records now
    to estimate one, or the records at least doubled since the estimate (ADR 0027)."""
    if model_records is None:
        return True
    if not estimated:
        return records_now >= model.MIN_RECORDS_TO_ESTIMATE
    return records_now >= 2 * model_records


def link_new(screening_ids: Sequence[int]) -> str:
    """Link many new screenings (a register import): a full relink when the model is due
    for a new estimate (``refit_due``), else ``link_batch``; which one ran."""
    if not screening_ids:
        return "none"
    _, row = current_model()
    records_now = db.session.scalar(sa.select(sa.func.count()).select_from(LinkageRecord)) or 0
    estimated = row is not None and not str(row.version).endswith("-default")
    if refit_due(row.records if row is not None else None, estimated, records_now):
        relink_all()
        return "relink"
    link_batch(screening_ids)
    return "incremental"


def link_batch(screening_ids: Sequence[int]) -> int:
    """Link new screenings to the stored persons and to each other in one pass, with the
    stored model: what ``link_one`` does for one screening, in bulk. The candidates are the
    records sharing a block (of at most ``blocking.MAX_BLOCK`` members) with a new one;
    the persons they belong to are loaded whole, start as one cluster each, and only the
    pairs with a new record are scored and clustered (``cluster.cluster``, same
    constraints, best pairs first). Returns the number of facts whose person changed."""
    new = sorted(set(screening_ids))
    if not new:
        return 0
    wanted: set[int] = set()
    for ids in _chunks(new):
        for (blob,) in db.session.execute(
            sa.select(LinkageRecord.blocks).where(LinkageRecord.screening_id.in_(ids))
        ):
            wanted.update(encoding.unpack_codes(blob))
    small: list[int] = []
    for codes in _chunks(sorted(wanted)):
        small += [
            b
            for b, n in db.session.execute(
                sa.select(LinkageBlock.block, sa.func.count())
                .where(LinkageBlock.block.in_(codes))
                .group_by(LinkageBlock.block)
            )
            if 2 <= n <= blocking.MAX_BLOCK
        ]
    members: dict[int, list[int]] = {}
    for codes in _chunks(small):
        for b, sid in db.session.execute(
            sa.select(LinkageBlock.block, LinkageBlock.screening_id).where(
                LinkageBlock.block.in_(codes)
            )
        ):
            members.setdefault(sid, []).append(b)
    if not members:  # no new record shares a block with another record
        return 0
    touched = sorted(members)
    persons: set[int] = set()
    for ids in _chunks(touched):
        persons.update(
            db.session.scalars(
                sa.select(ScreeningFact.person_id).where(ScreeningFact.screening_id.in_(ids))
            )
        )
    rows: list[Any] = []
    for ids in _chunks(sorted(persons)):
        rows += db.session.execute(_stored_records().where(ScreeningFact.person_id.in_(ids))).all()
    rows.sort(key=lambda r: r[0])  # the smallest index of a cluster is its smallest id
    sids = [int(r[0]) for r in rows]
    current = np.array([r[1] for r in rows], dtype=np.int64)
    t = _table_of(rows)
    new_set = set(new)
    is_new = np.array([sid in new_set for sid in sids], dtype=bool)
    block_lists = [
        struct.pack(f">{len(members.get(sid, ()))}q", *members.get(sid, ())) for sid in sids
    ]
    i, j = blocking.candidate_pairs(block_lists, limit=len(sids) + 1)
    keep = is_new[i] | is_new[j]
    i, j = i[keep], j[keep]
    fitted, _, limit = _model_for_linking()
    levels, swap = model.compare_pairs(t, i, j)
    weight = model.score(fitted, t, i, j, levels, swap)
    same_doc = levels[:, model.FIELDS.index("doc")] == 0
    clusters = cluster.cluster(t, i, j, weight, limit, same_doc, groups=current)
    person = np.asarray(sids, dtype=np.int64)[clusters]
    changes = [
        {"screening_id": sid, "person_id": int(p)}
        for sid, p, old in zip(sids, person.tolist(), current.tolist(), strict=True)
        if p != old
    ]
    _update_persons(changes)
    return len(changes)


def _person_evidence(
    persons: list[int], fact: ScreeningFact, keys: encoding.LinkKeys
) -> dict[int, cluster.Evidence]:
    """Per person, its dates of birth (one class: they are already one person) and
    typed documents; the new fact counted in its own person."""
    rows = db.session.execute(
        sa.select(
            ScreeningFact.person_id,
            ScreeningFact.screening_id,
            LinkageRecord.sex,
            LinkageRecord.birth_year,
            LinkageRecord.dated,
            LinkageRecord.dob,
            LinkageRecord.doc_type,
            LinkageRecord.doc,
        )
        .join(LinkageRecord, LinkageRecord.screening_id == ScreeningFact.screening_id)
        .where(ScreeningFact.person_id.in_(persons))
    ).all()
    by_person: dict[int, list[encoding.LinkKeys]] = {p: [] for p in persons}
    for person, screening_id, sex, year, dated, dob, doc_type, doc in rows:
        if screening_id == fact.screening_id:
            continue
        by_person[person].append(
            encoding.LinkKeys(
                sex, year, bool(dated), dob, doc_type, doc, None, None, None, None, b""
            )
        )
    by_person[fact.person_id].append(keys)
    out: dict[int, cluster.Evidence] = {}
    for person, records in by_person.items():
        t = table.build(records)
        ev = cluster.Evidence()
        for index in range(t.n):
            cluster.merge_into(ev, cluster.evidence_of(t, index), one_class=True)
        out[person] = ev
    return out


def update_status(screening: Screening) -> None:
    """Keep the fact's status in step with a supervisor's override."""
    db.session.execute(
        sa.update(ScreeningFact)
        .where(ScreeningFact.screening_id == screening.id)
        .values(status=screening.effective_status)
    )


def _keep_purged_links(
    ids: list[int], keyless: set[int], old: dict[int, int], mapping: dict[int, int]
) -> None:
    """Facts whose encodings were purged (retention) cannot be re-linked: they stay with
    the person they belonged to, so unduplicated counts do not grow after a purge."""
    if not keyless:
        return
    new_of_old: dict[int, int] = {}
    for sid in ids:
        if sid not in keyless:
            new_of_old.setdefault(old[sid], mapping[sid])
    for sid in ids:
        if sid in keyless:
            mapping[sid] = new_of_old.get(old[sid], old[sid])


def _all_stored_rows() -> list[tuple[Any, ...]]:
    """Every ``_stored_records`` row as the driver returns it (a plain tuple; a relink
    reads 1.5 million: SQLAlchemy's rows cost ~5 s more). The statement has no
    parameters and its columns need no result processing: integers, strings, bytes and a
    boolean (0/1 on SQLite, which ``table.build_columns`` reads with ``bool``)."""
    db.session.flush()
    connection = db.session.connection()
    sql = str(_stored_records().compile(dialect=connection.dialect))
    raw = connection.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def relink_all(batch: int = 50_000) -> tuple[int, int]:
    """Re-estimate the model on every stored encoding, store it with its quality
    figures, and recompute every person; return (screenings, persons)."""
    # in id order: a cluster is numbered by its smallest index, so a person keeps its
    # smallest screening id, whatever order the database returned the rows in
    rows = sorted(_all_stored_rows(), key=lambda r: r[0])
    ids = [r[0] for r in rows]
    old = {r[0]: r[1] for r in rows}
    keyless = {r[0] for r in rows if all(v is None for v in r[2:])}
    keyed = [r for r in rows if r[0] not in keyless] if keyless else rows
    linked_ids = [r[0] for r in keyed]
    result = probabilistic.link(
        _table_of(keyed), probability=match_probability(), floor=threshold()
    )
    limit = result.threshold
    mapping = {sid: sid for sid in ids}
    for sid, c in zip(linked_ids, result.clusters.tolist(), strict=True):
        mapping[sid] = linked_ids[c]
    _keep_purged_links(ids, keyless, old, mapping)
    _store_model(result, limit)
    changes = [
        {"screening_id": sid, "person_id": mapping[sid]} for sid in ids if mapping[sid] != old[sid]
    ]
    _update_persons(changes, batch)
    return len(rows), len(set(mapping.values()))


def _update_persons(changes: list[dict[str, int]], batch: int = 50_000) -> None:
    if changes and db.session.get_bind().dialect.name == "postgresql":
        _update_persons_postgres(changes)
        return
    for start in range(0, len(changes), batch):
        # ORM bulk UPDATE by primary key (executemany)
        db.session.execute(sa.update(ScreeningFact), changes[start : start + batch])


HISTOGRAM_BINS = tuple(range(-20, 42, 2))


def quality(result: probabilistic.Linked, limit: float) -> dict[str, Any]:
    """What the quality page shows: the histogram of match weights of the compared
    pairs, and how many persons rest on pairs near the threshold (linked by a pair less
    than ``model.NEAR_THRESHOLD`` bits above it, or with a pair as close below it)."""
    w = result.weight
    counts, _ = np.histogram(
        np.clip(w, HISTOGRAM_BINS[0], HISTOGRAM_BINS[-1] - 0.01), HISTOGRAM_BINS
    )
    c = result.clusters
    same = c[result.i] == c[result.j]
    near_above = same & (w >= limit) & (w < limit + model.NEAR_THRESHOLD)
    near_below = ~same & (w < limit) & (w >= limit - model.NEAR_THRESHOLD)
    sizes = np.bincount(c, minlength=len(c)) if len(c) else np.zeros(0, dtype=np.int64)
    return {
        "histogram": [
            {"from": lo, "to": hi, "pairs": int(n)}
            for lo, hi, n in zip(
                HISTOGRAM_BINS[:-1], HISTOGRAM_BINS[1:], counts.tolist(), strict=True
            )
        ],
        "near_threshold": model.NEAR_THRESHOLD,
        "persons_near_above": len(set(c[result.i[near_above]].tolist())),
        "persons_near_below": len(
            set(c[result.i[near_below]].tolist()) | set(c[result.j[near_below]].tolist())
        ),
        "linked_persons": int((sizes > 1).sum()),
        "persons": len(set(c.tolist())),
    }


def _store_model(result: probabilistic.Linked, limit: float) -> LinkageModel:
    fitted = result.model
    params = fitted.as_dict() | {"quality": quality(result, limit)}
    row = LinkageModel(
        version=fitted.version,
        estimated_at=datetime.fromisoformat(fitted.estimated_at)
        if fitted.estimated_at
        else datetime.now(UTC),
        records=fitted.records,
        pairs=fitted.pairs,
        threshold=limit,
        params=params,
    )
    db.session.add(row)
    db.session.flush()
    # only the newest model is kept with its frequency table
    older = sa.select(LinkageModel.id).where(LinkageModel.id < row.id)
    db.session.execute(sa.delete(LinkageFrequency).where(LinkageFrequency.model_id.in_(older)))
    db.session.execute(sa.delete(LinkageModel).where(LinkageModel.id.in_(older)))
    entries = [
        {"model_id": row.id, "field": name, "value": value, "count": count}
        for name, table_ in fitted.frequencies.items()
        for value, count in table_.items()
    ]
    if entries:  # ~200,000 at a million persons: below the ORM
        bulk.insert(cast(sa.Table, LinkageFrequency.__table__), entries)
    return row


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
    """Re-encode a case's facts after its identity data changed, and link them again
    (a corrected name or document may join another person)."""
    for screening in case_screenings:
        fact = db.session.get(ScreeningFact, screening.id)
        if fact is None:
            continue
        keys = encode(screening)
        _store_keys(screening.id, keys)
        db.session.flush()
        link_one(fact, keys)


def reencode_all(batch: int = 2000) -> int:
    """Encode every screening's identity again under the current index key (after
    ``flask keys rotate`` or a new encoding version), then relink; return the number of
    records encoded. Purged cases (no identity left) keep no encodings."""
    from sqlalchemy.orm import joinedload

    from caseapp.screening.models import Case

    index_key = keyring().index_key
    key_id = encoding.encoder(index_key).key_id
    done = 0
    last = 0
    while True:
        screenings = list(
            db.session.scalars(
                sa.select(Screening)
                .join(ScreeningFact, ScreeningFact.screening_id == Screening.id)
                .where(Screening.id > last)
                .order_by(Screening.id)
                .limit(batch)
                .options(joinedload(Screening.case).joinedload(Case.person))
            ).unique()
        )
        if not screenings:
            break
        ids = [s.id for s in screenings]
        db.session.execute(sa.delete(LinkageBlock).where(LinkageBlock.screening_id.in_(ids)))
        db.session.execute(sa.delete(LinkageRecord).where(LinkageRecord.screening_id.in_(ids)))
        records, blocks = [], []
        for s in screenings:
            if s.case.purged_at is not None:
                continue
            keys = encode(s, index_key)
            records.append({"screening_id": s.id, **linkage_values(keys, key_id)})
            blocks += block_rows(s.id, keys)
        if records:
            db.session.execute(sa.insert(LinkageRecord), records)
        for start in range(0, len(blocks), 50_000):
            db.session.execute(sa.insert(LinkageBlock), blocks[start : start + 50_000])
        done += len(records)
        last = ids[-1]
        db.session.expunge_all()
    db.session.flush()
    relink_all()
    return done
