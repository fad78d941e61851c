"""Issue 14 item 12 at the page level: the outgoing list says whose referral it is, the
shelter page is headed by the shelter's name and lists residents by name with a link, and
admission and discharge appear in the referral's history."""

from __future__ import annotations

import copy
import json
import re

import sqlalchemy as sa

from caseapp.audit.models import AuditEvent
from caseapp.extensions import db
from tests.conftest import csrf_from, login
from tests.integration.test_referral_lifecycle import MARIA, referral_of


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _screen(screener, given: str, family: str):
    body = copy.deepcopy(MARIA)
    body["person"].update({"given_names": given, "family_names": family})
    body["consent"] = {"given": True, "scope": ["all"]}
    doc = screener.post("/api/v1/screenings", json=body).json
    shelter = referral_of(doc, "ngo_shelter")
    assert screener.post(f"/api/v1/referrals/{shelter['id']}/send").status_code == 200
    return doc, shelter


def _last(action: str) -> dict:
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None, action
    return json.loads(event.details)


def test_outgoing_list_names_the_person_and_links_the_case(app, api, users):
    screener = api("screener", "PNP-TRATA-LIM")
    maria, _ = _screen(screener, "María", "González")
    rosa, _ = _screen(screener, "Rosa", "Quispe")
    client = app.test_client()
    login(client, users.create("screener", "PNP-TRATA-LIM")["email"])
    html = client.get("/referrals/outgoing").get_data(as_text=True)
    text = _text(html)
    assert "Persona" in text and "Caso" in text
    assert "María González" in text and "Rosa Quispe" in text
    assert f'href="/cases/{maria["case_id"]}"' in html
    assert f'href="/cases/{rosa["case_id"]}"' in html
    shown = _last("referral.list")
    assert shown["direction"] == "outgoing"
    assert {maria["case_id"], rosa["case_id"]} <= set(shown["cases"])


def test_shelter_page_heads_with_its_name_lists_residents_and_history_shows_steps(app, api, users):
    screener = api("screener", "PNP-TRATA-LIM")
    doc, shelter = _screen(screener, "María", "González")
    client = app.test_client()
    login(client, users.create("caseworker", "ONG-REF-LIM-W")["email"])
    page = client.get(f"/referrals/{shelter['id']}").get_data(as_text=True)
    accepted = client.post(
        f"/referrals/{shelter['id']}/accept", data={"csrf_token": csrf_from(page)}
    )
    assert accepted.status_code == 302
    page = client.get(f"/referrals/{shelter['id']}").get_data(as_text=True)
    admitted = client.post(
        f"/referrals/{shelter['id']}/admit",
        data={"csrf_token": csrf_from(page), "admit-bed": "B-7"},
    )
    assert admitted.status_code == 302, admitted.get_data(as_text=True)

    html = client.get("/shelters/").get_data(as_text=True)
    name = shelter["provider"]["name"]
    assert re.search(rf"<h1>\s*{re.escape(name)}\s*</h1>", html), name
    assert "<h1>Albergue de ONG" not in html
    assert f'href="/referrals/{shelter["id"]}">María González</a>' in html
    assert doc["case_id"] in _last("admission.list")["cases"]

    history = _text(client.get(f"/referrals/{shelter['id']}").get_data(as_text=True))
    assert "Aceptada" in history and "Ingreso al albergue" in history
    admission = re.search(r'/shelters/admissions/([0-9a-f-]+)/discharge"', html)
    assert admission
    discharged = client.post(
        f"/shelters/admissions/{admission.group(1)}/discharge",
        data={"csrf_token": csrf_from(html), "reason": "family_reintegration"},
    )
    assert discharged.status_code == 302, discharged.get_data(as_text=True)
    history = _text(client.get(f"/referrals/{shelter['id']}").get_data(as_text=True))
    assert "Egreso del albergue (Reintegración familiar)" in history
    referring = api("screener", "PNP-TRATA-LIM").get(f"/api/v1/referrals/{shelter['id']}")
    steps = [h["action"] for h in referring.json["history"]]
    assert steps[-2:] == ["admit", "discharge"]
    assert referring.json["status"] == "accepted"  # no invented status
    empty = _text(client.get("/shelters/").get_data(as_text=True))
    assert "María González" not in empty
