"""Issue 13: the audit chain cannot be rewritten, cut or re-hashed unnoticed.

The attacker is the database superuser: on PostgreSQL ``SET LOCAL
session_replication_role = replica`` skips the append-only triggers; on SQLite the same
power is simulated by dropping them. With that, the old unkeyed SHA-256 chain could be
edited and re-hashed with the application's own function, or its tail deleted, and
``flask audit verify`` still said "ok". Now each hash is an HMAC under a key the database
never holds, and signed checkpoints outside the database remember the head
(docs/decisions/0012-tamper-evident-audit.md).

``TestRolesOnPostgres`` (PostgreSQL only, marker ``postgres``) applies
``scripts/pg_roles.sql`` to a database of its own and shows that the application's role
cannot disable the triggers, truncate, update or delete audit events.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from caseapp.audit import services as audit
from caseapp.audit.models import AuditEvent
from caseapp.extensions import db

TEST_DATABASE_URL = os.environ.get("CASEAPP_TEST_DATABASE_URL", "").strip()
POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def checkpoint_dir(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """A checkpoint directory of this test's own (its events are rolled back after it)."""
    before = {k: app.config.get(k) for k in ("AUDIT_CHECKPOINT_DIR", "AUDIT_CHECKPOINT_EVERY")}
    directory = tmp_path / "audit-checkpoints"
    app.config["AUDIT_CHECKPOINT_DIR"] = str(directory)
    yield directory
    app.config.update(before)


def _events(n: int) -> int:
    for i in range(n):
        audit.record(None, "test.event", object_type="thing", object_id=i, details={"i": i})
    db.session.commit()
    return int(db.session.scalar(sa.select(sa.func.max(AuditEvent.seq))))


def _bypass_append_only() -> None:
    """What the database superuser does first."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
    else:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")


def _unkeyed(event: AuditEvent) -> str:
    """The application's hash function before issue 13: SHA-256, no key."""
    return hashlib.sha256(audit._canonical(event)).hexdigest()


def _rehash_from(seq: int, hasher: Callable[[AuditEvent], str]) -> None:
    """Recompute every hash and link from event ``seq`` on, as the attacker would."""
    prev = db.session.scalar(sa.select(AuditEvent.hash).where(AuditEvent.seq == seq - 1))
    prev = prev or audit.GENESIS
    for event in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq)
    ):
        event.prev_hash = prev
        event.hash = prev = hasher(event)
    db.session.flush()
    db.session.expire_all()


def _edit_event_100_and_rehash(hasher: Callable[[AuditEvent], str]) -> None:
    _events(160)
    _bypass_append_only()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.seq == 100))
    event.details = json.dumps({"i": "nothing happened"})
    db.session.flush()
    _rehash_from(100, hasher)


def _cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["audit", *args])


def _delete_after(seq: int) -> None:
    db.session.execute(sa.delete(AuditEvent).where(AuditEvent.seq > seq))
    db.session.expire_all()


# -- the attack of issue 13 -------------------------------------------------------------------
def test_edited_event_rehashed_with_the_unkeyed_function_is_detected(app, db_tx, checkpoint_dir):
    _edit_event_100_and_rehash(_unkeyed)
    result = audit.verify()
    assert not result.ok
    assert result.broken_seq == 100 and result.problem_code == "altered"
    broken = _cli(app, "verify")
    assert broken.exit_code == 1
    assert "event 100" in broken.output and "altered" in broken.output


def test_chain_rehashed_with_a_wrong_key_is_detected(app, db_tx, checkpoint_dir):
    wrong = secrets.token_bytes(32)
    _edit_event_100_and_rehash(
        lambda e: hmac.new(wrong, audit._canonical(e), hashlib.sha256).hexdigest()
    )
    result = audit.verify()
    assert not result.ok and result.broken_seq == 100 and result.problem_code == "altered"


def test_deleting_the_last_50_events_is_detected_by_the_checkpoint(app, db_tx, checkpoint_dir):
    head = _events(80)
    written = _cli(app, "checkpoint")
    assert written.exit_code == 0, written.output
    assert f"(event {head}, {head} events)" in written.output
    _bypass_append_only()
    _delete_after(head - 50)
    result = audit.verify()
    assert not result.ok
    assert result.problem_code == "truncated" and result.broken_seq == head - 49
    broken = _cli(app, "verify")
    assert broken.exit_code == 1
    assert f"events {head - 49} to {head} missing" in broken.output


