"""Linkage quality for statisticians: the page ``/reports/linkage`` and its JSON twin
``GET /api/v1/reports/linkage`` (docs/linkage.md, "The quality page").

What it shows is the model the unduplicated counts rest on (facts/model.py): its version
and date, m and u of every comparison level, the threshold, the histogram of the match
weights of the compared pairs and how many persons rest on pairs near the threshold —
the figures of the last full relink (``facts.services.relink_all``). They describe the
linkage over every organization, so only roles that read every organization
(``reports.all_orgs``: statisticians) see them. Nothing here is about a person: no
encoding, no frequency-table entry, no dimension a cell could isolate anyone by, so no
suppression applies (reports.md §4 is about tables of persons by attributes).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import Field

from caseapp.audit import services as audit
from caseapp.core.contract import Query, Shape
from caseapp.core.errors import Forbidden
from caseapp.facts import services as facts
from caseapp.reports import services

#: Readable names of the fields and levels of facts/model.py ``LEVELS`` (the API keeps
#: the codes; the page shows these).
FIELD_LABELS = {
    "given": _l("Nombres"),
    "family": _l("Apellidos"),
    "dob": _l("Fecha de nacimiento"),
    "sex": _l("Sexo"),
    "doc": _l("Documento"),
}
_NAME_LEVELS = {
    "exact": _l("Iguales"),
    "dice_0.90": _l("Casi iguales (similitud de Dice ≥ 0,90)"),
    "contained": _l("Uno contiene al otro (una parte de más o de menos)"),
    "dice_0.75": _l("Parecidos (similitud de Dice ≥ 0,75)"),
    "dice_0.60": _l("Algo parecidos (similitud de Dice ≥ 0,60)"),
    "different": _l("Distintos"),
}
LEVEL_LABELS: dict[str, dict[str, Any]] = {
    "given": _NAME_LEVELS,
    "family": _NAME_LEVELS,
    "dob": {
        "exact": _l("La misma fecha"),
        "day_month_swap": _l("Día y mes intercambiados"),
        "one_edit": _l("Un dígito distinto"),
        "year_1": _l("Otra fecha, año a ±1"),
        "age_only_year_1": _l("Solo la edad: año de nacimiento a ±1"),
        "different": _l("Distintas"),
    },
    "sex": {"agree": _l("Coincide"), "disagree": _l("No coincide")},
    "doc": {
        "exact": _l("El mismo número"),
        "one_edit": _l("Un carácter distinto"),
        "different": _l("Distintos"),
    },
}


class LinkageQuery(Query):
    """``GET /api/v1/reports/linkage`` takes no parameters (an unknown one is a 422)."""


class LinkageReport(Shape):
    report: str = Field(json_schema_extra={"enum": ["linkage"]})
    model: dict[str, Any] = Field(
        description="stored (false: no relink yet, default parameters), estimated (false: "
        "fewer records than min_records, default parameters), version, estimated_at, "
        "records, pairs, match_share, term_frequency, min_records"
    )
    threshold: dict[str, Any] = Field(
        description="in_use (bits: the match weight new screenings and the last relink "
        "linked at), match_probability (LINKAGE_MATCH_PROBABILITY) and floor "
        "(LINKAGE_THRESHOLD, bits) of the configuration, which the next full relink "
        "applies; near (bits either side of in_use)"
    )
    fields: list[dict[str, Any]] = Field(
        description="per field (given, family, dob, sex, doc) its levels: level, m, u, "
        "weight = log2(m/u)"
    )
    histogram: list[dict[str, Any]] = Field(
        description="compared pairs by match weight: from (inclusive), to (exclusive), "
        "pairs; the first and last bins also hold the weights beyond them"
    )
    persons: dict[str, Any] = Field(
        description="total, linked (with two or more records), near_above (linked by a "
        "pair less than `near` bits above the threshold), near_below (with a pair less "
        "than `near` bits below it, not linked by it)"
    )
    generated_at: str = Field(json_schema_extra={"format": "date-time"})


def linkage_report(actor: services.Actor) -> dict[str, Any]:
    """The quality document of the model in use; audited as a ``report.read``."""
    if not services.all_organizations(actor):
        raise Forbidden("Linkage quality is for roles that read every organization")
    summary = facts.model_summary()
    quality = summary["quality"]
    doc = {
        "report": "linkage",
        "model": {
            key: summary[key]
            for key in (
                "stored",
                "estimated",
                "version",
                "records",
                "pairs",
                "match_share",
                "term_frequency",
                "min_records",
            )
        }
        | {
            "estimated_at": summary["estimated_at"].isoformat(timespec="seconds")
            if summary["estimated_at"] is not None
            else None
        },
        "threshold": {
            "in_use": summary["threshold"],
            "match_probability": summary["match_probability"],
            "floor": summary["threshold_floor"],
            "near": quality.get("near_threshold", summary["near_threshold"]),
        },
        "fields": summary["fields"],
        "histogram": list(quality.get("histogram", [])),
        "persons": {
            "total": quality.get("persons"),
            "linked": quality.get("linked_persons"),
            "near_above": quality.get("persons_near_above"),
            "near_below": quality.get("persons_near_below"),
        },
        "generated_at": services._now_iso(),
    }
    audit.record(
        actor,
        "report.read",
        object_type="report",
        object_id="linkage",
        details={"report": "linkage", "scope": "all", "model_version": summary["version"]},
    )
    return doc
