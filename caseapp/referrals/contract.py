"""Referral requests and responses of /api/v1 (api.md §5–6), declared once (ADR 0018)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field

from caseapp.core.contract import (
    Code,
    Contract,
    Explanation,
    Paged,
    Query,
    QueryBool,
    QueryCode,
    Shape,
    Text,
)
from caseapp.core.openapi import PageShape

MAX_NOTE = 2000
TEXT_2000 = "text of at most 2000 characters"


class ReferralQuery(Query):
    """``GET /api/v1/referrals`` filters."""

    direction: Annotated[
        str,
        QueryCode(
            "",
            values=("outgoing", "incoming"),
            blank=False,
            message="must be outgoing or incoming",
        ),
    ] = "outgoing"
    status: Annotated[
        str | None, QueryCode("referral_status", message="unknown status {value!r}")
    ] = None
    overdue: Annotated[bool, QueryBool()] = False


class ReferralListQuery(ReferralQuery, Paged):
    """``GET /api/v1/referrals``: the filters and the page."""


class SendRequest(Contract):
    """``POST /api/v1/referrals/{id}/send`` (a body is optional)."""

    consent_override_justification: Annotated[
        str | None,
        Explanation(
            10,
            100_000,
            message="explain why (at least 10 characters)",
            nullable=True,
            description="supervisors only: send without consent in an emergency",
        ),
    ] = None
    risk_notes: Annotated[str | None, Text(MAX_NOTE, not_text=TEXT_2000, too_long=TEXT_2000)] = None


class AssignRequest(Contract):
    """``POST /api/v1/referrals/{id}/assign``."""

    provider: Annotated[
        str,
        Explanation(
            1,
            200,
            message="required: the provider's directory code",
            description="directory code",
        ),
    ]


class DeclineRequest(Contract):
    """``POST /api/v1/referrals/{id}/decline``: the engine then re-routes (domain.md §5)."""

    reason: Annotated[
        str,
        Code(
            "decline_reason",
            null_message="required: no_capacity, not_eligible, unreachable or other",
            message="required: no_capacity, not_eligible, unreachable or other",
        ),
    ]
    note: Annotated[str | None, Text(MAX_NOTE, not_text=TEXT_2000, too_long=TEXT_2000)] = None


def _cancel_message() -> str:
    from caseapp.core import codes

    return f"required: one of {', '.join(codes.get('cancel_reason').codes)}"


class CancelRequest(Contract):
    """``POST /api/v1/referrals/{id}/cancel``: a coded reason (the audit log never holds
    free text); the note goes to the encrypted history only."""

    reason: Annotated[
        str,
        Code("cancel_reason", null_message=_cancel_message(), message=_cancel_message()),
    ]
    note: Annotated[str | None, Text(MAX_NOTE, not_text=TEXT_2000, too_long=TEXT_2000)] = None


# -- responses -----------------------------------------------------------------------------


class Consent(Shape):
    given: bool
    scope: list[str]
    given_by: str
    method: str
    withdrawn: bool
    recorded_at: datetime | None
    recorded_by: str | None = None


class Provider(Shape):
    code: str
    name: str
    region: str


class HistoryEntry(Shape):
    at: datetime | None
    from_: Annotated[str | None, Field(alias="from")]
    to: str
    action: str
    reason: str | None = None
    actor: str | None = None


class Referral(Shape):
    """The referring organization's view (api.md §4, §6)."""

    id: UUID
    case_id: UUID
    service_type: str
    priority: str
    provider: Provider | None
    status: Annotated[str, Code("referral_status")]
    requires_consent: bool
    due_at: datetime | None
    overdue: bool = False
    interpreter_language: str | None
    reasons: list[dict[str, Any]]
    rule: str = ""
    gap: dict[str, Any] | None = None
    previous_id: str | None = None
    decline_reason: str | None = None
    consent_overridden: bool = False
    escalated_at: datetime | None = None
    created_at: datetime | None = None
    history: list[HistoryEntry] = []


class ReferringOrganization(Shape):
    code: str
    name: str


class ReferredPerson(Shape):
    given_names: str | None
    family_names: str | None
    age_years: int | None = None
    age_group: str = ""
    sex: str
    gender_identity: str | None = None
    languages: list[str]
    needs: list[str]
    contact: str | None = None


class ReroutedTo(Shape):
    """decline only: the new referral (unassigned when a gap is left)"""

    id: UUID
    status: Annotated[str, Code("referral_status")]
    provider: Provider | None


_NO_CASE_DATA = {"not": {"anyOf": [{"required": ["case_id"]}, {"required": ["reasons"]}]}}


class ReferralView(Shape, json_schema_extra=_NO_CASE_DATA):
    """The receiving organization's limited view (domain.md §4): never the screening, its
    notes or the determination"""

    id: UUID
    service_type: str
    priority: str = ""
    status: Annotated[str, Code("referral_status")]
    due_at: datetime | None
    overdue: bool = False
    referring_organization: ReferringOrganization
    interpreter_language: str | None = None
    person: ReferredPerson
    risk_notes: str | None
    alerts: list[str]
    history: list[HistoryEntry]
    rerouted_to: ReroutedTo | None = None
    gap: dict[str, Any] | None = None


class ReferralPage(PageShape):
    items: list[Referral | ReferralView]
