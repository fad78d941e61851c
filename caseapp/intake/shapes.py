"""The screening and case documents of /api/v1 (api.md §4–5), declared for the OpenAPI
document (ADR 0018); ``documents.py`` builds them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field

from caseapp.core.contract import Code, Shape
from caseapp.core.openapi import PageShape
from caseapp.referrals.contract import Consent, Referral


class Reason(Shape):
    code: str
    es: str
    en: str


class Determination(Shape):
    status: Annotated[str, Code("determination_status")]
    missing_elements: list[str]
    aggravating: list[str]
    exploitation_form: str
    explanation: list[Reason]


class Override(Shape):
    status: Annotated[str, Code("determination_status")]
    justification: str
    by: str | None
    at: datetime | None


class Profile(Shape):
    tags: list[str]
    age_group: str
    unodc_category: str


class Gap(Shape):
    code: str
    service_type: str | None
    es: str
    en: str
    next_opening: datetime | None = None


class Screening(Shape):
    id: UUID
    case_id: UUID
    rule_version: str
    identified_at: datetime | None = None
    region: str = ""
    determination: Determination
    override: Override | None = None
    profile: Profile
    referrals: list[Referral]
    gaps: list[Gap]
    alerts: list[Reason]


class CaseSummaryPerson(Shape):
    given_names: str | None
    family_names: str | None
    sex: str
    age_years: int | None


class CaseSummary(Shape):
    id: UUID
    status: Annotated[str, Code("case_status")]
    determination: Annotated[str, Code("determination_status")]
    region: str
    created_at: datetime | None
    updated_at: datetime | None
    version: Annotated[int, Field(ge=1)]
    person: CaseSummaryPerson


class CasePage(PageShape):
    items: list[CaseSummary]


class CaseDocument(Shape):
    type: str = ""
    number: str | None = None


class CasePerson(Shape):
    given_names: str | None = None
    family_names: str | None = None
    sex: str
    gender_identity: str | None = None
    lgbtqi: bool | None = None
    date_of_birth: str | None = None
    age_years: int | None = None
    age_estimated: bool = False
    appears_minor: bool | None = None
    nationality: list[str]
    document: CaseDocument | None
    languages: list[str]
    pregnant: bool = False
    disability: bool = False
    migration_status: str | None = None
    unaccompanied: bool = False
    contact: str | None = None
    address: str | None = None


class CaseEvent(Shape):
    at: datetime | None
    actor: str | None
    action: str
    flagged: bool


class Case(Shape):
    id: UUID
    status: Annotated[str, Code("case_status")]
    determination: Annotated[str, Code("determination_status")]
    region: str
    created_at: datetime | None
    updated_at: datetime | None
    version: Annotated[int, Field(ge=1)]
    person: CasePerson
    screenings: list[Screening]
    referrals: list[Referral]
    consent: Consent | None
    history: list[CaseEvent]
