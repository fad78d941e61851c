"""Report endpoints of /api/v1 (api.md §8, reports.md): aggregates only, suppressed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, request
from flask_login import current_user

from caseapp.core import openapi
from caseapp.core.api import api
from caseapp.core.security import Permission, requires
from caseapp.extensions import db
from caseapp.reports import estimates, estimation, exports, services
from caseapp.reports.queries import GAP_DIMENSIONS, REFERRAL_DIMENSIONS, VICTIM_DIMENSIONS


def respond(doc: dict[str, Any], kind: str, fmt: str, basename: str) -> Response:
    """JSON inline, or a CSV/XLSX download of the same (already suppressed) document."""
    if fmt == "json":
        return jsonify(doc)
    return exports.file_response(doc, kind, fmt, basename)


def _run(
    spec: services.ParamSpec,
    build: Callable[[Any, services.ReportParams], dict[str, Any]],
    kind: str,
    basename: str,
) -> Response:
    params = services.parse_params(request.args, spec)
    doc = build(current_user, params)
    db.session.commit()  # the report.read audit event
    return respond(doc, kind, params.fmt, basename)


@api.get("/reports/victims")
@requires(Permission.REPORTS_VIEW)
def report_victims() -> Any:
    return _run(services.VICTIMS, services.victims_report, "victims", "ruta-victimas")


@api.get("/reports/overlap")
@requires(Permission.REPORTS_VIEW)
def report_overlap() -> Any:
    return _run(services.OVERLAP, services.overlap_report, "overlap", "ruta-coincidencias")


@api.get("/reports/referrals")
@requires(Permission.REPORTS_VIEW)
def report_referrals() -> Any:
    return _run(services.REFERRALS, services.referrals_report, "referrals", "ruta-derivaciones")


@api.get("/reports/gaps")
@requires(Permission.REPORTS_VIEW)
def report_gaps() -> Any:
    return _run(services.GAPS, services.gaps_report, "gaps", "ruta-brechas")


@api.get("/reports/occupancy")
@requires(Permission.REPORTS_VIEW)
def report_occupancy() -> Any:
    return _run(services.OCCUPANCY, services.occupancy_report, "occupancy", "ruta-ocupacion")


@api.get("/reports/estimate")
@requires(Permission.REPORTS_VIEW)
def report_estimate() -> Any:
    doc = estimates.estimate_report(current_user, estimates.parse_params(request.args))
    db.session.commit()  # the report.read audit event
    return jsonify(doc)


@api.get("/reports/export/<layout>")
@requires(Permission.REPORTS_VIEW)
def report_export(layout: str) -> Any:
    params = services.parse_params(request.args, services.LAYOUT)
    doc = services.export_layout(current_user, layout, params)
    db.session.commit()
    return respond(doc, "layout", params.fmt, f"ruta-{layout}")


# -- OpenAPI -------------------------------------------------------------------------------------


def _query(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": schema or {"type": "string"},
    }


_PERIOD = [
    _query(
        "from",
        "First Lima date of the period (YYYY-MM-DD), inclusive",
        format="date",
        type="string",
    ),
    _query(
        "to", "Last Lima date of the period (YYYY-MM-DD), inclusive", format="date", type="string"
    ),
    _query(
        "format",
        "json (default), csv (UTF-8 with BOM) or xlsx",
        type="string",
        enum=["json", "csv", "xlsx"],
    ),
]
_STATUS = _query(
    "status", "Comma list of indicated, possible, not_indicated (default indicated,possible)"
)
_COUNT = {
    "type": "object",
    "required": ["count", "suppressed"],
    "properties": {
        "count": {"type": ["integer", "null"]},
        "suppressed": {"type": "boolean"},
        "suppression": {
            "type": "string",
            "enum": ["primary", "complementary"],
            "description": "only on a suppressed count: primary (from 1 to k-1) or "
            "complementary (hidden so that another suppressed count cannot be deduced)",
        },
    },
}
openapi.register_schema("PublishedCount", _COUNT)
openapi.register_schema(
    "VictimsReport",
    {
        "type": "object",
        "required": [
            "unit",
            "threshold",
            "dimensions",
            "rows",
            "total",
            "generated_at",
            "rule_version",
        ],
        "properties": {
            "unit": {"type": "string", "enum": ["persons", "screenings"]},
            "threshold": {"type": "integer"},
            "dimensions": {"type": "array", "items": {"type": "string"}},
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "one key per dimension, plus count (null when "
                    "suppressed), suppressed and, when suppressed, suppression "
                    "(primary or complementary)",
                    "additionalProperties": True,
                },
            },
            "total": {"$ref": "#/components/schemas/PublishedCount"},
            "generated_at": {"type": "string", "format": "date-time"},
            "rule_version": {"type": "string"},
            "perturbation": {
                "type": "object",
                "description": "cell-key perturbation of published counts (ADR 0016): "
                "method, max_noise, additive (false: rows need not sum to the total), note",
            },
            "multi_valued": {"type": "array", "items": {"type": "string"}},
            "filters": {"type": "object"},
            "labels": {"type": "object"},
        },
    },
)
_FILES = {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary"}
    },
}


def _ok(description: str, schema: str | None = None) -> dict[str, Any]:
    json_schema = {"$ref": f"#/components/schemas/{schema}"} if schema else {"type": "object"}
    return {
        "description": description,
        "content": {"application/json": {"schema": json_schema}, **_FILES},
    }


openapi.register(
    "/reports/victims",
    "get",
    {
        "summary": "Victims (persons or screenings) by up to four dimensions, suppressed",
        "parameters": [
            _query("by", "Comma list of up to 4 dimensions: " + ", ".join(VICTIM_DIMENSIONS)),
            _query(
                "unit",
                "persons (default, unduplicated) or screenings",
                type="string",
                enum=["persons", "screenings"],
            ),
            _STATUS,
            *_PERIOD,
        ],
        "responses": {
            "200": _ok("Suppressed table (reports.md §4)", "VictimsReport"),
            **openapi.error_responses(401, 403, 422),
        },
    },
)
openapi.register(
    "/reports/overlap",
    "get",
    {
        "summary": "Persons by combination of organization kinds that identified them",
        "parameters": [_STATUS, *_PERIOD],
        "responses": {
            "200": _ok("Overlap cells, suppressed"),
            **openapi.error_responses(401, 403, 422),
        },
    },
)
openapi.register(
    "/reports/referrals",
    "get",
    {
        "summary": "Referral outcomes, overdue mandatory referrals, hours to acceptance",
        "parameters": [
            _query(
                "by",
                "Comma list of up to 3 of "
                + ", ".join(REFERRAL_DIMENSIONS)
                + " (default service_type,status)",
            ),
            *_PERIOD,
        ],
        "responses": {
            "200": _ok("Referral table, suppressed"),
            **openapi.error_responses(401, 403, 422),
        },
    },
)
openapi.register(
    "/reports/gaps",
    "get",
    {
        "summary": "Unmet need: gap records by gap, region, profile or service",
        "parameters": [
            _query(
                "by",
                "Comma list of up to 3 of " + ", ".join(GAP_DIMENSIONS) + " (default gap,region)",
            ),
            *_PERIOD,
        ],
        "responses": {
            "200": _ok("Gap table, suppressed"),
            **openapi.error_responses(401, 403, 422),
        },
    },
)
openapi.register(
    "/reports/occupancy",
    "get",
    {
        "summary": "Residential services: capacity and occupied places, by provider and region",
        "parameters": list(_PERIOD),
        "responses": {
            "200": _ok("Occupancy, small occupied counts suppressed"),
            **openapi.error_responses(401, 403, 422),
        },
    },
)
openapi.register(
    "/reports/export/{layout}",
    "get",
    {
        "summary": "Export layouts: unodc_glotip, inei, ctdc (ctdc: statisticians only, "
        "whole calendar years: from a 1 January, to a 31 December)",
        "parameters": [openapi.path_param("layout"), _STATUS, *_PERIOD],
        "responses": {
            "200": _ok("The layout's tables, or CTDC rows (k-anonymous)"),
            **openapi.error_responses(401, 403, 404, 422),
        },
    },
)
_ESTIMATE = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "string", "enum": ["estimated", "refused"]},
        "observed": {"type": "integer", "description": "rounded to 10"},
        "estimate": {"type": "integer", "description": "observed + unseen, rounded to 10"},
        "unseen": {"type": "integer", "description": "rounded to 10"},
        "ci_low": {"type": "integer", "description": "95 % interval, rounded down to 10"},
        "ci_high": {"type": "integer", "description": "95 % interval, rounded up to 10"},
        "model": {"type": "object"},
        "bic_model": {"type": "object"},
        "refused": {
            "type": "object",
            "required": ["code", "message", "message_es"],
            "properties": {
                "code": {
                    "type": "string",
                    "enum": sorted(estimation.REASONS),
                },
                "message": {"type": "string"},
                "message_es": {"type": "string"},
            },
        },
    },
    "additionalProperties": True,
}
openapi.register_schema("Estimate", _ESTIMATE)
openapi.register_schema(
    "EstimateReport",
    {
        "type": "object",
        "required": ["report", "method", "criterion", "lists", "overall", "strata", "threshold"],
        "properties": {
            "report": {"type": "string", "enum": ["estimate"]},
            "method": {"type": "string"},
            "criterion": {"type": "string", "enum": ["aic", "bic"]},
            "lists": {"type": "array", "items": {"type": "string"}},
            "merged": {"type": "array", "items": {"type": "string"}},
            "dimension": {"type": ["string", "null"]},
            "overall": {"$ref": "#/components/schemas/Estimate"},
            "strata": {"type": "array", "items": {"$ref": "#/components/schemas/Estimate"}},
            "rounding": {"type": "integer"},
            "interval": {"type": "object"},
            "assumptions": {"type": "array", "items": {"type": "object"}},
            "threshold": {"type": "integer"},
        },
        "additionalProperties": True,
    },
)
openapi.register(
    "/reports/estimate",
    "get",
    {
        "summary": "Multiple systems estimate of the persons no organization kind identified "
        "(rounded to 10; docs/estimation.md)",
        "parameters": [
            _query(
                "lists",
                "Comma list of 3 to 8 organization kinds used as lists (default: every kind "
                "that identified someone; beyond 6, the smallest are merged into one list)",
            ),
            _query(
                "by",
                "Optional stratum: sex, age_group or exploitation_form",
                type="string",
                enum=["sex", "age_group", "exploitation_form"],
            ),
            _STATUS,
            _PERIOD[0],
            _PERIOD[1],
        ],
        "responses": {
            "200": {
                "description": "Estimate (overall and per stratum) or the reason it is refused",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/EstimateReport"}}
                },
            },
            **openapi.error_responses(401, 403, 422),
        },
    },
)
