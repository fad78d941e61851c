"""Report services: validate parameters, scope to the actor, count, suppress, audit.

Every function takes an explicit `actor` and returns a JSON-ready document. Scope
(reports.md §4, api.md §2): statisticians (`reports.all_orgs`) read every organization;
every other role reads only its own organization's screenings, referrals, gaps and
shelters. Every call writes one `report.read` audit event with the parameters (never
a count below the threshold, never personal data) and never commits.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

from flask import current_app

from caseapp.audit import services as audit
from caseapp.core import codes
from caseapp.core.contract import parse, query_args
from caseapp.core.db import utcnow
from caseapp.core.errors import Forbidden, NotFound, ValidationFailed
from caseapp.core.security import Permission, has_permission
from caseapp.reports import contract, layouts, queries, recordkeys
from caseapp.reports.contract import (
    DEFAULT_STATUSES as DEFAULT_STATUSES,  # the pages' default filter
)
from caseapp.reports.contract import (
    GapsQuery,
    LayoutQuery,
    OccupancyQuery,
    OverlapQuery,
    ReferralsQuery,
    ReportQuery,
    VictimsQuery,
)
from caseapp.reports.queries import LIMA, FactFilter
from caseapp.stats import disclosure

LAYOUTS = ("unodc_glotip", "inei", "ctdc")
PERSON_LEVEL_LAYOUTS = frozenset({"ctdc"})
MAX_SERIES_MONTHS = 36


class Actor(audit.Actor, Protocol):
    """Who asks for a report: an audit actor with a role (scope and suppression)."""

    @property
    def role(self) -> str: ...


# -- parameters -------------------------------------------------------------------------------


#: Validated query parameters, as every report reads them (``reports.contract``).
ReportParams = contract.ReportParams
#: The parameters of each report: the query model that validates and documents them.
ParamSpec = type[ReportQuery]
VICTIMS = VictimsQuery
OVERLAP = OverlapQuery
REFERRALS = ReferralsQuery
GAPS = GapsQuery
OCCUPANCY = OccupancyQuery
LAYOUT = LayoutQuery


def parse_params(args: Mapping[str, str], spec: ParamSpec) -> ReportQuery:
    """Validate `args` against `spec`: 422 naming every bad or unknown parameter."""
    return parse(spec, query_args(args))


# -- scope, threshold, audit ------------------------------------------------------------------


def all_organizations(actor: Actor) -> bool:
    return has_permission(actor.role, Permission.REPORTS_ALL_ORGS)


def scope_of(actor: Actor) -> int | None:
    """`None` (every organization) for statisticians; otherwise the actor's organization."""
    if all_organizations(actor):
        return None
    if actor.organization_id is None:
        raise Forbidden("Reports need an organization")
    return actor.organization_id


def threshold() -> int:
    return int(current_app.config.get("SUPPRESSION_THRESHOLD", 10))


def _fact_filter(actor: Actor, params: ReportParams) -> FactFilter:
    return FactFilter(params.date_from, params.date_to, params.statuses, scope_of(actor))


def _audit(actor: Actor, report: str, params: ReportParams, **details: Any) -> None:
    audit.record(
        actor,
        "report.read",
        object_type="report",
        object_id=report,
        details={
            "report": report,
            "scope": "all" if all_organizations(actor) else "organization",
            "unit": params.unit,
            "by": list(params.dimensions),
            "format": params.fmt,
            "threshold": threshold(),
            **params.filters(),
            **details,
        },
    )


def _now_iso() -> str:
    return utcnow().isoformat(timespec="seconds")


def _envelope(actor: Actor, params: ReportParams, k: int) -> dict[str, Any]:
    return {
        "threshold": k,
        "scope": "all" if all_organizations(actor) else "organization",
        "filters": params.filters(),
        "generated_at": _now_iso(),
        "rule_version": disclosure.RULE_VERSION,
        "perturbation": layouts.perturbation_doc(),
    }


def _noisy(count: int, k: int, key: int) -> dict[str, object]:
    """A stand-alone published count: suppressed, then perturbed by its cell key."""
    published = disclosure.publish_count(count, k, key=key, max_noise=recordkeys.max_noise())
    return published.as_dict()


def _perturbation(keys: Mapping[disclosure.Key, int], total_key: int) -> disclosure.Perturbation:
    return disclosure.Perturbation(recordkeys.max_noise(), keys, total_key)


