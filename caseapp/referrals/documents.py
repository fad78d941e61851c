"""JSON documents of referrals: the full view for the referring organization and the
limited view for the receiving one (domain.md §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from caseapp.core.db import utcnow
from caseapp.core.time import iso
from caseapp.extensions import db
from caseapp.referrals import rules
from caseapp.referrals.models import Consent, GapRecord, Referral


def provider_json(referral: Referral) -> dict[str, Any] | None:
    org = referral.provider_org
    if org is None:
        return None
    return {"code": org.code, "name": org.name, "region": org.region_code}


def referral_document(
    referral: Referral, now: datetime | None = None, *, history: bool = False
) -> dict[str, Any]:
    """api.md §4 referral object, plus tracking fields (overdue, gap, links)."""
    now = now or utcnow()
    doc: dict[str, Any] = {
        "id": referral.uuid,
        "case_id": referral.case.uuid,
        "service_type": referral.service_type,
        "priority": referral.priority,
        "provider": provider_json(referral),
        "status": referral.status,
        "requires_consent": referral.requires_consent,
        "due_at": iso(referral.due_at),
        "overdue": rules.is_overdue(referral.status, referral.due_at, now),
        "interpreter_language": referral.interpreter_language,
        "reasons": list(referral.reasons),
        "rule": referral.rule,
        "gap": referral.gap,
        "previous_id": referral.previous.uuid if referral.previous else None,
        "decline_reason": referral.decline_reason,
        "consent_overridden": referral.consent_overridden,
        "escalated_at": iso(referral.escalated_at),
        "created_at": iso(referral.created_at),
    }
    if history:
        doc["history"] = history_json(referral)
    return doc


def history_json(referral: Referral) -> list[dict[str, Any]]:
    return [
        {
            "at": iso(e.at),
            "from": e.from_status,
            "to": e.to_status,
            "action": e.action,
            "reason": e.reason,
            "actor": e.actor.email if e.actor else None,
        }
        for e in referral.events
    ]


def receiving_view(referral: Referral, now: datetime | None = None) -> dict[str, Any]:
    """Only what the receiving organization needs (domain.md §4): name, age, sex,
    language, needs, contact and risk notes — never the screening itself."""
    now = now or utcnow()
    person = referral.case.person
    screening = referral.screening
    return {
        "id": referral.uuid,
        "service_type": referral.service_type,
        "priority": referral.priority,
        "status": referral.status,
        "due_at": iso(referral.due_at),
        "overdue": rules.is_overdue(referral.status, referral.due_at, now),
        "referring_organization": {
            "code": referral.referring_org.code,
            "name": referral.referring_org.name,
        },
        "interpreter_language": referral.interpreter_language,
        "person": {
            "given_names": person.given_names,
            "family_names": person.family_names,
            "age_years": screening.age_years,
            "age_group": screening.age_group,
            "sex": person.sex,
            "gender_identity": person.gender_identity,
            "languages": list(person.languages),
            "needs": list(screening.needs),
            "contact": person.contact,
        },
        "risk_notes": referral.risk_notes,
        "alerts": [a for a in screening.alerts if a in RISK_ALERTS],
        "history": history_json(referral),
    }


RISK_ALERTS = frozenset({"child_not_in_police_station", "interpreter_needed", "age_unknown_verify"})


def consent_json(consent: Consent | None) -> dict[str, Any] | None:
    if consent is None:
        return None
    return {
        "given": consent.given,
        "scope": list(consent.scope),
        "given_by": consent.given_by,
        "method": consent.method,
        "withdrawn": consent.is_withdrawal,
        "recorded_at": iso(consent.recorded_at),
        "recorded_by": consent.recorded_by.email if consent.recorded_by else None,
    }


def screening_sections(screening_id: int) -> tuple[list[Referral], list[GapRecord]]:
    referrals = list(
        db.session.scalars(
            sa.select(Referral)
            .where(Referral.screening_id == screening_id)
            .options(selectinload(Referral.provider_org))  # one query, not one per referral
            .order_by(Referral.id)
        )
    )
    gaps = list(
        db.session.scalars(
            sa.select(GapRecord)
            .where(GapRecord.screening_id == screening_id)
            .order_by(GapRecord.id)
        )
    )
    return referrals, gaps


def gap_json(gap: GapRecord) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "code": gap.code,
        "service_type": gap.service_type,
        "es": gap.es,
        "en": gap.en,
    }
    if gap.next_opening is not None:
        doc["next_opening"] = iso(gap.next_opening)
    return doc
