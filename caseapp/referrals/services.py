"""Referral engine, consent and the referral lifecycle (domain.md §3–5).

Functions take an explicit actor, check organization scope (the referring organization
manages a referral; the receiving organization accepts or declines it; anyone else gets
"not found"), record every transition in the referral's history and the audit chain,
and never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from caseapp.accounts.models import User
from caseapp.audit import services as audit
from caseapp.audit.services import Actor
from caseapp.core.contract import parse
from caseapp.core.db import utcnow
from caseapp.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from caseapp.core.security import Permission, has_permission
from caseapp.extensions import db
from caseapp.referrals import rules
from caseapp.referrals.contract import (
    AssignRequest,
    CancelRequest,
    DeclineRequest,
    ReferralQuery,
    SendRequest,
)
from caseapp.referrals.models import Consent, GapRecord, Referral, ReferralEvent
from caseapp.referrals.providers import directory, provider_facts, referral_facts
from caseapp.screening.models import Case, Screening
from caseapp.screening.schema import ConsentInput, ConsentRequest

# -- consent -----------------------------------------------------------------------------


def current_consent(case: Case) -> Consent | None:
    return db.session.scalar(
        sa.select(Consent).where(Consent.case_id == case.id).order_by(Consent.id.desc()).limit(1)
    )


def _covers(consent: Consent | None, service_type: str, *, child: bool = False) -> bool:
    """Does the recorded consent cover this referral? For a child it must come from the
    legal representative or the UPE (domain.md §4); the child's own agreement is
    recorded but does not suffice."""
    if consent is None or not consent.given:
        return False
    if child and consent.given_by == "person":
        return False
    return rules.consent_covers(frozenset(consent.scope), service_type)


def _store_consent(
    actor: Actor, case: Case, data: ConsentInput, withdrawal: bool, *, flush: bool = True
) -> Consent:
    consent = Consent(
        case_id=case.id,
        given=data.given,
        scope=list(data.scope) if data.given else [],
        given_by=data.given_by,
        method=data.method,
        is_withdrawal=withdrawal,
        recorded_by_id=actor.id,
    )
    db.session.add(consent)
    if flush:
        db.session.flush()
    return consent


def _child_case(case: Case) -> bool:
    return bool(case.screenings) and "child" in case.screenings[-1].tags


def record_consent(actor: User, case_uuid: str, payload: Any) -> Consent:
    """Record consent given or refused; ``given: false`` after consent = withdrawal, which
    cancels every referral not yet accepted and ends receiving organizations' access."""
    data = parse(ConsentRequest, payload)
    case = _own_case(actor, case_uuid)
    if case.status == "closed":
        raise Conflict("The case is closed", code="case_closed")
    tags = case.screenings[-1].tags if case.screenings else []
    if data.given and (forbidden := sorted(set(data.scope) & rules.forbidden_consent_scope(tags))):
        raise ValidationFailed(
            {"scope": [f"not allowed for an asylum seeker or refugee: {', '.join(forbidden)}"]}
        )
    previous = current_consent(case)
    withdrawal = not data.given and previous is not None and previous.given
    consent = _store_consent(actor, case, data, withdrawal)
    now = utcnow()
    affected: list[str] = []
    for referral in _case_referrals(case):
        if withdrawal and referral.requires_consent:
            referral.access_revoked_at = referral.access_revoked_at or now
            if referral.status in rules.NOT_YET_ACCEPTED and referral.requires_consent:
                # mandatory child referrals (UPE, prosecutor) never depended on consent
                _transition(actor, referral, "cancelled", "cancel", reason="consent_withdrawn")
                affected.append(referral.uuid)
        elif referral.status == "pending_consent" and _covers(
            consent, referral.service_type, child=_child_case(case)
        ):
            _transition(actor, referral, "ready", "consent", reason="consent_given")
            affected.append(referral.uuid)
        elif (
            data.given
            and referral.status == "ready"
            and referral.requires_consent
            and not _covers(consent, referral.service_type, child=_child_case(case))
        ):
            # a narrower scope: what it no longer covers waits for consent again
            _transition(actor, referral, "pending_consent", "consent", reason="consent_narrowed")
            affected.append(referral.uuid)
    audit.record(
        actor,
        "consent.withdraw" if withdrawal else "consent.record",
        object_type="case",
        object_id=case.uuid,
        details={
            "given": data.given,
            "scope": list(data.scope),
            "given_by": data.given_by,
            "method": data.method,
            "referrals": affected,
        },
    )
    return consent


