"""Screening and case operations. Every function takes an explicit actor, scopes data to
the actor's organization, audits reads and writes, and never commits."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from caseapp.accounts.models import User
from caseapp.audit import services as audit
from caseapp.audit.models import AuditEvent
from caseapp.core.contract import parse
from caseapp.core.crypto import normalize_for_index
from caseapp.core.db import keyring, utcnow
from caseapp.core.errors import Conflict, Forbidden, NotFound
from caseapp.core.security import Permission, has_permission
from caseapp.extensions import db
from caseapp.screening import rules
from caseapp.screening.models import Case, Person, Screening
from caseapp.screening.schema import (
    CasePatch,
    CaseQuery,
    OverrideRequest,
    PersonInput,
    ScreeningInput,
)

# -- facts and indexes ---------------------------------------------------------------


def facts_from(
    data: ScreeningInput, context: Mapping[str, Any] | None = None
) -> rules.ScreeningFacts:
    """What the rules read of a request. ``context``: ``data.context`` already made a
    dict, by a caller that has it (synth: dumping it is a third of this function's time)."""
    p = data.person
    return rules.ScreeningFacts(
        identified_at=data.identified_at,
        region=data.region,
        person=rules.PersonFacts(
            sex=p.sex,
            gender_identity=p.gender_identity,
            lgbtqi=p.lgbtqi,
            date_of_birth=p.date_of_birth,
            age_years=p.age_years,
            age_estimated=p.age_estimated,
            appears_minor=p.appears_minor,
            nationality=p.nationality,
            languages=p.languages,
            migration_status=p.migration_status,
            unaccompanied=p.unaccompanied,
            pregnant=p.pregnant,
            disability=p.disability,
        ),
        acts=frozenset(data.acts),
        means=frozenset(data.means),
        purposes=frozenset(data.purposes),
        indicators=frozenset(data.indicators),
        stated_consent=data.stated_consent,
        identification_context=data.identification_context,
        context=rules.ContextFacts(
            **(data.context_facts.model_dump() if context is None else context)
        ),
        needs=frozenset(data.needs),
    )


def name_index(given: str | None, family: str | None) -> str | None:
    """Blind index of the full name, insensitive to case, accents and word order."""
    tokens = normalize_for_index(f"{given or ''} {family or ''}").split()
    if not tokens:
        return None
    return str(keyring().blind_index(" ".join(sorted(tokens)), purpose="person-name"))


def document_index(number: str | None) -> str | None:
    if not number:
        return None
    cleaned = "".join(ch for ch in normalize_for_index(number) if ch.isalnum())
    return str(keyring().blind_index(cleaned, purpose="person-document")) if cleaned else None


# -- create ----------------------------------------------------------------------------


def record_screening(actor: User, data: ScreeningInput) -> Screening:
    """Determine the legal elements and store case, person and decision (audited).

    Referral planning and the statistics fact are the intake workflow's next steps
    (:func:`caseapp.intake.services.screen_person`); this function knows neither."""
    facts = facts_from(data)
    determination = rules.determine(facts)
    profile = rules.profile(facts)

    case = Case(
        organization_id=actor.organization_id,
        created_by_id=actor.id,
        region=data.region,
        determination=determination.status,
    )
    case.person = _person(data.person)  # while new: planning then reads it without a query
    db.session.add(case)
    screening = Screening(
        case=case,  # case, person and screening in one flush
        organization_id=actor.organization_id,
        created_by_id=actor.id,
        identified_at=data.identified_at,
        region=data.region,
        identification_context=data.identification_context,
        acts=list(data.acts),
        means=list(data.means),
        purposes=list(data.purposes),
        indicators=list(data.indicators),
        needs=list(data.needs),
        stated_consent=data.stated_consent,
        context=data.context_facts.model_dump(),
        notes=data.notes,
        facts=_facts_json(data),
        status=determination.status,
        missing_elements=list(determination.missing_elements),
        aggravating=list(determination.aggravating),
        exploitation_form=determination.exploitation_form,
        explanation=[r.as_dict() for r in determination.explanation],
        alerts=list(determination.alerts),
        rule_version=determination.rule_version,
        tags=list(profile.tags),
        age_years=profile.age_years,
        age_group=profile.age_group,
        unodc_category=profile.unodc_category,
        mp_band=profile.mp_band,
        ctdc_band=profile.ctdc_band,
    )
    db.session.add(screening)
    db.session.flush()
    # The event joins the audit chain at commit, under the chain's lock (PostgreSQL), so
    # concurrent screenings queue only for that append.
    audit.record(
        actor,
        "screening.create",
        object_type="case",
        object_id=case.uuid,
        details={
            "screening": screening.uuid,
            "status": determination.status,
            "rule_version": determination.rule_version,
        },
    )
    return screening


def _person(p: PersonInput) -> Person:
    return Person(
        given_names=p.given_names,
        family_names=p.family_names,
        date_of_birth=p.date_of_birth.isoformat() if p.date_of_birth else None,
        document_type=p.document.type if p.document else None,
        document_number=p.document.number if p.document else None,
        contact=p.contact,
        address=p.address,
        name_index=name_index(p.given_names, p.family_names),
        document_index=document_index(p.document.number if p.document else None),
        sex=p.sex,
        gender_identity=p.gender_identity,
        lgbtqi=p.lgbtqi,
        age_years=p.age_years,
        age_estimated=p.age_estimated,
        appears_minor=p.appears_minor,
        nationality=list(p.nationality),
        languages=list(p.languages),
        migration_status=p.migration_status,
        pregnant=p.pregnant,
        disability=p.disability,
        unaccompanied=p.unaccompanied,
    )


def _facts_json(data: ScreeningInput) -> str:
    def default(value: Any) -> Any:
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(type(value))

    return json.dumps(data.model_dump(), default=default, sort_keys=True)


# -- read ------------------------------------------------------------------------------


def _own_case(actor: User, case_uuid: str) -> Case:
    case = db.session.scalar(
        sa.select(Case).where(Case.uuid == case_uuid, Case.organization_id == actor.organization_id)
    )
    if case is None:
        raise NotFound("Case not found")
    return case


def get_screening(actor: User, screening_uuid: str) -> Screening:
    screening = db.session.scalar(
        sa.select(Screening).where(
            Screening.uuid == screening_uuid, Screening.organization_id == actor.organization_id
        )
    )
    if screening is None:
        raise NotFound("Screening not found")
    audit.record(
        actor,
        "screening.read",
        object_type="case",
        object_id=screening.case.uuid,
        details={"screening": screening.uuid},
    )
    return screening


def get_case(actor: User, case_uuid: str) -> Case:
    case = _own_case(actor, case_uuid)
    audit.record(actor, "case.read", object_type="case", object_id=case.uuid)
    return case


def case_history(case: Case) -> list[AuditEvent]:
    """The case's audited changes, oldest first, including this request's own (written
    when the request commits)."""
    stored = list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.object_type == "case",
                AuditEvent.object_id == case.uuid,
                ~AuditEvent.action.endswith(".read"),
            )
            .order_by(AuditEvent.seq)
        )
    )
    unsaved = [e for e in audit.pending("case", case.uuid) if not e.action.endswith(".read")]
    return stored + unsaved