def test_truncating_the_whole_log_is_detected_by_the_checkpoint(app, db_tx, checkpoint_dir):
    head = _events(5)
    assert _cli(app, "checkpoint").exit_code == 0
    _bypass_append_only()
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("TRUNCATE audit_events")  # the truncate trigger is skipped too
    else:
        _delete_after(0)
    db.session.expire_all()
    result = audit.verify()
    assert not result.ok and result.problem_code == "truncated"
    assert result.count == 0 and f"events 1 to {head} missing" in result.problem


def test_cutting_the_tail_behind_a_checkpoint_and_appending_again_is_detected(
    app, db_tx, checkpoint_dir
):
    """Deleting past a checkpoint and letting the application append new events: the
    event count reaches the checkpoint again, but its hash there differs."""
    head = _events(20)
    assert _cli(app, "checkpoint").exit_code == 0
    _bypass_append_only()
    _delete_after(head - 10)
    _events(15)
    result = audit.verify()
    assert not result.ok
    assert result.problem_code == "checkpoint_mismatch" and result.broken_seq == head


def test_a_rewrite_with_a_stolen_audit_key_still_differs_from_the_checkpoint(
    app, db_tx, checkpoint_dir
):
    """Defence in depth: even with the HMAC key, the signed head no longer matches."""
    _events(160)
    assert _cli(app, "checkpoint").exit_code == 0
    head = audit.head()[0]
    _bypass_append_only()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.seq == 100))
    event.details = json.dumps({"i": "nothing happened"})
    db.session.flush()
    _rehash_from(100, audit.compute_hash)
    result = audit.verify()
    assert not result.ok
    assert result.problem_code == "checkpoint_mismatch" and result.broken_seq == head


def test_a_forged_or_altered_checkpoint_is_refused(app, db_tx, checkpoint_dir):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    head = _events(3)
    assert _cli(app, "checkpoint").exit_code == 0
    [path] = checkpoint_dir.glob("*.json")
    genuine = json.loads(path.read_text())

    # the same checkpoint claiming fewer events (to cover a deleted tail)
    path.chmod(0o600)
    altered = {**genuine, "head_seq": head - 1, "count": head - 1}
    path.write_text(json.dumps(altered))
    result = audit.verify()
    assert not result.ok and result.problem_code == "checkpoint_invalid"
    assert path.name in result.problem and "invalid signature" in result.problem
    broken = _cli(app, "verify")
    assert broken.exit_code == 1 and "invalid signature" in broken.output
    refused = _cli(app, "checkpoint")
    assert refused.exit_code == 1 and "refusing to sign" in refused.output

    # a checkpoint signed with the attacker's own key, claiming to be ours
    from caseapp.audit import checkpoints

    forger = Ed25519PrivateKey.generate()
    body = {k: v for k, v in genuine.items() if k != "signature"}
    signature = forger.sign(checkpoints._signed_bytes(body))
    path.write_text(json.dumps({**body, "signature": base64.b64encode(signature).decode()}))
    result = audit.verify()
    assert not result.ok and "invalid signature" in result.problem

    path.write_text(json.dumps(genuine))
    assert audit.verify().ok


def test_normal_operation_verifies_against_every_checkpoint(app, db_tx, checkpoint_dir):
    first = _events(4)
    assert _cli(app, "checkpoint").exit_code == 0
    head = _events(6)
    assert _cli(app, "checkpoint").exit_code == 0
    _events(2)  # after the latest checkpoint: covered by the keyed chain only
    ok = _cli(app, "verify")
    assert ok.exit_code == 0, ok.output
    lines = ok.output.splitlines()
    assert lines[0] == f"audit chain ok ({head + 2} events)"
    assert lines[1].startswith("checkpoints ok: 2 checked; furthest ")
    assert f"(event {head}, signed " in lines[1]
    result = audit.verify()
    assert result.ok and result.checkpoints_checked == 2
    assert result.checkpoint is not None and result.checkpoint.head_seq == head > first


def test_without_a_checkpoint_verify_warns(app, db_tx, checkpoint_dir):
    _events(1)
    ok = _cli(app, "verify")
    assert ok.exit_code == 0
    assert "warning: no checkpoint in" in ok.output


def test_a_copy_on_write_once_storage_still_catches_what_local_files_no_longer_can(
    app, db_tx, checkpoint_dir, tmp_path
):
    """An attacker who also deletes the server's checkpoint files is caught by the copy."""
    import shutil

    head = _events(10)
    assert _cli(app, "checkpoint").exit_code == 0
    worm = tmp_path / "worm-copy"
    shutil.copytree(checkpoint_dir, worm)
    for path in checkpoint_dir.glob("*.json"):
        path.unlink()
    _bypass_append_only()
    _delete_after(head - 3)
    local = _cli(app, "verify")
    assert local.exit_code == 0 and "warning: no checkpoint" in local.output  # the limit
    copy = _cli(app, "verify", "--checkpoint-dir", str(worm))
    assert copy.exit_code == 1 and f"events {head - 2} to {head} missing" in copy.output


