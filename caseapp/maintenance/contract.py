"""The legal hold request and response (docs/decisions/0009), declared once (ADR 0018)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from caseapp.core.contract import Contract, Explanation, Flag, Shape
from caseapp.maintenance.retention import MAX_REASON


class LegalHoldRequest(Contract):
    """``POST /api/v1/cases/{id}/legal-hold`` (supervisor)."""

    hold: Annotated[bool, Flag(message="required: true to place a legal hold, false to release it")]
    reason: Annotated[
        str,
        Explanation(
            10, MAX_REASON, message="required: the order or proceeding (at least 10 characters)"
        ),
    ]


class LegalHold(Shape):
    case_id: UUID
    legal_hold: bool
    purged_at: datetime | None
    version: int
