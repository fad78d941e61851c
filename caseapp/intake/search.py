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
from caseapp.core.api import api, json_body, page_response
from caseapp.core.contract import parse
from caseapp.core.crypto import DecryptionError
from caseapp.core.db import keyring
from caseapp.core.security import Permission, requires
from caseapp.intake.documents import case_summary
from caseapp.intake.shapes import CasePage
from caseapp.screening import services
from caseapp.screening.schema import CaseSearchRequest

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
@api.post("/cases/search")
@requires(Permission.CASE_READ)
def search_cases() -> Any:
    """``GET /api/v1/cases`` with the filters in the body, out of URLs and access logs."""
    body = parse(CaseSearchRequest, json_body())
    rows, total = services.list_cases(current_user, body.filters(), body.page, body.per_page)
    items = [case_summary(c) for c in rows]
    return page_response(items, body.page, body.per_page, total)


openapi.operation(
    "/cases/search",
    "post",
    summary="Search the cases of your organization (filters in the body, not the URL)",
    body=CaseSearchRequest,
    replies={200: openapi.Reply("A page of cases", CasePage)},
    errors=(400, 401, 403, 422),
)
