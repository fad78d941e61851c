"""GET /api/v1/organizations — the directory with eligibility, capacity and hours."""

from __future__ import annotations

from typing import Any

from flask import request

from caseapp.core import codes, openapi
from caseapp.core.api import api, page_response, pagination
from caseapp.core.errors import ValidationFailed
from caseapp.core.security import Permission, requires
from caseapp.directory import services
from caseapp.directory.hours import parse_hours
from caseapp.directory.models import Service


def service_json(service: Service, occupancy: int | None = None) -> dict[str, Any]:
    org = service.organization
    return {
        "code": org.code,
        "name": org.name,
        "org_kind": org.org_kind,
        "region": org.region_code,
        "city": org.city,
        "service_type": service.service_type,
        "eligibility": {
            "min_age": service.min_age,
            "max_age": service.max_age,
            "sexes": service.sexes,
            "accepts_transgender": service.accepts_transgender,
            "accepts_foreign": service.accepts_foreign,
            "nationalities": service.nationalities,
            "serves": service.serves,
        },
        "capacity": service.capacity,
        "occupancy": occupancy,
        "hours": parse_hours(service.hours).canonical(),
        "languages": service.languages,
        "notes": org.notes,
    }


@api.get("/organizations")
@requires(Permission.DIRECTORY_VIEW)
def list_organizations() -> Any:
    page, per_page = pagination()
    errors: dict[str, list[str]] = {}
    service_type = request.args.get("service_type") or None
    region = request.args.get("region") or None
    if service_type and service_type not in codes.get("service_type"):
        errors["service_type"] = [f"unknown service type {service_type!r}"]
    if region and region not in codes.get("region"):
        errors["region"] = [f"unknown region {region!r}"]
    unknown = set(request.args) - {"service_type", "region", "q", "page", "per_page"}
    for name in sorted(unknown):
        errors[name] = ["unknown parameter"]
    if errors:
        raise ValidationFailed(errors)
    rows = services.search_services(
        service_type=service_type, region=region, q=request.args.get("q") or None
    )
    start = (page - 1) * per_page
    shown = rows[start : start + per_page]
    occupancy = services.occupancy_map(shown)
    return page_response(
        [service_json(s, occupancy.get(s.id)) for s in shown], page, per_page, len(rows)
    )


_text = {"type": ["string", "null"]}
_strings = {"type": "array", "items": {"type": "string"}}
openapi.register_schema(
    "DirectoryService",
    {
        "type": "object",
        "required": ["code", "name", "region", "service_type", "eligibility", "capacity", "hours"],
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "org_kind": {"type": "string"},
            "region": {"type": "string"},
            "city": _text,
            "service_type": {"type": "string"},
            "eligibility": {
                "type": "object",
                "properties": {
                    "min_age": {"type": "integer"},
                    "max_age": {"type": "integer"},
                    "sexes": {"type": "string"},
                    "accepts_transgender": {"type": "boolean"},
                    "accepts_foreign": {"type": "boolean"},
                    "nationalities": _strings,
                    "serves": _strings,
                },
            },
            "capacity": {"type": ["integer", "null"], "description": "null = unknown"},
            "occupancy": {"type": ["integer", "null"]},
            "hours": {"type": "string"},
            "languages": _strings,
            "notes": _text,
        },
    },
)
openapi.register_schema("DirectoryPage", openapi.page_of("DirectoryService"))
openapi.register(
    "/organizations",
    "get",
    {
        "summary": "Service directory",
        "parameters": [
            {"name": "service_type", "in": "query", "schema": openapi.code("service_type")},
            {"name": "region", "in": "query", "schema": openapi.code("region")},
            {"name": "q", "in": "query", "schema": {"type": "string"}},
            *openapi.page_parameters(),
        ],
        "responses": {
            "200": {"description": "A page of services", **openapi.json_content("DirectoryPage")},
            **openapi.error_responses(401, 403, 422),
        },
    },
)
