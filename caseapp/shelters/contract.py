"""Shelter intake requests and responses of /api/v1 (api.md §7), declared once (ADR 0018)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from caseapp.core.contract import Code, Contract, DateTime, Identifier, Shape, Text, WholeNumber


class AdmissionRequest(Contract):
    """``POST /api/v1/admissions``: admit the person of an accepted referral."""

    referral_id: Annotated[str, Identifier("must be the referral's id")]
    admitted_at: Annotated[
        datetime | None,
        DateTime(description="with offset; not in the future; defaults to now"),
    ] = None
    bed: Annotated[str | None, Text(20)] = None
    planned_stay_days: Annotated[int | None, WholeNumber(1, 3650)] = None


class DischargeRequest(Contract):
    """``POST /api/v1/admissions/{id}/discharge``."""

    discharged_at: Annotated[
        datetime | None,
        DateTime(description="with offset; not before the admission nor in the future"),
    ] = None
    reason: Annotated[str | None, Code("discharge_reason", nullable=True)]
    note: Annotated[str | None, Text(2000)] = None


class Admission(Shape):
    id: UUID
    referral_id: str
    provider: str
    admitted_at: datetime | None
    bed: str | None = None
    planned_stay_days: int | None = None
    discharged_at: datetime | None
    discharge_reason: str | None = None
