"""Multiple systems estimate from Ruta's own data (`GET /api/v1/reports/estimate`, the
section of the overlap page): persons no organization kind has identified.

The organization kinds are the lists; the unduplicated persons of the period, counted by
the combination of kinds that identified them (the overlap report's table), are the
list-overlap table; `estimation.py` does the statistics. This module validates the
parameters, scopes to the actor, counts in SQL, decides what may be published and
audits (services.py conventions: explicit actor, one `report.read` event, no commit).

Disclosure (docs/estimation.md §Disclosure). Internal counts never leave the server:

- Every published number is rounded to 10 (`ROUND_TO`), the interval outwards.
- The observed persons of a published estimate are always a number already published
  elsewhere, so no list or stratum choice reveals a new count by subtraction:
  without `by=` they are the overlap report's total minus the overlap cells no chosen list
  covers, and every one of those cells must be published (not suppressed) there; with
  `by=` a stratum is estimated only when the victims report by that dimension publishes
  its persons and every person of the stratum was seen by a chosen list.
- Fewer than k observed persons (`CASEAPP_SUPPRESSION_THRESHOLD`) are never estimated.
- Fit statistics that are functions of the exact cell counts (deviance, AIC, BIC) are not
  published; the model's terms and degrees of freedom are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql

from caseapp.core import codes
from caseapp.core.contract import parse, query_args
from caseapp.extensions import db
from caseapp.reports import layouts, queries, services
from caseapp.reports.contract import ESTIMATE_DIMENSIONS, EstimateQuery
from caseapp.reports.queries import FactFilter
from caseapp.stats import disclosure, estimation

DIMENSIONS = ESTIMATE_DIMENSIONS
#: With more kinds than this identifying persons, the default keeps the largest
#: `DEFAULT_LISTS - 1` and merges the rest into one list (nobody is left out).
DEFAULT_LISTS = 6
MERGED = "merged"
ROUND_TO = 10
MAX_STRATA = 40

ASSUMPTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "closed_population",
        "Población cerrada en el periodo: nadie entra ni sale de la población de víctimas "
        "entre la primera y la última identificación. Se rompe con periodos largos, "
        "migración o nuevas captaciones; use periodos cortos (un año o menos).",
        "Closed population over the period: nobody enters or leaves the victim population "
        "between the first and the last identification. Broken by long periods, migration "
        "or new recruitment; use short periods (a year or less).",
    ),
    (
        "correct_linkage",
        "Vinculación correcta: la misma persona vista por dos instituciones se reconoce como "
        "una sola, y dos personas distintas no se confunden. Los duplicados no detectados "
        "inflan la estimación; las fusiones erróneas la reducen.",
        "Correct linkage: the same person seen by two institutions is recognised as one, and "
        "two different persons are not merged. Undetected duplicates inflate the estimate; "
        "wrong merges deflate it.",
    ),
    (
        "independence",
        "Listas independientes más allá de las interacciones modeladas: que una institución "
        "vea a una persona no cambia la probabilidad de que otra la vea, salvo las "
        "dependencias entre pares que el modelo incluye. Se rompe con derivaciones entre "
        "instituciones no modeladas o con víctimas que ninguna institución puede ver "
        "(heterogeneidad): entonces la estimación es un mínimo.",
        "Lists independent beyond the modelled interactions: being seen by one institution "
        "does not change the chance of being seen by another, except for the pairwise "
        "dependences in the model. Broken by unmodelled referrals between institutions or "
        "by victims no institution can reach (heterogeneity): the estimate is then a floor.",
    ),
)


@dataclass(frozen=True, slots=True)
class EstimateParams:
    report: EstimateQuery
    lists: tuple[str, ...] | None
    by: str | None


def _codes(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def parse_params(args: Mapping[str, str]) -> EstimateParams:
    """Validate `from`, `to`, `status`, `lists`, `by` (``reports.contract.EstimateQuery``):
    422 naming every bad parameter."""
    query = parse(EstimateQuery, query_args(args))
    return EstimateParams(query, query.lists or None, query.by)


# -- counting ---------------------------------------------------------------------------------


def overlap_by_stratum(
    flt: FactFilter, dimension: str | None
) -> dict[str, dict[frozenset[str], int]]:
    """Persons by (stratum, set of organization kinds that identified them), in one
    grouped statement. The stratum is the person's attribute at their most recent
    screening in the period (reports.md §1, as in the victims report); without a
    dimension there is one stratum, ``""``."""
    facts = queries._facts
    kinds = codes.get("org_kind").codes
    bits = {kind: 1 << i for i, kind in enumerate(kinds)}
    other_bit = 1 << len(kinds)
    bit = sa.case(bits, value=facts.c.org_kind, else_=other_bit)
    per_person = (
        sa.select(facts.c.person_id, sa.func.sum(sa.distinct(bit)).label("mask"))
        .where(*queries._fact_conditions(flt))
        .group_by(facts.c.person_id)
        .subquery("per_person")
    )
    if dimension is None:
        stmt = sa.select(sa.literal(""), per_person.c.mask, sa.func.count()).group_by(
            per_person.c.mask
        )
    elif db.session.get_bind().dialect.name == "postgresql":
        # One scan and one sort: each person's latest selected screening (DISTINCT ON, the
        # victims report's ties) carries the OR of the bits of all their screenings
        # (a window over the whole person, in the same order: no second sort).
        later_first = (facts.c.identified_at.desc(), facts.c.screening_id.desc())
        column = facts.c[queries.FACT_COLUMNS[dimension]]
        latest = (
            sa.select(
                sa.func.coalesce(column, queries.UNKNOWN).label("stratum"),
                sa.func.bit_or(bit)
                .over(partition_by=facts.c.person_id, order_by=later_first, rows=(None, None))
                .label("mask"),
            )
            .where(*queries._fact_conditions(flt))
            .ext(postgresql.distinct_on(facts.c.person_id))
            .order_by(facts.c.person_id, *later_first)
            .subquery("latest")
        )
        stmt = sa.select(latest.c.stratum, latest.c.mask, sa.func.count()).group_by(
            latest.c.stratum, latest.c.mask
        )
    else:
        column = queries.FACT_COLUMNS[dimension]
        units = queries._units("persons", flt, [column])
        latest = (
            sa.select(
                facts.c.person_id,
                sa.func.coalesce(units.c[column], queries.UNKNOWN).label("stratum"),
            )
            .join(units, units.c.screening_id == facts.c.screening_id)
            .subquery("latest")
        )
        stmt = (
            sa.select(latest.c.stratum, per_person.c.mask, sa.func.count())
            .join(latest, latest.c.person_id == per_person.c.person_id)
            .group_by(latest.c.stratum, per_person.c.mask)
        )
    out: dict[str, dict[frozenset[str], int]] = {}
    queries.sort_in_memory()
    for stratum, mask, n in db.session.execute(stmt):
        mask = int(mask)
        combo = frozenset(k for k, b in bits.items() if mask & b)
        if mask & other_bit:
            combo = combo | {"other"}
        cells = out.setdefault(str(stratum), {})
        cells[combo] = cells.get(combo, 0) + int(n)
    return out


# -- lists ------------------------------------------------------------------------------------


def _sizes(cells: Mapping[frozenset[str], int]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for combo, n in cells.items():
        for kind in combo:
            sizes[kind] = sizes.get(kind, 0) + n
    return sizes


def choose_lists(
    cells: Mapping[frozenset[str], int], requested: tuple[str, ...] | None
) -> tuple[list[str], list[str]]:
    """(lists, kinds merged into the list `merged`). Default: every kind that identified
    someone, in code-list order; beyond `DEFAULT_LISTS` the smallest are merged."""
    if requested is not None:
        return list(requested), []
    order = list(codes.get("org_kind").codes)
    sizes = _sizes(cells)
    present = sorted(sizes, key=lambda k: order.index(k) if k in order else len(order))
    if len(present) <= DEFAULT_LISTS:
        return present, []
    ranked = sorted(present, key=lambda k: (-sizes[k], present.index(k)))
    keep = set(ranked[: DEFAULT_LISTS - 1])
    return [k for k in present if k in keep], [k for k in present if k not in keep]


def _as_lists(
    cells: Mapping[frozenset[str], int], lists: Sequence[str], merged: Sequence[str]
) -> list[tuple[set[str], int]]:
    names = set(lists)
    out = []
    for combo, n in cells.items():
        members = {k for k in combo if k in names}
        if merged and combo & set(merged):
            members.add(MERGED)
        out.append((members, n))
    return out


def _covered(combo: frozenset[str], lists: Sequence[str], merged: Sequence[str]) -> bool:
    return bool(combo & (set(lists) | set(merged)))


# -- publishing -------------------------------------------------------------------------------


def _round(value: float) -> int:
    return int(ROUND_TO * math.floor(value / ROUND_TO + 0.5))


def _published(result: estimation.Estimate | estimation.Refusal) -> dict[str, Any]:
    if isinstance(result, estimation.Refusal):
        return {"status": "refused", "refused": result.as_dict()}
    bic = result.models["bic"]
    return {
        "status": "estimated",
        "observed": _round(result.observed),
        "estimate": _round(result.estimate),
        "unseen": _round(result.unseen),
        "ci_low": int(ROUND_TO * math.floor(result.ci_low / ROUND_TO)),
        "ci_high": int(ROUND_TO * math.ceil(result.ci_high / ROUND_TO)),
        "model": {
            "interactions": result.chosen.term_names(result.lists),
            "df": result.chosen.df,
            "criterion": result.criterion,
        },
        "bic_model": {
            "interactions": bic.term_names(result.lists),
            # null when BIC's model extrapolates as far as a refused estimate would
            "estimate": _round(result.observed + bic.unseen)
            if bic.unseen <= estimation.MAX_UNSEEN_RATIO * result.observed
            else None,
        },
    }


def _withheld() -> dict[str, Any]:
    return {"status": "refused", "refused": estimation.Refusal("withheld").as_dict()}


def _config_int(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def _run(
    cells: Mapping[frozenset[str], int], lists: Sequence[str], merged: Sequence[str], k: int
) -> dict[str, Any]:
    names = [*lists, *([MERGED] if merged else [])]
    table = estimation.Table.from_cells(names, _as_lists(cells, lists, merged))
    if table.observed < k:  # never fitted: nothing about a small group is computed
        return _published(estimation.Refusal("too_few_persons", {"minimum": k}))
    result = estimation.estimate(
        table,
        min_persons=max(k, _config_int("MSE_MIN_PERSONS", 0)),
        reps=_config_int("MSE_BOOTSTRAP_REPS", 500),
        seed=_config_int("MSE_SEED", estimation.DEFAULT_SEED),
    )
    return _published(result)


def _overall_publishable(
    cells: Mapping[frozenset[str], int], lists: Sequence[str], merged: Sequence[str], k: int
) -> bool:
    """Without `by=`: the observed persons are the overlap report's total minus the cells
    no chosen list covers; all of those must be published there (not suppressed)."""
    uncovered = [c for c, n in cells.items() if n and not _covered(c, lists, merged)]
    if not uncovered:
        return True
    order = list(codes.get("org_kind").codes)

    def key(combo: frozenset[str]) -> str:
        return "+".join(sorted(combo, key=lambda x: order.index(x) if x in order else 99))

    keyed: dict[disclosure.Key, int] = {(key(c),): n for c, n in cells.items()}
    table = disclosure.suppress_table(["combination"], keyed, sum(cells.values()), k)
    hidden = {c.key[0] for c in table.cells if c.suppressed}
    return not table.total.suppressed and not any(key(c) in hidden for c in uncovered)


def _publishable_strata(
    dimension: str, strata: Mapping[str, Mapping[frozenset[str], int]], k: int
) -> set[str]:
    """Strata whose persons the victims report by `dimension` publishes (same counts,
    same suppression call)."""
    persons = {(s,): sum(c.values()) for s, c in strata.items()}
    # Which cells are hidden is decided on the true counts, before any cell-key noise
    # (disclosure.suppress_table), so the pattern needs no record keys.
    table = disclosure.suppress_table([dimension], persons, sum(persons.values()), k)
    return {str(c.key[0]) for c in table.cells if not c.suppressed}


def estimate_report(actor: services.Actor, params: EstimateParams) -> dict[str, Any]:
    """The estimate for the period (and per stratum with `by=`), publishable parts only."""
    k = services.threshold()
    flt = FactFilter(
        params.report.date_from,
        params.report.date_to,
        params.report.statuses,
        services.scope_of(actor),
    )
    strata = overlap_by_stratum(flt, params.by)
    total: dict[frozenset[str], int] = {}
    for cells in strata.values():
        for combo, n in cells.items():
            total[combo] = total.get(combo, 0) + n
    lists, merged = choose_lists(total, params.lists)

    overall = (
        _run(total, lists, merged, k)
        if _overall_publishable(total, lists, merged, k)
        else _withheld()
    )
    rows: list[dict[str, Any]] = []
    if params.by is not None:
        publishable = _publishable_strata(params.by, strata, k)
        dim = layouts.VICTIM_DIMS[params.by]
        for stratum in sorted(strata, key=dim.order)[:MAX_STRATA]:
            cells = strata[stratum]
            everyone_seen = all(_covered(c, lists, merged) for c, n in cells.items() if n)
            if sum(cells.values()) < k:
                row = _published(estimation.Refusal("too_few_persons", {"minimum": k}))
            elif stratum not in publishable or not everyone_seen:
                row = _withheld()
            else:
                row = _run(cells, lists, merged, k)
            rows.append({params.by: stratum, **row})

    kinds = codes.get("org_kind")
    labels: dict[str, dict[str, str]] = {
        kind: {"es": kinds.label(kind, "es"), "en": kinds.label(kind, "en")} for kind in lists
    }
    if merged:
        labels[MERGED] = {
            "es": "Otras fuentes (agrupadas): " + ", ".join(kinds.label(m, "es") for m in merged),
            "en": "Other sources (merged): " + ", ".join(kinds.label(m, "en") for m in merged),
        }
    doc: dict[str, Any] = {
        "report": "estimate",
        "unit": "persons",
        "method": estimation.METHOD,
        "criterion": estimation.PUBLISHED_CRITERION,
        "lists": [*lists, *([MERGED] if merged else [])],
        "merged": merged,
        "dimension": params.by,
        "overall": overall,
        "strata": rows,
        "rounding": ROUND_TO,
        "interval": {
            "level": 0.95,
            "method": "parametric_bootstrap_percentile",
            "refit": "chosen_model",
            "reps": _config_int("MSE_BOOTSTRAP_REPS", 500),
            "seed": _config_int("MSE_SEED", estimation.DEFAULT_SEED),
        },
        "assumptions": [{"code": c, "es": es, "en": en} for c, es, en in ASSUMPTIONS],
        "labels": {
            "lists": labels,
            **(layouts.labels_doc(layouts.VICTIM_DIMS, [params.by], rows) if params.by else {}),
        },
        **services._envelope(actor, params.report, k),
    }
    services._audit(
        actor,
        "estimate",
        params.report,
        lists=doc["lists"],
        rows=len(rows),
    )
    return doc
