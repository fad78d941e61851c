"""The /api/v1 blueprint and helpers shared by every feature's ``api.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, request

from caseapp.core.errors import DomainError, ValidationFailed

api = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_PER_PAGE = 100
#: far beyond any real list, and small enough that the OFFSET fits a 64-bit integer
#: (an unbounded page number was a 500 from the database driver, found by fuzzing)
MAX_PAGE = 1_000_000


def json_body() -> dict[str, Any]:
    """The request's JSON object; malformed JSON is a 400, a non-object a 422."""
    if not request.is_json:
        raise DomainError(
            "Body must be JSON (Content-Type: application/json)", code="malformed_json"
        )
    data = request.get_json(silent=True)
    if data is None:
        raise DomainError("Body is not valid JSON", code="malformed_json")
    if not isinstance(data, dict):
        raise ValidationFailed({"$": ["must be a JSON object"]})
    return data


def pagination() -> tuple[int, int]:
    """``?page=`` and ``?per_page=`` alone (an endpoint with other parameters declares a
    query model deriving from :class:`caseapp.core.contract.Paged` instead)."""
    from caseapp.core.contract import Paged, parse, query_args

    query = parse(Paged, query_args(request.args))
    return query.page, query.per_page


def page_response(items: list[Any], page: int, per_page: int, total: int) -> Response:
    return jsonify({"items": items, "page": page, "per_page": per_page, "total": total})


def error_response(
    status: int,
    code: str,
    message: str,
    fields: Mapping[str, list[str]] | None = None,
    **extra: Any,
) -> tuple[Response, int]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = dict(fields)
    body.update(extra)
    return jsonify({"error": body}), status
