"""Concurrency: optimistic locking of cases, double-submitted screenings, shelter places.

Two kinds of tests live here.

* The first ones run everywhere (SQLite and PostgreSQL) inside the usual rolled-back
  transaction: the conflicts happen one after the other, as when two people's requests
  arrive in turn.
* ``TestOnPostgres`` needs several real connections at once, which the rolled-back
  ``db_tx`` fixture (one connection) cannot give, and PostgreSQL's row and advisory locks.
  It runs against a database of its own, ``ruta_crash_concurrency_<pid>`` (created,
  migrated, seeded and dropped here), and is **collected only when CASEAPP_TEST_DATABASE_URL points
  to PostgreSQL** (``__test__`` is false otherwise, so it is not even reported as
  skipped). ``scripts/test.sh`` sets that variable for its second pass and CI always
  does; the class carries the ``postgres`` marker (``-m postgres`` runs just these).

  Each of those tests makes the race certain instead of hoping for it: the test's own
  connection first holds a lock the requests will need (the case row, the shelter's
  service row, or the audit chain's advisory lock), starts the competing requests in
  threads, waits until PostgreSQL shows every one of them waiting on a lock (that one,
  or one the first request took on its way), and only then lets go.
"""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from caseapp.screening.models import Screening
from tests.conftest import PASSWORD, login, make_app, migrate_and_seed
from tests.integration.test_referral_lifecycle import MARIA, referral_of
from tests.integration.test_screening_api import ROSA
from tests.integration.test_screening_pages import ROSA_FORM, open_form, screening_uuid

TEST_DATABASE_URL = os.environ.get("CASEAPP_TEST_DATABASE_URL", "").strip()
POSTGRES = TEST_DATABASE_URL.startswith("postgresql")


# -- everywhere ----------------------------------------------------------------------------


def test_second_editor_with_the_same_version_gets_409_and_the_current_version(api):
    first = api("screener")
    second = api("caseworker")  # a colleague of the same organization
    doc = first.post("/api/v1/screenings", json=ROSA).json
    url = f"/api/v1/cases/{doc['case_id']}"
    version = first.get(url).json["version"]
    assert second.get(url).json["version"] == version  # both opened the same version
    saved = first.patch(url, json={"version": version, "person": {"contact": "Tía: 900 000 001"}})
    assert saved.status_code == 200 and saved.json["version"] == version + 1
    stale = second.patch(url, json={"version": version, "person": {"contact": "Otro: 1"}})
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "version_conflict"
    assert stale.json["error"]["current_version"] == version + 1
    assert first.get(url).json["person"]["contact"] == "Tía: 900 000 001"  # nothing lost


def test_double_submitted_screening_form_creates_one_screening(client, login_as):
    login_as("screener")
    _, hidden = open_form(client)
    before = db.session.scalar(sa.select(sa.func.count(Screening.id)))
    first = client.post("/screenings/new", data={**ROSA_FORM, **hidden})
    second = client.post("/screenings/new", data={**ROSA_FORM, **hidden})
    assert screening_uuid(first) == screening_uuid(second)
    assert db.session.scalar(sa.select(sa.func.count(Screening.id))) == before + 1


# -- PostgreSQL: real connections racing ---------------------------------------------------

LOCK_TIMEOUT = 15.0


def _database_url(name: str) -> str:
    return (
        sa.engine.make_url(TEST_DATABASE_URL)
        .set(database=name)
        .render_as_string(hide_password=False)
    )


