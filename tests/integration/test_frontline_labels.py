"""Issue 14 item 11: people see labels in their language, never internal codes
(case history actions, referral history reasons, roles in the admin forms)."""

from __future__ import annotations

import copy
import re

from tests.conftest import login
from tests.integration.test_referral_lifecycle import MARIA, referral_of


def _declined_case(api):
    screener = api("screener", "PNP-TRATA-LIM")
    body = copy.deepcopy(MARIA)
    doc = screener.post("/api/v1/screenings", json=body).json
    consent = screener.post(
        f"/api/v1/cases/{doc['case_id']}/consent",
        json={"given": True, "scope": ["all"], "given_by": "person", "method": "verbal"},
    )
    assert consent.status_code == 201
    cem = referral_of(doc, "cem")
    assert screener.post(f"/api/v1/referrals/{cem['id']}/send").status_code == 200
    receiver = api("caseworker", cem["provider"]["code"])
    declined = receiver.post(
        f"/api/v1/referrals/{cem['id']}/decline", json={"reason": "not_eligible"}
    )
    assert declined.status_code == 200
    return doc, cem


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_case_and_referral_history_show_labels_not_codes(app, api, users):
    doc, cem = _declined_case(api)
    client = app.test_client()
    login(client, users.create("screener", "PNP-TRATA-LIM")["email"])
    case = _text(client.get(f"/cases/{doc['case_id']}").get_data(as_text=True))
    for code in ("referral.send", "consent.record", "referral.consent", "referral.decline"):
        assert code not in case, code
    assert "Consentimiento registrado" in case and "Derivación enviada" in case
    referral = _text(client.get(f"/referrals/{cem['id']}").get_data(as_text=True))
    assert "not_eligible" not in referral and "consent_given" not in referral
    assert "Rechazada (No corresponde al perfil del servicio)" in referral
    with client.session_transaction() as session:
        session["lang"] = "en"
    english = _text(client.get(f"/cases/{doc['case_id']}").get_data(as_text=True))
    assert "Consent recorded" in english and "Referral sent" in english
    english_referral = _text(client.get(f"/referrals/{cem['id']}").get_data(as_text=True))
    assert "(Not eligible)" in english_referral and "not_eligible" not in english_referral


def test_admin_role_choices_are_labels(client, login_as):
    login_as("admin")
    html = client.get("/admin/users").get_data(as_text=True)
    options = dict(re.findall(r'<option[^>]*value="([a-z]+)"[^>]*>([^<]*)</option>', html))
    assert options["screener"] == "Evaluador(a)" and options["caseworker"] == "Gestor(a) de casos"
    assert options["admin"] == "Administrador(a)"
