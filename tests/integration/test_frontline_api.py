"""Issue 14 (frontline corrections) through the API: one test per reported situation."""

from __future__ import annotations

import copy

from tests.integration.test_referral_lifecycle import MARIA


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
