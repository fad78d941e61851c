"""The HTCDS download page for supervisors."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from caseapp.core.db import utcnow
from caseapp.core.security import Permission, requires
from caseapp.core.time import LIMA
from caseapp.exchange import htcds_export

bp = Blueprint("exchange", __name__, url_prefix="/exports")


@bp.get("/htcds")
@requires(Permission.HTCDS_EXPORT)
def htcds_page() -> Any:
    """The page, or with ``?download=1`` the file of every case of the organization."""
    if request.args.get("download") != "1":
        return render_template("exchange/htcds.html")
    user = current_user._get_current_object()
    doc = htcds_export.export_cases(user, user.organization)
    stamp = utcnow().astimezone(LIMA).strftime("%Y%m%d-%H%M")
    name = f"ruta-htcds-{user.organization.code}-{stamp}.json"
    return Response(
        json.dumps(doc, ensure_ascii=False, indent=1),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