# -- engine ------------------------------------------------------------------------------


def plan_for_screening(actor: User, screening: Screening, consent: ConsentInput | None) -> None:
    """Called by the screening service in the same transaction: store consent, then the
    proposed referrals, gaps and alerts of domain.md §3."""
    case = screening.case
    # stored with the referrals, in their flush (planning reads only its fields)
    stored = (
        _store_consent(actor, case, consent, False, flush=False) if consent is not None else None
    )
    now = utcnow()
    facts = referral_facts(screening, stored, now)
    providers, coords = directory()  # one statement checks the cached snapshot
    by_code = {(f.code, f.service_type): s for f, s in providers}
    plan = rules.plan_referrals(facts, [f for f, _ in providers], coords)
    created: list[tuple[Referral, str]] = []
    for proposal in plan.proposals:
        service = (
            by_code.get((proposal.provider.code, proposal.service_type))
            if proposal.provider
            else None
        )
        referral = Referral(
            case_id=case.id,
            screening_id=screening.id,
            referring_org_id=screening.organization_id,
            provider_org_id=service.organization_id if service else None,
            provider_service_id=service.id if service else None,
            rule=proposal.rule,
            service_type=proposal.service_type,
            priority=proposal.priority,
            requires_consent=proposal.requires_consent,
            status=rules.initial_status(
                has_provider=service is not None,
                requires_consent=proposal.requires_consent,
                consent_ok=_covers(stored, proposal.service_type, child=facts.is_child),
            ),
            # §5: due from creation; the rules measure it from identification, so keep the
            # later of the two (a screening recorded days later still gets its 24/72 h).
            due_at=max(proposal.due_at, now + (proposal.due_at - screening.identified_at)),
            interpreter_language=proposal.interpreter_language,
            reasons=[r.as_dict() for r in proposal.reasons],
            gap=proposal.gap.as_dict() if proposal.gap else None,
        )
        db.session.add(referral)
        created.append((referral, proposal.rule))
    db.session.flush()  # one INSERT … RETURNING for all of them, in order
    if created:  # their first events: one INSERT … VALUES, not read back as objects
        at = utcnow()
        db.session.execute(
            sa.insert(ReferralEvent.__table__).values(
                [
                    {
                        "referral_id": referral.id,
                        "from_status": None,
                        "to_status": referral.status,
                        "action": "create",
                        "reason": rule,
                        "note": None,
                        "actor_user_id": actor.id,
                        "actor_org_id": actor.organization_id,
                        "at": at,
                    }
                    for referral, rule in created
                ]
            )
        )
    for gap in plan.gaps:
        db.session.add(
            GapRecord(
                case_id=case.id,
                screening_id=screening.id,
                organization_id=screening.organization_id,
                code=gap.code,
                service_type=gap.service_type,
                region=screening.region,
                tags=list(screening.tags),
                es=gap.es,
                en=gap.en,
                next_opening=gap.next_opening,
            )
        )
    alerts = list(screening.alerts)
    for alert in plan.alerts:
        if alert.code not in alerts:
            alerts.append(alert.code)
    # every screening opens its case, so the case's referrals are the ones just created
    if any(r.status == "pending_consent" for r, _ in created) and "consent_missing" not in alerts:
        alerts.append("consent_missing")
    screening.alerts = alerts
    db.session.flush()


# -- lifecycle ---------------------------------------------------------------------------


def _event(
    actor: Actor | None,
    referral: Referral,
    from_status: str | None,
    to_status: str,
    action: str,
    *,
    reason: str | None = None,
    note: str | None = None,
) -> None:
    db.session.add(
        ReferralEvent(
            referral_id=referral.id,
            from_status=from_status,
            to_status=to_status,
            action=action,
            reason=reason,
            note=note,
            actor_user_id=getattr(actor, "id", None),
            actor_org_id=getattr(actor, "organization_id", None),
        )
    )