def create_database(name: str) -> str:
    """A fresh, empty PostgreSQL database named ``name`` (dropped first if left over)."""
    admin = sa.create_engine(_database_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for attempt in range(5):
            try:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
                break
            except sa.exc.OperationalError:  # template1 busy: another CREATE DATABASE
                if attempt == 4:
                    raise
                time.sleep(0.5)
    admin.dispose()
    return _database_url(name)


def drop_database(name: str) -> None:
    admin = sa.create_engine(_database_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


class World:
    """Users and tokens in the dedicated database; every call commits for real."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.n = 0

    def token(self, role: str, org: str) -> str:
        from caseapp.accounts import services
        from caseapp.accounts.models import User

        self.n += 1
        email = f"{role}{self.n}@{org.lower()}.race"
        with self.app.app_context():
            services.create_user(None, email=email, role=role, org_code=org, password=PASSWORD)
            db.session.commit()
            user = db.session.scalar(sa.select(User).where(User.email == email))
            token = services.create_token(None, user)
            db.session.commit()
        return token

    def user(self, role: str, org: str) -> str:
        from caseapp.accounts import services

        self.n += 1
        email = f"{role}{self.n}@{org.lower()}.race"
        with self.app.app_context():
            services.create_user(None, email=email, role=role, org_code=org, password=PASSWORD)
            db.session.commit()
        return email

    def call(self, token: str, method: str, url: str, json: Any = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
        return self.app.test_client().open(url, method=method, json=json, headers=headers, **kw)

    def scalar(self, statement: Any) -> Any:
        with self.app.app_context():
            return db.session.scalar(statement)


@pytest.fixture(scope="module")
def race(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    name = f"ruta_crash_concurrency_{os.getpid()}"  # concurrent suite runs must not collide
    url = create_database(name)
    app = make_app(tmp_path_factory.mktemp("race"), url)
    migrate_and_seed(app)
    try:
        yield World(app)
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(name)


def _blocked(conn: sa.Connection, expected: int) -> None:
    """Wait until ``expected`` other sessions of this database are waiting on a lock."""
    deadline = time.monotonic() + LOCK_TIMEOUT
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock' "
        "AND pid <> pg_backend_pid()"
    )
    while time.monotonic() < deadline:
        # a fresh snapshot each time: pg_stat_activity is cached per transaction
        conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        if conn.execute(query).scalar_one() >= expected:
            return
        time.sleep(0.02)
    raise AssertionError(f"the {expected} competing requests never blocked on the lock")


def contend(
    world: World, lock_sql: str, params: dict[str, Any], calls: list[Callable[[], Any]]
) -> list[Any]:
    """Hold a lock, start ``calls`` at once, wait until they all block on it, release."""
    engine = sa.create_engine(
        sa.engine.make_url(str(world.app.config["SQLALCHEMY_DATABASE_URI"])), poolclass=sa.NullPool
    )
    try:
        with engine.connect() as holder, engine.connect() as watcher:
            transaction = holder.begin()
            holder.execute(sa.text(lock_sql), params)
            start = threading.Barrier(len(calls))

            def run(call: Callable[[], Any]) -> Any:
                start.wait(timeout=LOCK_TIMEOUT)
                return call()

            with ThreadPoolExecutor(len(calls)) as pool:
                futures = [pool.submit(run, call) for call in calls]
                try:
                    _blocked(watcher, len(calls))
                finally:
                    transaction.commit()  # let them race
                return [f.result(timeout=LOCK_TIMEOUT * 2) for f in futures]
    finally:
        engine.dispose()


@pytest.mark.postgres
class TestOnPostgres:
    __test__ = POSTGRES

    def test_concurrent_edits_of_one_version_one_wins_one_gets_409(self, race: World) -> None:
        from caseapp.screening.models import Case

        first = race.token("screener", "PNP-TRATA-MDD")
        second = race.token("caseworker", "PNP-TRATA-MDD")
        doc = race.call(first, "POST", "/api/v1/screenings", json=ROSA).json
        case_id = race.scalar(sa.select(Case.id).where(Case.uuid == doc["case_id"]))
        url = f"/api/v1/cases/{doc['case_id']}"
        version = race.call(first, "GET", url).json["version"]
        responses = contend(
            race,
            "SELECT id FROM cases WHERE id = :id FOR UPDATE",
            {"id": case_id},
            [
                lambda token=token, contact=contact: race.call(
                    token, "PATCH", url, json={"version": version, "person": {"contact": contact}}
                )
                for token, contact in ((first, "Uno"), (second, "Dos"))
            ],
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 409], [r.json for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.json["error"]["code"] == "version_conflict"
        assert loser.json["error"]["current_version"] == version + 1
        winner = next(r for r in responses if r.status_code == 200)
        final = race.call(first, "GET", url).json
        assert final["version"] == version + 1
        assert final["person"]["contact"] == winner.json["person"]["contact"]

    def test_concurrent_double_submit_of_the_form_creates_one_screening(self, race: World) -> None:
        from caseapp.audit.services import _PG_LOCK_ID

        email = race.user("screener", "PNP-TRATA-MDD")
        browser = race.app.test_client()
        assert login(browser, email).status_code == 302
        _, hidden = open_form(browser)
        cookie = browser.get_cookie("ruta_session")
        assert cookie is not None
        twins = []
        for _ in range(2):  # two tabs of the same signed-in browser, same form
            twin = race.app.test_client()
            twin.set_cookie("ruta_session", cookie.value)
            twins.append(twin)
        before = race.scalar(sa.select(sa.func.count(Screening.id)))
        responses = contend(
            race,
            "SELECT pg_advisory_xact_lock(:k)",
            {"k": _PG_LOCK_ID},
            [
                lambda twin=twin: twin.post("/screenings/new", data={**ROSA_FORM, **hidden})
                for twin in twins
            ],
        )
        first, second = (screening_uuid(r) for r in responses)
        assert first == second
        assert race.scalar(sa.select(sa.func.count(Screening.id))) == before + 1

    def test_concurrent_api_posts_with_one_idempotency_key_create_one_screening(
        self, race: World
    ) -> None:
        from caseapp.audit.services import _PG_LOCK_ID

        token = race.token("screener", "PNP-TRATA-MDD")
        before = race.scalar(sa.select(sa.func.count(Screening.id)))
        headers = {"Idempotency-Key": "race-1"}
        responses = contend(
            race,
            "SELECT pg_advisory_xact_lock(:k)",
            {"k": _PG_LOCK_ID},
            [
                lambda: race.call(token, "POST", "/api/v1/screenings", json=ROSA, headers=headers)
                for _ in range(2)
            ],
        )
        assert [r.status_code for r in responses] == [201, 201], [r.json for r in responses]
        assert responses[0].json["id"] == responses[1].json["id"]
        assert race.scalar(sa.select(sa.func.count(Screening.id))) == before + 1

    def test_concurrent_admissions_to_the_last_place_exactly_one_succeeds(
        self, race: World
    ) -> None:
        from caseapp.accounts.models import Organization
        from caseapp.directory.models import Service
        from caseapp.shelters.models import occupancy_by_service

        shelter_code = "ONG-REF-LIM-W"
        sender = race.token("screener", "ONG-REF-TUM-W")
        body = copy.deepcopy(MARIA)
        body["consent"] = {"given": True, "scope": ["all"]}
        referrals = []
        for _ in range(2):
            doc = race.call(sender, "POST", "/api/v1/screenings", json=body).json
            referral = referral_of(doc, "ngo_shelter")
            assert referral["provider"]["code"] == shelter_code
            sent = race.call(sender, "POST", f"/api/v1/referrals/{referral['id']}/send")
            assert sent.status_code == 200, sent.json
            referrals.append(referral["id"])
        workers = [race.token("caseworker", shelter_code) for _ in range(2)]
        for worker, referral_id in zip(workers, referrals, strict=True):
            accepted = race.call(worker, "POST", f"/api/v1/referrals/{referral_id}/accept")
            assert accepted.status_code == 200
        with race.app.app_context():
            service = db.session.scalar(
                sa.select(Service)
                .join(Organization)
                .where(Organization.code == shelter_code, Service.service_type == "ngo_shelter")
            )
            service_id = service.id
            taken = occupancy_by_service([service_id]).get(service_id, 0)
            service.capacity = taken + 1  # exactly one free place
            db.session.commit()
        responses = contend(
            race,
            "SELECT id FROM services WHERE id = :id FOR UPDATE",
            {"id": service_id},
            [
                lambda worker=worker, referral_id=referral_id: race.call(
                    worker, "POST", "/api/v1/admissions", json={"referral_id": referral_id}
                )
                for worker, referral_id in zip(workers, referrals, strict=True)
            ],
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201, 409], [r.json for r in responses]
        refused = next(r for r in responses if r.status_code == 409)
        assert refused.json["error"]["code"] == "shelter_full"
        with race.app.app_context():
            assert occupancy_by_service([service_id]).get(service_id, 0) == taken + 1
