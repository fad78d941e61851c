"""GET /api/v1/organizations — the directory with eligibility, capacity and hours."""

from __future__ import annotations

from typing import Any

from flask import request

from caseapp.core import openapi
from caseapp.core.api import api, page_response
from caseapp.core.contract import parse, query_args
from caseapp.core.security import Permission, requires
from caseapp.directory import services
from caseapp.directory.contract import DirectoryPage, OrganizationQuery
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
    query = parse(OrganizationQuery, query_args(request.args))
    page, per_page = query.page, query.per_page
    rows = services.search_services(service_type=query.service_type, region=query.region, q=query.q)
    start = (page - 1) * per_page
    shown = rows[start : start + per_page]
    occupancy = services.occupancy_map(shown)
    return page_response(
        [service_json(s, occupancy.get(s.id)) for s in shown], page, per_page, len(rows)
    )


openapi.operation(
    "/organizations",
    "get",
    summary="Service directory",
    query=OrganizationQuery,
    replies={200: openapi.Reply("A page of services", DirectoryPage)},
    errors=(401, 403, 422),
)