def record_step(
    actor: Actor | None, referral: Referral, action: str, *, reason: str | None = None
) -> None:
    """A step in the referral's history that does not change its status: the shelter's
    admission and discharge (domain.md §5 keeps every step; §6 has no status for them)."""
    _event(actor, referral, referral.status, referral.status, action, reason=reason)


def _transition(
    actor: Actor | None,
    referral: Referral,
    to_status: str,
    action: str,
    *,
    reason: str | None = None,
    note: str | None = None,
    flagged: bool = False,
) -> None:
    from_status = referral.status
    referral.status = to_status
    referral.updated_at = utcnow()
    _event(actor, referral, from_status, to_status, action, reason=reason, note=note)
    audit.record(
        actor,
        f"referral.{action}",
        object_type="case",
        object_id=referral.case.uuid,
        details={"referral": referral.uuid, "from": from_status, "to": to_status, "reason": reason},
        flagged=flagged,
    )


def _own_case(actor: User, case_uuid: str) -> Case:
    case = db.session.scalar(
        sa.select(Case).where(Case.uuid == case_uuid, Case.organization_id == actor.organization_id)
    )
    if case is None:
        raise NotFound("Case not found")
    return case


def _case_referrals(case: Case) -> list[Referral]:
    return list(
        db.session.scalars(
            sa.select(Referral).where(Referral.case_id == case.id).order_by(Referral.id)
        )
    )


def case_referrals(case: Case) -> list[Referral]:
    return _case_referrals(case)


#: A receiving organization sees a referral only once it was sent to them: a proposal
#: still waiting for consent must not expose the person's data to anyone.
RECEIVER_VISIBLE = frozenset({"sent", "accepted", "declined", "completed"})


def visible_to_receiver(referral: Referral, actor: Actor) -> bool:
    return (
        referral.provider_org_id == actor.organization_id
        and referral.status in RECEIVER_VISIBLE
        and referral.access_revoked_at is None
    )


def find_referral(actor: User, referral_uuid: str) -> tuple[Referral, str]:
    """The referral and the actor's side of it: ``referring`` or ``receiving``."""
    referral = db.session.scalar(sa.select(Referral).where(Referral.uuid == referral_uuid))
    if referral is None:
        raise NotFound("Referral not found")
    if referral.referring_org_id == actor.organization_id:
        return referral, "referring"
    if visible_to_receiver(referral, actor) and has_permission(
        actor.role, Permission.REFERRAL_RECEIVE
    ):
        return referral, "receiving"
    raise NotFound("Referral not found")


def get_referral(actor: User, referral_uuid: str) -> tuple[Referral, str]:
    referral, side = find_referral(actor, referral_uuid)
    audit.record(
        actor,
        "referral.read",
        object_type="case",
        object_id=referral.case.uuid,
        details={"referral": referral.uuid, "view": side},
    )
    return referral, side


def _require(side: str, wanted: str, action: str) -> None:
    if side != wanted:
        who = "the referring" if wanted == "referring" else "the receiving"
        raise Forbidden(f"Only {who} organization can {action} this referral")


def _check_state(referral: Referral, action: str) -> None:
    if referral.case.status == "closed":
        raise Conflict("The case is closed", code="case_closed")
    if referral.status not in rules.TRANSITIONS[action]:
        raise Conflict(
            f"Cannot {action} a referral that is {referral.status}",
            code="invalid_state",
            status=referral.status,
        )


