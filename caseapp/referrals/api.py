"""Referral, consent and admission endpoints of /api/v1 (api.md §5–7)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_login import current_user

from caseapp.core import openapi
from caseapp.core.api import api, json_body, page_response, pagination
from caseapp.core.errors import ValidationFailed
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


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(body) - allowed
    if unknown:
        raise ValidationFailed({k: ["unknown field"] for k in sorted(unknown)})


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
    _only(body, {"consent_override_justification", "risk_notes"})
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
    _only(body, {"provider"})
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
    _only(body, {"reason", "note"})
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
    _only(body, {"reason"})
    referral = services.cancel(current_user, referral_id, body.get("reason"))
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
    from caseapp.screening.documents import iso

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
_obj = {"content": {"application/json": {"schema": {"type": "object"}}}}
for path, method, summary, errors, body in [
    (
        "/cases/{case_id}/consent",
        "post",
        "Record, refuse or withdraw consent",
        (400, 401, 403, 404, 409, 422),
        True,
    ),
    (
        "/referrals/{referral_id}",
        "get",
        "A referral (receiving organizations get the limited view of domain.md §4)",
        (401, 403, 404),
        False,
    ),
    (
        "/referrals/{referral_id}/send",
        "post",
        "Send (409 consent_required without consent)",
        (401, 403, 404, 409, 422),
        True,
    ),
    (
        "/referrals/{referral_id}/assign",
        "post",
        "Choose an eligible provider",
        (400, 401, 403, 404, 409, 422),
        True,
    ),
    (
        "/referrals/{referral_id}/accept",
        "post",
        "Accept (receiving organization)",
        (401, 403, 404, 409),
        False,
    ),
    (
        "/referrals/{referral_id}/decline",
        "post",
        "Decline with a reason; re-routes",
        (400, 401, 403, 404, 409, 422),
        True,
    ),
    (
        "/referrals/{referral_id}/complete",
        "post",
        "Complete (receiving organization)",
        (401, 403, 404, 409),
        False,
    ),
    (
        "/referrals/{referral_id}/cancel",
        "post",
        "Cancel (referring organization)",
        (400, 401, 403, 404, 409, 422),
        True,
    ),
    (
        "/referrals/{referral_id}/letter",
        "get",
        "Printable referral letter (HTML)",
        (401, 403, 404),
        False,
    ),
    (
        "/admissions/{admission_id}/discharge",
        "post",
        "Discharge",
        (400, 401, 403, 404, 409, 422),
        True,
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
        "responses": {"200": {"description": "OK"}, **_E(*errors)},
    }
    if body:
        op["requestBody"] = {"required": False, **_obj}
    openapi.register(path, method, op)
openapi.register(
    "/referrals",
    "get",
    {
        "summary": "Outgoing or incoming referrals",
        "parameters": [
            {"name": n, "in": "query", "schema": {"type": "string"}}
            for n in ("direction", "status", "overdue", "page", "per_page")
        ],
        "responses": {"200": {"description": "A page of referrals"}, **_E(401, 403, 422)},
    },
)
openapi.register(
    "/admissions",
    "post",
    {
        "summary": "Admit the person of an accepted referral (409 when full or not eligible)",
        "requestBody": {"required": True, **_obj},
        "responses": {"201": {"description": "Admission"}, **_E(400, 401, 403, 404, 409, 422)},
    },
)
