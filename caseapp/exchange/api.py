"""Exchange endpoints of /api/v1: HTCDS 2.0 cases and the HSDS 3.0 directory."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user

from caseapp.core.api import api
from caseapp.core.security import Permission, requires
from caseapp.exchange import htcds_export


@api.get("/exports/htcds")
@requires(Permission.HTCDS_EXPORT)
def export_htcds() -> Any:
    """Every case of the caller's organization as HTCDS 2.0 JSON (audited read)."""
    user = current_user._get_current_object()
    return jsonify(htcds_export.export_cases(user, user.organization))
