"""``POST /api/v1/cases/{id}/legal-hold`` (supervisors; docs/decisions/0009).

Guarded by ``consent.override``, the permission only supervisors hold (api.md §2): a
legal hold is a supervisor's decision like a consent override, and it needs no new
permission in the role table.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user

from caseapp.core import openapi
from caseapp.core.api import api, json_body
from caseapp.core.contract import parse
from caseapp.core.security import Permission, requires
from caseapp.core.time import iso
from caseapp.maintenance import retention
from caseapp.maintenance.contract import LegalHold, LegalHoldRequest
from caseapp.screening.models import Case


def legal_hold_document(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.uuid,
        "legal_hold": case.legal_hold,
        "purged_at": iso(case.purged_at),
        "version": case.version,
    }


@api.post("/cases/<case_id>/legal-hold")
@requires(Permission.CONSENT_OVERRIDE)
def set_legal_hold(case_id: str) -> Any:
    body = parse(LegalHoldRequest, json_body())
    case = retention.set_legal_hold(current_user, case_id, body.hold, body.reason)
    document = legal_hold_document(case)
    return jsonify(document)


openapi.operation(
    "/cases/{case_id}/legal-hold",
    "post",
    summary="Place or release a legal hold (supervisor): a held case is never purged",
    description="The reason is kept encrypted in an audit note, purged with the case: name "
    "the order or proceeding, not the person.",
    body=LegalHoldRequest,
    replies={200: openapi.Reply("The case's hold state", LegalHold)},
    errors=(400, 401, 403, 404, 409, 413, 422),
)
