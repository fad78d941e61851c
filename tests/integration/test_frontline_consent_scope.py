"""Issue 14 item 6: consent never offers or records what domain.md E2 forbids, and the
referral statuses follow the recorded scope at once."""

from __future__ import annotations

import copy

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.referrals.models import Consent, Referral, ReferralEvent
from caseapp.screening.models import Case
from tests.conftest import csrf_from, login
from tests.integration.test_referral_lifecycle import MARIA


def _screen(api, migration_status="asylum_seeker", consent=None):
    body = copy.deepcopy(MARIA)
    body["person"]["migration_status"] = migration_status
    if consent is not None:
        body["consent"] = consent
    screener = api("screener", "ONG-REF-TUM-W")
    response = screener.post("/api/v1/screenings", json=body)
    assert response.status_code == 201, response.json
    return screener, response.json


def _consents(case_uuid):
    case = db.session.scalar(sa.select(Case).where(Case.uuid == case_uuid))
    return db.session.scalars(sa.select(Consent).where(Consent.case_id == case.id)).all()


def test_consent_page_never_offers_the_consulate_to_an_asylum_seeker(app, api, users):
    _, doc = _screen(api)
    _, migrant = _screen(api, migration_status="irregular")
    client = app.test_client()
    login(client, users.create("screener", "ONG-REF-TUM-W")["email"])
    html = client.get(f"/cases/{doc['case_id']}/consent").get_data(as_text=True)
    assert 'value="consulate"' not in html and "Consulado" not in html
    other = client.get(f"/cases/{migrant['case_id']}/consent").get_data(as_text=True)
    assert 'value="consulate"' in other  # a foreigner not seeking asylum may name it
    crafted = client.post(
        f"/cases/{doc['case_id']}/consent",
        data={
            "csrf_token": csrf_from(html),
            "given": "yes",
            "scope_all": "some",
            "scope": ["consulate"],
            "given_by": "person",
            "method": "written",
        },
    )
    assert crafted.status_code == 422
    assert "Hay un problema" in crafted.get_data(as_text=True)
    assert _consents(doc["case_id"]) == []


def test_consent_api_refuses_the_consulate_for_an_asylum_seeker(api):
    screener, doc = _screen(api)
    for scope in (["consulate"], ["refugee_cepr", "consulate"]):
        response = screener.post(
            f"/api/v1/cases/{doc['case_id']}/consent",
            json={"given": True, "scope": scope, "given_by": "person", "method": "verbal"},
        )
        assert response.status_code == 422, response.json
        assert "scope" in response.json["error"]["fields"]
    assert _consents(doc["case_id"]) == []
    ok = screener.post(
        f"/api/v1/cases/{doc['case_id']}/consent",
        json={"given": True, "scope": ["refugee_cepr"], "given_by": "person", "method": "verbal"},
    )
    assert ok.status_code == 201, ok.json


def test_narrowed_consent_puts_uncovered_referrals_back_to_pending_consent(api):
    screener, doc = _screen(
        api, migration_status="irregular", consent={"given": True, "scope": ["all"]}
    )
    needing = [r for r in doc["referrals"] if r["requires_consent"] and r["provider"]]
    assert {r["status"] for r in needing} == {"ready"}
    assert any(r["service_type"] == "ngo_shelter" for r in needing)
    narrowed = screener.post(
        f"/api/v1/cases/{doc['case_id']}/consent",
        json={"given": True, "scope": ["ngo_shelter"], "given_by": "person", "method": "verbal"},
    )
    assert narrowed.status_code == 201, narrowed.json
    for r in needing:
        status = screener.get(f"/api/v1/referrals/{r['id']}").json["status"]
        expected = "ready" if r["service_type"] == "ngo_shelter" else "pending_consent"
        assert status == expected, (r["service_type"], status)
    cem = next(r for r in needing if r["service_type"] == "cem")
    referral = db.session.scalar(sa.select(Referral).where(Referral.uuid == cem["id"]))
    last = db.session.scalars(
        sa.select(ReferralEvent)
        .where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.id.desc())
    ).first()
    assert (last.from_status, last.to_status, last.reason) == (
        "ready",
        "pending_consent",
        "consent_narrowed",
    )
