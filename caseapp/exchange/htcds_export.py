"""HTCDS 2.0 export of an organization's cases (docs/exchange.md).

Each Ruta case becomes one HTCDS case with its person and victim context (through the
crosswalks of :mod:`caseapp.core.htcds`), its historic trafficking events (the regions of
recruitment and exploitation), its outgoing referrals, and a ``ruta`` extension holding the
screening request as recorded, so that a Ruta-to-Ruta exchange loses nothing HTCDS cannot
express (sex, the art. 129-A acts and means, Peru's regions, the identity document).

Only the actor's own organization's cases are exported; every exported case is audited as
a read, plus one event for the export.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from caseapp.accounts.models import Organization
from caseapp.audit import services as audit
from caseapp.core import codes, htcds
from caseapp.core.db import utcnow
from caseapp.core.time import LIMA, iso
from caseapp.extensions import db
from caseapp.referrals import services as referral_services
from caseapp.screening.models import Case, Person, Screening

EXTENSION = "ruta/1"
FORMAT = "htcds"


def export_cases(actor: Any, organization: Organization) -> dict[str, Any]:
    """The HTCDS document of every case of ``organization`` (audited)."""
    cases = [_case(case) for case in _cases_of(organization)]
    for doc in cases:
        audit.record(
            actor,
            "case.export",
            object_type="case",
            object_id=doc["CaseId"],
            details={"format": FORMAT},
        )
    audit.record(
        actor,
        "htcds.export",
        object_type="organization",
        object_id=organization.code,
        details={"cases": len(cases)},
    )
    return {
        "standard": "HTCDS",
        "version": htcds.HTCDS_VERSION,
        "extension": EXTENSION,
        "generated_at": iso(utcnow()),
        "organisation": organisation_json(organization),
        "cases": cases,
    }


def _cases_of(organization: Organization) -> Iterator[Case]:
    query = (
        sa.select(Case)
        .where(Case.organization_id == organization.id)
        .options(selectinload(Case.person), selectinload(Case.screenings))
        .order_by(Case.id)
    )
    yield from db.session.scalars(query)


def organisation_json(org: Organization) -> dict[str, Any]:
    return {
        "Code": org.code,
        "Name": org.name,
        "Type": htcds.ORGANISATION_TYPE.htcds(org.org_kind),
        "ShippingState": _region_name(org.region_code),
        "ShippingCity": org.city or None,
        "ShippingCountry": "PE",
    }


def _region_name(code: str | None) -> str | None:
    if not code or code not in codes.REGION or code in ("abroad", "unknown"):
        return None
    return codes.REGION.label(code, "es")


def _case(case: Case) -> dict[str, Any]:
    # Every screening opens its own case (intake), so a case has exactly one screening.
    screening = case.screenings[0]
    person = case.person
    context = screening.context or {}
    status = screening.effective_status
    return {
        "CaseId": case.uuid,
        "Status": htcds.CASE_STATUS.htcds(case.status),
        "CaseOwner": case.organization.code,
        "TraffickingStatus": htcds.TRAFFICKING_STATUS.htcds(status),
        "TraffickingStatusDecisionMakingOrganisation": htcds.ORGANISATION_TYPE.htcds(
            case.organization.org_kind
        ),
        "Person": _person(person),
        "Victim": _victim(screening, context),
        "HistoricTraffickingEvents": _events(context),
        "OutgoingReferrals": [_referral(r) for r in referral_services.case_referrals(case)],
        "ruta": {
            "screening": screening_request(screening, person),
            "determination": {
                "status": screening.status,
                "override_status": screening.override_status,
                "exploitation_form": screening.exploitation_form,
                "rule_version": screening.rule_version,
            },
            "case_status": case.status,
        },
    }


def _person(person: Person) -> dict[str, Any]:
    languages = htcds.LANGUAGE.htcds_many(person.languages or [])
    gender = htcds.GENDER.htcds(person.gender_identity) or htcds.SEX.htcds(person.sex)
    return {
        "FirstName": person.given_names,
        "SecondName": person.family_names,
        "Birthdate": person.date_of_birth,
        "Gender": gender,
        "Citizenship": htcds.NATIONALITY.htcds_many(person.nationality or []),
        "PrimaryLanguage": languages[0] if languages else None,
        "SecondaryLanguage": languages[1] if len(languages) > 1 else None,
    }


def _victim(screening: Screening, context: dict[str, Any]) -> dict[str, Any]:
    recruitment = context.get("recruitment_method")
    return {
        "MethodOfRecruitment": htcds.METHOD_OF_RECRUITMENT.htcds_many(
            [recruitment] if recruitment else []
        ),
        "MethodsOfControl": htcds.METHODS_OF_CONTROL.htcds_many(screening.indicators or []),
        "TypeOfExploitation": htcds.TYPE_OF_EXPLOITATION.htcds_many(screening.purposes or []),
        "ForcedLabourIndustry": htcds.FORCED_LABOUR_INDUSTRY.htcds(context.get("sector")),
        "RelationshipToTrafficker": htcds.RELATIONSHIP_TO_TRAFFICKER.htcds(
            context.get("trafficker_relation")
        ),
    }


def _events(context: dict[str, Any]) -> list[dict[str, Any]]:
    events = []
    for kind, key in (("Recruitment", "origin_region"), ("Exploitation", "exploitation_region")):
        region = context.get(key)
        if not region or region == "unknown":
            continue
        events.append(
            {
                "Type": kind,
                "Country": None if region == "abroad" else "PE",
                "State": _region_name(region),
                "Date": None,
            }
        )
    return events


def _referral(referral: Any) -> dict[str, Any]:
    provider = referral.provider_org
    sent = referral.sent_at
    return {
        "ReferredOrganisation": provider.code if provider else None,
        "ReferredOrganisationName": provider.name if provider else None,
        "OutgoingReferralDate": sent.astimezone(LIMA).date().isoformat() if sent else None,
        "ReasonForOutgoingReferral": "AdditionalServicesRequired",
        "OutgoingReferralDetails": codes.SERVICE_TYPE.label(referral.service_type, "en"),
        "ruta": {
            "service_type": referral.service_type,
            "priority": referral.priority,
            "status": referral.status,
        },
    }


def screening_request(screening: Screening, person: Person) -> dict[str, Any]:
    """The screening as the request that recorded it (api.md §4, the pydantic contract of
    :mod:`caseapp.screening.schema`): what an import posts again."""
    context = dict(screening.context or {})
    return {
        "identified_at": iso(screening.identified_at),
        "region": screening.region,
        "identification_context": screening.identification_context,
        "person": {
            "given_names": person.given_names,
            "family_names": person.family_names,
            "sex": person.sex,
            "gender_identity": person.gender_identity,
            "lgbtqi": person.lgbtqi,
            "date_of_birth": person.date_of_birth,
            "age_years": person.age_years,
            "age_estimated": person.age_estimated,
            "appears_minor": person.appears_minor,
            "nationality": list(person.nationality or []),
            "document": None
            if not person.document_type
            else {"type": person.document_type, "number": person.document_number},
            "languages": list(person.languages or []),
            "pregnant": person.pregnant,
            "disability": person.disability,
            "migration_status": person.migration_status,
            "unaccompanied": person.unaccompanied,
            "contact": person.contact,
            "address": person.address,
        },
        "acts": list(screening.acts or []),
        "means": list(screening.means or []),
        "purposes": list(screening.purposes or []),
        "indicators": list(screening.indicators or []),
        "stated_consent": screening.stated_consent,
        "context": context,
        "needs": list(screening.needs or []),
        "notes": screening.notes,
    }
