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
        422: "Validation failed; every bad field listed",
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
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
        }
    }


def path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


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
        "responses": {"200": {"description": "OpenAPI document"}},
    },
)
