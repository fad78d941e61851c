"""The audit log is append-only, hash-chained, and its verification catches tampering."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from caseapp.audit import services as audit
from caseapp.audit.models import AuditEvent
from caseapp.extensions import db


def _disable_triggers():
    """What an attacker with raw database access would do first."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
    else:
        conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        conn.exec_driver_sql("DROP TRIGGER audit_events_no_delete")


def _events(n):
    for i in range(n):
        audit.record(None, "test.event", object_type="thing", object_id=i, details={"i": i})
    db.session.commit()


def test_chain_verifies(db_tx):
    _events(5)
    result = audit.verify()
    assert result.ok and result.count >= 5


def test_database_refuses_update_and_delete(db_tx):
    _events(1)
    with pytest.raises(DatabaseError), db.session.begin_nested():
        db.session.execute(sa.update(AuditEvent).values(action="edited"))
    with pytest.raises(DatabaseError), db.session.begin_nested():
        db.session.execute(sa.delete(AuditEvent))


def test_edited_event_is_detected(db_tx):
    _events(5)
    _disable_triggers()
    target = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    seq = target.seq - 2
    db.session.execute(
        sa.update(AuditEvent).where(AuditEvent.seq == seq).values(details='{"i": 999}')
    )
    db.session.expire_all()
    result = audit.verify()
    assert not result.ok
    assert result.broken_seq == seq
    assert "altered" in result.problem


def test_deleted_event_is_detected(db_tx):
    _events(5)
    _disable_triggers()
    last = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)))
    db.session.execute(sa.delete(AuditEvent).where(AuditEvent.seq == last - 1))
    db.session.expire_all()
    result = audit.verify()
    assert not result.ok
    assert result.broken_seq == last - 1


def test_deleting_the_last_event_and_rehashing_is_still_detected_by_links(db_tx):
    """Rewriting one event's hash breaks the next event's link."""
    _events(3)
    _disable_triggers()
    last = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)))
    db.session.execute(
        sa.update(AuditEvent).where(AuditEvent.seq == last - 1).values(hash="f" * 64)
    )
    db.session.expire_all()
    result = audit.verify()
    assert not result.ok and result.broken_seq in (last - 1, last)


def test_cli_audit_verify(app, db_tx):
    _events(2)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0
    assert ok.output.startswith("audit chain ok (")
    _disable_triggers()
    db.session.execute(sa.update(AuditEvent).where(AuditEvent.seq == 1).values(action="x"))
    db.session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert "event 1" in broken.output


def test_login_is_audited_and_admin_can_view_the_log(client, login_as):
    login_as("admin")
    page = client.get("/admin/audit/?verify=1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "auth.login" in html
    assert "Cadena íntegra" in html
