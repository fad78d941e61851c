"""Screening and case endpoints of /api/v1 (api.md §4–5)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from caseapp.core import openapi
from caseapp.core.api import api, json_body, page_response
from caseapp.core.contract import parse, query_args, text_schema
from caseapp.core.errors import Conflict
from caseapp.core.security import Permission, requires
from caseapp.extensions import db
from caseapp.intake import search as _search  # noqa: F401 (POST /cases/search)
from caseapp.intake import services, shapes
from caseapp.intake.documents import case_document, case_summary, screening_document
from caseapp.screening import services as screening_services
from caseapp.screening.schema import CaseListQuery, CasePatch, OverrideRequest, ScreeningRequest


@api.post("/screenings")
@requires(Permission.CASE_CREATE)
def create_screening() -> Any:
    screening, _replayed = services.screen_once(
        current_user._get_current_object(),
        request.headers.get("Idempotency-Key"),
        "screenings",
        json_body(),
    )
    document = screening_document(screening)
    return jsonify(document), 201


@api.get("/screenings/<screening_id>")
@requires(Permission.CASE_READ)
def get_screening(screening_id: str) -> Any:
    screening = screening_services.get_screening(current_user, screening_id)
    document = screening_document(screening)
    return jsonify(document)


@api.post("/screenings/<screening_id>/override")
@requires(Permission.DETERMINATION_OVERRIDE)
def override_screening(screening_id: str) -> Any:
    body = parse(OverrideRequest, json_body())
    screening = services.override_determination(
        current_user, screening_id, body.status, body.justification
    )
    document = screening_document(screening)
    return jsonify(document)


@api.get("/cases")
@requires(Permission.CASE_READ)
def list_cases() -> Any:
    query = parse(CaseListQuery, query_args(request.args))
    page, per_page = query.page, query.per_page
    rows, total = screening_services.list_cases(current_user, query, page, per_page)
    items = [case_summary(c) for c in rows]
    return page_response(items, page, per_page, total)


@api.get("/cases/<case_id>")
@requires(Permission.CASE_READ)
def get_case(case_id: str) -> Any:
    case = screening_services.get_case(current_user, case_id)
    document = case_document(case, screening_services.case_history(case))
    return jsonify(document)


@api.patch("/cases/<case_id>")
@requires(Permission.CASE_UPDATE)
def patch_case(case_id: str) -> Any:
    body = json_body()
    try:
        case = services.update_case(current_user, case_id, body)
        document = case_document(case, screening_services.case_history(case))
    except StaleDataError:
        db.session.rollback()
        current = screening_services.get_case(current_user, case_id).version
        raise Conflict(
            "The case was changed by someone else; reload it and try again",
            code="version_conflict",
            current_version=current,
        ) from None
    return jsonify(document)


# -- OpenAPI (generated from the models, ADR 0018) ------------------------------------------
_Reply = openapi.Reply
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "description": "1 to 200 characters; the same key again replays the first result",
    "schema": text_schema(200, False, 1),
}
openapi.operation(
    "/screenings",
    "post",
    summary="Screen a person (art. 129-A elements) and open a case",
    headers=[_IDEMPOTENCY_KEY],
    body=ScreeningRequest,
    replies={201: _Reply("Screening stored", shapes.Screening)},
    errors=(400, 401, 403, 409, 413, 422),
)
openapi.operation(
    "/screenings/{screening_id}",
    "get",
    summary="A screening (same document as the create response)",
    replies={200: _Reply("Screening", shapes.Screening)},
    errors=(401, 403, 404, 422),
)
openapi.operation(
    "/screenings/{screening_id}/override",
    "post",
    summary="Supervisor records a different status with a justification",
    body=OverrideRequest,
    replies={200: _Reply("Screening", shapes.Screening)},
    errors=(400, 401, 403, 404, 413, 422),
)
openapi.operation(
    "/cases",
    "get",
    summary="Cases of your organization",
    query=CaseListQuery,
    replies={200: _Reply("A page of cases", shapes.CasePage)},
    errors=(401, 403, 422),
)
openapi.operation(
    "/cases/{case_id}",
    "get",
    summary="A case: person, screenings, referrals, consent, history",
    replies={200: _Reply("Case", shapes.Case)},
    errors=(401, 403, 404, 422),
)
openapi.operation(
    "/cases/{case_id}",
    "patch",
    summary="Edit identity/contact data or close a case (send the version you read)",
    body=CasePatch,
    replies={200: _Reply("Case", shapes.Case)},
    errors=(400, 401, 403, 404, 409, 413, 422),
)
