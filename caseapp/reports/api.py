"""Report endpoints of /api/v1 (api.md §8, reports.md): aggregates only, suppressed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, request
from flask_login import current_user

from caseapp.core import openapi
from caseapp.core.api import api
from caseapp.core.contract import parse, query_args
from caseapp.core.security import Permission, requires
from caseapp.reports import estimates, exports, linkage, services
from caseapp.reports.contract import EstimateQuery, EstimateReport, VictimsReport


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
    return jsonify(doc)


@api.get("/reports/linkage")
@requires(Permission.REPORTS_ALL_ORGS)
def report_linkage() -> Any:
    parse(linkage.LinkageQuery, query_args(request.args))
    return jsonify(linkage.linkage_report(current_user))


@api.get("/reports/export/<layout>")
@requires(Permission.REPORTS_VIEW)
def report_export(layout: str) -> Any:
    params = services.parse_params(request.args, services.LAYOUT)
    doc = services.export_layout(current_user, layout, params)
    return respond(doc, "layout", params.fmt, f"ruta-{layout}")


# -- OpenAPI (generated from the query models, ADR 0018) -----------------------------------

_FILES = {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary"}
    },
}


def _ok(description: str, model: type[Any] | None = None) -> openapi.Reply:
    content = dict(_FILES)
    if model is None:
        content = {"application/json": {"schema": {"type": "object"}}, **content}
    return openapi.Reply(description, model, content)


_ERRORS = (401, 403, 422)
for _path, _summary, _query, _reply in [
    (
        "/reports/victims",
        "Victims (persons or screenings) by up to four dimensions, suppressed",
        services.VICTIMS,
        _ok("Suppressed table (reports.md §4)", VictimsReport),
    ),
    (
        "/reports/overlap",
        "Persons by combination of organization kinds that identified them",
        services.OVERLAP,
        _ok("Overlap cells, suppressed"),
    ),
    (
        "/reports/referrals",
        "Referral outcomes, overdue mandatory referrals, hours to acceptance",
        services.REFERRALS,
        _ok("Referral table, suppressed"),
    ),
    (
        "/reports/gaps",
        "Unmet need: gap records by gap, region, profile or service",
        services.GAPS,
        _ok("Gap table, suppressed"),
    ),
    (
        "/reports/occupancy",
        "Residential services: capacity and occupied places, by provider and region",
        services.OCCUPANCY,
        _ok("Occupancy, small occupied counts suppressed"),
    ),
]:
    openapi.operation(
        _path, "get", summary=_summary, query=_query, replies={200: _reply}, errors=_ERRORS
    )
openapi.operation(
    "/reports/estimate",
    "get",
    summary="Multiple systems estimate of the persons no organization kind identified "
    "(rounded to 10; docs/estimation.md)",
    query=EstimateQuery,
    replies={
        200: openapi.Reply(
            "Estimate (overall and per stratum) or the reason it is refused", EstimateReport
        )
    },
    errors=_ERRORS,
)
openapi.operation(
    "/reports/linkage",
    "get",
    summary="Linkage quality (statisticians): the model in use, m and u per comparison "
    "level, the threshold, match weights of the compared pairs, persons near the threshold "
    "(docs/linkage.md)",
    query=linkage.LinkageQuery,
    replies={
        200: openapi.Reply("The model and the figures of the last relink", linkage.LinkageReport)
    },
    errors=_ERRORS,
)
openapi.operation(
    "/reports/export/{layout}",
    "get",
    summary="Export layouts: unodc_glotip, inei, ctdc (ctdc: statisticians only, "
    "whole calendar years: from a 1 January, to a 31 December)",
    query=services.LAYOUT,
    replies={200: _ok("The layout's tables, or CTDC rows (k-anonymous)")},
    errors=(401, 403, 404, 422),
)