# -- victims ----------------------------------------------------------------------------------


def victims_report(actor: Actor, params: ReportParams) -> dict[str, Any]:
    """reports.md §1–2, §4: persons or screenings by up to four dimensions, suppressed."""
    k = threshold()
    counts = queries.victim_counts(params.unit, params.dimensions, _fact_filter(actor, params))
    multi = any(d in queries.MULTI_VALUED for d in params.dimensions)
    if params.dimensions:
        table = layouts.table_doc(
            layouts.VICTIM_DIMS, params.dimensions, counts, k, multi_valued=multi
        )
    else:
        table = {
            "rows": [],
            "total": _noisy(counts.total, k, counts.total_key),
            "multi_valued": [],
        }
    doc = {
        "unit": params.unit,
        "threshold": k,
        "dimensions": list(params.dimensions),
        "rows": table["rows"],
        "total": table["total"],
        "generated_at": _now_iso(),
        "rule_version": disclosure.RULE_VERSION,
        "multi_valued": table["multi_valued"],
        "perturbation": layouts.perturbation_doc(),
        "filters": params.filters(),
        "scope": "all" if all_organizations(actor) else "organization",
        "labels": layouts.labels_doc(layouts.VICTIM_DIMS, params.dimensions, table["rows"]),
    }
    _audit(actor, "victims", params, rows=len(doc["rows"]))
    return doc


# -- overlap ----------------------------------------------------------------------------------


def overlap_report(actor: Actor, params: ReportParams) -> dict[str, Any]:
    """reports.md §3: persons by the combination of organization kinds that identified them.

    The cells partition the persons, so they sum to `total_persons`: one additive group,
    suppressed like any table.
    """
    k = threshold()
    result = queries.overlap_counts(_fact_filter(actor, params))
    order = list(codes.get("org_kind").codes)

    def ordered(kinds: frozenset[str]) -> list[str]:
        return sorted(kinds, key=lambda kind: order.index(kind) if kind in order else len(order))

    cells: dict[disclosure.Key, int] = {
        ("+".join(ordered(kinds)),): n for kinds, n in result.persons_by_kinds.items()
    }
    keys: dict[disclosure.Key, int] = {
        ("+".join(ordered(kinds)),): n for kinds, n in result.keys_by_kinds.items()
    }
    table = disclosure.suppress_table(
        ["combination"],
        cells,
        result.total_persons,
        k,
        perturbation=_perturbation(keys, result.persons_key),
    )
    sources = [kind for kind in order if any(kind in c for c in result.persons_by_kinds)]
    published = sorted(
        table.cells,
        key=lambda c: (
            len(str(c.key[0]).split("+")),
            [order.index(x) for x in str(c.key[0]).split("+")],
        ),
    )
    screenings = disclosure.publish_count(
        result.total_screenings,
        k,
        key=result.screenings_key,
        max_noise=recordkeys.max_noise(),
    )
    doc = {
        "sources": sources,
        "cells": [
            {
                "combination": str(c.key[0]).split("+"),
                "persons": c.count,
                **disclosure.marks(c.suppressed, c.suppression),
            }
            for c in published
        ],
        "total_persons": table.total.count,
        "total_screenings": screenings.count,
        "totals": {"persons": table.total.as_dict(), "screenings": screenings.as_dict()},
        "labels": {
            kind: {
                "es": codes.get("org_kind").label(kind, "es"),
                "en": codes.get("org_kind").label(kind, "en"),
            }
            for kind in sources
        },
        **_envelope(actor, params, k),
    }
    _audit(actor, "overlap", params, rows=len(doc["cells"]))
    return doc


# -- referrals and gaps -----------------------------------------------------------------------


def _median_hours(values: Sequence[float], k: int) -> float | None:
    """A median is published only when at least k values stand behind it."""
    if len(values) < k:
        return None
    return round(statistics.median(values), 1)


