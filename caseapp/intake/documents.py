"""JSON documents of screenings and cases (api.md §4–5)."""

from __future__ import annotations

from typing import Any

from caseapp.core import codes
from caseapp.core.db import utcnow
from caseapp.core.time import iso
from caseapp.referrals import documents as referral_docs
from caseapp.referrals import rules as referral_rules
from caseapp.referrals import services as referral_services
from caseapp.screening.models import Case, Person, Screening


def coded(list_name: str, code: str) -> dict[str, str]:
    item = codes.get(list_name)[code]
    return {"code": code, "es": item.es, "en": item.en}


def screening_document(screening: Screening) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": screening.uuid,
        "case_id": screening.case.uuid,
        "rule_version": screening.rule_version,
        "identified_at": iso(screening.identified_at),
        "region": screening.region,
        "determination": {
            "status": screening.status,
            "missing_elements": list(screening.missing_elements),
            "aggravating": list(screening.aggravating),
            "exploitation_form": screening.exploitation_form,
            "explanation": list(screening.explanation),
        },
        "override": None
        if screening.override_status is None
        else {
            "status": screening.override_status,
            "justification": screening.override_justification,
            "by": screening.override_by.email if screening.override_by else None,
            "at": iso(screening.override_at),
        },
        "profile": {
            "tags": list(screening.tags),
            "age_group": screening.age_group,
            "unodc_category": screening.unodc_category,
        },
        "referrals": [],
        "gaps": [],
        "alerts": [coded("alert", code) for code in screening.alerts],
    }
    referrals, gaps = referral_docs.screening_sections(screening.id)
    now = utcnow()
    doc["referrals"] = [referral_docs.referral_document(r, now) for r in referrals]
    doc["gaps"] = [referral_docs.gap_json(g) for g in gaps]
    overdue = any(
        r.priority == "mandatory" and referral_rules.is_overdue(r.status, r.due_at, now)
        for r in referrals
    )
    if overdue and "overdue_mandatory_referral" not in screening.alerts:
        doc["alerts"].append(coded("alert", "overdue_mandatory_referral"))
    return doc


def person_document(person: Person) -> dict[str, Any]:
    return {
        "given_names": person.given_names,
        "family_names": person.family_names,
        "sex": person.sex,
        "gender_identity": person.gender_identity,
        "lgbtqi": person.lgbtqi,
        "date_of_birth": person.date_of_birth,
        "age_years": person.age_years,
        "age_estimated": person.age_estimated,
        "appears_minor": person.appears_minor,
        "nationality": list(person.nationality),
        "document": None
        if not person.document_type
        else {"type": person.document_type, "number": person.document_number},
        "languages": list(person.languages),
        "pregnant": person.pregnant,
        "disability": person.disability,
        "migration_status": person.migration_status,
        "unaccompanied": person.unaccompanied,
        "contact": person.contact,
        "address": person.address,
    }


def case_summary(case: Case) -> dict[str, Any]:
    person = case.person
    return {
        "id": case.uuid,
        "status": case.status,
        "determination": case.determination,
        "region": case.region,
        "created_at": iso(case.created_at),
        "updated_at": iso(case.updated_at),
        "version": case.version,
        "person": {
            "given_names": person.given_names,
            "family_names": person.family_names,
            "sex": person.sex,
            # age at the latest screening (computed from the date of birth when known)
            "age_years": case.screenings[-1].age_years if case.screenings else person.age_years,
        },
    }


def case_document(case: Case, history: list[Any]) -> dict[str, Any]:
    doc = case_summary(case)
    doc["legal_hold"] = case.legal_hold
    doc["purged_at"] = iso(case.purged_at)
    doc["person"] = person_document(case.person)
    doc["screenings"] = [screening_document(s) for s in case.screenings]
    doc["referrals"] = [
        referral_docs.referral_document(r, history=True)
        for r in referral_services.case_referrals(case)
    ]
    doc["consent"] = referral_docs.consent_json(referral_services.current_consent(case))
    doc["history"] = [
        {
            "at": iso(e.occurred_at),
            "actor": e.actor_email,
            "action": e.action,
            "flagged": e.is_flagged,
        }
        for e in history
    ]
    return doc
