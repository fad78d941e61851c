"""Test fixtures: one migrated, seeded database per run; every test rolled back.

The database is SQLite by default, or PostgreSQL when CASEAPP_TEST_DATABASE_URL is set
(CI runs the suite on both). Each test runs inside a transaction on one connection that
is rolled back afterwards; services and views still "commit", which only releases a
savepoint (join_transaction_mode="create_savepoint").
"""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp import create_app
from caseapp.extensions import db

TEST_DATABASE_URL = os.environ.get("CASEAPP_TEST_DATABASE_URL", "").strip()
PASSWORD = "correct horse battery staple"


def reset_database(url: str) -> None:
    """Empty the test database so migrations start from nothing."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request runs in its own context, as in production.

    Tests keep an app context open to look at the database; without this, requests
    would share it (and Flask-Login's cached user in ``g``) with the test.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_app(tmp: Path, url: str | None = None, **overrides: Any) -> Flask:
    url = url or f"sqlite:///{tmp / 'test.sqlite3'}"
    application = create_app(
        {"ENV": "testing", "DATABASE_URL": url, "INSTANCE_PATH": str(tmp), **overrides}
    )
    application.test_client_class = IsolatedClient
    return application


def migrate_and_seed(app: Flask) -> None:
    import flask_migrate

    from caseapp.directory import services as directory

    with app.app_context():
        flask_migrate.upgrade()
        directory.seed_codes()
        directory.seed_regions()
        rows = directory.read_csv(directory.DEFAULT_DIRECTORY.read_text(encoding="utf-8"))
        result = directory.load_directory(None, rows)
        assert not result.errors, result.errors
        db.session.commit()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite in a temp dir, or a fresh PostgreSQL database next to the given one.

    Each run gets its own database (``<name>_run_<pid>``) on the server of
    CASEAPP_TEST_DATABASE_URL, so two test runs on one machine never reset each
    other's schema; it is dropped at the end.
    """
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'suite.sqlite3'}"
        return
    url = sa.make_url(TEST_DATABASE_URL)
    run_db = f"{url.database}_run_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{run_db}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{run_db}"')
    try:
        yield url.set(database=run_db).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{run_db}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Flask]:
    reset_database(database_url)
    application = make_app(tmp_path_factory.mktemp("instance"), database_url)
    migrate_and_seed(application)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def db_tx(app: Flask) -> Iterator[None]:
    """Run the test in an app context on one connection, rolled back at the end."""
    with app.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        transaction = connection.begin()
        engines[None] = connection  # type: ignore[assignment]
        try:
            yield
        finally:
            db.session.remove()
            engines[None] = engine
            transaction.rollback()
            connection.close()


@pytest.fixture
def client(app: Flask, db_tx: None) -> FlaskClient:
    return app.test_client()


# -- helpers ----------------------------------------------------------------------
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in page"
    return match.group(1)


class Users:
    """Factory for users of any role and organization (committed inside the test tx)."""

    def __init__(self) -> None:
        self.n = 0

    def create(
        self,
        role: str = "screener",
        org: str = "PNP-TRATA-MDD",
        email: str | None = None,
        password: str = PASSWORD,
        two_factor: bool | None = None,
    ) -> dict[str, Any]:
        """A user; roles that require 2FA get it enrolled (their secret is returned)."""
        from caseapp.accounts import services
        from caseapp.accounts import two_factor as tf

        self.n += 1
        email = email or f"{role}{self.n}@{org.lower()}.test"
        user = services.create_user(None, email=email, role=role, org_code=org, password=password)
        secret = None
        if two_factor if two_factor is not None else role in tf.REQUIRED_ROLES:
            secret = tf.start_enrolment(user)
            tf.confirm_enrolment(user, totp_code(secret, -1))  # leaves "now" unused
        db.session.commit()
        return {
            "email": email,
            "password": password,
            "id": user.id,
            "uuid": user.uuid,
            "role": role,
            "org": org,
            "totp_secret": secret,
        }

    def token(self, user: dict[str, Any]) -> str:
        from caseapp.accounts import services
        from caseapp.accounts.models import User

        token = services.create_token(None, db.session.get(User, user["id"]))
        db.session.commit()
        return token


@pytest.fixture
def users(db_tx: None) -> Users:
    return Users()


def totp_code(secret: str, step_offset: int = 0) -> str:
    import time

    import pyotp

    totp = pyotp.TOTP(secret)
    return str(totp.at(int(time.time()) + step_offset * totp.interval))


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the pages, answering the 2FA step when the user has it."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    if response.status_code == 302 and response.headers["Location"].endswith("/login/2fa"):
        from caseapp.accounts.models import User

        user = db.session.scalar(sa.select(User).where(User.email == email))
        db.session.refresh(user)
        form = client.get("/login/2fa").get_data(as_text=True)
        # each time step is accepted once: use the next one when this one was used
        step_now = int(__import__("time").time()) // 30
        offset = 1 if (user.totp_last_step or 0) >= step_now else 0
        response = client.post(
            "/login/2fa",
            data={"code": totp_code(user.totp_secret, offset), "csrf_token": csrf_from(form)},
        )
    return response


@pytest.fixture
def login_as(client: FlaskClient, users: Users) -> Any:
    def _login(role: str = "screener", org: str = "PNP-TRATA-MDD") -> dict[str, Any]:
        user = users.create(role, org)
        response = login(client, user["email"], user["password"])
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return _login


@pytest.fixture
def api(app: Flask, users: Users) -> Any:
    """``api("screener")`` → a client whose requests carry a bearer token of that role."""

    class ApiClient:
        def __init__(self, token: str, user: dict[str, Any]) -> None:
            self.client = app.test_client()
            self.token = token
            self.user = user

        def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
            return {"Authorization": f"Bearer {self.token}", **(extra or {})}

        def get(self, url: str, **kw: Any) -> Any:
            return self.client.get(url, headers=self._headers(kw.pop("headers", None)), **kw)

        def post(self, url: str, json: Any = None, **kw: Any) -> Any:
            return self.client.post(
                url, json=json, headers=self._headers(kw.pop("headers", None)), **kw
            )

        def patch(self, url: str, json: Any = None, **kw: Any) -> Any:
            return self.client.patch(
                url, json=json, headers=self._headers(kw.pop("headers", None)), **kw
            )

    def _make(role: str = "screener", org: str = "PNP-TRATA-MDD") -> ApiClient:
        user = users.create(role, org)
        return ApiClient(users.token(user), user)

    return _make


@pytest.fixture
def k(app):
    """Set the suppression threshold for one test; restored afterwards."""
    before = app.config["SUPPRESSION_THRESHOLD"]

    def set_k(value: int) -> int:
        app.config["SUPPRESSION_THRESHOLD"] = value
        return value

    yield set_k
    app.config["SUPPRESSION_THRESHOLD"] = before


@pytest.fixture
def exact_counts(app):
    """Publish counts without cell-key noise (PERTURBATION_MAX_NOISE = 0), for tests of
    what is counted (units, dimensions, periods), not of how it is protected; the
    perturbation has its own tests (tests/*/test_differencing*). Restored afterwards."""
    before = app.config.get("PERTURBATION_MAX_NOISE")
    app.config["PERTURBATION_MAX_NOISE"] = 0
    yield
    app.config["PERTURBATION_MAX_NOISE"] = before