def referrals_report(
    actor: Actor, params: ReportParams, now: datetime | None = None
) -> dict[str, Any]:
    """reports.md §6: referral outcomes by the chosen dimensions, overdue mandatory ones,
    median hours to acceptance and decline reasons (each table suppressed on its own)."""
    k = threshold()
    now = now or utcnow()
    dims = params.dimensions
    org = scope_of(actor)
    result = queries.referral_counts(dims, params.date_from, params.date_to, org, now)
    table = layouts.table_doc(layouts.REFERRAL_DIMS, dims, result.counts, k)
    overdue = layouts.table_doc(layouts.REFERRAL_DIMS, dims, result.overdue, k)
    late = {tuple(r[d] for d in dims): r for r in overdue["rows"]}
    for row in table["rows"]:
        key = tuple(row[d] for d in dims)
        late_row = late.get(key, {"count": 0, "suppressed": False})
        row["overdue"] = {
            "count": late_row["count"],
            **disclosure.marks(late_row["suppressed"], late_row.get("suppression")),
        }
        median = None if row["suppressed"] else _median_hours(result.hours.get(key, []), k)
        row["median_hours_to_acceptance"] = median
    all_hours = [h for values in result.hours.values() for h in values]
    declines = layouts.table_doc(layouts.OTHER_DIMS, ["decline_reason"], result.declines, k)
    doc = {
        "report": "referrals",
        "unit": "referrals",
        "dimensions": list(dims),
        "rows": table["rows"],
        "total": table["total"],
        "overdue_total": overdue["total"],
        "median_hours_to_acceptance": _median_hours(all_hours, k),
        "decline_reasons": {"rows": declines["rows"], "total": declines["total"]},
        "labels": {
            **layouts.labels_doc(layouts.REFERRAL_DIMS, dims, table["rows"]),
            **layouts.labels_doc(layouts.OTHER_DIMS, ["decline_reason"], declines["rows"]),
        },
        **_envelope(actor, params, k),
    }
    doc["filters"].pop("status")
    _audit(actor, "referrals", params, rows=len(doc["rows"]))
    return doc


def gaps_report(actor: Actor, params: ReportParams) -> dict[str, Any]:
    """reports.md §6: unmet need (gap records) by gap, region, profile, service."""
    k = threshold()
    counts = queries.gap_counts(
        params.dimensions, params.date_from, params.date_to, scope_of(actor)
    )
    table = layouts.table_doc(layouts.GAP_DIMS, params.dimensions, counts, k)
    doc = {
        "report": "gaps",
        "unit": "gap_records",
        "dimensions": list(params.dimensions),
        "rows": table["rows"],
        "total": table["total"],
        "labels": layouts.labels_doc(layouts.GAP_DIMS, params.dimensions, table["rows"]),
        **_envelope(actor, params, k),
    }
    doc["filters"].pop("status")
    _audit(actor, "gaps", params, rows=len(doc["rows"]))
    return doc


# -- shelter occupancy ------------------------------------------------------------------------