def send(
    actor: User,
    referral_uuid: str,
    *,
    override_justification: str | None = None,
    risk_notes: str | None = None,
) -> Referral:
    """Send to the provider. Adults' referrals need consent covering the service type
    (409 consent_required) unless a supervisor overrides with a justification."""
    referral, side = find_referral(actor, referral_uuid)
    _require(side, "referring", "send")
    _check_state(referral, "send")
    if referral.provider_org_id is None:
        raise Conflict("Choose a provider first", code="no_provider")
    request = parse(
        SendRequest,
        {"consent_override_justification": override_justification, "risk_notes": risk_notes},
    )
    override_justification, risk_notes = request.consent_override_justification, request.risk_notes
    overridden = False
    if referral.requires_consent and not _covers(
        current_consent(referral.case), referral.service_type, child=_child_case(referral.case)
    ):
        if override_justification is None:
            raise Conflict(
                "Consent covering this referral is missing: record the person's consent "
                "first (or a supervisor may override in an emergency, with a justification).",
                code="consent_required",
            )
        if not has_permission(actor.role, Permission.CONSENT_OVERRIDE):
            raise Forbidden("Only a supervisor can send without consent")
        overridden = True
    referral.consent_overridden = overridden
    referral.risk_notes = risk_notes.strip() if risk_notes else referral.risk_notes
    referral.sent_at = utcnow()
    _transition(
        actor,
        referral,
        "sent",
        "send",
        reason="consent_override" if overridden else None,
        note=override_justification,
        flagged=overridden,
    )
    return referral


def assign(actor: User, referral_uuid: str, provider_code: Any) -> Referral:
    referral, side = find_referral(actor, referral_uuid)
    _require(side, "referring", "assign")
    _check_state(referral, "assign")
    provider_code = parse(AssignRequest, {"provider": provider_code}).provider
    candidates = [
        (f, s)
        for f, s in provider_facts()
        if f.code == provider_code and f.service_type == referral.service_type
    ]
    if not candidates:
        raise ValidationFailed(
            {
                "provider": [
                    f"no active {referral.service_type} provider with code {provider_code!r}"
                ]
            }
        )
    facts, service = candidates[0]
    ok, why = rules.eligible(
        facts, referral_facts(referral.screening, current_consent(referral.case))
    )
    if not ok:
        raise ValidationFailed({"provider": [f"not eligible for this person: {why}"]})
    if not facts.has_free_capacity:
        raise ValidationFailed({"provider": ["has no free capacity"]})
    referral.provider_org_id = service.organization_id
    referral.provider_service_id = service.id
    referral.gap = None
    new_status = rules.initial_status(
        has_provider=True,
        requires_consent=referral.requires_consent,
        consent_ok=_covers(
            current_consent(referral.case),
            referral.service_type,
            child=_child_case(referral.case),
        ),
    )
    _transition(actor, referral, new_status, "assign", reason=provider_code)
    return referral


def accept(actor: User, referral_uuid: str) -> Referral:
    referral, side = find_referral(actor, referral_uuid)
    _require(side, "receiving", "accept")
    _check_state(referral, "accept")
    referral.accepted_at = utcnow()
    _transition(actor, referral, "accepted", "accept")
    return referral


@dataclass(frozen=True)
class DeclineResult:
    """The declined referral, its replacement (with the next provider, or unassigned when
    none is left) and the gap that explains a missing provider."""

    declined: Referral
    rerouted_to: Referral
    gap: dict[str, Any] | None


