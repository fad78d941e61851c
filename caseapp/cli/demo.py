"""The demo's organizations and its walk through the referral lifecycle (issue 14).

`flask demo users` needs two organizations that are not in the service directory (the
statistician's and the administrator's); `flask demo cases` screens the demo cases and then
walks some of their referrals through sent → accepted → admitted with the receiving side's
demo users, so every role has something to look at. Development only: the commands refuse
in production before calling anything here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from caseapp.accounts.models import Organization, User
from caseapp.extensions import db
from caseapp.referrals import services as referrals
from caseapp.referrals.models import Referral
from caseapp.screening.models import Screening
from caseapp.shelters import services as shelters

#: Organizations without services (they never receive referrals): code, name, kind, region.
DEMO_ORGANIZATIONS = (
    ("INEI-DEMO", "Instituto Nacional de Estadística e Informática (INEI, demo)", "other", "1501"),
    ("RUTA-OPERADOR", "Operador de Ruta (demo)", "other", "1501"),
)


def ensure_organizations() -> int:
    """Create the demo's organizations that the directory does not have; returns how many."""
    existing = set(db.session.scalars(sa.select(Organization.code)))
    created = 0
    for code, name, kind, region in DEMO_ORGANIZATIONS:
        if code not in existing:
            db.session.add(Organization(code=code, name=name, org_kind=kind, region_code=region))
            created += 1
    db.session.flush()
    return created


@dataclass(frozen=True)
class Step:
    """How far one referral of a demo case goes: ``sent``, ``accepted`` or ``admitted``."""

    service_type: str
    until: str
    risk_notes: str | None = None
    bed: str | None = None


#: Per demo case (by given names): the consent to record (None: the one given at screening
#: is enough) and the referrals to walk. The rest stay as the rules left them.
WALKS: Mapping[str, tuple[dict[str, object] | None, tuple[Step, ...]]] = {
    "Rosa": (
        {"given": True, "scope": ["all"], "given_by": "upe", "method": "written"},
        (
            Step("mimp_upe", "accepted", risk_notes="El captor conoce a la familia."),
            Step("car_specialized_trafficking", "admitted", bed="H-2"),
        ),
    ),
    "Wilber": (None, (Step("ngo_shelter", "admitted", bed="B-1"),)),
    "Daniela": (
        {"given": True, "scope": ["all"], "given_by": "person", "method": "verbal"},
        (Step("ngo_shelter", "sent"),),
    ),
}


def walk_cases(referring: User, receivers: Iterable[User], screenings: list[Screening]) -> int:
    """Send, accept and admit the referrals in ``WALKS``; returns how many steps were taken.

    Raises ``LookupError`` when a referral the walk expects is missing or goes to an
    organization without a demo user (the directory or the rules changed: fix the walk).
    """
    by_org = {user.organization_id: user for user in receivers}
    steps = 0
    for screening in screenings:
        person = screening.case.person
        walk = WALKS.get(person.given_names or "")
        if walk is None:
            continue
        consent, wanted = walk
        if consent is not None:
            referrals.record_consent(referring, screening.case.uuid, consent)
        for step in wanted:
            referral = _referral(screening, step.service_type)
            receiver = by_org.get(referral.provider_org_id or -1)
            if receiver is None:
                provider = referral.provider_org.code if referral.provider_org else "none"
                raise LookupError(f"no demo user for {step.service_type} at {provider}")
            referrals.send(referring, referral.uuid, risk_notes=step.risk_notes)
            steps += 1
            if step.until in ("accepted", "admitted"):
                referrals.accept(receiver, referral.uuid)
                steps += 1
            if step.until == "admitted":
                payload = {"referral_id": referral.uuid, "bed": step.bed}
                shelters.admit(receiver, payload)
                steps += 1
    return steps


def _referral(screening: Screening, service_type: str) -> Referral:
    found = db.session.scalar(
        sa.select(Referral).where(
            Referral.screening_id == screening.id,
            Referral.service_type == service_type,
            Referral.status.in_(("ready", "pending_consent")),
        )
    )
    if found is None:
        raise LookupError(f"no {service_type} referral ready for {screening.case.uuid}")
    return found
