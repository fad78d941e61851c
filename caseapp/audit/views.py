"""Audit log viewer (admins): the chain, newest first, and its verification status."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from caseapp.audit import services
from caseapp.core.security import Permission, requires

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

PER_PAGE = 100


@bp.get("/")
@requires(Permission.AUDIT_VIEW)
def index() -> Any:
    before = request.args.get("before", type=int)
    if before is not None and not 0 < before < 2**62:
        before = None  # out of any sequence's range (too large was a 500 from the driver)
    # One more than a page: the "older" link shows only when there is something behind it.
    events = services.recent(PER_PAGE + 1, before_seq=before)
    older = events[PER_PAGE - 1].seq if len(events) > PER_PAGE else None
    check = services.verify() if request.args.get("verify") == "1" else None
    return render_template(
        "audit/index.html",
        events=events[:PER_PAGE],
        older=older,
        check=check,
        details=services.parse_details,
    )
