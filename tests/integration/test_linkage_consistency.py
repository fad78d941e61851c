"""Incremental linking agrees with a full relink, survives a retention purge, and
follows corrections of a person's identity."""

from __future__ import annotations

import copy
from datetime import timedelta

import sqlalchemy as sa

from caseapp.core.db import utcnow
from caseapp.extensions import db
from caseapp.facts import services as facts
from caseapp.facts.models import ScreeningFact
from caseapp.maintenance import retention
from tests.integration.test_screening_api import ROSA


def screen(api_client, given, family, *, dob=None, age=None, document=None):
    body = copy.deepcopy(ROSA)
    body.pop("consent")
    body["person"].update(
        given_names=given, family_names=family, date_of_birth=dob, age_years=age, document=document
    )
    return api_client.post("/api/v1/screenings", json=body).json


def persons() -> dict[int, int]:
    return dict(
        db.session.execute(sa.select(ScreeningFact.screening_id, ScreeningFact.person_id)).all()
    )


def partition(mapping: dict[int, int]) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for sid, pid in mapping.items():
        groups.setdefault(pid, set()).add(sid)
    return {frozenset(g) for g in groups.values()}


def test_two_dates_of_birth_never_join_through_name_and_year(api):
    police, ngo = api("screener", "PNP-TRATA-MDD"), api("screener", "CEM-MDD")
    screen(police, "Ana Lucía", "Huamán Ccori", dob="2008-03-01")
    screen(ngo, "Ana Lucía", "Huamán Ccori", dob="2008-07-19")  # another Ana, same year
    screen(ngo, "Ana Lucía", "Huamán Ccori", age=18)  # age only: joins both
    incremental = partition(persons())
    facts.relink_all()
    db.session.expire_all()
    assert partition(persons()) == incremental


def test_relink_after_a_purge_keeps_people_together(api, app):
    police, prosecutor = api("screener", "PNP-TRATA-MDD"), api("screener", "FISTRAP-MDD")
    first = screen(police, "Rosa", "Quispe Mamani", document={"type": "dni", "number": "71234567"})
    screen(prosecutor, "Rosa", "Quispe Mamani", document={"type": "dni", "number": "71234567"})
    before = len(set(persons().values()))
    caseworker = api("caseworker", "PNP-TRATA-MDD")
    case_url = f"/api/v1/cases/{first['case_id']}"
    version = caseworker.get(case_url).json["version"]
    caseworker.patch(case_url, json={"version": version, "status": "closed"})
    policy = retention.RetentionPolicy(days_closed=3650, days_open=0, days_not_indicated=0)
    later = utcnow() + timedelta(days=4000)  # eleven years on, the closed case is purged
    result = retention.purge(None, policy=policy, now=later)
    db.session.commit()
    assert len(result.candidates) >= 1
    facts.relink_all()
    db.session.commit()
    db.session.expire_all()
    assert len(set(persons().values())) == before


def test_correcting_a_name_relinks_the_person(api):
    police, ngo = api("caseworker", "PNP-TRATA-MDD"), api("screener", "CEM-MDD")
    a = screen(police, "Rosa", "Quispi Mamani", document=None, dob="2009-05-05")
    b = screen(ngo, "Rosa", "Quispe Mamani", document=None, dob="2009-05-05")
    mapping = persons()
    url = f"/api/v1/cases/{a['case_id']}"
    version = police.get(url).json["version"]
    fixed = police.patch(
        url, json={"version": version, "person": {"family_names": "Quispe Mamani"}}
    )
    assert fixed.status_code == 200
    db.session.expire_all()
    mapping = persons()
    ids = {s: p for s, p in mapping.items()}
    sa_ids = db.session.execute(sa.text("SELECT s.id, s.uuid FROM screenings s")).all()
    by_uuid = {u: i for i, u in sa_ids}
    assert ids[by_uuid[a["id"]]] == ids[by_uuid[b["id"]]]


def test_incremental_linking_uses_a_new_model_as_soon_as_it_is_stored(app, db_tx):
    """link_one keeps the parsed model per process, but a relink's new model (and its
    threshold) is used by the very next screening."""
    from caseapp.facts import model
    from caseapp.facts.models import LinkageModel

    def store(threshold: float, share: float) -> None:
        fitted = model.default_model()
        fitted.match_share = share
        db.session.add(
            LinkageModel(
                version=fitted.version,
                estimated_at=utcnow(),
                records=1000,
                pairs=5000,
                threshold=threshold,
                params=fitted.as_dict(),
            )
        )
        db.session.flush()

    first, _, _ = facts._model_for_linking()
    assert first.match_share == model.default_model().match_share  # nothing stored yet
    store(12.5, 0.25)
    fitted, model_id, limit = facts._model_for_linking()
    assert (fitted.match_share, limit) == (0.25, 12.5) and model_id is not None
    assert fitted.frequencies == {"given": {}, "family": {}}  # none stored with it
    fitted.m["given"] = [1.0]  # a caller's copy does not change the cached model
    fitted.frequencies = {"given": {1: 2}}
    again = facts._model_for_linking()[0]
    assert again.frequencies == {"given": {}, "family": {}} and len(again.m["given"]) > 1
    store(17.0, 0.5)
    fitted, newer, limit = facts._model_for_linking()
    assert (fitted.match_share, limit, newer > model_id) == (0.5, 17.0, True)


def test_a_relink_names_each_person_by_its_first_screening_whatever_the_row_order(api, monkeypatch):
    """A person's id is its smallest screening id, so a relink of unchanged data writes
    nothing. It used to be whichever of its rows the database returned first (PostgreSQL
    returns an updated row after the others), so every relink of a large register
    rewrote the ids of the persons whose rows had moved: 183,000 at a million persons."""
    police, ngo = api("screener", "PNP-TRATA-MDD"), api("screener", "CEM-MDD")
    dni = {"type": "dni", "number": "70011223"}
    screen(police, "Carmen", "Tito Condori", document=dni, dob="2006-02-11")
    screen(ngo, "Carmen", "Tito Condori", document=dni, dob="2006-02-11")
    first, second = sorted(persons())
    assert persons()[second] == first
    stored = facts._stored_records
    # the rows in the opposite order, as a database may return them
    monkeypatch.setattr(
        facts, "_stored_records", lambda: stored().order_by(ScreeningFact.screening_id.desc())
    )
    facts.relink_all()
    db.session.commit()
    db.session.expire_all()
    assert persons()[first] == persons()[second] == first