def decline(actor: User, referral_uuid: str, reason: Any, note: Any = None) -> DeclineResult:
    """Decline with a reason; the engine proposes the next eligible provider (a new
    referral linked to this one) or records the gap (domain.md §5)."""
    request = parse(DeclineRequest, {"reason": reason, "note": note})
    reason, note = request.reason, request.note
    referral, side = find_referral(actor, referral_uuid)
    _require(side, "receiving", "decline")
    _check_state(referral, "decline")
    referral.decline_reason = reason
    _transition(actor, referral, "declined", "decline", reason=reason, note=note)

    declined_codes = {referral.provider_org.code} if referral.provider_org else set()
    chain = referral.previous
    while chain is not None:
        if chain.status == "declined" and chain.provider_org is not None:
            declined_codes.add(chain.provider_org.code)
        chain = chain.previous
    consent = current_consent(referral.case)
    facts = referral_facts(referral.screening, consent)
    providers, coords = directory()
    chosen, gap = rules.choose_provider(
        referral.service_type,
        facts,
        [f for f, _ in providers],
        coords,
        exclude_codes=frozenset(declined_codes),
    )
    service = next(
        (
            s
            for f, s in providers
            if chosen and f.code == chosen.code and f.service_type == chosen.service_type
        ),
        None,
    )
    now = utcnow()
    due = timedelta(hours=24 if referral.priority == "mandatory" else 72)
    reasons = _reroute_reasons(referral, facts, providers, reason, chosen)
    new = Referral(
        case_id=referral.case_id,
        screening_id=referral.screening_id,
        referring_org_id=referral.referring_org_id,
        provider_org_id=service.organization_id if service else None,
        provider_service_id=service.id if service else None,
        previous_id=referral.id,
        rule=referral.rule,
        service_type=referral.service_type,
        priority=referral.priority,
        requires_consent=referral.requires_consent,
        status=rules.initial_status(
            has_provider=service is not None,
            requires_consent=referral.requires_consent,
            consent_ok=_covers(consent, referral.service_type, child=_child_case(referral.case)),
        ),
        due_at=now + due,
        interpreter_language=referral.interpreter_language,
        reasons=reasons,
        gap=gap.as_dict() if gap else None,
        risk_notes=referral.risk_notes,
    )
    db.session.add(new)
    db.session.flush()
    _event(actor, new, None, new.status, "reroute", reason=f"declined:{reason}")
    if gap is not None:
        screening = referral.screening
        db.session.add(
            GapRecord(
                case_id=referral.case_id,
                screening_id=screening.id,
                referral_id=new.id,
                organization_id=referral.referring_org_id,
                code=gap.code,
                service_type=gap.service_type,
                region=screening.region,
                tags=list(screening.tags),
                es=gap.es,
                en=gap.en,
                next_opening=gap.next_opening,
            )
        )
    audit.record(
        actor,
        "referral.reroute",
        object_type="case",
        object_id=referral.case.uuid,
        details={
            "from": referral.uuid,
            "to": new.uuid,
            "provider": chosen.code if chosen else None,
            "gap": gap.code if gap else None,
        },
    )
    return DeclineResult(referral, new, gap.as_dict() if gap else None)


def _reroute_reasons(
    referral: Referral,
    facts: rules.ReferralFacts,
    providers: list[tuple[rules.ProviderFacts, Any]],
    decline_reason: str,
    chosen: rules.ProviderFacts | None,
) -> list[dict[str, str]]:
    """Where the re-routed referral goes and why, then the initial referral's reasons
    (marked as such). ``declined``: the chain's providers, oldest first."""
    chain: list[Referral] = []
    node: Referral | None = referral
    while node is not None:
        chain.append(node)
        node = node.previous
    chain.reverse()
    by_code = {f.code: f for f, _ in providers if f.service_type == referral.service_type}
    declined = tuple(
        by_code[r.provider_org.code]
        for r in chain
        if r.status == "declined" and r.provider_org is not None and r.provider_org.code in by_code
    )
    first = rules.reroute_reason(facts, referral.service_type, declined, decline_reason, chosen)
    initial = [
        rules.mark_initial_reason(r)
        for r in chain[0].reasons
        if r.get("code") != rules.REROUTE_REASON_CODE
    ]
    return [first.as_dict(), *initial]


def complete(actor: User, referral_uuid: str) -> Referral:
    referral, side = find_referral(actor, referral_uuid)
    _require(side, "receiving", "complete")
    _check_state(referral, "complete")
    _transition(actor, referral, "completed", "complete")
    return referral


def cancel(actor: User, referral_uuid: str, reason: Any, note: Any = None) -> Referral:
    """Cancel with a coded reason; free text goes only to the encrypted note, never to
    the audit log (which is kept forever and read by administrators)."""
    request = parse(CancelRequest, {"reason": reason, "note": note})
    reason, note = request.reason, request.note
    referral, side = find_referral(actor, referral_uuid)
    _require(side, "referring", "cancel")
    _check_state(referral, "cancel")
    _transition(actor, referral, "cancelled", "cancel", reason=reason, note=note or None)
    return referral


# -- lists, overdue, escalation ----------------------------------------------------------


#: the validated filters of a referral list
ReferralFilters = ReferralQuery


