"""POST/GET /api/v1/screenings, override, cases list/detail/patch (api.md §4–5)."""

from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa

from caseapp.audit.models import AuditEvent
from caseapp.extensions import db
from caseapp.screening.models import Case, Person, Screening

ROSA = {
    "identified_at": "2026-03-14T22:30:00-05:00",
    "region": "17",
    "identification_context": "police_operation",
    "person": {
        "given_names": "Rosa",
        "family_names": "Quispe Mamani",
        "sex": "F",
        "gender_identity": "feminine",
        "lgbtqi": None,
        "date_of_birth": None,
        "age_years": 16,
        "age_estimated": True,
        "appears_minor": None,
        "nationality": ["PER"],
        "document": {"type": "dni", "number": "71234567"},
        "languages": ["es", "qu"],
        "pregnant": False,
        "disability": False,
        "migration_status": "national",
        "unaccompanied": False,
        "contact": "Tía: 987 654 321",
        "address": "Jr. Loreto 123, Puerto Maldonado",
    },
    "acts": ["recruitment", "transport"],
    "means": ["deception"],
    "purposes": ["sexual_exploitation"],
    "indicators": ["withholds_documents"],
    "stated_consent": False,
    "context": {
        "origin_region": "08",
        "exploitation_region": "17",
        "sector": "hospitality_bars",
        "trafficker_relation": "stranger",
        "recruitment_method": "job_offer",
        "public_official_involved": False,
        "multiple_victims": False,
        "criminal_organization": False,
        "serious_injury_or_death": False,
    },
    "needs": ["shelter", "medical"],
    "consent": {"given": True, "scope": ["all"], "given_by": "person", "method": "verbal"},
    "notes": "Contó que la llevaron a un bar en La Pampa.",
}


def cases_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Case.id)))


def test_create_returns_the_documented_shape(api):
    response = api("screener").post("/api/v1/screenings", json=ROSA)
    assert response.status_code == 201, response.json
    doc = response.json
    assert set(doc) >= {
        "id",
        "case_id",
        "rule_version",
        "determination",
        "profile",
        "referrals",
        "gaps",
        "alerts",
    }
    det = doc["determination"]
    assert det["status"] == "indicated"
    assert det["missing_elements"] == []
    assert "victim_14_17" in det["aggravating"]
    assert det["exploitation_form"] == "sexual_exploitation"
    codes = [r["code"] for r in det["explanation"]]
    assert "child_means_not_required" in codes or "means_present" in codes
    assert all(r["es"] and r["en"] for r in det["explanation"])
    assert doc["profile"]["age_group"] == "age_14_17"
    assert doc["profile"]["unodc_category"] == "girl"
    assert {"child", "female"} <= set(doc["profile"]["tags"])
    assert "adult" not in doc["profile"]["tags"]
    assert doc["rule_version"] == "2026.1"


