"""OpenAPI 3.1 description of /api/v1, assembled from what each feature registers."""

from __future__ import annotations

import copy
from typing import Any

_PATHS: dict[str, dict[str, Any]] = {}
_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
    },
}


def error_responses(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Malformed request",
        401: "Missing or invalid token",
        403: "Role not allowed",
        404: "Not found (or not visible to your organization)",
        409: "Conflict",
        413: "Body larger than 5 MB",
        422: "Validation failed; every bad field listed (also: NUL characters anywhere)",
    }
    return {
        str(s): {
            "description": text.get(s, "Error"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for s in statuses
    }


def json_content(schema_name: str) -> dict[str, Any]:
    return {
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}
    }


def path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def code(list_name: str, *, nullable: bool = False, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """A code of one of ``caseapp.core.codes``' lists (the single source of code lists)."""
    from caseapp.core import codes

    values: list[Any] = [*codes.get(list_name).codes, *extra]
    if nullable:
        return {"type": ["string", "null"], "enum": [*values, None]}
    return {"type": "string", "enum": values}


def codes_array(list_name: str, *, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "array", "items": code(list_name, extra=extra)}


def page_number() -> dict[str, Any]:
    from caseapp.core.api import MAX_PAGE

    return {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}


def page_parameters() -> list[dict[str, Any]]:
    """The ``page`` and ``per_page`` query parameters of a list endpoint (api.md §3)."""
    from caseapp.core.api import MAX_PER_PAGE

    return [
        {"name": "page", "in": "query", "schema": page_number()},
        {
            "name": "per_page",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        },
    ]


def page_of(schema_name: str) -> dict[str, Any]:
    """A page of a list endpoint (api.md §3)."""
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{schema_name}"}},
            "page": page_number(),
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
        },
    }


def register(path: str, method: str, operation: dict[str, Any]) -> None:
    _PATHS.setdefault(path, {})[method.lower()] = operation


def register_schema(name: str, schema: dict[str, Any]) -> None:
    _SCHEMAS[name] = schema


def build_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ruta API",
            "version": "1",
            "description": "Screening, referrals, shelter intake and statistics (api.md).",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": copy.deepcopy(_PATHS),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": copy.deepcopy(_SCHEMAS),
        },
    }


register(
    "/openapi.json",
    "get",
    {
        "summary": "This document",
        "security": [],
        "responses": {"200": {"description": "OpenAPI document"}, **error_responses(422)},
    },
)