def parse_referral_filters(args: Mapping[str, Any]) -> ReferralQuery:
    return parse(ReferralQuery, dict(args))


def list_referrals(
    actor: User, filters: ReferralFilters, page: int, per_page: int, now: datetime | None = None
) -> tuple[list[Referral], int]:
    now = now or utcnow()
    stmt = sa.select(Referral)
    if filters.direction == "incoming":
        stmt = stmt.where(
            Referral.provider_org_id == actor.organization_id,
            Referral.status.in_(RECEIVER_VISIBLE),
            Referral.access_revoked_at.is_(None),
        )
    else:
        stmt = stmt.where(Referral.referring_org_id == actor.organization_id)
    if filters.status:
        stmt = stmt.where(Referral.status == filters.status)
    if filters.overdue:
        stmt = stmt.where(Referral.status.in_(("ready", "sent")), Referral.due_at < now)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        db.session.scalars(
            stmt.order_by(Referral.due_at, Referral.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    audit.record(
        actor,
        "referral.list",
        object_type="referral",
        # the lists show each person's name: which cases were shown is part of the read
        details={
            "direction": filters.direction,
            "count": len(rows),
            "cases": sorted({r.case.uuid for r in rows}),
        },
    )
    return rows, total


def overdue_mandatory(now: datetime, org_id: int | None = None) -> list[Referral]:
    stmt = sa.select(Referral).where(
        Referral.priority == "mandatory",
        Referral.status.in_(("ready", "sent")),
        Referral.due_at < now,
    )
    if org_id is not None:
        stmt = stmt.where(Referral.referring_org_id == org_id)
    return list(db.session.scalars(stmt.order_by(Referral.due_at)))


def escalate_overdue(actor: Actor | None, now: datetime | None = None) -> list[Referral]:
    """Escalate overdue mandatory referrals (once each) to the referring organization's
    supervisors: an inbox item and a flagged audit event. Safe to run from cron."""
    now = now or utcnow()
    escalated = []
    for referral in overdue_mandatory(now):
        if referral.escalated_at is not None:
            continue
        referral.escalated_at = now
        _event(
            actor,
            referral,
            referral.status,
            referral.status,
            "escalate",
            reason="overdue_mandatory_referral",
        )
        audit.record(
            actor,
            "referral.escalate",
            object_type="case",
            object_id=referral.case.uuid,
            details={
                "referral": referral.uuid,
                "due_at": referral.due_at.isoformat(),
                "org": referral.referring_org_id,
            },
            flagged=True,
        )
        escalated.append(referral)
    db.session.flush()
    return escalated


def escalation_inbox(actor: User, now: datetime | None = None) -> list[Referral]:
    if not has_permission(actor.role, Permission.ESCALATION_INBOX):
        raise Forbidden("Only supervisors see escalations")
    rows = [r for r in overdue_mandatory(now or utcnow(), actor.organization_id)]
    audit.record(
        actor, "referral.escalations_read", object_type="referral", details={"count": len(rows)}
    )
    return rows


def providers_for(referral: Referral) -> list[rules.ProviderFacts]:
    """Eligible providers with space for this referral's type, nearest first (assign UI)."""
    facts = referral_facts(referral.screening, current_consent(referral.case))
    providers, coords = directory()
    out: list[rules.ProviderFacts] = []
    remaining = [f for f, _ in providers if f.service_type == referral.service_type]
    exclude: set[str] = set()
    while True:
        chosen, _gap = rules.choose_provider(
            referral.service_type, facts, remaining, coords, exclude_codes=frozenset(exclude)
        )
        if chosen is None or len(out) >= 10:
            return out
        out.append(chosen)
        exclude.add(chosen.code)


def cancel_open_for_closed_case(actor: Actor, case: Case) -> int:
    """Closing a case cancels its referrals that nobody has accepted yet (domain.md §5)."""
    n = 0
    for referral in _case_referrals(case):
        if referral.status in rules.NOT_YET_ACCEPTED:
            _transition(actor, referral, "cancelled", "cancel", reason="case_closed")
            n += 1
    return n
