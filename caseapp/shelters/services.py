"""Shelter intake: admissions and discharges with capacity and eligibility (domain.md §6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from caseapp.accounts.models import User
from caseapp.audit import services as audit
from caseapp.core import codes
from caseapp.core.contract import parse
from caseapp.core.db import utcnow
from caseapp.core.errors import Conflict, NotFound, ValidationFailed
from caseapp.directory.models import Service
from caseapp.extensions import db
from caseapp.referrals import providers
from caseapp.referrals import rules as referral_rules
from caseapp.referrals import services as referrals
from caseapp.referrals.models import Referral
from caseapp.shelters.contract import AdmissionRequest, DischargeRequest
from caseapp.shelters.models import Admission, occupancy_by_service

_SKEW = timedelta(minutes=10)


def _when(value: datetime | None, key: str) -> datetime:
    """The time given (not in the future, by the database clock), else now."""
    now = utcnow()
    if value is not None and value.astimezone(UTC) > now.replace(microsecond=0) + _SKEW:
        raise ValidationFailed({key: ["cannot be in the future"]})
    return value or now


def admit(actor: User, payload: Any) -> Admission:
    """Admit the person of an accepted referral addressed to the actor's organization.

    Refused with a clear reason (409) when the shelter is full or the person is outside
    its eligibility (e.g. a child into an adult-only shelter)."""
    data = parse(AdmissionRequest, payload)
    admitted_at = _when(data.admitted_at, "admitted_at")
    bed, stay = data.bed, data.planned_stay_days
    referral, side = referrals.find_referral(actor, data.referral_id)
    if side != "receiving":
        raise NotFound("Referral not found")
    if referral.status != "accepted":
        raise Conflict(
            "Accept the referral before admitting the person",
            code="invalid_state",
            status=referral.status,
        )
    if db.session.scalar(sa.select(Admission.id).where(Admission.referral_id == referral.id)):
        raise Conflict("This referral already has an admission", code="already_admitted")
    # Lock the service row so two simultaneous admissions cannot overfill it.
    service = db.session.scalar(
        sa.select(Service).where(Service.id == referral.provider_service_id).with_for_update()
    )
    # Checked again under the lock: a twin request may have admitted meanwhile.
    if db.session.scalar(sa.select(Admission.id).where(Admission.referral_id == referral.id)):
        raise Conflict("This referral already has an admission", code="already_admitted")
    if service is None or service.service_type not in codes.RESIDENTIAL_SERVICES:
        raise Conflict("This service does not admit residents", code="not_residential")
    occupancy = occupancy_by_service([service.id]).get(service.id, 0)
    if service.capacity is not None and occupancy >= service.capacity:
        raise Conflict(
            f"The shelter is full ({occupancy} of {service.capacity} places taken)",
            code="shelter_full",
            occupancy=occupancy,
            capacity=service.capacity,
        )
    facts = providers.referral_facts(referral.screening, referrals.current_consent(referral.case))
    provider = providers.service_facts(service, occupancy)
    ok, why = referral_rules.eligible(provider, facts)
    if not ok:
        raise Conflict(
            _ELIGIBILITY_MESSAGES.get(
                why or "", "The person is outside this shelter's eligibility"
            ),
            code="not_eligible",
            reason=why,
        )
    admission = Admission(
        referral_id=referral.id,
        case_id=referral.case_id,
        organization_id=actor.organization_id,
        service_id=service.id,
        admitted_at=admitted_at,
        bed=bed,
        planned_stay_days=stay,
        created_by_id=actor.id,
    )
    db.session.add(admission)
    db.session.flush()
    referrals.record_step(actor, referral, "admit")
    audit.record(
        actor,
        "admission.create",
        object_type="case",
        object_id=referral.case.uuid,
        details={
            "admission": admission.uuid,
            "referral": referral.uuid,
            "service": service.id,
            "occupancy": occupancy + 1,
        },
    )
    return admission


_ELIGIBILITY_MESSAGES = {
    "age_out_of_range": "The person's age is outside this shelter's age range "
    "(e.g. a child cannot be admitted to an adult-only shelter)",
    "sex_not_served": "This shelter does not take people of this sex or gender identity",
    "transgender_not_accepted": "This shelter does not accept transgender people",
    "foreign_not_accepted": "This shelter does not accept foreign nationals",
    "nationality_not_served": "This shelter does not serve this nationality",
    "profile_not_served": "This shelter is dedicated to another profile",
    "inactive": "This shelter is not active",
}


def _own_admission(actor: User, admission_uuid: str) -> Admission:
    admission = db.session.scalar(
        sa.select(Admission).where(
            Admission.uuid == admission_uuid, Admission.organization_id == actor.organization_id
        )
    )
    if admission is None:
        raise NotFound("Admission not found")
    return admission


def discharge(actor: User, admission_uuid: str, payload: Any) -> Admission:
    data = parse(DischargeRequest, payload)
    when = _when(data.discharged_at, "discharged_at")
    reason, note = data.reason, data.note
    admission = _own_admission(actor, admission_uuid)
    if admission.discharged_at is not None:
        raise Conflict("Already discharged", code="already_discharged")
    if when < admission.admitted_at:
        raise ValidationFailed({"discharged_at": ["is before the admission"]})
    admission.discharged_at = when
    admission.discharge_reason = reason
    admission.discharge_note = note
    db.session.flush()
    referral = db.session.get(Referral, admission.referral_id)
    assert referral is not None
    referrals.record_step(actor, referral, "discharge", reason=reason)
    audit.record(
        actor,
        "admission.discharge",
        object_type="case",
        object_id=referral.case.uuid,
        details={"admission": admission.uuid, "reason": reason},
    )
    return admission


def admissions_of(actor: User, active_only: bool = True) -> list[Admission]:
    stmt = sa.select(Admission).where(Admission.organization_id == actor.organization_id)
    if active_only:
        stmt = stmt.where(Admission.discharged_at.is_(None))
    rows = list(db.session.scalars(stmt.order_by(Admission.admitted_at.desc())))
    # the page shows each resident's name: which cases were shown is part of the read
    cases = sorted({referral.case.uuid for referral in _referrals_of(rows).values()})
    audit.record(
        actor,
        "admission.list",
        object_type="admission",
        details={"count": len(rows), "cases": cases},
    )
    return rows


def _referrals_of(rows: list[Admission]) -> dict[int, Referral]:
    ids = [a.referral_id for a in rows]
    if not ids:
        return {}
    found = db.session.scalars(sa.select(Referral).where(Referral.id.in_(ids)))
    return {r.id: r for r in found}


def residents(actor: User) -> list[tuple[Admission, Referral]]:
    """Current residents with their referral (name, link), audited as one list read."""
    rows = admissions_of(actor)
    by_id = _referrals_of(rows)
    return [(a, by_id[a.referral_id]) for a in rows]


def admission_for_referral(referral_id: int) -> Admission | None:
    """The admission made from a referral, if any (shown on the referral's page)."""
    return db.session.scalar(sa.select(Admission).where(Admission.referral_id == referral_id))
