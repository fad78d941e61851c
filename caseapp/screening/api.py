"""Screening and case endpoints of /api/v1 (api.md §4–5)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from caseapp.core import idempotency, openapi
from caseapp.core.api import api, json_body, page_response, pagination
from caseapp.core.errors import Conflict, ValidationFailed
from caseapp.core.security import Permission, requires
from caseapp.extensions import db
from caseapp.screening import services
from caseapp.screening.documents import case_document, case_summary, screening_document
from caseapp.screening.schema import parse_screening


@api.post("/screenings")
@requires(Permission.CASE_CREATE)
def create_screening() -> Any:
    body = json_body()
    key = request.headers.get("Idempotency-Key")
    actor = current_user._get_current_object()
    replay = idempotency.lookup(actor.id, key, "screenings", body)
    if replay:
        return jsonify(replay[1]), replay[0]
    data = parse_screening(body)
    screening = services.create_screening(actor, data)
    document = screening_document(screening)
    idempotency.remember(actor.id, key, "screenings", body, 201, document)
    try:
        db.session.commit()
    except IntegrityError:
        # The same key committed concurrently by a twin request: answer with its result.
        db.session.rollback()
        replay = idempotency.lookup(actor.id, key, "screenings", body)
        if replay is None:
            raise
        return jsonify(replay[1]), replay[0]
    return jsonify(document), 201


@api.get("/screenings/<screening_id>")
@requires(Permission.CASE_READ)
def get_screening(screening_id: str) -> Any:
    screening = services.get_screening(current_user, screening_id)
    document = screening_document(screening)
    db.session.commit()
    return jsonify(document)


@api.post("/screenings/<screening_id>/override")
@requires(Permission.DETERMINATION_OVERRIDE)
def override_screening(screening_id: str) -> Any:
    body = json_body()
    unknown = set(body) - {"status", "justification"}
    if unknown:
        raise ValidationFailed({k: ["unknown field"] for k in sorted(unknown)})
    screening = services.override_determination(
        current_user, screening_id, body.get("status"), body.get("justification")
    )
    document = screening_document(screening)
    db.session.commit()
    return jsonify(document)


@api.get("/cases")
@requires(Permission.CASE_READ)
def list_cases() -> Any:
    page, per_page = pagination()
    args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}
    filters = services.parse_filters(args)
    rows, total = services.list_cases(current_user, filters, page, per_page)
    items = [case_summary(c) for c in rows]
    db.session.commit()
    return page_response(items, page, per_page, total)


@api.get("/cases/<case_id>")
@requires(Permission.CASE_READ)
def get_case(case_id: str) -> Any:
    case = services.get_case(current_user, case_id)
    document = case_document(case, services.case_history(case))
    db.session.commit()
    return jsonify(document)


@api.patch("/cases/<case_id>")
@requires(Permission.CASE_UPDATE)
def patch_case(case_id: str) -> Any:
    body = json_body()
    try:
        case = services.update_case(current_user, case_id, body)
        document = case_document(case, services.case_history(case))
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        current = services.get_case(current_user, case_id).version
        raise Conflict(
            "The case was changed by someone else; reload it and try again",
            code="version_conflict",
            current_version=current,
        ) from None
    return jsonify(document)


# -- OpenAPI ------------------------------------------------------------------------------
_code_list = {"type": "array", "items": {"type": "string"}}
openapi.register_schema(
    "ScreeningRequest",
    {
        "type": "object",
        "required": ["region", "person", "acts", "means", "purposes"],
        "additionalProperties": False,
        "properties": {
            "identified_at": {"type": "string", "format": "date-time"},
            "region": {"type": "string"},
            "identification_context": {"type": ["string", "null"]},
            "person": {
                "type": "object",
                "required": ["sex"],
                "properties": {
                    "given_names": {"type": ["string", "null"]},
                    "family_names": {"type": ["string", "null"]},
                    "sex": {"type": "string", "enum": ["F", "M", "intersex", "unknown"]},
                    "gender_identity": {"type": ["string", "null"]},
                    "lgbtqi": {"type": ["boolean", "null"]},
                    "date_of_birth": {"type": ["string", "null"], "format": "date"},
                    "age_years": {"type": ["integer", "null"], "minimum": 0, "maximum": 120},
                    "age_estimated": {"type": "boolean"},
                    "appears_minor": {"type": ["boolean", "null"]},
                    "nationality": _code_list,
                    "languages": _code_list,
                    "document": {
                        "type": ["object", "null"],
                        "properties": {
                            "type": {"type": "string"},
                            "number": {"type": ["string", "null"]},
                        },
                    },
                    "pregnant": {"type": "boolean"},
                    "disability": {"type": "boolean"},
                    "migration_status": {"type": ["string", "null"]},
                    "unaccompanied": {"type": "boolean"},
                    "contact": {"type": ["string", "null"]},
                    "address": {"type": ["string", "null"]},
                },
            },
            "acts": _code_list,
            "means": _code_list,
            "purposes": _code_list,
            "indicators": _code_list,
            "needs": _code_list,
            "stated_consent": {"type": "boolean"},
            "context": {"type": "object"},
            "consent": {
                "type": ["object", "null"],
                "properties": {
                    "given": {"type": "boolean"},
                    "scope": _code_list,
                    "given_by": {"type": "string"},
                    "method": {"type": "string"},
                },
            },
            "notes": {"type": ["string", "null"]},
        },
    },
)
_reason = {
    "type": "object",
    "required": ["code", "es", "en"],
    "properties": {"code": {"type": "string"}, "es": {"type": "string"}, "en": {"type": "string"}},
}
openapi.register_schema(
    "Screening",
    {
        "type": "object",
        "required": [
            "id",
            "case_id",
            "rule_version",
            "determination",
            "profile",
            "referrals",
            "gaps",
            "alerts",
        ],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "case_id": {"type": "string", "format": "uuid"},
            "rule_version": {"type": "string"},
            "determination": {
                "type": "object",
                "required": [
                    "status",
                    "missing_elements",
                    "aggravating",
                    "exploitation_form",
                    "explanation",
                ],
                "properties": {
                    "status": {
                        "type": "string",
                        "enum": ["indicated", "possible", "not_indicated"],
                    },
                    "missing_elements": _code_list,
                    "aggravating": _code_list,
                    "exploitation_form": {"type": "string"},
                    "explanation": {"type": "array", "items": _reason},
                },
            },
            "profile": {
                "type": "object",
                "properties": {
                    "tags": _code_list,
                    "age_group": {"type": "string"},
                    "unodc_category": {"type": "string"},
                },
            },
            "referrals": {"type": "array", "items": {"type": "object"}},
            "gaps": {"type": "array", "items": {"type": "object"}},
            "alerts": {"type": "array", "items": _reason},
        },
    },
)
_json = openapi.json_content
_uuid_param = openapi.path_param
openapi.register(
    "/screenings",
    "post",
    {
        "summary": "Screen a person (art. 129-A elements) and open a case",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}],
        "requestBody": {"required": True, **_json("ScreeningRequest")},
        "responses": {
            "201": {"description": "Screening stored", **_json("Screening")},
            **openapi.error_responses(400, 401, 403, 409, 413, 422),
        },
    },
)
openapi.register(
    "/screenings/{screening_id}",
    "get",
    {
        "summary": "A screening (same document as the create response)",
        "parameters": [_uuid_param("screening_id")],
        "responses": {
            "200": {"description": "Screening", **_json("Screening")},
            **openapi.error_responses(401, 403, 404),
        },
    },
)
openapi.register(
    "/screenings/{screening_id}/override",
    "post",
    {
        "summary": "Supervisor records a different status with a justification",
        "parameters": [_uuid_param("screening_id")],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["status", "justification"],
                        "properties": {
                            "status": {
                                "type": "string",
                                "enum": ["indicated", "possible", "not_indicated"],
                            },
                            "justification": {"type": "string", "minLength": 10},
                        },
                    }
                }
            },
        },
        "responses": {
            "200": {"description": "Screening", **_json("Screening")},
            **openapi.error_responses(400, 401, 403, 404, 422),
        },
    },
)
openapi.register(
    "/cases",
    "get",
    {
        "summary": "Cases of your organization",
        "parameters": [
            {"name": n, "in": "query", "schema": {"type": "string"}}
            for n in ("status", "region", "determination", "q")
        ]
        + [
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
            {
                "name": "per_page",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 100},
            },
        ],
        "responses": {
            "200": {"description": "A page of cases"},
            **openapi.error_responses(401, 403, 422),
        },
    },
)
openapi.register(
    "/cases/{case_id}",
    "get",
    {
        "summary": "A case: person, screenings, referrals, consent, history",
        "parameters": [_uuid_param("case_id")],
        "responses": {"200": {"description": "Case"}, **openapi.error_responses(401, 403, 404)},
    },
)
openapi.register(
    "/cases/{case_id}",
    "patch",
    {
        "summary": "Edit identity/contact data or close a case (send the version you read)",
        "parameters": [_uuid_param("case_id")],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["version"],
                        "properties": {
                            "version": {"type": "integer"},
                            "status": {"type": "string", "enum": ["open", "closed"]},
                            "person": {"type": "object"},
                        },
                    }
                }
            },
        },
        "responses": {
            "200": {"description": "Case"},
            **openapi.error_responses(400, 401, 403, 404, 409, 422),
        },
    },
)