def test_production_refuses_to_start_without_the_audit_keys(tmp_path):
    from caseapp.core.config import ConfigError, load_config

    others = {
        f"CASEAPP_{k}": base64.b64encode(secrets.token_bytes(32)).decode()
        for k in ("SECRET_KEY", "DATA_KEY", "INDEX_KEY")
    }
    with pytest.raises(ConfigError, match="CASEAPP_AUDIT_KEY, CASEAPP_AUDIT_SIGNING_KEY"):
        load_config({"ENV": "production"}, environ=others, instance_path=tmp_path)
    short = {
        **others,
        "CASEAPP_AUDIT_KEY": base64.b64encode(b"x" * 16).decode(),
        "CASEAPP_AUDIT_SIGNING_KEY": others["CASEAPP_DATA_KEY"],
    }
    with pytest.raises(ConfigError, match="CASEAPP_AUDIT_KEY must be base64 of 32 bytes"):
        load_config({"ENV": "production"}, environ=short, instance_path=tmp_path)


def test_checkpoint_files_are_private_append_only_and_signed(app, db_tx, checkpoint_dir):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from caseapp.audit import checkpoints

    head = _events(2)
    assert _cli(app, "checkpoint").exit_code == 0
    assert _cli(app, "checkpoint").exit_code == 0  # same head: a second file, none replaced
    files = sorted(checkpoint_dir.glob("*.json"))
    assert len(files) == 2 and not list(checkpoint_dir.glob("*.partial"))
    assert oct(checkpoint_dir.stat().st_mode)[-3:] == "700"
    assert {oct(f.stat().st_mode)[-3:] for f in files} == {"600"}
    doc = json.loads(files[0].read_text())
    assert doc["kind"] == "head" and doc["head_seq"] == head and doc["count"] == head
    assert doc["head_hash"] == audit.head()[1]
    # what an outside verifier needs: the public key printed by `flask audit public-key`
    printed = _cli(app, "public-key").output.strip()
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(printed))
    body = {k: v for k, v in doc.items() if k != "signature"}
    public.verify(base64.b64decode(doc["signature"]), checkpoints._signed_bytes(body))


def test_checkpoints_are_written_automatically_every_n_events(app, db_tx, checkpoint_dir):
    app.config["AUDIT_CHECKPOINT_EVERY"] = 10
    commits = [_events(4) for _ in range(6)]  # one checkpoint per commit crossing a ten
    heads = sorted(
        json.loads(p.read_text())["head_seq"] for p in checkpoint_dir.glob("*-head-*.json")
    )
    expected = [h for h in commits if h // 10 > (h - 4) // 10]
    assert heads == expected and len(expected) >= 2
    assert audit.verify().ok
    _bypass_append_only()
    _delete_after(expected[-1] - 1)
    result = audit.verify()
    assert not result.ok and result.problem_code == "truncated"


def test_a_rolled_back_transaction_writes_no_checkpoint(app, db_tx, checkpoint_dir):
    app.config["AUDIT_CHECKPOINT_EVERY"] = 1
    audit.record(None, "test.event")
    db.session.rollback()
    assert not checkpoint_dir.exists() or not list(checkpoint_dir.glob("*.json"))


def test_a_restore_checkpoint_supersedes_later_heads_but_not_earlier_ones(
    app, db_tx, checkpoint_dir
):
    """``flask backup restore`` sets the chain back on purpose and says so, signed."""
    from caseapp.audit import checkpoints

    t0 = datetime.now(UTC)
    early = _events(3)
    checkpoints.write_head(checkpoint_dir, early, audit.head()[1], early, now=t0)
    late = _events(5)
    checkpoints.write_head(checkpoint_dir, late, audit.head()[1], late, now=t0 + timedelta(1))
    _bypass_append_only()
    _delete_after(early + 2)  # the backup being restored ended at early + 2
    assert audit.verify().problem_code == "truncated"
    checkpoints.write_restore(checkpoint_dir, early + 2, now=t0 + timedelta(2))
    result = audit.verify()
    assert result.ok and result.checkpoints_checked == 1 and result.checkpoints_superseded == 1
    # the restored prefix is still held to the earlier checkpoint
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.seq == early))
    event.details = "{}"
    db.session.flush()
    _rehash_from(early, audit.compute_hash)
    assert audit.verify().problem_code == "checkpoint_mismatch"


