"""Issue 14 (frontline corrections) through the API: one test per reported situation."""

from __future__ import annotations

import copy
from datetime import datetime

import sqlalchemy as sa

from caseapp.core.db import utcnow
from caseapp.extensions import db
from caseapp.referrals.models import GapRecord
from tests.integration.test_referral_lifecycle import MARIA
from tests.integration.test_screening_api import ROSA


def _referrals(doc):
    return {r["service_type"]: r for r in doc["referrals"]}


def test_asylum_seeker_is_proposed_cepr_and_acnur_not_migraciones_or_iom(api):
    body = copy.deepcopy(MARIA)
    body["person"]["migration_status"] = "asylum_seeker"
    body["consent"] = {"given": True, "scope": ["all"], "method": "verbal"}
    resp = api("screener", "PNP-TRATA-LIM").post("/api/v1/screenings", json=body)
    assert resp.status_code == 201, resp.json
    got = _referrals(resp.json)
    assert got["unhcr"]["provider"]["code"] == "ACNUR-LIM"
    assert got["refugee_cepr"]["provider"]["code"] == "CEPR-LIM"
    assert "migration_migraciones" not in got and "iom" not in got
    assert "consulate" not in got


def test_adult_man_needing_return_gets_gap_no_service_for_need(api):
    body = copy.deepcopy(MARIA)
    body["person"].update(sex="M", nationality=["PER"], migration_status="regular")
    body["needs"] = ["return_assistance"]
    resp = api("screener", "PNP-TRATA-LIM").post("/api/v1/screenings", json=body)
    assert resp.status_code == 201, resp.json
    gaps = [g for g in resp.json["gaps"] if g["code"] == "no_service_for_need"]
    assert len(gaps) == 1 and gaps[0]["service_type"] is None
    assert "Retorno a su lugar de origen" in gaps[0]["es"]


def test_after_hours_gap_of_a_screening_recorded_later_never_shows_a_past_opening(api):
    before = utcnow()
    resp = api("screener").post("/api/v1/screenings", json=ROSA)  # Saturday 14/03/2026 22:30
    assert resp.status_code == 201, resp.json
    gap = next(g for g in resp.json["gaps"] if g["code"] == "after_hours_unavailable")
    assert datetime.fromisoformat(gap["next_opening"]) >= before
    assert "16/03/2026" not in gap["es"] and "2026-03-16" not in gap["en"]
    stored = db.session.scalar(
        sa.select(GapRecord).where(GapRecord.code == "after_hours_unavailable")
    )
    assert stored is not None and stored.next_opening >= before


def test_upe_madre_de_dios_declines_presumed_child_reroute_says_where_and_why(api):
    screener = api("screener")
    doc = screener.post("/api/v1/screenings", json=ROSA).json
    upe = next(r for r in doc["referrals"] if r["service_type"] == "mimp_upe")
    assert upe["provider"]["code"] == "UPE-MDD"
    assert screener.post(f"/api/v1/referrals/{upe['id']}/send").status_code == 200
    receiver = api("caseworker", "UPE-MDD")
    declined = receiver.post(
        f"/api/v1/referrals/{upe['id']}/decline", json={"reason": "no_capacity"}
    )
    assert declined.status_code == 200, declined.json
    new = declined.json["rerouted_to"]
    assert new["provider"]["code"] == "UPE-CUS"
    full = screener.get(f"/api/v1/referrals/{new['id']}").json
    first = full["reasons"][0]
    assert first["code"] == "reroute_after_decline"
    for text in (first["es"], first["en"]):
        assert "UPE-MDD" in text and "UPE-CUS" in text and "Cusco" in text
    assert "rechaz" in first["es"] and "sin vacantes" in first["es"].lower()
    assert "declined" in first["en"] and "nearest" in first["en"]
    assert "más cercan" in first["es"]
    # the original reasons are kept, but marked as the initial referral's
    for reason in full["reasons"][1:]:
        assert reason["es"].startswith("Derivación inicial")
        assert reason["en"].startswith("Initial referral")


def test_date_of_birth_2000_with_age_12_is_422_naming_both_fields(api):
    body = copy.deepcopy(ROSA)
    body["person"].update(date_of_birth="2000-01-01", age_years=12)
    resp = api("screener").post("/api/v1/screenings", json=body)
    assert resp.status_code == 422
    fields = resp.json["error"]["fields"]
    assert {"person.date_of_birth", "person.age_years"} <= set(fields)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GapRecord)) == 0
