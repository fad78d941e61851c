"""Migration 0010_accounts on a database that already has users and tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from caseapp.extensions import db
from tests.conftest import make_app, reset_database
from tests.integration.test_cli_and_migrations import _migration_url

OLD_TOKEN = "ruta_" + "M" * 43


def test_existing_tokens_get_a_grace_expiry_and_keep_working(tmp_path):
    import flask_migrate

    from caseapp.accounts.tokens import _token_hash

    url = _migration_url(tmp_path)
    reset_database(url)
    app = make_app(tmp_path, url)
    with app.app_context():
        flask_migrate.upgrade(revision="0010_privacy")
        created = datetime.now(UTC) - timedelta(days=400)  # older than any lifetime
        stored = created.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else created
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO organizations (uuid, code, name, org_kind, region_code, city,"
                    " notes, is_active, created_at) VALUES ('o-1', 'ORG-MIG', 'Org', 'police',"
                    " '17', '', '', :t, :c)"
                ),
                {"t": True, "c": stored},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO users (uuid, email, full_name, password_hash, role,"
                    " organization_id, is_active, session_version, created_at,"
                    " password_changed_at) SELECT 'u-1', 'old@org.test', '', 'x', 'screener',"
                    " id, :t, 1, :c, :c FROM organizations WHERE code = 'ORG-MIG'"
                ),
                {"t": True, "c": stored},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO api_tokens (user_id, token_hash, prefix, name, created_at)"
                    " SELECT id, :h, :p, '', :c FROM users WHERE email = 'old@org.test'"
                ),
                {"h": _token_hash(OLD_TOKEN), "p": OLD_TOKEN[:12], "c": stored + timedelta(1)},
            )
        flask_migrate.upgrade()
        from caseapp.accounts.models import ApiToken, User

        row = db.session.scalar(sa.select(ApiToken))
        left = row.expires_at - datetime.now(UTC)
        assert timedelta(days=89) < left <= timedelta(days=90)
        user = db.session.scalar(sa.select(User))
        assert not user.is_pending_approval and not user.must_change_password
        db.session.remove()
        response = app.test_client().get(
            "/api/v1/organizations", headers={"Authorization": f"Bearer {OLD_TOKEN}"}
        )
        assert response.status_code == 200
        flask_migrate.downgrade(revision="0010_privacy")
        assert "expires_at" not in {
            c["name"] for c in sa.inspect(db.engine).get_columns("api_tokens")
        }
        db.engine.dispose()
