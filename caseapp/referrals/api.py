"""Referral, consent and admission endpoints of /api/v1 (api.md §5–7)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_login import current_user

from caseapp.core import openapi
from caseapp.core.api import api, json_body, only_fields, page_response, pagination
from caseapp.core.security import Permission, requires
from caseapp.extensions import db
from caseapp.referrals import letters, services
from caseapp.referrals.documents import consent_json, receiving_view, referral_document
from caseapp.referrals.models import Referral
from caseapp.shelters import services as shelters
from caseapp.shelters.models import Admission


def _doc(referral: Referral, side: str) -> dict[str, Any]:
    if side == "receiving":
        return receiving_view(referral)
    return referral_document(referral, history=True)


@api.post("/cases/<case_id>/consent")
@requires(Permission.CONSENT_RECORD)
def record_consent(case_id: str) -> Any:
    consent = services.record_consent(current_user, case_id, json_body())
    document = consent_json(consent)
    db.session.commit()
    return jsonify(document), 201


@api.get("/referrals")
@requires(Permission.CASE_READ)
def list_referrals() -> Any:
    page, per_page = pagination()
    args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}
    filters = services.parse_referral_filters(args)
    rows, total = services.list_referrals(current_user, filters, page, per_page)
    side = "receiving" if filters.direction == "incoming" else "referring"
    items = [_doc(r, side) for r in rows]
    db.session.commit()
    return page_response(items, page, per_page, total)


@api.get("/referrals/<referral_id>")
@requires(Permission.CASE_READ)
def get_referral(referral_id: str) -> Any:
    referral, side = services.get_referral(current_user, referral_id)
    document = _doc(referral, side)
    db.session.commit()
    return jsonify(document)


@api.post("/referrals/<referral_id>/send")
@requires(Permission.REFERRAL_SEND)
def send_referral(referral_id: str) -> Any:
    body = json_body() if request.get_data() else {}
    only_fields(body, {"consent_override_justification", "risk_notes"})
    referral = services.send(
        current_user,
        referral_id,
        override_justification=body.get("consent_override_justification"),
        risk_notes=body.get("risk_notes"),
    )
    document = referral_document(referral, history=True)
    db.session.commit()
    return jsonify(document)


@api.post("/referrals/<referral_id>/assign")
@requires(Permission.REFERRAL_SEND)
def assign_referral(referral_id: str) -> Any:
    body = json_body()
    only_fields(body, {"provider"})
    referral = services.assign(current_user, referral_id, body.get("provider"))
    document = referral_document(referral, history=True)
    db.session.commit()
    return jsonify(document)


@api.post("/referrals/<referral_id>/accept")
@requires(Permission.REFERRAL_RECEIVE)
def accept_referral(referral_id: str) -> Any:
    referral = services.accept(current_user, referral_id)
    document = receiving_view(referral)
    db.session.commit()
    return jsonify(document)


@api.post("/referrals/<referral_id>/decline")
@requires(Permission.REFERRAL_RECEIVE)
def decline_referral(referral_id: str) -> Any:
    body = json_body()
    only_fields(body, {"reason", "note"})
    result = services.decline(current_user, referral_id, body.get("reason"), body.get("note"))
    document = receiving_view(result.declined)
    document["rerouted_to"] = {
        "id": result.rerouted_to.uuid,
        "status": result.rerouted_to.status,
        "provider": None
        if result.gap
        else {
            "code": result.rerouted_to.provider_org.code,
            "name": result.rerouted_to.provider_org.name,
            "region": result.rerouted_to.provider_org.region_code,
        }
        if result.rerouted_to.provider_org
        else None,
    }
    document["gap"] = result.gap
    db.session.commit()
    return jsonify(document)


@api.post("/referrals/<referral_id>/complete")
@requires(Permission.REFERRAL_RECEIVE)
def complete_referral(referral_id: str) -> Any:
    referral = services.complete(current_user, referral_id)
    document = receiving_view(referral)
    db.session.commit()
    return jsonify(document)


@api.post("/referrals/<referral_id>/cancel")
@requires(Permission.REFERRAL_SEND)
def cancel_referral(referral_id: str) -> Any:
    body = json_body()
    only_fields(body, {"reason", "note"})
    referral = services.cancel(current_user, referral_id, body.get("reason"), body.get("note"))
    document = referral_document(referral, history=True)
    db.session.commit()
    return jsonify(document)


@api.get("/referrals/<referral_id>/letter")
@requires(Permission.CASE_READ)
def referral_letter(referral_id: str) -> Any:
    referral, _side = services.get_referral(current_user, referral_id)
    html = letters.render_letter(referral)
    db.session.commit()
    return Response(html, mimetype="text/html")


def admission_json(admission: Admission) -> dict[str, Any]:
    from caseapp.core.time import iso

    return {
        "id": admission.uuid,
        "referral_id": _referral_uuid(admission),
        "provider": admission.service.organization.code,
        "admitted_at": iso(admission.admitted_at),
        "bed": admission.bed,
        "planned_stay_days": admission.planned_stay_days,
        "discharged_at": iso(admission.discharged_at),
        "discharge_reason": admission.discharge_reason,
    }


def _referral_uuid(admission: Admission) -> str:
    referral = db.session.get(Referral, admission.referral_id)
    return referral.uuid if referral else ""


@api.post("/admissions")
@requires(Permission.ADMISSION_MANAGE)
def create_admission() -> Any:
    admission = shelters.admit(current_user, json_body())
    document = admission_json(admission)
    db.session.commit()
    return jsonify(document), 201


@api.post("/admissions/<admission_id>/discharge")
@requires(Permission.ADMISSION_MANAGE)
def discharge_admission(admission_id: str) -> Any:
    admission = shelters.discharge(current_user, admission_id, json_body())
    document = admission_json(admission)
    db.session.commit()
    return jsonify(document)


# -- OpenAPI ------------------------------------------------------------------------------
_p = openapi.path_param
_E = openapi.error_responses
_json = openapi.json_content
_code = openapi.code
_text = {"type": ["string", "null"]}
_time = {"type": ["string", "null"], "format": "date-time"}
_strings = {"type": "array", "items": {"type": "string"}}
_history = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["at", "from", "to", "action"],
        "properties": {
            "at": _time,
            "from": _text,
            "to": {"type": "string"},
            "action": {"type": "string"},
            "reason": _text,
            "actor": _text,
        },
    },
}
openapi.register_schema(
    "ConsentRequest",
    {
        "type": "object",
        "required": ["given"],
        "additionalProperties": False,
        "properties": {
            "given": {"type": "boolean", "description": "false after a consent = withdrawal"},
            "scope": {
                "type": ["array", "null"],
                "description": '["all"] alone, or service types (consulate must be named)',
                "items": _code("service_type", extra=("all",)),
            },
            "given_by": _code("consent_given_by", nullable=True),
            "method": _code("consent_method", nullable=True),
        },
    },
)
openapi.register_schema(
    "Consent",
    {
        "type": "object",
        "required": ["given", "scope", "given_by", "method", "withdrawn", "recorded_at"],
        "properties": {
            "given": {"type": "boolean"},
            "scope": _strings,
            "given_by": {"type": "string"},
            "method": {"type": "string"},
            "withdrawn": {"type": "boolean"},
            "recorded_at": _time,
            "recorded_by": _text,
        },
    },
)
_provider = {
    "type": ["object", "null"],
    "required": ["code", "name", "region"],
    "properties": {
        "code": {"type": "string"},
        "name": {"type": "string"},
        "region": {"type": "string"},
    },
}
openapi.register_schema(
    "Referral",
    {
        "type": "object",
        "description": "The referring organization's view (api.md §4, §6)",
        "required": [
            "id",
            "case_id",
            "service_type",
            "priority",
            "provider",
            "status",
            "requires_consent",
            "due_at",
            "interpreter_language",
            "reasons",
        ],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "case_id": {"type": "string", "format": "uuid"},
            "service_type": {"type": "string"},
            "priority": {"type": "string"},
            "provider": _provider,
            "status": _code("referral_status"),
            "requires_consent": {"type": "boolean"},
            "due_at": _time,
            "overdue": {"type": "boolean"},
            "interpreter_language": _text,
            "reasons": {"type": "array", "items": {"type": "object"}},
            "rule": {"type": "string"},
            "gap": {"type": ["object", "null"]},
            "previous_id": _text,
            "decline_reason": _text,
            "consent_overridden": {"type": "boolean"},
            "escalated_at": _time,
            "created_at": _time,
            "history": _history,
        },
    },
)
openapi.register_schema(
    "ReferralView",
    {
        "type": "object",
        "description": "The receiving organization's limited view (domain.md §4): never the "
        "screening, its notes or the determination",
        "required": [
            "id",
            "service_type",
            "status",
            "due_at",
            "referring_organization",
            "person",
            "risk_notes",
            "alerts",
            "history",
        ],
        "not": {"anyOf": [{"required": ["case_id"]}, {"required": ["reasons"]}]},
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "service_type": {"type": "string"},
            "priority": {"type": "string"},
            "status": _code("referral_status"),
            "due_at": _time,
            "overdue": {"type": "boolean"},
            "referring_organization": {
                "type": "object",
                "required": ["code", "name"],
                "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
            },
            "interpreter_language": _text,
            "person": {
                "type": "object",
                "required": ["given_names", "family_names", "sex", "languages", "needs"],
                "properties": {
                    "given_names": _text,
                    "family_names": _text,
                    "age_years": {"type": ["integer", "null"]},
                    "age_group": {"type": "string"},
                    "sex": {"type": "string"},
                    "gender_identity": _text,
                    "languages": _strings,
                    "needs": _strings,
                    "contact": _text,
                },
            },
            "risk_notes": _text,
            "alerts": _strings,
            "history": _history,
            "rerouted_to": {
                "type": "object",
                "description": "decline only: the new referral (unassigned when a gap is left)",
                "required": ["id", "status", "provider"],
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "status": _code("referral_status"),
                    "provider": _provider,
                },
            },
            "gap": {"type": ["object", "null"]},
        },
    },
)
_either_view = {
    "anyOf": [
        {"$ref": "#/components/schemas/Referral"},
        {"$ref": "#/components/schemas/ReferralView"},
    ]
}
openapi.register_schema(
    "ReferralPage",
    {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": _either_view},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
        },
    },
)
openapi.register_schema(
    "Admission",
    {
        "type": "object",
        "required": ["id", "referral_id", "provider", "admitted_at", "discharged_at"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "referral_id": {"type": "string"},
            "provider": {"type": "string"},
            "admitted_at": _time,
            "bed": _text,
            "planned_stay_days": {"type": ["integer", "null"]},
            "discharged_at": _time,
            "discharge_reason": _text,
        },
    },
)


def _body(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        schema["required"] = list(required)
    return {"required": bool(required), "content": {"application/json": {"schema": schema}}}


_referral = {"description": "Referral (referring organization's view)", **_json("Referral")}
_view = {"description": "Referral (receiving organization's view)", **_json("ReferralView")}
for path, method, summary, ok, errors, body in [
    (
        "/cases/{case_id}/consent",
        "post",
        "Record, refuse or withdraw consent",
        {"201": {"description": "Consent recorded", **_json("Consent")}},
        (400, 401, 403, 404, 409, 413, 422),
        {"required": True, **_json("ConsentRequest")},
    ),
    (
        "/referrals/{referral_id}",
        "get",
        "A referral (receiving organizations get the limited view of domain.md §4)",
        {
            "200": {
                "description": "Referral",
                "content": {"application/json": {"schema": _either_view}},
            }
        },
        (401, 403, 404, 422),
        None,
    ),
    (
        "/referrals/{referral_id}/send",
        "post",
        "Send (409 consent_required without consent)",
        {"200": _referral},
        (400, 401, 403, 404, 409, 413, 422),
        _body(
            {
                "consent_override_justification": {
                    "type": "string",
                    "minLength": 10,
                    "description": "supervisors only: send without consent in an emergency",
                },
                "risk_notes": {"type": ["string", "null"], "maxLength": 2000},
            }
        ),
    ),
    (
        "/referrals/{referral_id}/assign",
        "post",
        "Choose an eligible provider",
        {"200": _referral},
        (400, 401, 403, 404, 409, 413, 422),
        _body({"provider": {"type": "string", "description": "directory code"}}, ("provider",)),
    ),
    (
        "/referrals/{referral_id}/accept",
        "post",
        "Accept (receiving organization)",
        {"200": _view},
        (401, 403, 404, 409, 422),
        None,
    ),
    (
        "/referrals/{referral_id}/decline",
        "post",
        "Decline with a reason; re-routes",
        {"200": _view},
        (400, 401, 403, 404, 409, 413, 422),
        _body(
            {
                "reason": _code("decline_reason"),
                "note": {"type": ["string", "null"], "maxLength": 2000},
            },
            ("reason",),
        ),
    ),
    (
        "/referrals/{referral_id}/complete",
        "post",
        "Complete (receiving organization)",
        {"200": _view},
        (401, 403, 404, 409, 422),
        None,
    ),
    (
        "/referrals/{referral_id}/cancel",
        "post",
        "Cancel (referring organization)",
        {"200": _referral},
        (400, 401, 403, 404, 409, 413, 422),
        _body({"reason": {"type": "string", "minLength": 1, "maxLength": 200}}, ("reason",)),
    ),
    (
        "/referrals/{referral_id}/letter",
        "get",
        "Printable referral letter (HTML)",
        {
            "200": {
                "description": "Print-ready HTML letter",
                "content": {"text/html": {"schema": {"type": "string"}}},
            }
        },
        (401, 403, 404, 422),
        None,
    ),
    (
        "/admissions/{admission_id}/discharge",
        "post",
        "Discharge",
        {"200": {"description": "Admission", **_json("Admission")}},
        (400, 401, 403, 404, 409, 413, 422),
        _body(
            {
                "discharged_at": {
                    "type": ["string", "null"],
                    "format": "date-time",
                    "description": "with offset; not before the admission nor in the future",
                },
                "reason": _code("discharge_reason", nullable=True),
                "note": {"type": ["string", "null"], "maxLength": 2000},
            },
            ("reason",),
        ),
    ),
]:
    name = (
        "case_id"
        if "{case_id}" in path
        else ("admission_id" if "{admission_id}" in path else "referral_id")
    )
    op: dict[str, Any] = {
        "summary": summary,
        "parameters": [_p(name)],
        "responses": {**ok, **_E(*errors)},
    }
    if body:
        op["requestBody"] = body
    openapi.register(path, method, op)
openapi.register(
    "/referrals",
    "get",
    {
        "summary": "Outgoing or incoming referrals",
        "parameters": [
            {
                "name": "direction",
                "in": "query",
                "schema": {"type": "string", "enum": ["outgoing", "incoming"]},
            },
            {"name": "status", "in": "query", "schema": _code("referral_status")},
            {
                "name": "overdue",
                "in": "query",
                "schema": {"type": "string", "enum": ["true", "false", "1", "0"]},
            },
            *openapi.page_parameters(),
        ],
        "responses": {
            "200": {"description": "A page of referrals", **_json("ReferralPage")},
            **_E(401, 403, 422),
        },
    },
)
openapi.register(
    "/admissions",
    "post",
    {
        "summary": "Admit the person of an accepted referral (409 when full or not eligible)",
        "requestBody": _body(
            {
                "referral_id": {"type": "string"},
                "admitted_at": {
                    "type": ["string", "null"],
                    "format": "date-time",
                    "description": "with offset; not in the future; defaults to now",
                },
                "bed": {"type": ["string", "null"], "maxLength": 20},
                "planned_stay_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650},
            },
            ("referral_id",),
        ),
        "responses": {
            "201": {"description": "Admission", **_json("Admission")},
            **_E(400, 401, 403, 404, 409, 413, 422),
        },
    },
)
