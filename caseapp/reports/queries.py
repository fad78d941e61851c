"""Read-only SQL over the statistics facts and the referral, gap and admission tables.

Every function here runs ONE grouped statement and returns counts, never rows about a
person (the CTDC extract is the single, documented exception: one row of coded
attributes per person, no identifier, for `disclosure.k_anonymize`). Disclosure control,
scope decisions and auditing live in `services.py`; this module only counts what it is
told to count.

Units (reports.md §1, docs/decisions/0007-reports.md):

- ``screenings``: every fact row whose Lima date lies in the period and whose status is
  selected.
- ``persons``: the same rows, keeping per person only the most recent one (no later
  selected screening of the same person: an anti-join, ties broken by screening id),
  which gives the attributes; ``MIN(year|month) OVER (PARTITION BY person_id)`` gives the
  period of the first identification in the range. Row values and window functions run
  on SQLite >= 3.25 and PostgreSQL alike. On PostgreSQL the same rows come from
  ``DISTINCT ON`` (one scan, one sort; faster at 1.5 million facts, docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql

from caseapp.core import codes
from caseapp.core.time import LIMA
from caseapp.directory.models import Service
from caseapp.extensions import db
from caseapp.facts.models import ScreeningFact, ScreeningFactPurpose
from caseapp.referrals.models import GapRecord, Referral
from caseapp.reports.recordkeys import record_key_sql
from caseapp.shelters.models import Admission

UNKNOWN = "unknown"

#: reports.md §2 dimension -> fact column (``purpose`` comes from the purposes table).
FACT_COLUMNS: dict[str, str] = {
    "sex": "sex",
    "gender_identity": "gender_identity",
    "age_group": "age_group",
    "unodc_category": "unodc_category",
    "mp_band": "mp_band",
    "ctdc_band": "ctdc_band",
    "nationality": "nationality",
    "nationality_group": "nationality_group",
    "region": "region",
    "exploitation_region": "exploitation_region",
    "exploitation_form": "exploitation_form",
    "sector": "sector",
    "identification_context": "identification_context",
    "org_kind": "org_kind",
    "status": "status",
    "year": "year",
    "month": "month",
}
PERIOD_DIMENSIONS = frozenset({"year", "month"})
MULTI_VALUED = frozenset({"purpose"})
#: reports.md §2, in its order.
VICTIM_DIMENSIONS: tuple[str, ...] = (
    *list(FACT_COLUMNS)[:11],
    "purpose",
    *list(FACT_COLUMNS)[11:],
)

_facts = ScreeningFact.__table__
_purposes = ScreeningFactPurpose.__table__


@dataclass(frozen=True, slots=True)
class FactFilter:
    """Which screenings a report reads: period (Lima dates, inclusive), statuses, scope.

    `organization_id=None` means every organization (statisticians only; services.py
    decides). The period is applied to `identified_at` through Lima-midnight bounds, which
    is the same set as `identified_on BETWEEN from AND to` but uses the existing index.
    """

    date_from: date | None
    date_to: date | None
    statuses: tuple[str, ...]
    organization_id: int | None


def lima_start(day: date) -> datetime:
    """The instant a Lima calendar day begins."""
    return datetime.combine(day, time.min, tzinfo=LIMA)


def _period(column: Any, date_from: date | None, date_to: date | None) -> list[Any]:
    conds = []
    if date_from is not None:
        conds.append(column >= lima_start(date_from))
    if date_to is not None:
        conds.append(column < lima_start(date_to + timedelta(days=1)))
    return conds


def _fact_conditions(flt: FactFilter, facts: Any = _facts) -> list[Any]:
    conds = [
        facts.c.status.in_(flt.statuses),
        *_period(facts.c.identified_at, flt.date_from, flt.date_to),
    ]
    if flt.organization_id is not None:
        conds.append(facts.c.organization_id == flt.organization_id)
    return conds


def _no_later_screening(flt: FactFilter, row: Any) -> Any:
    """`row` is its person's most recent selected screening: no selected screening of the
    same person is later (ties on the instant broken by the higher screening id).

    An anti-join: PostgreSQL runs it as a (parallel) hash anti join, SQLite as an index
    probe on `person_id`; both beat sorting every row for ROW_NUMBER() (ADR 0007).
    """
    later = _facts.alias("later")
    return ~sa.exists().where(
        later.c.person_id == row.c.person_id,
        *_fact_conditions(flt, later),
        sa.tuple_(later.c.identified_at, later.c.screening_id)
        > sa.tuple_(row.c.identified_at, row.c.screening_id),
    )


def _units(unit: str, flt: FactFilter, needed: Sequence[str]) -> sa.Subquery:
    """One row per counted unit with the fact columns in `needed` (plus `screening_id`
    and `rkey`, the unit's record key for cell-key perturbation, ADR 0016).

    For persons this is the person's most recent screening in the range, with `year` and
    `month` replaced by those of the first screening in the range
    (``MIN(…) OVER (PARTITION BY person_id)``: 'YYYY-MM' sorts chronologically).
    """
    attrs = [c for c in needed if c not in PERIOD_DIMENSIONS]
    periods = [c for c in needed if c in PERIOD_DIMENSIONS]
    conds = _fact_conditions(flt)
    if unit == "screenings":
        rkey = record_key_sql(_facts.c.screening_id, "screening").label("rkey")
        cols = [_facts.c.screening_id, rkey, *(_facts.c[c] for c in (*attrs, *periods))]
        return sa.select(*cols).where(*conds).subquery("units")
    person_key = record_key_sql(_facts.c.person_id, "person").label("rkey")
    if db.session.get_bind().dialect.name == "postgresql":
        return _latest_distinct_on(conds, attrs, periods)
    if not periods:
        return (
            sa.select(_facts.c.screening_id, person_key, *(_facts.c[c] for c in attrs))
            .where(*conds, _no_later_screening(flt, _facts))
            .subquery("units")
        )
    by_person = {"partition_by": _facts.c.person_id}
    ranked = (
        sa.select(
            _facts.c.screening_id,
            _facts.c.person_id,
            _facts.c.identified_at,
            person_key,
            *(_facts.c[c] for c in attrs),
            *(sa.func.min(_facts.c[c]).over(**by_person).label(c) for c in periods),
        )
        .where(*conds)
        .subquery("ranked")
    )
    return (
        sa.select(ranked.c.screening_id, ranked.c.rkey, *(ranked.c[c] for c in (*attrs, *periods)))
        .where(_no_later_screening(flt, ranked))
        .subquery("units")
    )


def _latest_distinct_on(conds: list[Any], attrs: list[str], periods: list[str]) -> sa.Subquery:
    """PostgreSQL: each person's most recent selected screening with ``DISTINCT ON``,
    ordered by (person, instant desc, id desc), the same ties as the anti-join. One scan
    and one sort: at 1.5 million facts this beats the anti-join's two full scans, and the
    first period (``MIN(…) OVER`` the whole partition, in the same order) needs no second
    sort (docs/performance.md, B1).
    """
    later_first = (_facts.c.identified_at.desc(), _facts.c.screening_id.desc())
    whole_person = {
        "partition_by": _facts.c.person_id,
        "order_by": later_first,
        "rows": (None, None),
    }
    return (
        sa.select(
            _facts.c.screening_id,
            record_key_sql(_facts.c.person_id, "person").label("rkey"),
            *(_facts.c[c] for c in attrs),
            *(sa.func.min(_facts.c[c]).over(**whole_person).label(c) for c in periods),
        )
        .where(*conds)
        .ext(postgresql.distinct_on(_facts.c.person_id))
        .order_by(_facts.c.person_id, *later_first)
        .subquery("units")
    )


@dataclass(frozen=True, slots=True)
class Counts:
    """Grouped counts: `cells` by dimension values, `total` distinct units.

    `keys` and `total_key`: the sums of the counted units' record keys, per cell and
    for the total (cell keys, ADR 0016); `merged` adds cells up with their keys.
    """

    cells: dict[tuple[Any, ...], int]
    total: int
    keys: dict[tuple[Any, ...], int] = field(default_factory=dict)
    total_key: int = 0

    def merged(self, to: Callable[[tuple[Any, ...]], tuple[Any, ...]]) -> Counts:
        """Cells mapped to coarser cells by `to` (a marginal, a recoding): counts and
        record-key sums add up, since the coarser cell holds exactly those units."""
        cells: dict[tuple[Any, ...], int] = {}
        keys: dict[tuple[Any, ...], int] = {}
        for key, n in self.cells.items():
            coarse = to(key)
            cells[coarse] = cells.get(coarse, 0) + n
            keys[coarse] = keys.get(coarse, 0) + self.keys.get(key, 0)
        return Counts(cells, self.total, keys, self.total_key)


def victim_statement(unit: str, dimensions: Sequence[str], flt: FactFilter) -> sa.Select[Any]:
    """The one grouped statement behind `victim_counts` (also used by benchmarks).

    Columns: the dimensions, the count of units per cell, the number of distinct
    units the cell adds to the total, and the sums of the record keys of both (cell
    keys, ADR 0016). With `purpose` each unit is joined to its purposes
    (a unit without any counts under `unknown`) and flagged on exactly one of its rows, so
    the flags sum to the distinct units even though the cells add up to more.
    """
    dims = tuple(dimensions)
    needed = [FACT_COLUMNS[d] for d in dims if d in FACT_COLUMNS]
    units = _units(unit, flt, needed)
    if "purpose" not in dims:
        group = [units.c[FACT_COLUMNS[d]] for d in dims]
        n = sa.func.count()
        keysum = sa.func.sum(units.c.rkey)
        return sa.select(*group, n, n, keysum, keysum).select_from(units).group_by(*group)
    p = _purposes
    first = sa.func.row_number().over(partition_by=units.c.screening_id, order_by=p.c.purpose)
    joined = (
        sa.select(
            *(units.c[c] for c in needed),
            sa.func.coalesce(p.c.purpose, UNKNOWN).label("purpose"),
            sa.case((first == 1, 1), else_=0).label("is_first"),
            units.c.rkey,
        )
        .select_from(units.outerjoin(p, p.c.screening_id == units.c.screening_id))
        .subquery("joined")
    )
    group = [joined.c[FACT_COLUMNS.get(d, d)] for d in dims]
    return (
        sa.select(
            *group,
            sa.func.count(),
            sa.func.sum(joined.c.is_first),
            sa.func.sum(joined.c.rkey),
            sa.func.sum(joined.c.rkey * joined.c.is_first),
        )
        .select_from(joined)
        .group_by(*group)
    )


def sort_in_memory() -> None:
    """PostgreSQL: give this transaction's report statements ``REPORTS_WORK_MEM`` of
    memory per sort and hash (``set_config(…, true)``: until the transaction ends).

    The persons of a national report are a sort of every selected fact (1.5 million rows
    at a million persons, ~150 MB); with PostgreSQL's default 4 MB ``work_mem`` it spills
    to disk in an external merge, which doubles its time (docs/performance.md, B1).
    Raising it for these statements only keeps the server's default for everything else.
    """
    setting = current_app.config.get("REPORTS_WORK_MEM")
    conn = db.session.connection()
    if setting and conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT set_config('work_mem', :v, true)"), {"v": str(setting)})


def victim_counts(unit: str, dimensions: Sequence[str], flt: FactFilter) -> Counts:
    """Persons or screenings by up to four dimensions, in one grouped statement."""
    cells: dict[tuple[Any, ...], int] = {}
    keys: dict[tuple[Any, ...], int] = {}
    total = total_key = 0
    sort_in_memory()
    for row in db.session.execute(victim_statement(unit, dimensions, flt)):
        key = tuple(row[:-4])
        cells[key] = int(row[-4])
        total += int(row[-3] or 0)
        keys[key] = int(row[-2] or 0)
        total_key += int(row[-1] or 0)
    return Counts(cells, total, keys, total_key)


@dataclass(frozen=True, slots=True)
class OverlapCounts:
    persons_by_kinds: dict[frozenset[str], int]
    total_persons: int
    total_screenings: int
    #: record-key sums (cell keys, ADR 0016) of the same cells and totals
    keys_by_kinds: dict[frozenset[str], int] = field(default_factory=dict)
    persons_key: int = 0
    screenings_key: int = 0


def overlap_counts(flt: FactFilter) -> OverlapCounts:
    """Persons by the set of organization kinds that identified them in the period.

    Each kind is a bit; ``SUM(DISTINCT bit)`` per person is the set, so the grouping of
    a million persons stays in SQL (one statement, no row per person in Python).
    """
    kinds = codes.get("org_kind").codes
    bits = {kind: 1 << i for i, kind in enumerate(kinds)}
    other_bit = 1 << len(kinds)
    bit = sa.case(bits, value=_facts.c.org_kind, else_=other_bit)
    per_person = (
        sa.select(
            sa.func.sum(sa.distinct(bit)).label("mask"),
            sa.func.count().label("screenings"),
            sa.func.min(record_key_sql(_facts.c.person_id, "person")).label("rkey"),
            sa.func.sum(record_key_sql(_facts.c.screening_id, "screening")).label("skeys"),
        )
        .where(*_fact_conditions(flt))
        .group_by(_facts.c.person_id)
        .subquery("per_person")
    )
    stmt = sa.select(
        per_person.c.mask,
        sa.func.count(),
        sa.func.sum(per_person.c.screenings),
        sa.func.sum(per_person.c.rkey),
        sa.func.sum(per_person.c.skeys),
    ).group_by(per_person.c.mask)
    by_kinds: dict[frozenset[str], int] = {}
    keys: dict[frozenset[str], int] = {}
    persons = screenings = persons_key = screenings_key = 0
    sort_in_memory()
    for mask, n, s, pkeys, skeys in db.session.execute(stmt):
        mask = int(mask)
        combo = frozenset(k for k, b in bits.items() if mask & b)
        if mask & other_bit:
            combo = combo | {"other"}
        by_kinds[combo] = by_kinds.get(combo, 0) + int(n)
        keys[combo] = keys.get(combo, 0) + int(pkeys or 0)
        persons += int(n)
        screenings += int(s)
        persons_key += int(pkeys or 0)
        screenings_key += int(skeys or 0)
    return OverlapCounts(by_kinds, persons, screenings, keys, persons_key, screenings_key)


def ctdc_persons(flt: FactFilter) -> list[dict[str, Any]]:
    """One row of coded attributes per person (latest screening; year of the first).

    No identifier leaves this function: the person and screening ids are used to group
    the purposes and then dropped. Rows come back sorted by their values, not by id.
    """
    needed = ["year", "gender_identity", "ctdc_band", "age_group", "nationality", "sector"]
    units = _units("persons", flt, needed)
    p = _purposes
    stmt = (
        sa.select(*(units.c[c] for c in needed), units.c.screening_id, p.c.purpose)
        .select_from(units.outerjoin(p, p.c.screening_id == units.c.screening_id))
        .order_by(units.c.screening_id)
    )
    people: dict[int, dict[str, Any]] = {}
    sort_in_memory()
    for row in db.session.execute(stmt):
        person = people.get(row.screening_id)
        if person is None:
            person = {c: getattr(row, c) for c in needed}
            person["purposes"] = []
            people[row.screening_id] = person
        if row.purpose is not None:
            person["purposes"].append(row.purpose)
    rows = list(people.values())
    rows.sort(key=lambda r: tuple(str(r[c]) for c in needed) + tuple(sorted(r["purposes"])))
    return rows


# -- referrals, gaps, occupancy ------------------------------------------------------------

REFERRAL_DIMENSIONS = ("service_type", "status", "outcome", "region", "priority")
_OUTCOME = {
    "accepted": "accepted",
    "completed": "accepted",
    "declined": "declined",
    "cancelled": "cancelled",
}


def _referral_dim(name: str) -> Any:
    r = Referral.__table__
    if name == "outcome":
        return sa.case(_OUTCOME, value=r.c.status, else_="pending").label("outcome")
    if name == "region":
        return sa.func.coalesce(_facts.c.region, UNKNOWN).label("region")
    return r.c[name]


@dataclass(frozen=True, slots=True)
class ReferralCounts:
    counts: Counts
    overdue: Counts
    hours: dict[tuple[Any, ...], list[float]]
    declines: Counts


def _referral_conditions(
    date_from: date | None, date_to: date | None, organization_id: int | None
) -> list[Any]:
    r = Referral.__table__
    conds = _period(r.c.created_at, date_from, date_to)
    if organization_id is not None:
        conds.append(r.c.referring_org_id == organization_id)
    return conds


def referral_counts(
    dimensions: Sequence[str],
    date_from: date | None,
    date_to: date | None,
    organization_id: int | None,
    now: datetime,
) -> ReferralCounts:
    """Referrals created in the period by the chosen dimensions, overdue mandatory ones,
    hours from creation to acceptance (for medians) and decline reasons.

    Overdue = mandatory, still `ready`/`sent`, past `due_at` at `now` (referrals.services).
    Region = where the person was identified (the referral's screening fact).
    """
    r = Referral.__table__
    conds = _referral_conditions(date_from, date_to, organization_id)
    source = r.outerjoin(_facts, _facts.c.screening_id == r.c.screening_id)
    is_overdue = sa.case(
        (
            sa.and_(
                r.c.priority == "mandatory",
                r.c.status.in_(("ready", "sent")),
                r.c.due_at < now,
            ),
            1,
        ),
        else_=0,
    ).label("is_overdue")
    # Dimensions are computed in a subquery and grouped by its columns: PostgreSQL does
    # not see that two separately bound CASE/COALESCE expressions are the same.
    base = (
        sa.select(
            *(_referral_dim(d) for d in dimensions),
            is_overdue,
            r.c.created_at,
            r.c.accepted_at,
            record_key_sql(r.c.id, "referral").label("rkey"),
        )
        .select_from(source)
        .where(*conds)
        .subquery("base")
    )
    group = [base.c[d] for d in dimensions]
    stmt = sa.select(
        *group,
        sa.func.count(),
        sa.func.sum(base.c.is_overdue),
        sa.func.sum(base.c.rkey),
        sa.func.sum(base.c.rkey * base.c.is_overdue),
    ).group_by(*group)
    cells: dict[tuple[Any, ...], int] = {}
    late: dict[tuple[Any, ...], int] = {}
    keys: dict[tuple[Any, ...], int] = {}
    late_keys: dict[tuple[Any, ...], int] = {}
    for row in db.session.execute(stmt):
        key = tuple(row[:-4])
        cells[key] = int(row[-4])
        late[key] = int(row[-3] or 0)
        keys[key] = int(row[-2] or 0)
        late_keys[key] = int(row[-1] or 0)
    # Hours to acceptance: one small row per accepted referral (the median needs them).
    accepted = sa.select(*group, base.c.created_at, base.c.accepted_at).where(
        base.c.accepted_at.is_not(None)
    )
    hours: dict[tuple[Any, ...], list[float]] = {}
    for row in db.session.execute(accepted):
        created, done = row[-2], row[-1]
        hours.setdefault(tuple(row[:-2]), []).append((done - created).total_seconds() / 3600)
    declines_stmt = (
        sa.select(
            r.c.decline_reason, sa.func.count(), sa.func.sum(record_key_sql(r.c.id, "referral"))
        )
        .where(*conds, r.c.status == "declined")
        .group_by(r.c.decline_reason)
    )
    declines: dict[tuple[Any, ...], int] = {}
    decline_keys: dict[tuple[Any, ...], int] = {}
    for reason, n, rkeys in db.session.execute(declines_stmt):
        key = (reason or "other",)
        declines[key] = declines.get(key, 0) + int(n)
        decline_keys[key] = decline_keys.get(key, 0) + int(rkeys or 0)
    return ReferralCounts(
        counts=_summed(cells, keys),
        overdue=_summed(late, late_keys),
        hours=hours,
        declines=_summed(declines, decline_keys),
    )


def _summed(cells: dict[tuple[Any, ...], int], keys: dict[tuple[Any, ...], int]) -> Counts:
    """Cells that partition their units: the total and its key are their sums."""
    return Counts(cells, sum(cells.values()), keys, sum(keys.values()))


GAP_DIMENSIONS = ("gap", "region", "profile", "service_type")
#: Profiles for unmet need, from the screening's tags (first match wins, so they partition).
GAP_PROFILES = ("lgbtqi", "adult_man", "adult_woman", "boy", "girl", "unknown")


def _has_tag(tags_text: Any, tag: str) -> Any:
    # Tags are a JSON list of plain codes; `"male"` (quoted) never matches `"female"`.
    return tags_text.like(f'%"{tag}"%')


def _gap_dim(name: str) -> Any:
    g = GapRecord.__table__
    if name == "gap":
        return g.c.code.label("gap")
    if name == "service_type":
        return sa.func.coalesce(g.c.service_type, UNKNOWN).label("service_type")
    if name == "region":
        return g.c.region
    tags = sa.cast(g.c.tags, sa.Text)
    return sa.case(
        (_has_tag(tags, "lgbtqi"), "lgbtqi"),
        (sa.and_(_has_tag(tags, "adult"), _has_tag(tags, "male")), "adult_man"),
        (sa.and_(_has_tag(tags, "adult"), _has_tag(tags, "female")), "adult_woman"),
        (sa.and_(_has_tag(tags, "child"), _has_tag(tags, "male")), "boy"),
        (sa.and_(_has_tag(tags, "child"), _has_tag(tags, "female")), "girl"),
        else_=UNKNOWN,
    ).label("profile")


def gap_counts(
    dimensions: Sequence[str],
    date_from: date | None,
    date_to: date | None,
    organization_id: int | None,
) -> Counts:
    """Gap records (a needed service nobody could provide) by the chosen dimensions."""
    g = GapRecord.__table__
    conds = _period(g.c.created_at, date_from, date_to)
    if organization_id is not None:
        conds.append(g.c.organization_id == organization_id)
    labelled = (
        sa.select(*(_gap_dim(d) for d in dimensions), record_key_sql(g.c.id, "gap").label("rkey"))
        .where(*conds)
        .subquery("labelled")
    )
    group = [labelled.c[d] for d in dimensions]
    stmt = sa.select(*group, sa.func.count(), sa.func.sum(labelled.c.rkey)).group_by(*group)
    cells: dict[tuple[Any, ...], int] = {}
    keys: dict[tuple[Any, ...], int] = {}
    for row in db.session.execute(stmt):
        cells[tuple(row[:-2])] = int(row[-2])
        keys[tuple(row[:-2])] = int(row[-1] or 0)
    return _summed(cells, keys)


RESIDENTIAL_SERVICES = ("car_specialized_trafficking", "car_general", "ngo_shelter")


@dataclass(frozen=True, slots=True)
class ShelterRow:
    service_id: int
    organization_code: str
    organization_name: str
    region: str
    service_type: str
    capacity: int | None
    occupied: int
    occupied_key: int = 0  # record-key sum of the open admissions (ADR 0016)


def shelter_occupancy(organization_id: int | None) -> list[ShelterRow]:
    """Residential services with their capacity and current occupancy (one statement)."""
    from caseapp.accounts.models import Organization

    s, o, a = Service.__table__, Organization.__table__, Admission.__table__
    active = (
        sa.select(
            a.c.service_id,
            sa.func.count().label("occupied"),
            sa.func.sum(record_key_sql(a.c.id, "admission")).label("rkeys"),
        )
        .where(a.c.discharged_at.is_(None))
        .group_by(a.c.service_id)
        .subquery("active")
    )
    stmt = (
        sa.select(
            s.c.id,
            o.c.code,
            o.c.name,
            o.c.region_code,
            s.c.service_type,
            s.c.capacity,
            sa.func.coalesce(active.c.occupied, 0),
            sa.func.coalesce(active.c.rkeys, 0),
        )
        .select_from(
            s.join(o, o.c.id == s.c.organization_id).outerjoin(
                active, active.c.service_id == s.c.id
            )
        )
        .where(s.c.service_type.in_(RESIDENTIAL_SERVICES), s.c.is_active.is_(True))
        .order_by(o.c.region_code, o.c.code, s.c.service_type)
    )
    if organization_id is not None:
        stmt = stmt.where(s.c.organization_id == organization_id)
    return [ShelterRow(*row[:6], int(row[6]), int(row[7])) for row in db.session.execute(stmt)]


def occupancy_series(
    month_ends: Sequence[tuple[str, datetime]], organization_id: int | None
) -> dict[str, tuple[int, int]]:
    """Persons in residential care at each instant (e.g. month ends), one statement.

    The instants are a UNION ALL of literal rows (portable: SQLite has no column list
    for a VALUES alias), joined to the admissions open at that instant. Each value is
    (persons, the sum of their admissions' record keys: the cell key, ADR 0016).
    """
    if not month_ends:
        return {}
    a = Admission.__table__
    s = Service.__table__
    at_type = Admission.admitted_at.type
    instants = sa.union_all(
        *(
            sa.select(sa.literal(label).label("label"), sa.literal(at, at_type).label("at"))
            for label, at in month_ends
        )
    ).subquery("instants")
    conds = [
        a.c.admitted_at <= instants.c.at,
        sa.or_(a.c.discharged_at.is_(None), a.c.discharged_at > instants.c.at),
        s.c.service_type.in_(RESIDENTIAL_SERVICES),
    ]
    if organization_id is not None:
        conds.append(s.c.organization_id == organization_id)
    stmt = (
        sa.select(
            instants.c.label,
            sa.func.count(a.c.id),
            sa.func.sum(record_key_sql(a.c.id, "admission")),
        )
        .select_from(instants.outerjoin(a.join(s, s.c.id == a.c.service_id), sa.and_(*conds)))
        .group_by(instants.c.label)
    )
    return {label: (int(n), int(keys or 0)) for label, n, keys in db.session.execute(stmt)}
