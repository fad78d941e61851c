"""Case search without personal data in URLs (issue 13, finding 9).

A search term is a full name or a document number. In a query string it lands in the
access log of every proxy and of gunicorn, in the browser's history and in ``Referer``
headers. So:

* the page's search form is a POST (CSRF-checked like every form); the filters are kept
  in the session, **encrypted** with the data key (the session is a signed, not an
  encrypted, cookie), and the browser is sent to ``/cases?search=1`` — a flag, no data;
* the API has ``POST /api/v1/cases/search`` with the filters in a JSON body (same
  answer as ``GET /api/v1/cases``, which stays for compatibility with api.md §5).

``config/gunicorn.conf.py`` also logs paths without query strings, for old links.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from flask import session
from flask_login import current_user

from caseapp.core import openapi
from caseapp.core.api import MAX_PAGE, MAX_PER_PAGE, api, json_body, only_fields, page_response
from caseapp.core.crypto import DecryptionError
from caseapp.core.db import keyring
from caseapp.core.errors import ValidationFailed
from caseapp.core.security import Permission, requires
from caseapp.extensions import db
from caseapp.intake.documents import case_summary
from caseapp.screening import services

FIELDS = ("status", "region", "determination", "q")
_SESSION_KEY = "_case_search"
_CONTEXT = "session.case_search"
_MAX = 201  # one more than parse_filters allows, so an overlong term is still refused


# -- pages -------------------------------------------------------------------------------
def remember(form: Mapping[str, Any]) -> None:
    """Keep the submitted filters in the session, encrypted."""
    values = {k: str(form.get(k) or "")[:_MAX] for k in FIELDS}
    blob = keyring().encrypt(json.dumps(values), context=_CONTEXT)
    session[_SESSION_KEY] = base64.urlsafe_b64encode(blob).decode("ascii")


def recall() -> dict[str, str]:
    """The filters of the last search form (empty when none, or unreadable)."""
    raw = session.get(_SESSION_KEY)
    if not isinstance(raw, str):
        return {}
    try:
        loaded = json.loads(keyring().decrypt(base64.urlsafe_b64decode(raw), context=_CONTEXT))
    except (DecryptionError, ValueError):
        session.pop(_SESSION_KEY, None)
        return {}
    return {k: str(loaded.get(k) or "") for k in FIELDS if loaded.get(k)}


# -- API -----------------------------------------------------------------------------------
def _page_of(body: Mapping[str, Any]) -> tuple[int, int]:
    errors: dict[str, list[str]] = {}
    page, per_page = body.get("page", 1), body.get("per_page", 20)
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= MAX_PAGE:
        errors["page"] = [f"must be an integer from 1 to {MAX_PAGE}"]
    bad = isinstance(per_page, bool) or not isinstance(per_page, int)
    if bad or not 1 <= per_page <= MAX_PER_PAGE:
        errors["per_page"] = [f"must be an integer from 1 to {MAX_PER_PAGE}"]
    if errors:
        raise ValidationFailed(errors)
    return page, per_page


@api.post("/cases/search")
@requires(Permission.CASE_READ)
def search_cases() -> Any:
    """``GET /api/v1/cases`` with the filters in the body, out of URLs and access logs."""
    body = json_body()
    only_fields(body, {*FIELDS, "page", "per_page"})
    wrong = {k: ["must be a string"] for k in FIELDS if k in body and not isinstance(body[k], str)}
    if wrong:
        raise ValidationFailed(wrong)
    page, per_page = _page_of(body)
    filters = services.parse_filters({k: body[k] for k in FIELDS if body.get(k)})
    rows, total = services.list_cases(current_user, filters, page, per_page)
    items = [case_summary(c) for c in rows]
    db.session.commit()  # the listing is audited (without the search term)
    return page_response(items, page, per_page, total)


openapi.register(
    "/cases/search",
    "post",
    {
        "summary": "Search the cases of your organization (filters in the body, not the URL)",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "status": {"type": "string", "enum": ["open", "closed"]},
                            "region": {"type": "string"},
                            "determination": {"type": "string"},
                            "q": {
                                "type": "string",
                                "maxLength": 200,
                                "description": "exact full name or document number",
                            },
                            "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                            "per_page": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_PER_PAGE,
                            },
                        },
                    }
                }
            },
        },
        "responses": {
            "200": {
                "description": "A page of cases",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/CasePage"}}
                },
            },
            **openapi.error_responses(400, 401, 403, 422),
        },
    },
)
