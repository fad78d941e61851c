"""Screening and case endpoints of /api/v1 (api.md §4–5)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from caseapp.core import openapi
from caseapp.core.api import api, json_body, only_fields, page_response, pagination
from caseapp.core.errors import Conflict
from caseapp.core.security import Permission, requires
from caseapp.extensions import db
from caseapp.intake import search as _search  # noqa: F401 (POST /cases/search)
from caseapp.intake import services
from caseapp.intake.documents import case_document, case_summary, screening_document
from caseapp.screening import services as screening_services


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
    db.session.commit()
    return jsonify(document), 201


@api.get("/screenings/<screening_id>")
@requires(Permission.CASE_READ)
def get_screening(screening_id: str) -> Any:
    screening = screening_services.get_screening(current_user, screening_id)
    document = screening_document(screening)
    db.session.commit()
    return jsonify(document)


@api.post("/screenings/<screening_id>/override")
@requires(Permission.DETERMINATION_OVERRIDE)
def override_screening(screening_id: str) -> Any:
    body = json_body()
    only_fields(body, {"status", "justification"})
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
    filters = screening_services.parse_filters(args)
    rows, total = screening_services.list_cases(current_user, filters, page, per_page)
    items = [case_summary(c) for c in rows]
    db.session.commit()
    return page_response(items, page, per_page, total)


@api.get("/cases/<case_id>")
@requires(Permission.CASE_READ)
def get_case(case_id: str) -> Any:
    case = screening_services.get_case(current_user, case_id)
    document = case_document(case, screening_services.case_history(case))
    db.session.commit()
    return jsonify(document)


@api.patch("/cases/<case_id>")
@requires(Permission.CASE_UPDATE)
def patch_case(case_id: str) -> Any:
    body = json_body()
    try:
        case = services.update_case(current_user, case_id, body)
        db.session.commit()  # the history below then includes this change
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


# -- OpenAPI ------------------------------------------------------------------------------
# Code lists come from caseapp.core.codes (their single source), so the document names every
# accepted code; objects are closed (unknown fields are a 422, api.md §3).
_code = openapi.code
_codes = openapi.codes_array
_text = {"type": ["string", "null"]}
_time = {"type": ["string", "null"], "format": "date-time"}
_strings = {"type": "array", "items": {"type": "string"}}
openapi.register_schema(
    "ScreeningRequest",
    {
        "type": "object",
        "required": ["region", "person", "acts", "means", "purposes"],
        "additionalProperties": False,
        "properties": {
            "identified_at": {
                "type": "string",
                "format": "date-time",
                "description": "with offset; not in the future; defaults to now",
            },
            "region": _code("region"),
            "identification_context": _code("identification_context", nullable=True),
            "person": {
                "type": "object",
                "required": ["sex"],
                "additionalProperties": False,
                "properties": {
                    "given_names": {"type": ["string", "null"], "maxLength": 200},
                    "family_names": {"type": ["string", "null"], "maxLength": 200},
                    "sex": _code("sex"),
                    "gender_identity": _code("gender_identity", nullable=True),
                    "lgbtqi": {"type": ["boolean", "null"]},
                    "date_of_birth": {
                        "type": ["string", "null"],
                        "format": "date",
                        "description": "not after identified_at, at most 120 years before",
                    },
                    "age_years": {"type": ["integer", "null"], "minimum": 0, "maximum": 120},
                    "age_estimated": {"type": "boolean"},
                    "appears_minor": {"type": ["boolean", "null"]},
                    "nationality": _codes("nationality"),
                    "languages": _codes("language"),
                    "document": {
                        "type": ["object", "null"],
                        "required": ["type"],
                        "additionalProperties": False,
                        "description": "number required unless type is none",
                        "properties": {
                            "type": _code("document_type"),
                            "number": {"type": ["string", "null"], "maxLength": 40},
                        },
                    },
                    "pregnant": {"type": "boolean"},
                    "disability": {"type": "boolean"},
                    "migration_status": _code("migration_status", nullable=True),
                    "unaccompanied": {"type": "boolean"},
                    "contact": {"type": ["string", "null"], "maxLength": 500},
                    "address": {"type": ["string", "null"], "maxLength": 500},
                },
            },
            "acts": _codes("act"),
            "means": _codes("means"),
            "purposes": _codes("purpose"),
            "indicators": _codes("indicator"),
            "needs": _codes("need"),
            "stated_consent": {"type": "boolean"},
            "context": {
                "type": ["object", "null"],
                "additionalProperties": False,
                "properties": {
                    "origin_region": _code("region", nullable=True),
                    "exploitation_region": _code("region", nullable=True),
                    "sector": _code("sector", nullable=True),
                    "trafficker_relation": _code("trafficker_relation", nullable=True),
                    "recruitment_method": _code("recruitment_method", nullable=True),
                    "public_official_involved": {"type": "boolean"},
                    "multiple_victims": {"type": "boolean"},
                    "criminal_organization": {"type": "boolean"},
                    "serious_injury_or_death": {"type": "boolean"},
                },
            },
            "consent": {
                "anyOf": [{"$ref": "#/components/schemas/ConsentRequest"}, {"type": "null"}]
            },
            "notes": {"type": ["string", "null"], "maxLength": 10000},
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
            "identified_at": _time,
            "region": {"type": "string"},
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
                    "status": _code("determination_status"),
                    "missing_elements": _strings,
                    "aggravating": _strings,
                    "exploitation_form": {"type": "string"},
                    "explanation": {"type": "array", "items": _reason},
                },
            },
            "override": {
                "type": ["object", "null"],
                "required": ["status", "justification", "by", "at"],
                "properties": {
                    "status": _code("determination_status"),
                    "justification": {"type": "string"},
                    "by": _text,
                    "at": _time,
                },
            },
            "profile": {
                "type": "object",
                "required": ["tags", "age_group", "unodc_category"],
                "properties": {
                    "tags": _strings,
                    "age_group": {"type": "string"},
                    "unodc_category": {"type": "string"},
                },
            },
            "referrals": {"type": "array", "items": {"$ref": "#/components/schemas/Referral"}},
            "gaps": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "service_type", "es", "en"],
                    "properties": {
                        "code": {"type": "string"},
                        "service_type": _text,
                        "es": {"type": "string"},
                        "en": {"type": "string"},
                        "next_opening": _time,
                    },
                },
            },
            "alerts": {"type": "array", "items": _reason},
        },
    },
)
_case_summary_properties: dict[str, Any] = {
    "id": {"type": "string", "format": "uuid"},
    "status": _code("case_status"),
    "determination": _code("determination_status"),
    "region": {"type": "string"},
    "created_at": _time,
    "updated_at": _time,
    "version": {"type": "integer", "minimum": 1},
}
openapi.register_schema(
    "CaseSummary",
    {
        "type": "object",
        "required": [*_case_summary_properties, "person"],
        "properties": {
            **_case_summary_properties,
            "person": {
                "type": "object",
                "required": ["given_names", "family_names", "sex", "age_years"],
                "properties": {
                    "given_names": _text,
                    "family_names": _text,
                    "sex": {"type": "string"},
                    "age_years": {"type": ["integer", "null"]},
                },
            },
        },
    },
)
openapi.register_schema("CasePage", openapi.page_of("CaseSummary"))
openapi.register_schema(
    "Case",
    {
        "type": "object",
        "required": [
            *_case_summary_properties,
            "person",
            "screenings",
            "referrals",
            "consent",
            "history",
        ],
        "properties": {
            **_case_summary_properties,
            "person": {
                "type": "object",
                "required": ["sex", "nationality", "languages", "document"],
                "properties": {
                    "given_names": _text,
                    "family_names": _text,
                    "sex": {"type": "string"},
                    "gender_identity": _text,
                    "lgbtqi": {"type": ["boolean", "null"]},
                    "date_of_birth": _text,
                    "age_years": {"type": ["integer", "null"]},
                    "age_estimated": {"type": "boolean"},
                    "appears_minor": {"type": ["boolean", "null"]},
                    "nationality": _strings,
                    "document": {
                        "type": ["object", "null"],
                        "properties": {"type": {"type": "string"}, "number": _text},
                    },
                    "languages": _strings,
                    "pregnant": {"type": "boolean"},
                    "disability": {"type": "boolean"},
                    "migration_status": _text,
                    "unaccompanied": {"type": "boolean"},
                    "contact": _text,
                    "address": _text,
                },
            },
            "screenings": {"type": "array", "items": {"$ref": "#/components/schemas/Screening"}},
            "referrals": {"type": "array", "items": {"$ref": "#/components/schemas/Referral"}},
            "consent": {"anyOf": [{"$ref": "#/components/schemas/Consent"}, {"type": "null"}]},
            "history": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["at", "actor", "action", "flagged"],
                    "properties": {
                        "at": _time,
                        "actor": _text,
                        "action": {"type": "string"},
                        "flagged": {"type": "boolean"},
                    },
                },
            },
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
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "description": "1 to 200 characters; the same key again replays the first result",
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            }
        ],
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
            **openapi.error_responses(401, 403, 404, 422),
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
                        "additionalProperties": False,
                        "properties": {
                            "status": _code("determination_status"),
                            "justification": {
                                "type": "string",
                                "minLength": 10,
                                "maxLength": 5000,
                                "description": "at least 10 characters besides spaces",
                            },
                        },
                    }
                }
            },
        },
        "responses": {
            "200": {"description": "Screening", **_json("Screening")},
            **openapi.error_responses(400, 401, 403, 404, 413, 422),
        },
    },
)
openapi.register(
    "/cases",
    "get",
    {
        "summary": "Cases of your organization",
        "parameters": [
            {"name": "status", "in": "query", "schema": _code("case_status")},
            {"name": "region", "in": "query", "schema": _code("region")},
            {"name": "determination", "in": "query", "schema": _code("determination_status")},
            {
                "name": "q",
                "in": "query",
                "description": "exact full name or document number (blind index search)",
                "schema": {"type": "string", "maxLength": 200},
            },
            *openapi.page_parameters(),
        ],
        "responses": {
            "200": {"description": "A page of cases", **_json("CasePage")},
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
        "responses": {
            "200": {"description": "Case", **_json("Case")},
            **openapi.error_responses(401, 403, 404, 422),
        },
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
                        "additionalProperties": False,
                        "properties": {
                            "version": {"type": "integer"},
                            "status": _code("case_status"),
                            "person": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "given_names": {"type": ["string", "null"], "maxLength": 200},
                                    "family_names": {
                                        "type": ["string", "null"],
                                        "maxLength": 200,
                                    },
                                    "contact": {"type": ["string", "null"], "maxLength": 500},
                                    "address": {"type": ["string", "null"], "maxLength": 500},
                                    "languages": _codes("language"),
                                    "document": {
                                        "type": ["object", "null"],
                                        "required": ["type"],
                                        "additionalProperties": False,
                                        "properties": {
                                            "type": _code("document_type"),
                                            "number": {"type": ["string", "null"], "maxLength": 40},
                                        },
                                    },
                                },
                            },
                        },
                    }
                }
            },
        },
        "responses": {
            "200": {"description": "Case", **_json("Case")},
            **openapi.error_responses(400, 401, 403, 404, 409, 413, 422),
        },
    },
)
