"""The database goes away and comes back (issue 13, finding 10): a PostgreSQL restart under
load answered 216 requests with a 500 and a stack trace. While the database cannot be
reached the API answers 503 with ``Retry-After`` and the api.md §3 error body, pages show
"Servicio no disponible", ``/healthz`` says the database is unavailable, nothing is
half-saved, and the next request after the database returns succeeds with no restart.

The outage is real at the driver: the pool is emptied and every new connection goes to a
closed loopback port (PostgreSQL) or to a file in a missing folder (SQLite), so the
errors are the drivers' own. A connection lost in the middle of a request is simulated by
the driver error PostgreSQL sends on a fast shutdown (57P01) or SQLite's I/O error, raised
on the INSERT of the person, after the case row went in.

The module runs on a database of its own (every request here commits for real): a SQLite
file, or ``<test db>_outage_<pid>`` next to CASEAPP_TEST_DATABASE_URL.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.extensions import db
from tests.conftest import TEST_DATABASE_URL, Users, csrf_from, login, make_app, migrate_and_seed
from tests.integration.test_screening_api import ROSA


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("outage")
    name = None
    if TEST_DATABASE_URL.startswith("postgresql"):
        from tests.integration.test_concurrency import create_database

        name = f"{sa.make_url(TEST_DATABASE_URL).database}_outage_{os.getpid()}"
        url = create_database(name)
    else:
        url = f"sqlite:///{tmp / 'outage.sqlite3'}"
    app = make_app(tmp, url)
    migrate_and_seed(app)
    with app.app_context():
        users = Users()
        screener = users.create("screener")
        token = users.token(screener)
    try:
        yield {"app": app, "tmp": tmp, "screener": screener, "token": token}
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if name:
            from tests.integration.test_concurrency import drop_database

            drop_database(name)


def engine_of(app: Flask) -> sa.Engine:
    with app.app_context():
        return db.engine


@contextlib.contextmanager
def database_unreachable(world: dict[str, Any]) -> Iterator[None]:
    """Every pooled connection gone; every new one fails in the driver, as when the
    server is down. Leaving the block is the server coming back."""
    engine = engine_of(world["app"])
    dialect = engine.dialect
    real = dialect.connect
    missing = str(world["tmp"] / "no-such-folder" / "db.sqlite3")

    def refused(*cargs: Any, **cparams: Any) -> Any:
        if dialect.name == "sqlite":
            return real(missing, **cparams)
        return real(*cargs, **{**cparams, "host": "127.0.0.1", "port": _closed_port()})

    engine.dispose()
    dialect.connect = refused  # type: ignore[method-assign]
    try:
        yield
    finally:
        del dialect.connect  # the class's method again


@contextlib.contextmanager
def connection_lost_on(world: dict[str, Any], statement_prefix: str) -> Iterator[list[str]]:
    """The first statement starting with ``statement_prefix`` fails as a dropped
    connection does; earlier statements of the same transaction went through."""
    dialect = engine_of(world["app"]).dialect
    real = dialect.do_execute
    hits: list[str] = []

    def failing(cursor: Any, statement: str, parameters: Any, context: Any = None) -> Any:
        if not hits and statement.lstrip().upper().startswith(statement_prefix.upper()):
            hits.append(statement)
            if dialect.name == "sqlite":
                error = sqlite3.OperationalError("disk I/O error")
                error.sqlite_errorname = "SQLITE_IOERR"
                raise error
            raise psycopg.errors.AdminShutdown(
                "terminating connection due to administrator command"
            )
        return real(cursor, statement, parameters, context)

    dialect.do_execute = failing  # type: ignore[method-assign]
    try:
        yield hits
    finally:
        del dialect.do_execute


def bearer(world: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {world['token']}"}


def counts(world: dict[str, Any]) -> dict[str, int]:
    from caseapp.audit.models import AuditEvent
    from caseapp.screening.models import Case, Person, Screening

    with world["app"].app_context():
        try:
            return {
                model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
                for model in (Case, Person, Screening, AuditEvent)
            }
        finally:
            db.session.remove()


def assert_unavailable_json(response: Any) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == "service_unavailable"
    assert "Retry-After" in body["error"]["message"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_api_answers_503_with_retry_after_while_the_database_is_down_then_recovers(
    world: dict[str, Any],
) -> None:
    client = world["app"].test_client()
    assert client.get("/api/v1/cases", headers=bearer(world)).status_code == 200  # warm pool
    before = counts(world)
    with database_unreachable(world):
        assert_unavailable_json(client.post("/api/v1/screenings", json=ROSA, headers=bearer(world)))
        assert_unavailable_json(client.get("/api/v1/cases", headers=bearer(world)))
        # the same key again once the database is back creates the screening once
        assert_unavailable_json(
            client.post(
                "/api/v1/screenings",
                json=ROSA,
                headers={**bearer(world), "Idempotency-Key": "outage-1"},
            )
        )
    assert counts(world) == before
    created = client.post(
        "/api/v1/screenings", json=ROSA, headers={**bearer(world), "Idempotency-Key": "outage-1"}
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    assert (
        client.get(
            f"/api/v1/cases/{created.get_json()['case_id']}", headers=bearer(world)
        ).status_code
        == 200
    )


def test_pages_say_servicio_no_disponible_in_spanish_and_in_english(
    world: dict[str, Any],
) -> None:
    app = world["app"]
    spanish, english = app.test_client(), app.test_client()
    with app.app_context():
        for client in (spanish, english):
            assert login(client, world["screener"]["email"]).status_code == 302
        token = csrf_from(english.get("/").get_data(as_text=True))
        english.post("/lang", data={"lang": "en", "next": "/", "csrf_token": token})
    with database_unreachable(world):
        page = spanish.get("/")
        html = page.get_data(as_text=True)
        assert page.status_code == 503, html[:500]
        assert int(page.headers["Retry-After"]) > 0
        assert "Servicio no disponible" in html and 'lang="es"' in html
        assert "Traceback" not in html and "OperationalError" not in html
        page = english.get("/cases?q=<script>x</script>")
        html = page.get_data(as_text=True)
        assert page.status_code == 503, html[:500]
        assert "Service unavailable" in html and 'lang="en"' in html
        assert "<script>" not in html  # the retry link is escaped
    assert spanish.get("/").status_code == 200  # still signed in, no restart needed
    assert english.get("/").status_code == 200


def test_healthz_says_the_database_is_unavailable_then_ok(world: dict[str, Any]) -> None:
    client = world["app"].test_client()
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}
    with database_unreachable(world):
        response = client.get("/healthz")
        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) > 0
        assert response.get_json() == {"status": "degraded", "database": "unavailable"}
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_a_connection_lost_mid_request_is_503_and_nothing_is_half_saved(
    world: dict[str, Any],
) -> None:
    client = world["app"].test_client()
    before = counts(world)
    with connection_lost_on(world, "INSERT INTO persons") as hits:
        response = client.post("/api/v1/screenings", json=ROSA, headers=bearer(world))
    assert hits, "the simulated failure never happened"
    assert_unavailable_json(response)
    assert counts(world) == before  # the case row that went in first was rolled back
    again = client.post("/api/v1/screenings", json=ROSA, headers=bearer(world))
    assert again.status_code == 201, again.get_data(as_text=True)
    after = counts(world)
    assert after["Case"] == before["Case"] + 1 and after["Screening"] == before["Screening"] + 1


# -- which errors mean "unreachable" ----------------------------------------------------------
def _wrapped(orig: BaseException, cls: type[sa.exc.DBAPIError] = sa.exc.OperationalError) -> Any:
    return cls("SELECT 1", {}, orig)  # type: ignore[arg-type]


def _sqlite_error(message: str, name: str) -> sqlite3.Error:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorname = name
    return error


@pytest.mark.parametrize(
    ("error", "unreachable"),
    [
        (_wrapped(psycopg.OperationalError("connection failed: Connection refused")), True),
        (_wrapped(psycopg.errors.AdminShutdown("terminating connection")), True),
        (_wrapped(psycopg.errors.CannotConnectNow("the database system is shutting down")), True),
        (_wrapped(psycopg.errors.CrashShutdown("crash")), True),
        (_wrapped(psycopg.errors.ConnectionFailure("lost")), True),
        (_wrapped(psycopg.errors.TooManyConnections("too many clients")), True),
        (_wrapped(psycopg.InterfaceError("the connection is closed"), sa.exc.InterfaceError), True),
        (psycopg.OperationalError("server closed the connection unexpectedly"), True),
        (sa.exc.DisconnectionError("stale"), True),
        (sa.exc.TimeoutError("QueuePool limit reached"), True),
        (_wrapped(_sqlite_error("unable to open database file", "SQLITE_CANTOPEN")), True),
        (_wrapped(_sqlite_error("database is locked", "SQLITE_BUSY")), True),
        (_wrapped(_sqlite_error("disk I/O error", "SQLITE_IOERR_READ")), True),
        # not an outage: these stay 500s (bugs) or are handled elsewhere (409, 422)
        (_wrapped(_sqlite_error("no such table: x", "SQLITE_ERROR")), False),
        (_wrapped(psycopg.errors.DeadlockDetected("deadlock")), False),
        (_wrapped(psycopg.errors.QueryCanceled("statement timeout")), False),
        (_wrapped(psycopg.errors.UniqueViolation("duplicate"), sa.exc.IntegrityError), False),
        (_wrapped(psycopg.errors.UndefinedTable("no table"), sa.exc.ProgrammingError), False),
        (ValueError("x"), False),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_which_errors_mean_the_database_is_unreachable(
    error: BaseException, unreachable: bool
) -> None:
    from caseapp.web.outage import database_unreachable as unreachable_

    assert unreachable_(error) is unreachable


def test_an_error_raised_while_handling_an_outage_is_an_outage_too() -> None:
    from caseapp.web.outage import database_unreachable as unreachable_

    try:
        try:
            raise _wrapped(psycopg.errors.AdminShutdown("terminating connection"))
        except sa.exc.OperationalError as exc:
            raise sa.exc.PendingRollbackError("rolled back due to a previous exception") from exc
    except sa.exc.PendingRollbackError as outer:
        assert unreachable_(outer)


def test_the_spanish_page_has_an_english_translation() -> None:
    po = Path(__file__).resolve().parents[2] / "caseapp/translations/en/LC_MESSAGES/messages.po"
    text = po.read_text(encoding="utf-8")
    assert 'msgid "Servicio no disponible"\nmsgstr "Service unavailable"' in text