def test_the_audit_page_names_a_cut_tail(client, login_as, app, checkpoint_dir):
    login_as("admin")
    _events(3)
    assert _cli(app, "checkpoint").exit_code == 0
    head = audit.head()[0]
    _bypass_append_only()
    _delete_after(head - 2)
    html = client.get("/admin/audit/?verify=1").get_data(as_text=True)
    assert f"Cadena rota en el evento {head - 1}" in html
    assert "fueron borrados" in html


# -- the migration to the keyed chain --------------------------------------------------------
def test_migration_rechains_an_unkeyed_chain_and_refuses_a_broken_one(tmp_path):
    import flask_migrate

    from tests.conftest import make_app

    app = make_app(tmp_path)
    with app.app_context():
        flask_migrate.upgrade()
        _events(5)
        flask_migrate.downgrade(revision="0009")
        db.session.remove()
        rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert rows and all(e.hash == _unkeyed(e) for e in rows)  # what 0009's code verifies
        assert not audit.verify().ok  # the keyed code does not accept the unkeyed chain
        db.session.remove()
        flask_migrate.upgrade()
        db.session.remove()
        assert audit.verify().ok and audit.verify().count == len(rows)

        # an unkeyed chain that was tampered with is not carried over
        flask_migrate.downgrade(revision="0009")
        db.session.remove()
        _bypass_append_only()
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.seq == 2).values(action="x"))
        db.session.commit()
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the error and exits 1
            flask_migrate.upgrade()
        db.session.remove()
        version = db.session.execute(sa.text("SELECT version_num FROM alembic_version"))
        assert version.scalar() == "0009"
        db.engine.dispose()


# -- PostgreSQL: least-privilege roles -------------------------------------------------------
@pytest.fixture(scope="module")
def roles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from tests.conftest import make_app, migrate_and_seed
    from tests.integration.test_concurrency import create_database, drop_database

    name = f"ruta_roles_{os.getpid()}"
    owner, app_role = f"ruta_owner_t{os.getpid()}", f"ruta_app_t{os.getpid()}"
    url = create_database(name)
    app = make_app(tmp_path_factory.mktemp("roles"), url)
    migrate_and_seed(app)
    with app.app_context():
        audit.record(None, "test.event")
        db.session.commit()
        db.engine.dispose()
    script = (ROOT / "scripts" / "pg_roles.sql").read_text()
    script = script.replace("ruta_owner", owner).replace("ruta_app", app_role)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        raw = conn.connection.driver_connection  # as psql would: no placeholders
        raw.execute(script)
        raw.execute(script)  # idempotent
    engine.dispose()
    app_url = sa.make_url(url).set(username=app_role, password=None)
    try:
        yield {"url": url, "app_url": app_url.render_as_string(hide_password=False)}
    finally:
        drop_database(name)
        admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres")
        with admin.begin() as conn:
            for role in (app_role, owner):
                conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
        admin.dispose()


@pytest.mark.postgres
class TestRolesOnPostgres:
    __test__ = POSTGRES

    @pytest.mark.parametrize(
        "statement",
        [
            "ALTER TABLE audit_events DISABLE TRIGGER USER",
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change",
            "DROP TRIGGER audit_events_no_change ON audit_events",
            "TRUNCATE audit_events",
            "UPDATE audit_events SET action = 'x'",
            "DELETE FROM audit_events",
            "SET session_replication_role = replica",
            "UPDATE alembic_version SET version_num = 'x'",
        ],
    )
    def test_the_application_role_cannot_rewrite_the_audit_log(
        self, roles: dict[str, str], statement: str
    ) -> None:
        engine = sa.create_engine(roles["app_url"])
        try:
            with engine.connect() as conn:
                with pytest.raises(sa.exc.ProgrammingError) as refused:
                    conn.exec_driver_sql(statement)
                assert "permission denied" in str(refused.value) or "must be owner" in str(
                    refused.value
                )
        finally:
            engine.dispose()

    def test_the_application_runs_and_audits_as_the_application_role(
        self, roles: dict[str, str], tmp_path: Path
    ) -> None:
        from caseapp.accounts import services
        from tests.conftest import make_app

        app = make_app(tmp_path, roles["app_url"])
        with app.app_context():
            try:
                services.create_user(
                    None,
                    email="least@pnp-trata-mdd.test",
                    role="screener",
                    org_code="PNP-TRATA-MDD",
                    password="correct horse battery staple",
                )
                db.session.commit()
                result = audit.verify(tmp_path / "none")
                assert result.ok and result.count >= 2
                user = db.session.scalar(sa.text("SELECT current_user"))
                assert user == sa.make_url(roles["app_url"]).username
            finally:
                db.session.remove()
                db.engine.dispose()
