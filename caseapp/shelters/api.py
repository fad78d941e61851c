"""Shelter intake endpoints of /api/v1 (api.md §7): admit the person of an accepted
referral, discharge."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user

from caseapp.core import openapi
from caseapp.core.api import api, json_body
from caseapp.core.security import Permission, requires
from caseapp.extensions import db
from caseapp.referrals.models import Referral
from caseapp.shelters import services as shelters
from caseapp.shelters.contract import Admission, AdmissionRequest, DischargeRequest
from caseapp.shelters.models import Admission as AdmissionRecord


def admission_json(admission: AdmissionRecord) -> dict[str, Any]:
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


def _referral_uuid(admission: AdmissionRecord) -> str:
    referral = db.session.get(Referral, admission.referral_id)
    return referral.uuid if referral else ""


@api.post("/admissions")
@requires(Permission.ADMISSION_MANAGE)
def create_admission() -> Any:
    admission = shelters.admit(current_user, json_body())
    document = admission_json(admission)
    return jsonify(document), 201


@api.post("/admissions/<admission_id>/discharge")
@requires(Permission.ADMISSION_MANAGE)
def discharge_admission(admission_id: str) -> Any:
    admission = shelters.discharge(current_user, admission_id, json_body())
    document = admission_json(admission)
    return jsonify(document)


# -- OpenAPI (generated from the models, ADR 0018) -----------------------------------------
_Reply = openapi.Reply
_WRITE = (400, 401, 403, 404, 409, 413, 422)
openapi.operation(
    "/admissions",
    "post",
    summary="Admit the person of an accepted referral (409 when full or not eligible)",
    body=AdmissionRequest,
    replies={201: _Reply("Admission", Admission)},
    errors=_WRITE,
)
openapi.operation(
    "/admissions/{admission_id}/discharge",
    "post",
    summary="Discharge",
    body=DischargeRequest,
    replies={200: _Reply("Admission", Admission)},
    errors=_WRITE,
)
