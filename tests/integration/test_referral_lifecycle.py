"""Screen → consent → send → accept → admit → discharge, and everything around it
(api.md §5–7, domain.md §3–6), through the API as another system would use it."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
import sqlalchemy as sa

from caseapp.accounts.models import Organization
from caseapp.audit.models import AuditEvent
from caseapp.core.db import utcnow
from caseapp.directory.models import Service
from caseapp.extensions import db
from caseapp.referrals.models import GapRecord, Referral
from tests.integration.test_screening_api import ROSA

# An adult Venezuelan woman exploited in a bar in Lima, needs shelter; no consent yet.
MARIA = {
    "identified_at": "2026-03-10T11:00:00-05:00",
    "region": "1501",
    "identification_context": "ngo_outreach",
    "person": {
        "given_names": "María",
        "family_names": "González",
        "sex": "F",
        "age_years": 24,
        "nationality": ["VEN"],
        "languages": ["es"],
        "migration_status": "irregular",
        "contact": "WhatsApp +51 900 000 001",
    },
    "acts": ["recruitment", "harbouring"],
    "means": ["deception", "abuse_of_vulnerability"],
    "purposes": ["sexual_exploitation"],
    "indicators": ["withholds_documents", "debt_bondage"],
    "needs": ["shelter"],
    "notes": "Relato completo: la trajeron desde Tumbes con una oferta falsa.",
}


def referral_of(doc, service_type):
    return next(r for r in doc["referrals"] if r["service_type"] == service_type)


def shelter_occupancy(code):
    from caseapp.shelters.models import occupancy_by_service

    service = db.session.scalar(
        sa.select(Service).join(Organization).where(Organization.code == code)
    )
    return occupancy_by_service([service.id]).get(service.id, 0)


def test_adult_woman_needing_shelter_full_path(api):
    screener = api("screener", "ONG-REF-TUM-W")
    doc = screener.post("/api/v1/screenings", json=MARIA).json
    shelter = referral_of(doc, "ngo_shelter")
    assert shelter["provider"]["code"] == "ONG-REF-LIM-W"
    assert shelter["status"] == "pending_consent" and shelter["requires_consent"]
    assert "consent_missing" in [a["code"] for a in doc["alerts"]]
    assert {"migration_migraciones", "iom", "legal_aid_minjusdh", "cem"} <= {
        r["service_type"] for r in doc["referrals"]
    }
    assert "consulate" not in {r["service_type"] for r in doc["referrals"]}

    url = f"/api/v1/referrals/{shelter['id']}"
    refused = screener.post(f"{url}/send")
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "consent_required"

    consent = screener.post(
        f"/api/v1/cases/{doc['case_id']}/consent",
        json={"given": True, "scope": ["all"], "given_by": "person", "method": "verbal"},
    )
    assert consent.status_code == 201
    assert screener.get(url).json["status"] == "ready"
    sent = screener.post(f"{url}/send", json={"risk_notes": "El tratante la busca en Gamarra."})
    assert sent.status_code == 200 and sent.json["status"] == "sent"

    shelter_worker = api("caseworker", "ONG-REF-LIM-W")
    inbox = shelter_worker.get("/api/v1/referrals?direction=incoming").json
    assert [i["id"] for i in inbox["items"]] == [shelter["id"]]
    view = inbox["items"][0]
    assert view["person"]["given_names"] == "María"
    assert view["risk_notes"] == "El tratante la busca en Gamarra."
    assert not {"determination", "notes", "screening", "reasons", "case_id"} & set(view)
    assert "Relato completo" not in str(view)

    accepted = shelter_worker.post(f"{url}/accept")
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    before = shelter_occupancy("ONG-REF-LIM-W")
    admission = shelter_worker.post(
        "/api/v1/admissions",
        json={
            "referral_id": shelter["id"],
            "admitted_at": "2026-03-11T09:00:00-05:00",
            "bed": "B-3",
        },
    )
    assert admission.status_code == 201, admission.json
    assert shelter_occupancy("ONG-REF-LIM-W") == before + 1
    directory = shelter_worker.get("/api/v1/organizations?service_type=ngo_shelter&region=1501")
    row = next(i for i in directory.json["items"] if i["code"] == "ONG-REF-LIM-W")
    assert row["occupancy"] == before + 1

    discharged = shelter_worker.post(
        f"/api/v1/admissions/{admission.json['id']}/discharge",
        json={"discharged_at": "2026-04-01T10:00:00-05:00", "reason": "independent_living"},
    )
    assert discharged.status_code == 200
    assert shelter_occupancy("ONG-REF-LIM-W") == before
    done = shelter_worker.post(f"{url}/complete")
    assert done.json["status"] == "completed"

    history = screener.get(url).json["history"]
    assert [(h["action"], h["to"]) for h in history][2:] == [
        ("send", "sent"),
        ("accept", "accepted"),
        ("admit", "accepted"),  # admission and discharge are steps, not statuses
        ("discharge", "accepted"),
        ("complete", "completed"),
    ]
    assert [h["to"] for h in history][:2] == ["pending_consent", "ready"]
    assert all(h["at"] and h["action"] for h in history)
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {
        "consent.record",
        "referral.send",
        "referral.accept",
        "admission.create",
        "admission.discharge",
        "referral.complete",
    } <= actions


def test_unrelated_organizations_get_404_and_limited_view_only_for_receiver(api):
    screener = api("screener", "ONG-REF-TUM-W")
    body = copy.deepcopy(MARIA)
    body["consent"] = {"given": True, "scope": ["all"]}
    doc = screener.post("/api/v1/screenings", json=body).json
    shelter = referral_of(doc, "ngo_shelter")
    url = f"/api/v1/referrals/{shelter['id']}"
    stranger = api("caseworker", "CEM-MDD")
    assert stranger.get(url).status_code == 404
    assert stranger.post(f"{url}/accept").status_code == 404
    receiver = api("caseworker", "ONG-REF-LIM-W")
    assert receiver.get(url).status_code == 404  # not sent yet: nothing to see
    screener.post(f"{url}/send")
    view = receiver.get(url).json
    assert "case_id" not in view and "reasons" not in view
    assert receiver.get(f"/api/v1/cases/{doc['case_id']}").status_code == 404
    assert receiver.post(f"{url}/send").status_code == 403
    assert screener.post(f"{url}/accept").status_code == 403


def test_decline_reroutes_to_the_next_eligible_provider(api):
    screener = api("screener", "PNP-TRATA-LIM")
    body = copy.deepcopy(MARIA)
    body["consent"] = {"given": True, "scope": ["all"]}
    doc = screener.post("/api/v1/screenings", json=body).json
    cem = referral_of(doc, "cem")
    screener.post(f"/api/v1/referrals/{cem['id']}/send")
    receiver = api("caseworker", cem["provider"]["code"])
    missing = receiver.post(f"/api/v1/referrals/{cem['id']}/decline", json={})
    assert missing.status_code == 422 and "reason" in missing.json["error"]["fields"]
    declined = receiver.post(
        f"/api/v1/referrals/{cem['id']}/decline",
        json={"reason": "no_capacity", "note": "Sin personal hoy"},
    )
    assert declined.status_code == 200
    assert declined.json["status"] == "declined"
    new = declined.json["rerouted_to"]
    assert new["provider"]["code"] != cem["provider"]["code"]
    full = screener.get(f"/api/v1/referrals/{new['id']}").json
    assert full["previous_id"] == cem["id"] and full["status"] == "ready"


def test_last_shelter_declining_leaves_a_named_gap(api, app):
    """Adult man in Lima: the State has no shelter; the one NGO shelter declines."""
    screener = api("screener", "PNP-TRATA-LIM")
    body = copy.deepcopy(MARIA)
    body["person"].update(
        given_names="Luis", sex="M", nationality=["PER"], migration_status="national"
    )
    body["purposes"] = ["forced_labour"]
    body["consent"] = {"given": True, "scope": ["all"]}
    doc = screener.post("/api/v1/screenings", json=body).json
    assert "no_state_shelter_adult_men" in [g["code"] for g in doc["gaps"]]
    shelter = referral_of(doc, "ngo_shelter")
    assert shelter["provider"]["code"] == "ONG-REF-LIM-M"
    screener.post(f"/api/v1/referrals/{shelter['id']}/send")
    receiver = api("caseworker", "ONG-REF-LIM-M")
    declined = receiver.post(
        f"/api/v1/referrals/{shelter['id']}/decline", json={"reason": "no_capacity"}
    ).json
    assert declined["gap"]["code"] in (
        "no_provider_for_profile",
        "no_provider_in_region",
        "capacity_full",
    )
    assert declined["rerouted_to"]["status"] == "unassigned"
    assert (
        db.session.scalar(
            sa.select(sa.func.count(GapRecord.id)).where(GapRecord.code == declined["gap"]["code"])
        )
        >= 1
    )


def test_withdrawal_cancels_open_referrals_and_ends_access(api):
    screener = api("screener", "ONG-REF-TUM-W")
    body = copy.deepcopy(MARIA)
    body["consent"] = {"given": True, "scope": ["all"]}
    doc = screener.post("/api/v1/screenings", json=body).json
    shelter = referral_of(doc, "ngo_shelter")
    screener.post(f"/api/v1/referrals/{shelter['id']}/send")
    receiver = api("caseworker", "ONG-REF-LIM-W")
    assert receiver.get(f"/api/v1/referrals/{shelter['id']}").status_code == 200
    withdrawn = screener.post(
        f"/api/v1/cases/{doc['case_id']}/consent",
        json={"given": False, "given_by": "person", "method": "verbal"},
    )
    assert withdrawn.status_code == 201 and withdrawn.json["withdrawn"] is True
    case = screener.get(f"/api/v1/cases/{doc['case_id']}").json
    assert {r["status"] for r in case["referrals"]} == {"cancelled"}
    assert receiver.get(f"/api/v1/referrals/{shelter['id']}").status_code == 404
    assert receiver.get("/api/v1/referrals?direction=incoming").json["total"] == 0


def test_child_mandatory_referrals_need_no_consent(api):
    screener = api("screener")
    body = copy.deepcopy(ROSA)
    body.pop("consent")
    doc = screener.post("/api/v1/screenings", json=body).json
    upe = referral_of(doc, "mimp_upe")
    assert upe["priority"] == "mandatory" and not upe["requires_consent"]
    assert screener.post(f"/api/v1/referrals/{upe['id']}/send").json["status"] == "sent"
    car = referral_of(doc, "car_specialized_trafficking")
    assert screener.post(f"/api/v1/referrals/{car['id']}/send").status_code == 409


def test_consent_override_needs_a_supervisor_and_is_flagged(api):
    screener = api("screener", "ONG-REF-TUM-W")
    doc = screener.post("/api/v1/screenings", json=MARIA).json
    shelter = referral_of(doc, "ngo_shelter")
    url = f"/api/v1/referrals/{shelter['id']}/send"
    body = {"consent_override_justification": "Peligro inminente: el tratante la ubicó."}
    assert screener.post(url, json=body).status_code == 403
    supervisor = api("supervisor", "ONG-REF-TUM-W")
    assert supervisor.post(url, json={"consent_override_justification": "corto"}).status_code == 422
    sent = supervisor.post(url, json=body)
    assert sent.status_code == 200 and sent.json["consent_overridden"] is True
    event = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.action == "referral.send", AuditEvent.is_flagged.is_(True)
        )
    ).one()
    assert shelter["id"] in event.details


def test_assign_checks_eligibility(api):
    screener = api("screener", "PNP-TRATA-LIM")
    body = copy.deepcopy(MARIA)
    body["consent"] = {"given": True, "scope": ["all"]}
    doc = screener.post("/api/v1/screenings", json=body).json
    shelter = referral_of(doc, "ngo_shelter")
    url = f"/api/v1/referrals/{shelter['id']}/assign"
    bad = screener.post(url, json={"provider": "ONG-REF-LIM-M"})  # men only
    assert bad.status_code == 422 and "provider" in bad.json["error"]["fields"]
    assert screener.post(url, json={"provider": "NOPE"}).status_code == 422
    good = screener.post(url, json={"provider": "ONG-REF-CUS-W"})
    assert good.status_code == 200 and good.json["provider"]["code"] == "ONG-REF-CUS-W"
    assert good.json["status"] == "ready"


def test_admission_refused_when_full_or_outside_eligibility(api):
    screener = api("screener", "PNP-TRATA-MDD")
    body = copy.deepcopy(ROSA)
    body["person"]["age_years"] = 13
    body["consent"]["given_by"] = "upe"  # for a child, the UPE or a legal representative
    doc = screener.post("/api/v1/screenings", json=body).json
    car = referral_of(doc, "car_specialized_trafficking")
    screener.post(f"/api/v1/referrals/{car['id']}/send")
    worker = api("caseworker", car["provider"]["code"])
    worker.post(f"/api/v1/referrals/{car['id']}/accept")
    service = db.session.scalar(
        sa.select(Service).join(Organization).where(Organization.code == car["provider"]["code"])
    )
    capacity = service.capacity
    service.capacity = 0
    db.session.commit()
    full = worker.post("/api/v1/admissions", json={"referral_id": car["id"]})
    assert full.status_code == 409 and full.json["error"]["code"] == "shelter_full"
    service.capacity = capacity
    service.min_age = 14  # the shelter changed its eligibility meanwhile
    db.session.commit()
    young = worker.post("/api/v1/admissions", json={"referral_id": car["id"]})
    assert young.status_code == 409 and young.json["error"]["code"] == "not_eligible"
    assert "age" in young.json["error"]["message"]


def test_overdue_mandatory_referrals_escalate_once(api, app):
    screener = api("screener")
    body = copy.deepcopy(ROSA)
    doc = screener.post("/api/v1/screenings", json=body).json
    upe = referral_of(doc, "mimp_upe")
    row = db.session.scalar(sa.select(Referral).where(Referral.uuid == upe["id"]))
    row.due_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert screener.get("/api/v1/referrals?overdue=true").json["total"] >= 1
    runner = app.test_cli_runner()
    first = runner.invoke(args=["referrals", "escalate"])
    assert first.exit_code == 0 and "escalated 1 " in first.output
    second = runner.invoke(args=["referrals", "escalate"])
    assert "escalated 0 " in second.output
    again = screener.get(f"/api/v1/screenings/{doc['id']}").json
    assert "overdue_mandatory_referral" in [a["code"] for a in again["alerts"]]
    flagged = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "referral.escalate")
    ).all()
    assert len(flagged) == 1 and flagged[0].is_flagged


def test_letter_contains_only_the_referral_view(api):
    screener = api("screener", "ONG-REF-TUM-W")
    body = copy.deepcopy(MARIA)
    body["consent"] = {"given": True, "scope": ["all"], "method": "written"}
    doc = screener.post("/api/v1/screenings", json=body).json
    shelter = referral_of(doc, "ngo_shelter")
    letter = screener.get(f"/api/v1/referrals/{shelter['id']}/letter")
    html = letter.get_data(as_text=True)
    assert letter.status_code == 200 and letter.mimetype == "text/html"
    assert "María González" in html and "Casa Refugio Mujeres Lima" in html
    assert "Consentimiento escrito" in html
    assert "Relato completo" not in html and "deception" not in html


@pytest.mark.parametrize("consent_scope", [["all"], ["consulate"]])
def test_asylum_seeker_is_never_referred_to_a_consulate(api, consent_scope):
    body = copy.deepcopy(MARIA)
    body["person"]["migration_status"] = "asylum_seeker"
    body["consent"] = {"given": True, "scope": consent_scope}
    doc = api("screener", "PNP-TRATA-LIM").post("/api/v1/screenings", json=body).json
    types = {r["service_type"] for r in doc["referrals"]}
    assert "refugee_cepr" in types and "consulate" not in types


def test_consulate_only_with_explicit_consent(api):
    body = copy.deepcopy(MARIA)
    body["consent"] = {"given": True, "scope": ["consulate", "ngo_shelter"]}
    doc = api("screener", "PNP-TRATA-LIM").post("/api/v1/screenings", json=body).json
    assert "consulate" in {r["service_type"] for r in doc["referrals"]}


def test_state_errors_are_409(api):
    screener = api("screener")
    doc = screener.post("/api/v1/screenings", json=ROSA).json
    upe = referral_of(doc, "mimp_upe")
    worker = api("caseworker", "UPE-MDD")
    assert worker.get(f"/api/v1/referrals/{upe['id']}").status_code == 404  # not sent
    screener.post(f"/api/v1/referrals/{upe['id']}/send")
    again = screener.post(f"/api/v1/referrals/{upe['id']}/send")
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_state"
    assert worker.post(f"/api/v1/referrals/{upe['id']}/complete").status_code == 409