def _month_ends(
    date_from: date | None, date_to: date | None, now: datetime
) -> list[tuple[str, datetime]]:
    today = now.astimezone(LIMA).date()
    end = min(date_to or today, today)
    if date_from is None:  # default: the twelve months up to `end`
        back = end.year * 12 + end.month - 1 - 11
        date_from = date(back // 12, back % 12 + 1, 1)
    start = date(date_from.year, date_from.month, 1)
    out: list[tuple[str, datetime]] = []
    month = start
    while month <= end and len(out) < MAX_SERIES_MONTHS:
        following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        instant = min(queries.lima_start(following), now.astimezone(UTC))
        out.append((f"{month.year:04d}-{month.month:02d}", instant))
        month = following
    return out


def occupancy_report(
    actor: Actor, params: ReportParams, now: datetime | None = None
) -> dict[str, Any]:
    """reports.md §6: capacity and occupied places by provider and region, and occupancy
    at each month end of the period.

    Capacity is public (the directory shows it). Occupancy counts people: a small shelter
    with 3 residents could identify them, so occupied counts follow the same rule as any
    count (1..k-1 hidden, complements within each region), and no "free places" column is
    shown, since capacity minus free would give the hidden number back.
    """
    k = threshold()
    now = now or utcnow()
    org = scope_of(actor)
    shelters = queries.shelter_occupancy(org)
    cells: dict[disclosure.Key, int] = {(s.region, str(s.service_id)): s.occupied for s in shelters}
    keys = {(s.region, str(s.service_id)): s.occupied_key for s in shelters}
    table = disclosure.suppress_table(
        ["region", "provider"],
        cells,
        sum(cells.values()),
        k,
        perturbation=_perturbation(keys, sum(keys.values())),
    )
    published = {c.key: c for c in table.cells}
    by_region: dict[str, int] = {}
    region_keys: dict[str, int] = {}
    for s in shelters:
        by_region[s.region] = by_region.get(s.region, 0) + s.occupied
        region_keys[s.region] = region_keys.get(s.region, 0) + s.occupied_key
    region_dim = layouts.VICTIM_DIMS["region"]
    rows = []
    for s in shelters:
        cell = published[(s.region, str(s.service_id))]
        rows.append(
            {
                "region": s.region,
                "provider": s.organization_code,
                "provider_name": s.organization_name,
                "service_type": s.service_type,
                "capacity": s.capacity,
                "occupied": cell.count,
                **disclosure.marks(cell.suppressed, cell.suppression),
            }
        )
    rows.sort(key=lambda r: (region_dim.order(r["region"]), r["provider"], r["service_type"]))
    regions = [
        {
            "region": region,
            **_noisy(n, k, region_keys[region]),
            "capacity": sum(s.capacity or 0 for s in shelters if s.region == region),
        }
        for region, n in sorted(by_region.items(), key=lambda item: region_dim.order(item[0]))
    ]
    series_counts = queries.occupancy_series(
        _month_ends(params.date_from, params.date_to, now), org
    )
    series = [
        {"month": month, **_noisy(n, k, key)} for month, (n, key) in sorted(series_counts.items())
    ]
    doc = {
        "report": "occupancy",
        "unit": "persons_in_residential_care",
        "rows": rows,
        "regions": regions,
        "total": table.total.as_dict(),
        "capacity_total": sum(s.capacity or 0 for s in shelters),
        "series": series,
        "labels": {
            "region": {
                r: {"es": region_dim.code_label(r, "es"), "en": region_dim.code_label(r, "en")}
                for r in by_region
            },
        },
        **_envelope(actor, params, k),
    }
    doc["filters"].pop("status")
    _audit(actor, "occupancy", params, rows=len(rows))
    return doc


# -- export layouts ---------------------------------------------------------------------------


def _check_whole_years(params: ReportParams) -> None:
    """Person-level rows carry no noise, so two releases must never differ by a few
    persons: the period is whole calendar years (`from` a 1 January, `to` a 31 December;
    yearOfRegistration, a quasi-identifier, already tells the years apart). ADR 0016."""
    errors: dict[str, list[str]] = {}
    if params.date_from and (params.date_from.month, params.date_from.day) != (1, 1):
        errors["from"] = ["the CTDC layout covers whole calendar years: use a 1 January"]
    if params.date_to and (params.date_to.month, params.date_to.day) != (12, 31):
        errors["to"] = ["the CTDC layout covers whole calendar years: use a 31 December"]
    if errors:
        raise ValidationFailed(errors)


def may_export(actor: Actor, layout: str) -> bool:
    """Person-level layouts (ctdc), even anonymized, are for statisticians only."""
    return layout not in PERSON_LEVEL_LAYOUTS or all_organizations(actor)


def export_layout(actor: Actor, layout: str, params: ReportParams) -> dict[str, Any]:
    """reports.md §5 layouts; `ctdc` (one row per person) only for statisticians."""
    if layout not in LAYOUTS:
        raise NotFound(f"Unknown layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    if not may_export(actor, layout):
        raise Forbidden("The person-level CTDC layout is for statisticians only")
    if layout in PERSON_LEVEL_LAYOUTS:
        _check_whole_years(params)
    k = threshold()
    flt = _fact_filter(actor, params)
    builder = {"unodc_glotip": layouts.unodc_glotip, "inei": layouts.inei, "ctdc": layouts.ctdc}[
        layout
    ]
    doc = builder(flt, k)
    doc.update({key: value for key, value in _envelope(actor, params, k).items() if key not in doc})
    if layout in PERSON_LEVEL_LAYOUTS:  # rows are not perturbed: periods are whole years
        doc["perturbation"] = {"method": "whole_calendar_years", "max_noise": 0}
    _audit(
        actor,
        f"export.{layout}",
        params,
        layout=layout,
        rows=len(doc["rows"]) if "rows" in doc else sum(len(t["rows"]) for t in doc["tables"]),
    )
    return doc
