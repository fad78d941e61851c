"""Regressions found in review: closed cases, coded cancel reasons, consent scope and
giver, report date bounds, mandatory referrals on withdrawal, receiver roles, replays."""

from __future__ import annotations

import copy
import json

import sqlalchemy as sa

from caseapp.audit.models import AuditEvent
from caseapp.core.idempotency import IdempotencyRecord
from caseapp.extensions import db
from tests.integration.test_referral_lifecycle import MARIA, referral_of
from tests.integration.test_screening_api import ROSA


def test_closing_a_case_cancels_its_pending_referrals_and_freezes_them(api):
    worker = api("caseworker", "ONG-REF-TUM-W")
    body = copy.deepcopy(MARIA)
    body["consent"] = {"given": True, "scope": ["all"]}
    doc = worker.post("/api/v1/screenings", json=body).json
    url = f"/api/v1/cases/{doc['case_id']}"
    closed = worker.patch(
        url, json={"version": worker.get(url).json["version"], "status": "closed"}
    )
    assert closed.status_code == 200
    assert {r["status"] for r in closed.json["referrals"]} == {"cancelled"}
    shelter = referral_of(doc, "ngo_shelter")
    again = worker.post(f"/api/v1/referrals/{shelter['id']}/send")
    assert again.status_code == 409 and again.json["error"]["code"] == "case_closed"


def test_only_case_closers_reopen(api):
    worker = api("caseworker")
    doc = worker.post("/api/v1/screenings", json=ROSA).json
    url = f"/api/v1/cases/{doc['case_id']}"
    worker.patch(url, json={"version": worker.get(url).json["version"], "status": "closed"})
    screener = api("screener")
    reopened = screener.patch(
        url, json={"version": screener.get(url).json["version"], "status": "open"}
    )
    assert reopened.status_code == 403


def test_cancel_reason_is_a_code_and_free_text_is_encrypted(api):
    screener = api("screener", "ONG-REF-TUM-W")
    doc = screener.post("/api/v1/screenings", json=MARIA).json
    cem = referral_of(doc, "cem")
    url = f"/api/v1/referrals/{cem['id']}/cancel"
    free = screener.post(url, json={"reason": "Luis Rojas DNI 71234567 ya atendido"})
    assert free.status_code == 422 and "reason" in free.json["error"]["fields"]
    ok = screener.post(url, json={"reason": "duplicate", "note": "DNI 71234567 ya atendido"})
    assert ok.status_code == 200 and ok.json["status"] == "cancelled"
    details = " ".join(db.session.scalars(sa.select(AuditEvent.details)))
    assert "71234567" not in details
    raw = db.session.execute(
        sa.text("SELECT note, reason FROM referral_events WHERE action = 'cancel'")
    ).one()
    assert b"71234567" not in bytes(raw[0]) and raw[1] == "duplicate"


def test_empty_consent_scope_is_refused(api):
    screener = api("screener", "ONG-REF-TUM-W")
    doc = screener.post("/api/v1/screenings", json=MARIA).json
    r = screener.post(f"/api/v1/cases/{doc['case_id']}/consent", json={"given": True, "scope": []})
    assert r.status_code == 422 and "scope" in r.json["error"]["fields"]
    case = screener.get(f"/api/v1/cases/{doc['case_id']}").json
    assert "ready" not in {r["status"] for r in case["referrals"] if r["requires_consent"]}


def test_a_childs_own_consent_does_not_release_referrals(api):
    """domain.md §4: for a child, the legal representative or the UPE consents."""
    screener = api("screener")
    body = copy.deepcopy(ROSA)  # the api.md example: consent given_by "person", age 16
    doc = screener.post("/api/v1/screenings", json=body).json
    car = referral_of(doc, "car_specialized_trafficking")
    assert car["status"] == "pending_consent"
    assert screener.post(f"/api/v1/referrals/{car['id']}/send").status_code == 409
    screener.post(
        f"/api/v1/cases/{doc['case_id']}/consent",
        json={"given": True, "scope": ["all"], "given_by": "upe"},
    )
    assert screener.get(f"/api/v1/referrals/{car['id']}").json["status"] == "ready"


def test_withdrawal_keeps_mandatory_child_referrals(api):
    screener = api("screener")
    body = copy.deepcopy(ROSA)
    body["consent"] = {"given": True, "scope": ["all"], "given_by": "upe"}
    doc = screener.post("/api/v1/screenings", json=body).json
    screener.post(
        f"/api/v1/cases/{doc['case_id']}/consent", json={"given": False, "given_by": "upe"}
    )
    case = screener.get(f"/api/v1/cases/{doc['case_id']}").json
    by_type = {r["service_type"]: r["status"] for r in case["referrals"]}
    assert by_type["mimp_upe"] == "ready" and by_type["prosecutor_trafficking"] == "ready"
    assert by_type["car_specialized_trafficking"] == "cancelled"


def test_report_dates_out_of_range_are_422(api):
    caller = api("statistician")
    for query in ("to=9999-12-31", "from=0001-01-01"):
        r = caller.get(f"/api/v1/reports/victims?by=sex&{query}")
        assert r.status_code == 422, query


def test_receiving_screeners_do_not_see_referrals(api):
    screener = api("screener", "ONG-REF-TUM-W")
    body = copy.deepcopy(MARIA)
    body["consent"] = {"given": True, "scope": ["all"]}
    doc = screener.post("/api/v1/screenings", json=body).json
    shelter = referral_of(doc, "ngo_shelter")
    screener.post(f"/api/v1/referrals/{shelter['id']}/send")
    assert (
        api("caseworker", "ONG-REF-LIM-W").get(f"/api/v1/referrals/{shelter['id']}").status_code
        == 200
    )
    assert (
        api("screener", "ONG-REF-LIM-W").get(f"/api/v1/referrals/{shelter['id']}").status_code
        == 404
    )


def test_idempotency_records_keep_no_screening_document(api):
    caller = api("screener")
    headers = {"Idempotency-Key": "k-1"}
    first = caller.post("/api/v1/screenings", json=ROSA, headers=headers).json
    stored = json.loads(db.session.scalar(sa.select(IdempotencyRecord.response)))
    assert stored == {"id": first["id"]}
    again = caller.post("/api/v1/screenings", json=ROSA, headers=headers)
    assert again.status_code == 201 and again.json["determination"] == first["determination"]