#: the validated filters of a case list (``GET /api/v1/cases``, the cases page)
CaseFilters = CaseQuery


def parse_filters(args: Mapping[str, Any]) -> CaseQuery:
    """The case list filters (blank = not given); 422 naming every bad or unknown one."""
    return parse(CaseQuery, dict(args))


def list_cases(
    actor: User, filters: CaseFilters, page: int, per_page: int
) -> tuple[list[Case], int]:
    """Cases of the actor's organization, newest first; ``q`` is an exact name or document
    search through the blind indexes (nothing is decrypted to search)."""
    stmt = sa.select(Case).where(Case.organization_id == actor.organization_id)
    if filters.status:
        stmt = stmt.where(Case.status == filters.status)
    if filters.region:
        stmt = stmt.where(Case.region == filters.region)
    if filters.determination:
        stmt = stmt.where(Case.determination == filters.determination)
    if filters.q:
        keys = [k for k in (name_index(filters.q, None), document_index(filters.q)) if k]
        stmt = stmt.join(Case.person).where(
            sa.or_(Person.name_index.in_(keys), Person.document_index.in_(keys))
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        db.session.scalars(
            stmt.options(
                joinedload(Case.person),
                # the list shows the age at the latest screening: one extra query, not one per row
                selectinload(Case.screenings).load_only(Screening.id, Screening.age_years),
            )
            .order_by(Case.created_at.desc(), Case.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    audit.record(
        actor,
        "case.list",
        object_type="case",
        details={
            "filters": {
                k: getattr(filters, k)
                for k in ("status", "region", "determination")
                if getattr(filters, k)
            },
            "searched": bool(filters.q),
            "count": len(rows),
        },
    )
    return rows, total


# -- change ----------------------------------------------------------------------------


def override_determination(
    actor: User, screening_uuid: str, status: Any, justification: Any
) -> Screening:
    """A supervisor records a different status with a justification; the advice stays."""
    request = parse(OverrideRequest, {"status": status, "justification": justification})
    status, justification = request.status, request.justification
    if not has_permission(actor.role, Permission.DETERMINATION_OVERRIDE):
        raise Forbidden("Only a supervisor can override a determination")
    screening = db.session.scalar(
        sa.select(Screening).where(
            Screening.uuid == screening_uuid, Screening.organization_id == actor.organization_id
        )
    )
    if screening is None:
        raise NotFound("Screening not found")
    previous = screening.effective_status
    screening.override_status = status
    screening.override_justification = justification.strip()
    screening.override_by_id = actor.id
    screening.override_at = utcnow()
    case = screening.case
    if screening.id == max(s.id for s in case.screenings):
        case.determination = status  # the case shows its latest screening's status
    case.updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "screening.override",
        object_type="case",
        object_id=case.uuid,
        details={
            "screening": screening.uuid,
            "from": previous,
            "to": status,
            "advice": screening.status,
        },
        flagged=True,
    )
    return screening


def close_imported(actor: Any, case: Case) -> None:
    """An imported case its source had already closed is closed on arrival (audited).
    Not :func:`update_case`: nothing is edited by a person, and no version is read."""
    case.status = "closed"
    case.closed_at = utcnow()
    audit.record(
        actor,
        "case.update",
        object_type="case",
        object_id=case.uuid,
        details={"fields": ["status"], "source": "import"},
    )


def update_case(actor: User, case_uuid: str, payload: Any) -> tuple[Case, list[str]]:
    """Edit identity and contact data or close/reopen a case, with optimistic locking.

    Facts that drive the determination (age, acts, means, purposes…) are not edited in
    place: a new screening records them, so every decision stays replayable. Returns the
    case and the names of the fields that changed (``status``, ``person.<field>``), which
    the intake workflow follows up (closing cancels open referrals, new names relink).
    """
    patch = parse(CasePatch, payload)
    version, status = patch.version, patch.status
    person_changes = patch.person_changes()

    case = _own_case(actor, case_uuid)
    if case.purged_at is not None:
        raise Conflict("The personal data of this case was purged (retention)", code="purged")
    if version != case.version:
        raise Conflict(
            "The case was changed by someone else; reload it and try again",
            code="version_conflict",
            current_version=case.version,
        )
    changed: list[str] = []
    if status and status != case.status:
        if not has_permission(actor.role, Permission.CASE_CLOSE):
            raise Forbidden("Only caseworkers and supervisors can close or reopen a case")
        case.status = status
        case.closed_at = utcnow() if status == "closed" else None
        changed.append("status")
    person = case.person
    for key, value in person_changes.items():
        if key == "document":
            new_doc = (value.type, value.number) if value else (None, None)
            if new_doc == (person.document_type, person.document_number):
                continue
            person.document_type, person.document_number = new_doc
            person.document_index = document_index(new_doc[1])
        elif getattr(person, key) == value:
            continue
        else:
            setattr(person, key, value)
        changed.append(f"person.{key}")
    if {"person.given_names", "person.family_names"} & set(changed):
        person.name_index = name_index(person.given_names, person.family_names)
    if changed:
        case.updated_at = utcnow()
        db.session.flush()  # bumps case.version (optimistic lock: concurrent writers get 409)
    audit.record(
        actor,
        "case.update",
        object_type="case",
        object_id=case.uuid,
        details={"fields": changed, "version": case.version},
    )
    return case, changed
