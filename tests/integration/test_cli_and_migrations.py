"""CLI commands of api.md §1 and Alembic migrations on the test database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from caseapp.accounts.models import User
from caseapp.extensions import db
from tests.conftest import TEST_DATABASE_URL, make_app, reset_database

ROOT = Path(__file__).resolve().parents[2]


def test_flask_help_lists_the_commands():
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "caseapp", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"CASEAPP_ENV": "testing", "PATH": "/usr/bin:/bin"},
    ).stdout
    for command in ("db", "seed", "users", "tokens", "audit"):
        assert f"  {command} " in out, out


def test_users_create_with_password_stdin_and_tokens_create(app, db_tx, client):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "new@cem.test",
            "--role",
            "caseworker",
            "--org",
            "CEM-MDD",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "new@cem.test"))
    assert user.role == "caseworker" and user.password_hash.startswith("$argon2id$")
    token = runner.invoke(args=["tokens", "create", "new@cem.test"])
    assert token.exit_code == 0
    last_line = token.stdout.strip().splitlines()[-1]
    response = client.get("/api/v1/organizations", headers={"Authorization": f"Bearer {last_line}"})
    assert response.status_code == 200


def test_users_create_refuses_bad_input(app, db_tx):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "x@y.test",
            "--role",
            "screener",
            "--org",
            "NOPE",
            "--password-stdin",
        ],
        input="short\n",
    )
    assert result.exit_code == 1
    assert "org" in result.output and "password" in result.output


def _migration_url(tmp_path: Path) -> str:
    if not TEST_DATABASE_URL:
        return f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    engine = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname='ruta_migrations'"))
        if not exists:
            conn.exec_driver_sql("CREATE DATABASE ruta_migrations")
    engine.dispose()
    return TEST_DATABASE_URL.rsplit("/", 1)[0] + "/ruta_migrations"


def test_upgrade_downgrade_upgrade_and_models_match_head(tmp_path):
    import flask_migrate
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = _migration_url(tmp_path)
    reset_database(url)
    app = make_app(tmp_path, url)
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        tables = sa.inspect(db.engine).get_table_names()
        assert set(tables) <= {"alembic_version"}
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, db.metadata)
        assert diff == [], f"models differ from the migration head: {diff}"
        db.engine.dispose()
