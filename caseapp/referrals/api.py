"""Referral, consent and admission endpoints of /api/v1 (api.md §5–7)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_login import current_user

from caseapp.core import openapi
from caseapp.core.api import api, json_body, page_response
from caseapp.core.contract import parse, query_args
from caseapp.core.security import Permission, requires
from caseapp.referrals import contract, letters, services
from caseapp.referrals.documents import consent_json, receiving_view, referral_document
from caseapp.referrals.models import Referral
from caseapp.screening.schema import ConsentRequest


def _doc(referral: Referral, side: str) -> dict[str, Any]:
    if side == "receiving":
        return receiving_view(referral)
    return referral_document(referral, history=True)


@api.post("/cases/<case_id>/consent")
@requires(Permission.CONSENT_RECORD)
def record_consent(case_id: str) -> Any:
    consent = services.record_consent(current_user, case_id, json_body())
    document = consent_json(consent)
    return jsonify(document), 201


@api.get("/referrals")
@requires(Permission.CASE_READ)
def list_referrals() -> Any:
    filters = parse(contract.ReferralListQuery, query_args(request.args))
    page, per_page = filters.page, filters.per_page
    rows, total = services.list_referrals(current_user, filters, page, per_page)
    side = "receiving" if filters.direction == "incoming" else "referring"
    items = [_doc(r, side) for r in rows]
    return page_response(items, page, per_page, total)


@api.get("/referrals/<referral_id>")
@requires(Permission.CASE_READ)
def get_referral(referral_id: str) -> Any:
    referral, side = services.get_referral(current_user, referral_id)
    document = _doc(referral, side)
    return jsonify(document)


@api.post("/referrals/<referral_id>/send")
@requires(Permission.REFERRAL_SEND)
def send_referral(referral_id: str) -> Any:
    body = parse(contract.SendRequest, json_body() if request.get_data() else {})
    referral = services.send(
        current_user,
        referral_id,
        override_justification=body.consent_override_justification,
        risk_notes=body.risk_notes,
    )
    document = referral_document(referral, history=True)
    return jsonify(document)


@api.post("/referrals/<referral_id>/assign")
@requires(Permission.REFERRAL_SEND)
def assign_referral(referral_id: str) -> Any:
    body = parse(contract.AssignRequest, json_body())
    referral = services.assign(current_user, referral_id, body.provider)
    document = referral_document(referral, history=True)
    return jsonify(document)


@api.post("/referrals/<referral_id>/accept")
@requires(Permission.REFERRAL_RECEIVE)
def accept_referral(referral_id: str) -> Any:
    referral = services.accept(current_user, referral_id)
    document = receiving_view(referral)
    return jsonify(document)


@api.post("/referrals/<referral_id>/decline")
@requires(Permission.REFERRAL_RECEIVE)
def decline_referral(referral_id: str) -> Any:
    body = parse(contract.DeclineRequest, json_body())
    result = services.decline(current_user, referral_id, body.reason, body.note)
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
    return jsonify(document)


@api.post("/referrals/<referral_id>/complete")
@requires(Permission.REFERRAL_RECEIVE)
def complete_referral(referral_id: str) -> Any:
    referral = services.complete(current_user, referral_id)
    document = receiving_view(referral)
    return jsonify(document)


@api.post("/referrals/<referral_id>/cancel")
@requires(Permission.REFERRAL_SEND)
def cancel_referral(referral_id: str) -> Any:
    body = parse(contract.CancelRequest, json_body())
    referral = services.cancel(current_user, referral_id, body.reason, body.note)
    document = referral_document(referral, history=True)
    return jsonify(document)


@api.get("/referrals/<referral_id>/letter")
@requires(Permission.CASE_READ)
def referral_letter(referral_id: str) -> Any:
    referral, _side = services.get_referral(current_user, referral_id)
    html = letters.render_letter(referral)
    return Response(html, mimetype="text/html")


# -- OpenAPI (generated from the models, ADR 0018) -----------------------------------------
_Reply = openapi.Reply
_REFERRAL = _Reply("Referral (referring organization's view)", contract.Referral)
_VIEW = _Reply("Referral (receiving organization's view)", contract.ReferralView)
_WRITE = (400, 401, 403, 404, 409, 413, 422)
openapi.operation(
    "/cases/{case_id}/consent",
    "post",
    summary="Record, refuse or withdraw consent",
    body=ConsentRequest,
    replies={201: _Reply("Consent recorded", contract.Consent)},
    errors=_WRITE,
)
openapi.operation(
    "/referrals",
    "get",
    summary="Outgoing or incoming referrals",
    query=contract.ReferralListQuery,
    replies={200: _Reply("A page of referrals", contract.ReferralPage)},
    errors=(401, 403, 422),
)
openapi.operation(
    "/referrals/{referral_id}",
    "get",
    summary="A referral (receiving organizations get the limited view of domain.md §4)",
    replies={
        200: _Reply(
            "Referral",
            content={
                "application/json": {
                    "schema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/Referral"},
                            {"$ref": "#/components/schemas/ReferralView"},
                        ]
                    }
                }
            },
        )
    },
    errors=(401, 403, 404, 422),
)
openapi.operation(
    "/referrals/{referral_id}/send",
    "post",
    summary="Send (409 consent_required without consent)",
    body=contract.SendRequest,
    body_required=False,
    replies={200: _REFERRAL},
    errors=_WRITE,
)
openapi.operation(
    "/referrals/{referral_id}/assign",
    "post",
    summary="Choose an eligible provider",
    body=contract.AssignRequest,
    replies={200: _REFERRAL},
    errors=_WRITE,
)
openapi.operation(
    "/referrals/{referral_id}/accept",
    "post",
    summary="Accept (receiving organization)",
    replies={200: _VIEW},
    errors=(401, 403, 404, 409, 422),
)
openapi.operation(
    "/referrals/{referral_id}/decline",
    "post",
    summary="Decline with a reason; re-routes",
    body=contract.DeclineRequest,
    replies={200: _VIEW},
    errors=_WRITE,
)
openapi.operation(
    "/referrals/{referral_id}/complete",
    "post",
    summary="Complete (receiving organization)",
    replies={200: _VIEW},
    errors=(401, 403, 404, 409, 422),
)
openapi.operation(
    "/referrals/{referral_id}/cancel",
    "post",
    summary="Cancel (referring organization)",
    body=contract.CancelRequest,
    replies={200: _REFERRAL},
    errors=_WRITE,
)
openapi.operation(
    "/referrals/{referral_id}/letter",
    "get",
    summary="Printable referral letter (HTML)",
    replies={
        200: _Reply(
            "Print-ready HTML letter", content={"text/html": {"schema": {"type": "string"}}}
        )
    },
    errors=(401, 403, 404, 422),
)
