"""The screening request (api.md §4) and the case requests (§5), declared once.

These pydantic models are the contract (ADR 0018): :func:`parse_screening` validates a
request with them, the services read the typed result, and the OpenAPI document is
generated from them. Every problem is reported with its field path (``person.sex``,
``acts[2]``); unknown fields are rejected so a typo never drops data silently; nothing is
saved unless the whole request is valid.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from caseapp.core.api import MAX_PAGE, MAX_PER_PAGE
from caseapp.core.contract import (
    CLOCK_SKEW,
    NO_NUL,
    Code,
    Codes,
    Contract,
    Date,
    DateTime,
    Explanation,
    Flag,
    Given,
    Integer,
    Paged,
    Problems,
    Query,
    QueryCode,
    QueryText,
    Text,
    WholeNumber,
    now_of,
    parse,
    problem,
)
from caseapp.core.time import LIMA
from caseapp.screening.age_consistency import age_dob_conflicts

MAX_TEXT = 10_000
MAX_NAME = 200
MAX_SHORT = 500
MAX_DOCUMENT = 40
UNKNOWN_ALLOWED = 'required (use "unknown" when not known)'

_BLANK = {"anyOf": [{"type": "null"}, {"type": "string", "pattern": "^\\s*$"}]}
_DOCUMENT_RULES: dict[str, Any] = {
    "description": 'number required unless type is "none" (and empty when it is)',
    "if": {"properties": {"type": {"const": "none"}}},
    "then": {"properties": {"number": _BLANK}},
    "else": {
        "required": ["number"],
        "properties": {"number": {"type": "string", "pattern": "^[^\\x00]*[^\\s\\x00][^\\x00]*$"}},
    },
}


class DocumentInput(Contract, json_schema_extra=_DOCUMENT_RULES):
    """An identity document: a number is required with every type but ``none``."""

    type: Annotated[
        str, Code("document_type", null_message='required (use "none" when there is none)')
    ]
    number: Annotated[str | None, Text(MAX_DOCUMENT)] = None

    @model_validator(mode="after")
    def _number_matches_type(self) -> DocumentInput:
        if self.type != "none" and not self.number:
            raise Problems({"number": "required when a document type is given"})
        if self.type == "none" and self.number:
            raise Problems({"number": 'must be empty when the type is "none"'})
        return self

    @property
    def recorded(self) -> DocumentInput | None:
        """The document as stored: ``none`` means no document."""
        return None if self.type == "none" else self


class PersonInput(Contract):
    sex: Annotated[str, Code("sex", null_message=UNKNOWN_ALLOWED)]
    given_names: Annotated[str | None, Text(MAX_NAME)] = None
    family_names: Annotated[str | None, Text(MAX_NAME)] = None
    gender_identity: Annotated[str | None, Code("gender_identity", nullable=True)] = None
    lgbtqi: Annotated[bool | None, Flag(nullable=True)] = None
    date_of_birth: Annotated[
        date | None,
        Date(
            years=(date.today().year - 119, 2000),
            description="not after identified_at, at most 120 years before it (the "
            "pattern states years that are valid with any identified_at the document allows)",
        ),
    ] = None
    age_years: Annotated[int | None, WholeNumber(0, 120)] = None
    age_estimated: Annotated[bool, Flag()] = False
    appears_minor: Annotated[bool | None, Flag(nullable=True)] = None
    nationality: Annotated[tuple[str, ...], Codes("nationality")] = ()
    document: DocumentInput | None = None
    languages: Annotated[tuple[str, ...], Codes("language")] = ()
    pregnant: Annotated[bool, Flag()] = False
    disability: Annotated[bool, Flag()] = False
    migration_status: Annotated[str | None, Code("migration_status", nullable=True)] = None
    unaccompanied: Annotated[bool, Flag()] = False
    contact: Annotated[str | None, Text(MAX_SHORT)] = None
    address: Annotated[str | None, Text(MAX_SHORT)] = None


class ContextInput(Contract):
    origin_region: Annotated[str | None, Code("region", nullable=True)] = None
    exploitation_region: Annotated[str | None, Code("region", nullable=True)] = None
    sector: Annotated[str | None, Code("sector", nullable=True)] = None
    trafficker_relation: Annotated[str | None, Code("trafficker_relation", nullable=True)] = None
    recruitment_method: Annotated[str | None, Code("recruitment_method", nullable=True)] = None
    public_official_involved: Annotated[bool, Flag()] = False
    multiple_victims: Annotated[bool, Flag()] = False
    criminal_organization: Annotated[bool, Flag()] = False
    serious_injury_or_death: Annotated[bool, Flag()] = False


#: consent.md rules that JSON schema can state: "all" stands alone; a consent given with a
#: scope names at least one service type.
_CONSENT_RULES: dict[str, Any] = {
    "description": "given: false after a consent = withdrawal (domain.md §4)",
    "allOf": [
        {
            "not": {
                "required": ["scope"],
                "properties": {
                    "scope": {
                        "type": "array",
                        "allOf": [
                            {"contains": {"const": "all"}},
                            {"contains": {"not": {"const": "all"}}},
                        ],
                    }
                },
            }
        },
        {
            "if": {"required": ["given", "scope"], "properties": {"given": {"const": True}}},
            "then": {"properties": {"scope": {"type": "array", "minItems": 1}}},
        },
    ],
}


class ConsentRequest(Contract, json_schema_extra=_CONSENT_RULES):
    """Consent given, refused or withdrawn (api.md §5): ``["all"]`` alone or service types."""

    given: Annotated[bool, Flag()]
    scope: Annotated[
        tuple[str, ...],
        Codes(
            "service_type",
            extra=("all",),
            description='["all"] alone, or service types (consulate must be named)',
        ),
    ] = ("all",)
    given_by: Annotated[str, Code("consent_given_by", nullable=True, null="person")] = "person"
    method: Annotated[str, Code("consent_method", nullable=True, null="verbal")] = "verbal"

    @model_validator(mode="after")
    def _scope(self) -> ConsentRequest:
        if "all" in self.scope and len(self.scope) > 1:
            raise Problems({"scope": 'use ["all"] alone or a list of service types'})
        if not self.scope:
            if self.given and "scope" in self.model_fields_set:
                raise Problems({"scope": 'name at least one service type, or ["all"]'})
            self.scope = ("all",)
        return self


class ScreeningRequest(Contract):
    """``POST /api/v1/screenings``: who was identified, and the art. 129-A elements."""

    identified_at: Annotated[
        datetime,
        DateTime(
            what="a date-time with offset, e.g. 2026-03-14T22:30:00-05:00",
            description="with offset; not in the future; defaults to now",
        ),
    ] = Field(default=None, validate_default=True)  # None: now
    region: Annotated[str, Code("region", null_message=UNKNOWN_ALLOWED)]
    identification_context: Annotated[str | None, Code("identification_context", nullable=True)] = (
        None
    )
    person: PersonInput
    acts: Annotated[tuple[str, ...], Codes("act")]
    means: Annotated[tuple[str, ...], Codes("means")]
    purposes: Annotated[tuple[str, ...], Codes("purpose")]
    indicators: Annotated[tuple[str, ...], Codes("indicator")] = ()
    stated_consent: Annotated[bool, Flag()] = False
    context: ContextInput | None = Field(default_factory=ContextInput)
    needs: Annotated[tuple[str, ...], Codes("need")] = ()
    consent: ConsentRequest | None = None
    notes: Annotated[str | None, Text(MAX_TEXT)] = None

    # Field validators, not a model validator: each runs even when other fields are bad,
    # so every offending field is listed at once (api.md §3).
    @field_validator("identified_at", mode="after")
    @classmethod
    def _not_in_the_future(cls, value: datetime | None, info: ValidationInfo) -> datetime:
        now = now_of(info)
        if value is None:
            return now
        if value > now + CLOCK_SKEW:
            raise problem("cannot be in the future")
        return value

    @field_validator("person", mode="after")
    @classmethod
    def _born_before(cls, person: PersonInput, info: ValidationInfo) -> PersonInput:
        dob, identified_at = person.date_of_birth, info.data.get("identified_at")
        if dob is None or identified_at is None:
            return person
        if dob > identified_at.date():
            raise Problems({"date_of_birth": "is after the date of identification"})
        if dob.year < identified_at.year - 120:
            raise Problems({"date_of_birth": "is more than 120 years before identification"})
        # an age that contradicts the date of birth is never silently resolved (domain.md §2)
        conflicts = age_dob_conflicts(dob, person.age_years, identified_at.astimezone(LIMA).date())
        if conflicts:
            raise Problems({path.removeprefix("person."): m for path, m in conflicts.items()})
        return person

    @field_validator("context", mode="after")
    @classmethod
    def _nothing_known(cls, value: ContextInput | None) -> ContextInput:
        return value or ContextInput()  # stored (and replayed) as "nothing known"

    @property
    def context_facts(self) -> ContextInput:
        """The context (``null`` or left out: nothing known)."""
        return self.context or ContextInput()


#: The names the services (and older callers) use for the parsed requests.
ScreeningInput = ScreeningRequest
ConsentInput = ConsentRequest


def _lima_date(at: datetime) -> date:
    """The identification date as the rules count it (Lima)."""
    return at.astimezone(LIMA).date()


def parse_screening(payload: Any, *, now: datetime | None = None) -> ScreeningInput:
    """Validate a screening request; raise :class:`ValidationFailed` listing every field."""
    return parse(ScreeningRequest, payload, now=now)


# -- the other screening and case requests ---------------------------------------------------


class OverrideRequest(Contract):
    """``POST /api/v1/screenings/{id}/override`` (supervisor)."""

    status: Annotated[
        str,
        Code(
            "determination_status",
            null_message="must be indicated, possible or not_indicated",
            message="must be indicated, possible or not_indicated",
        ),
    ]
    justification: Annotated[
        str,
        Explanation(
            10,
            5000,
            message="required: explain the reason (at least 10 characters)",
            description="at least 10 characters besides spaces",
        ),
    ]


class CasePersonPatch(Contract):
    given_names: Annotated[str | None, Text(MAX_NAME)] = None
    family_names: Annotated[str | None, Text(MAX_NAME)] = None
    contact: Annotated[str | None, Text(MAX_SHORT)] = None
    address: Annotated[str | None, Text(MAX_SHORT)] = None
    languages: Annotated[tuple[str, ...], Codes("language")] = ()
    document: DocumentInput | None = None


class CasePatch(Contract):
    """``PATCH /api/v1/cases/{id}``: only the fields sent change (send the version read)."""

    version: Annotated[int, Integer("must be the integer version you read")]
    status: Annotated[str | None, Code("case_status", nullable=True)] = None
    person: CasePersonPatch = Field(default=None)  # type: ignore[assignment]  # null: 422

    def person_changes(self) -> dict[str, Any]:
        """The person fields sent, with their new values (``None`` clears)."""
        if self.person is None:
            return {}
        changes: dict[str, Any] = {}
        for key in self.person.model_fields_set:
            value = getattr(self.person, key)
            if isinstance(value, DocumentInput):
                value = value.recorded
            elif isinstance(value, tuple):
                value = list(value)
            changes[key] = value
        return changes


_CASE_STATUS = QueryCode("case_status", message="must be open or closed")
_REGION = QueryCode("region", message="unknown region {value!r}")
_DETERMINATION = QueryCode("determination_status", message="unknown status {value!r}")
_SEARCH = QueryText(200, description="exact full name or document number (blind index search)")


class CaseQuery(Query):
    """``GET /api/v1/cases`` filters (blank = not given)."""

    status: Annotated[str | None, _CASE_STATUS] = None
    region: Annotated[str | None, _REGION] = None
    determination: Annotated[str | None, _DETERMINATION] = None
    q: Annotated[str | None, _SEARCH] = None


class CaseListQuery(CaseQuery, Paged):
    """``GET /api/v1/cases``: the filters and the page."""


class CaseSearchRequest(Contract):
    """``POST /api/v1/cases/search``: the filters of ``GET /api/v1/cases`` in a JSON body,
    out of URLs and access logs (issue 13); text only, ``""`` = not given."""

    status: Annotated[str | None, Given(_CASE_STATUS)] = None
    region: Annotated[str | None, Given(_REGION)] = None
    determination: Annotated[str | None, Given(_DETERMINATION)] = None
    q: Annotated[str | None, Given(_SEARCH)] = None
    page: Annotated[
        int,
        WholeNumber(
            1, MAX_PAGE, nullable=False, message=f"must be an integer from 1 to {MAX_PAGE}"
        ),
    ] = 1
    per_page: Annotated[
        int,
        WholeNumber(
            1, MAX_PER_PAGE, nullable=False, message=f"must be an integer from 1 to {MAX_PER_PAGE}"
        ),
    ] = 20

    def filters(self) -> CaseQuery:
        """The filters, as ``GET /api/v1/cases`` reads them (already validated)."""
        return CaseQuery.model_construct(
            **self.model_dump(include={"status", "region", "determination", "q"})
        )


__all__ = [
    "NO_NUL",
    "CasePatch",
    "CaseQuery",
    "ConsentInput",
    "ConsentRequest",
    "ContextInput",
    "DocumentInput",
    "OverrideRequest",
    "PersonInput",
    "ScreeningInput",
    "ScreeningRequest",
    "parse_screening",
]
