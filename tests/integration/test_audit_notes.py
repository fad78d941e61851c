"""Free text of audited actions lives in encrypted, purgeable audit notes (finding 3).

The audit event keeps codes and the note's id; the administrator's audit page shows no
reason; the note is AES-GCM ciphertext at rest and is purged with the case.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from caseapp.audit import notes
from caseapp.audit.models import AuditEvent
from caseapp.audit.services import SystemActor, parse_details
from caseapp.core.db import utcnow
from caseapp.extensions import db
from caseapp.maintenance import retention
from tests.conftest import login
from tests.integration.test_screening_api import ROSA

REASON = "Carpeta fiscal 123-2026 sobre Rosa Quispe, FISTRAP Lima"


def _events(prefix: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action.startswith(prefix))
            .order_by(AuditEvent.seq)
        )
    )


def test_legal_hold_reason_is_an_encrypted_note_referenced_by_id(app, db_tx, api, users):
    supervisor = api("supervisor")
    doc = supervisor.post("/api/v1/screenings", json=ROSA).json
    url = f"/api/v1/cases/{doc['case_id']}/legal-hold"
    assert supervisor.post(url, json={"hold": True, "reason": REASON}).status_code == 200
    db.session.flush()
    (event,) = _events("case.legal_hold")
    details = parse_details(event)
    assert "Rosa" not in event.details and "123-2026" not in event.details
    assert set(details) == {"hold", "was", "note"}
    assert notes.read(details["note"]) == REASON
    raw = db.session.execute(sa.text("SELECT text FROM audit_notes")).scalars().all()
    assert raw and all(b"Rosa" not in bytes(v) for v in raw)  # ciphertext at rest

    admin = users.create("admin")
    page_client = app.test_client()
    assert login(page_client, admin["email"], admin["password"]).status_code == 302
    audit_page = page_client.get("/admin/audit/").get_data(as_text=True)
    assert "case.legal_hold" in audit_page and "Rosa Quispe" not in audit_page


def test_a_purge_removes_the_case_notes_and_keeps_the_events(app, db_tx, api):
    supervisor = api("supervisor")
    doc = supervisor.post("/api/v1/screenings", json=ROSA).json
    url = f"/api/v1/cases/{doc['case_id']}/legal-hold"
    supervisor.post(url, json={"hold": True, "reason": REASON})
    supervisor.post(url, json={"hold": False, "reason": "Archivo definitivo del proceso"})
    db.session.flush()
    ids = [parse_details(e)["note"] for e in _events("case.legal_hold")]
    assert len(ids) == 2 and notes.read(ids[0]) == REASON
    policy = retention.RetentionPolicy(days_closed=0, days_open=1, days_not_indicated=0)
    result = retention.purge(SystemActor(), policy=policy, now=utcnow() + timedelta(days=5))
    assert doc["case_id"] in [c.uuid for c in result.candidates]
    assert [notes.read(i) for i in ids] == [None, None]
    assert len(_events("case.legal_hold")) == 2  # the events (codes, ids) stay


def test_a_two_factor_reset_reason_is_a_note_too(app, db_tx, users):
    user = users.create("screener")
    reason = "Perdió el teléfono en la comisaría de Juliaca"
    result = app.test_cli_runner().invoke(
        args=["users", "reset-2fa", user["email"], "--reason", reason]
    )
    assert result.exit_code == 0, result.output
    (event,) = _events("auth.2fa_disabled")
    assert "Juliaca" not in event.details
    assert notes.read(parse_details(event)["note"]) == reason
