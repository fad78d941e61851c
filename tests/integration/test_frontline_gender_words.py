"""Issue 14 item 4 at the page level: a trans woman recorded with document sex M is worded
as a woman on the result page, the referral page and the letter; the form says which sex to
record and asks identity separately; statistics keep the document's sex (ADR 0024)."""

from __future__ import annotations

import copy
import re

from tests.conftest import login
from tests.integration.test_referral_lifecycle import MARIA, referral_of

VALERIA = copy.deepcopy(MARIA)
VALERIA["person"].update(
    {"given_names": "Valeria", "sex": "M", "gender_identity": "trans_feminine", "age_years": 27}
)
VALERIA["needs"] = ["shelter", "psychological"]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_trans_woman_is_worded_as_a_woman_on_every_page(app, api, users):
    screener = api("screener", "PNP-TRATA-LIM")
    doc = screener.post("/api/v1/screenings", json=VALERIA).json
    assert doc["profile"]["unodc_category"] == "man"  # statistics: the document's sex
    client = app.test_client()
    login(client, users.create("screener", "PNP-TRATA-LIM")["email"])

    result = _text(client.get(f"/screenings/{doc['id']}").get_data(as_text=True))
    assert "Categoría Mujer adulta (trans)" in result
    assert "Hombre adulto" not in result and "varón" not in result
    assert "A2 — Mujer adulta (trans): se recomienda el Centro Emergencia Mujer" in result
    assert "Persona adulta, mujer trans, 27 años" in result

    cem = referral_of(doc, "cem")
    page = _text(client.get(f"/referrals/{cem['id']}").get_data(as_text=True))
    assert "Hombre adulto" not in page and "varón" not in page

    with client.session_transaction() as session:
        session["lang"] = "en"
    english = _text(client.get(f"/screenings/{doc['id']}").get_data(as_text=True))
    assert "Adult woman (trans)" in english and "Adult man" not in english
    assert "adult, trans woman, 27 years old" in english


def test_receiving_side_and_letter_name_her_as_a_woman(app, api, users):
    screener = api("screener", "PNP-TRATA-LIM")
    doc = screener.post("/api/v1/screenings", json=VALERIA).json
    consent = screener.post(
        f"/api/v1/cases/{doc['case_id']}/consent",
        json={"given": True, "scope": ["all"], "given_by": "person", "method": "verbal"},
    )
    assert consent.status_code == 201
    cem = referral_of(doc, "cem")
    assert screener.post(f"/api/v1/referrals/{cem['id']}/send").status_code == 200
    client = app.test_client()
    login(client, users.create("caseworker", cem["provider"]["code"])["email"])
    page = _text(client.get(f"/referrals/{cem['id']}").get_data(as_text=True))
    assert "Persona Mujer adulta (trans)" in page
    assert "Sexo en el documento de identidad Masculino" in page
    letter = _text(client.get(f"/referrals/{cem['id']}/letter").get_data(as_text=True))
    assert "Persona Mujer adulta (trans)" in letter and "Hombre adulto" not in letter


def test_form_says_which_sex_to_record_and_asks_identity_separately(client, login_as):
    login_as("screener")
    html = _text(client.get("/screenings/new").get_data(as_text=True))
    assert "El sexo que figura en el documento de identidad" in html
    assert "Cómo se identifica la persona, aunque no coincida con su documento" in html