def test_get_returns_the_same_document(api):
    caller = api("screener")
    created = caller.post("/api/v1/screenings", json=ROSA).json
    fetched = caller.get(f"/api/v1/screenings/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json == created


def test_minimal_request_and_defaults(api):
    body = {"region": "1501", "person": {"sex": "unknown"}, "acts": [], "means": [], "purposes": []}
    doc = api("screener").post("/api/v1/screenings", json=body).json
    assert doc["determination"]["status"] == "not_indicated"
    assert doc["profile"]["age_group"] == "unknown"
    assert [a["code"] for a in doc["alerts"]] == ["age_unknown_verify"]


@pytest.mark.parametrize(
    ("mutate", "fields"),
    [
        (lambda b: b.pop("region"), {"region"}),
        (lambda b: b["person"].pop("sex"), {"person.sex"}),
        (lambda b: b.pop("acts"), {"acts"}),
        (lambda b: b.update(acts=["kidnap"]), {"acts[0]"}),
        (
            lambda b: b["person"].update(sex="X", nationality=["PERU"]),
            {"person.sex", "person.nationality[0]"},
        ),
        (lambda b: b["person"].update(date_of_birth="2026-02-30"), {"person.date_of_birth"}),
        (lambda b: b["person"].update(date_of_birth="2027-01-01"), {"person.date_of_birth"}),
        (lambda b: b.update(identified_at="yesterday"), {"identified_at"}),
        (lambda b: b.update(identified_at="2026-03-14T22:30:00"), {"identified_at"}),
        (lambda b: b.update(purpose=["sexual_exploitation"]), {"purpose"}),
        (lambda b: b["person"].update(givenname="Rosa"), {"person.givenname"}),
        (lambda b: b["person"].update(age_years=-1), {"person.age_years"}),
        (lambda b: b["person"].update(age_years="16"), {"person.age_years"}),
        (lambda b: b["context"].update(sector="bars"), {"context.sector"}),
        (lambda b: b["consent"].update(given_by="mother"), {"consent.given_by"}),
        (lambda b: b.update(region=None), {"region"}),
    ],
    ids=[
        "no region",
        "no sex",
        "no acts",
        "unknown act",
        "bad sex and nationality",
        "impossible date",
        "born after identification",
        "bad datetime",
        "datetime no offset",
        "typo top-level",
        "typo person",
        "negative age",
        "age as text",
        "unknown sector",
        "unknown consent giver",
        "null region",
    ],
)
def test_bad_input_is_422_naming_every_field_and_saves_nothing(api, mutate, fields):
    caller = api("screener")
    before = cases_count()
    body = copy.deepcopy(ROSA)
    mutate(body)
    response = caller.post("/api/v1/screenings", json=body)
    assert response.status_code == 422, response.json
    assert set(response.json["error"]["fields"]) == fields
    assert cases_count() == before


def test_malformed_json_is_400(api):
    caller = api("screener")
    response = caller.client.post(
        "/api/v1/screenings",
        data="{not json",
        headers={"Authorization": f"Bearer {caller.token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"


def test_idempotency_key_returns_the_first_result(api):
    caller = api("screener")
    headers = {"Idempotency-Key": "rosa-2026-03-14"}
    first = caller.post("/api/v1/screenings", json=ROSA, headers=headers)
    second = caller.post("/api/v1/screenings", json=ROSA, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json["id"] == second.json["id"]
    assert db.session.scalar(sa.select(sa.func.count(Screening.id))) == 1
    other = copy.deepcopy(ROSA)
    other["notes"] = "otra"
    assert caller.post("/api/v1/screenings", json=other, headers=headers).status_code == 409


def test_another_organization_gets_404_everywhere(api):
    mine = api("supervisor", "PNP-TRATA-MDD")
    theirs = api("supervisor", "PNP-TRATA-CUS")
    doc = mine.post("/api/v1/screenings", json=ROSA).json
    assert theirs.get(f"/api/v1/screenings/{doc['id']}").status_code == 404
    assert theirs.get(f"/api/v1/cases/{doc['case_id']}").status_code == 404
    assert theirs.patch(f"/api/v1/cases/{doc['case_id']}", json={"version": 1}).status_code == 404
    assert (
        theirs.post(
            f"/api/v1/screenings/{doc['id']}/override",
            json={"status": "possible", "justification": "long enough reason"},
        ).status_code
        == 404
    )
    assert theirs.get("/api/v1/cases").json["total"] == 0


@pytest.mark.parametrize("role", ["statistician", "admin"])
def test_statisticians_and_admins_see_no_case_data(api, role):
    caller = api(role)
    assert caller.get("/api/v1/cases").status_code == 403
    assert caller.post("/api/v1/screenings", json=ROSA).status_code == 403


def test_supervisor_override_keeps_the_advice_and_is_flagged(api):
    screener = api("screener")
    doc = screener.post("/api/v1/screenings", json=ROSA).json
    url = f"/api/v1/screenings/{doc['id']}/override"
    body = {"status": "possible", "justification": "La edad no está confirmada todavía."}
    assert screener.post(url, json=body).status_code == 403
    supervisor = api("supervisor")
    short = supervisor.post(url, json={"status": "possible", "justification": "no"})
    assert short.status_code == 422 and "justification" in short.json["error"]["fields"]
    bad = supervisor.post(url, json={"status": "maybe", "justification": "x" * 20})
    assert "status" in bad.json["error"]["fields"]
    done = supervisor.post(url, json=body)
    assert done.status_code == 200
    assert done.json["determination"]["status"] == "indicated"  # the advice stays
    assert done.json["override"]["status"] == "possible"
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "screening.override")
    ).one()
    assert event.is_flagged


def test_case_list_filters_and_exact_search(api):
    caller = api("screener")
    caller.post("/api/v1/screenings", json=ROSA)
    other = copy.deepcopy(ROSA)
    other["person"].update(
        given_names="Juan",
        family_names="Pérez",
        sex="M",
        document={"type": "dni", "number": "40000001"},
    )
    other["region"] = "08"
    caller.post("/api/v1/screenings", json=other)
    everything = caller.get("/api/v1/cases").json
    assert everything["total"] == 2 and everything["per_page"] == 20
    assert caller.get("/api/v1/cases?region=08").json["total"] == 1
    for q in (
        "Rosa Quispe Mamani",
        "rosa quispe mamani",
        "Quispe Mamani Rosa",
        "71234567",
        "71 234 567",
    ):
        found = caller.get("/api/v1/cases", query_string={"q": q}).json
        assert found["total"] == 1, q
        assert found["items"][0]["person"]["given_names"] == "Rosa"
    assert caller.get("/api/v1/cases?q=Rosa").json["total"] == 0  # exact, not partial
    assert caller.get("/api/v1/cases?per_page=500").status_code == 422
    assert caller.get("/api/v1/cases?colour=red").status_code == 422


def test_case_detail_and_versioned_patch(api):
    caller = api("caseworker")
    doc = caller.post("/api/v1/screenings", json=ROSA).json
    url = f"/api/v1/cases/{doc['case_id']}"
    case = caller.get(url).json
    assert case["person"]["document"] == {"type": "dni", "number": "71234567"}
    assert case["screenings"][0]["id"] == doc["id"]
    version = case["version"]
    ok = caller.patch(url, json={"version": version, "person": {"contact": "999 111 222"}})
    assert ok.status_code == 200, ok.json
    assert ok.json["person"]["contact"] == "999 111 222"
    assert ok.json["version"] == version + 1
    stale = caller.patch(url, json={"version": version, "person": {"contact": "x"}})
    assert stale.status_code == 409
    assert stale.json["error"]["current_version"] == version + 1
    bad = caller.patch(url, json={"version": version + 1, "person": {"age_years": 3}})
    assert bad.status_code == 422 and "person.age_years" in bad.json["error"]["fields"]
    closed = caller.patch(url, json={"version": version + 1, "status": "closed"})
    assert closed.json["status"] == "closed"
    actions = [h["action"] for h in closed.json["history"]]
    assert actions[0] == "screening.create" and actions.count("case.update") == 2


def test_screener_cannot_close_a_case(api):
    caller = api("screener")
    doc = caller.post("/api/v1/screenings", json=ROSA).json
    r = caller.patch(f"/api/v1/cases/{doc['case_id']}", json={"version": 1, "status": "closed"})
    assert r.status_code == 403


def test_reads_and_writes_are_audited(api):
    caller = api("screener")
    doc = caller.post("/api/v1/screenings", json=ROSA).json
    caller.get(f"/api/v1/screenings/{doc['id']}")
    caller.get(f"/api/v1/cases/{doc['case_id']}")
    caller.get("/api/v1/cases")
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.actor_user_id == caller.user["id"])
    ).all()
    for action in ("screening.create", "screening.read", "case.read", "case.list"):
        assert action in actions


def test_personal_data_is_encrypted_in_the_database(api):
    api("screener").post("/api/v1/screenings", json=ROSA)
    raw = db.session.execute(
        sa.text(
            "SELECT given_names, family_names, document_number, contact, address, name_index "
            "FROM persons"
        )
    ).one()
    blob = b"".join(
        bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in raw
    )
    for secret in (b"Rosa", b"Quispe", b"71234567", b"987 654", b"Loreto"):
        assert secret not in blob
    notes = db.session.execute(sa.text("SELECT notes, facts FROM screenings")).one()
    assert b"La Pampa" not in bytes(notes[0]) and b"Rosa" not in bytes(notes[1])
    person = db.session.scalars(sa.select(Person)).one()
    assert person.given_names == "Rosa"  # the application reads it back
