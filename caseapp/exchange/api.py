"""Exchange endpoints of /api/v1: HTCDS 2.0 cases and the HSDS 3.0 directory."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user

from caseapp.core import openapi
from caseapp.core.api import api
from caseapp.core.security import Permission, requires
from caseapp.exchange import hsds, htcds_export
from caseapp.exchange import import_reader as _import_reader  # noqa: F401 (flask import run … --profile htcds)


@api.get("/exports/htcds")
@requires(Permission.HTCDS_EXPORT)
def export_htcds() -> Any:
    """Every case of the caller's organization as HTCDS 2.0 JSON (audited read)."""
    user = current_user._get_current_object()
    return jsonify(htcds_export.export_cases(user, user.organization))


@api.get("/exports/hsds")
@requires(Permission.DIRECTORY_VIEW)
def export_hsds() -> Any:
    """The service directory as Open Referral HSDS 3.0 organizations and services."""
    return jsonify(hsds.export_directory(current_user))


_OBJECT = {"application/json": {"schema": {"type": "object"}}}
openapi.operation(
    "/exports/htcds",
    "get",
    summary="Every case of the caller's organization as HTCDS 2.0 JSON with the Ruta "
    "extension (supervisors; docs/exchange.md)",
    replies={200: openapi.Reply("The HTCDS exchange file", content=_OBJECT)},
    errors=(401, 403),
)
openapi.operation(
    "/exports/hsds",
    "get",
    summary="The service directory as Open Referral HSDS 3.0 (docs/exchange.md)",
    replies={200: openapi.Reply("Organizations and services", content=_OBJECT)},
    errors=(401, 403),
)
