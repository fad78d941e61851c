"""The directory query and response of /api/v1 (api.md §7), declared once (ADR 0018)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from caseapp.core.contract import Paged, QueryCode, QueryText, Shape
from caseapp.core.openapi import PageShape


class OrganizationQuery(Paged):
    """``GET /api/v1/organizations`` filters."""

    service_type: Annotated[
        str | None, QueryCode("service_type", message="unknown service type {value!r}")
    ] = None
    region: Annotated[str | None, QueryCode("region", message="unknown region {value!r}")] = None
    q: Annotated[str | None, QueryText(10_000)] = None


class Eligibility(Shape):
    min_age: int = 0
    max_age: int = 120
    sexes: str = ""
    accepts_transgender: bool = False
    accepts_foreign: bool = False
    nationalities: list[str] = []
    serves: list[str] = []


class DirectoryService(Shape):
    code: str
    name: str
    org_kind: str = ""
    region: str
    city: str | None = None
    service_type: str
    eligibility: Eligibility
    capacity: Annotated[int | None, Field(description="null = unknown")]
    occupancy: int | None = None
    hours: str
    languages: list[str] = []
    notes: str | None = None


class DirectoryPage(PageShape):
    items: list[DirectoryService]
