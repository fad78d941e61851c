"""Referral, consent and shelter pages as the people who use them see them."""

from __future__ import annotations

import copy

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.referrals.models import Referral
from tests.conftest import csrf_from, login
from tests.integration.test_referral_lifecycle import MARIA, referral_of


def screen_maria(api, consent=False):
    body = copy.deepcopy(MARIA)
    if consent:
        body["consent"] = {"given": True, "scope": ["all"]}
    screener = api("screener", "ONG-REF-TUM-W")
    return screener, screener.post("/api/v1/screenings", json=body).json


def test_consent_page_then_send_from_the_referral_page(app, api, users):
    _, doc = screen_maria(api)
    shelter = referral_of(doc, "ngo_shelter")
    user = users.create("screener", "ONG-REF-TUM-W")
    client = app.test_client()
    login(client, user["email"])

    page = client.get(f"/referrals/{shelter['id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Falta el consentimiento" in html and "Casa Refugio Mujeres Lima" in html
    refused = client.post(
        f"/referrals/{shelter['id']}/send", data={"send-csrf_token": csrf_from(html)}
    )
    assert refused.status_code == 409
    assert "Falta el consentimiento que cubra" in refused.get_data(as_text=True)

    form = client.get(f"/cases/{doc['case_id']}/consent").get_data(as_text=True)
    empty = client.post(f"/cases/{doc['case_id']}/consent", data={"csrf_token": csrf_from(form)})
    assert empty.status_code == 422 and "Hay un problema" in empty.get_data(as_text=True)
    saved = client.post(
        f"/cases/{doc['case_id']}/consent",
        data={
            "csrf_token": csrf_from(form),
            "given": "yes",
            "scope_all": "all",
            "given_by": "person",
            "method": "written",
        },
    )
    assert saved.status_code == 302

    html = client.get(f"/referrals/{shelter['id']}").get_data(as_text=True)
    sent = client.post(
        f"/referrals/{shelter['id']}/send",
        data={"send-csrf_token": csrf_from(html), "send-risk_notes": "Evitar visitas sin aviso."},
    )
    assert sent.status_code == 302
    row = db.session.scalar(sa.select(Referral).where(Referral.uuid == shelter["id"]))
    assert row.status == "sent" and row.risk_notes == "Evitar visitas sin aviso."


def test_shelter_accepts_admits_and_discharges_on_pages(app, api, users):
    screener, doc = screen_maria(api, consent=True)
    shelter = referral_of(doc, "ngo_shelter")
    screener.post(f"/api/v1/referrals/{shelter['id']}/send")
    worker = users.create("caseworker", "ONG-REF-LIM-W")
    client = app.test_client()
    login(client, worker["email"])

    inbox = client.get("/referrals/incoming").get_data(as_text=True)
    assert "María" in inbox and "González" in inbox
    page = client.get(f"/referrals/{shelter['id']}").get_data(as_text=True)
    assert "Relato completo" not in page  # the screening's notes are never shown
    assert (
        client.post(
            f"/referrals/{shelter['id']}/accept", data={"action-csrf_token": csrf_from(page)}
        ).status_code
        == 302
    )
    before = client.get("/shelters/").get_data(as_text=True)
    assert "0 de 12 plazas ocupadas" in before
    page = client.get(f"/referrals/{shelter['id']}").get_data(as_text=True)
    admitted = client.post(
        f"/referrals/{shelter['id']}/admit",
        data={
            "admit-csrf_token": csrf_from(page),
            "admit-bed": "B-3",
            "admit-planned_stay_days": "30",
        },
    )
    assert admitted.status_code == 302
    after = client.get("/shelters/").get_data(as_text=True)
    assert "1 de 12 plazas ocupadas" in after and "B-3" in after
    directory = client.get("/directory/ONG-REF-LIM-W").get_data(as_text=True)
    assert "1 de 12" in directory

    admission_id = after.split("/shelters/admissions/")[1].split("/discharge")[0]
    bad = client.post(
        f"/shelters/admissions/{admission_id}/discharge",
        data={"csrf_token": csrf_from(after), "reason": "vanished"},
    )
    assert bad.status_code == 422
    done = client.post(
        f"/shelters/admissions/{admission_id}/discharge",
        data={"csrf_token": csrf_from(after), "reason": "independent_living"},
    )
    assert done.status_code == 302
    assert "0 de 12 plazas ocupadas" in client.get("/shelters/").get_data(as_text=True)


def test_decline_on_page_requires_a_reason(app, api, users):
    screener, doc = screen_maria(api, consent=True)
    shelter = referral_of(doc, "ngo_shelter")
    screener.post(f"/api/v1/referrals/{shelter['id']}/send")
    worker = users.create("caseworker", "ONG-REF-LIM-W")
    client = app.test_client()
    login(client, worker["email"])
    page = client.get(f"/referrals/{shelter['id']}").get_data(as_text=True)
    missing = client.post(
        f"/referrals/{shelter['id']}/decline", data={"decline-csrf_token": csrf_from(page)}
    )
    assert missing.status_code == 422
    ok = client.post(
        f"/referrals/{shelter['id']}/decline",
        data={"decline-csrf_token": csrf_from(page), "decline-reason": "no_capacity"},
    )
    assert ok.status_code == 302
    new = db.session.scalars(sa.select(Referral).where(Referral.previous_id.is_not(None))).one()
    assert new.status in ("ready", "unassigned")


def test_pages_of_another_organization_are_404(app, api, users):
    _, doc = screen_maria(api, consent=True)
    shelter = referral_of(doc, "ngo_shelter")
    other = users.create("supervisor", "CEM-MDD")
    client = app.test_client()
    login(client, other["email"])
    for url in (
        f"/referrals/{shelter['id']}",
        f"/referrals/{shelter['id']}/letter",
        f"/cases/{doc['case_id']}/consent",
    ):
        assert client.get(url).status_code == 404, url


def test_escalation_inbox_lists_overdue_mandatory_referrals(app, api, users):
    from datetime import timedelta

    from caseapp.core.db import utcnow
    from tests.integration.test_screening_api import ROSA

    doc = api("screener", "PNP-TRATA-MDD").post("/api/v1/screenings", json=ROSA).json
    upe = referral_of(doc, "mimp_upe")
    row = db.session.scalar(sa.select(Referral).where(Referral.uuid == upe["id"]))
    row.due_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    supervisor = users.create("supervisor", "PNP-TRATA-MDD")
    client = app.test_client()
    login(client, supervisor["email"])
    html = client.get("/referrals/escalations").get_data(as_text=True)
    assert "Unidad de Protección Especial" in html and "vencida" in html
    screener = users.create("screener", "PNP-TRATA-MDD")
    other = app.test_client()
    login(other, screener["email"])
    assert other.get("/referrals/escalations").status_code == 403
