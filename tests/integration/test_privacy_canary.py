"""Canary: free text typed into Ruta never lands in the database in plaintext.

A unique canary string (one per field, so a failure names the field) is written into
every free-text field the API, the pages and the CLI accept about a case or a person:
names, document number, contact, address, screening notes, override justification,
consent override justification, risk notes, a shelter bed label, decline, cancel and
discharge notes, a case edit, a legal hold's reason (API and CLI, placing and
releasing), a two-factor reset's reason, and searches. Then the raw bytes of the
database are read — the SQLite file and its WAL, or a ``pg_dump`` of the PostgreSQL
database — and no canary may appear in them (issue 13, finding 3; docs/decisions/0014).

Not covered on purpose (not personal data by design, see docs/security-rows/privacy.md):
staff names and e-mails, organization and directory texts, token names.
"""

from __future__ import annotations

import copy
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from caseapp.audit.models import AuditEvent
from caseapp.audit.notes import AuditNote
from caseapp.extensions import db
from caseapp.maintenance import backup
from tests.conftest import login, make_app, migrate_and_seed
from tests.integration.test_concurrency import POSTGRES, create_database, drop_database
from tests.integration.test_maintenance import Caller, cli
from tests.integration.test_referral_lifecycle import MARIA, referral_of
from tests.integration.test_screening_pages import ROSA_FORM, screening_uuid, submit

RUN = secrets.token_hex(4).upper()


def canary(field: str) -> str:
    """A string found nowhere else; letters and digits only, so every field accepts it."""
    return f"CANARY{RUN}{field.upper().replace('_', '')}"


FIELDS = [
    "given_names",
    "family_names",
    "document_number",
    "contact",
    "address",
    "notes",
    "override_justification",
    "consent_override",
    "risk_notes",
    "decline_note",
    "cancel_note",
    "bed",
    "discharge_note",
    "case_edit_contact",
    "legal_hold_reason",
    "legal_hold_release",
    "cli_hold_reason",
    "reset_2fa_reason",
    "search_api",
    "search_page",
    "page_given_names",
    "page_notes",
]


def write_canaries(app: Flask) -> None:
    """Every free-text field, through the same doors people use."""

    def call(role: str, org: str) -> Caller:
        return Caller(app, role, org)

    screener = call("screener", "ONG-REF-TUM-W")
    supervisor = call("supervisor", "ONG-REF-TUM-W")
    body = copy.deepcopy(MARIA)
    body["person"].update(
        given_names=f"Ana {canary('given_names')}",
        family_names=canary("family_names"),
        document={"type": "passport", "number": canary("document_number")},
        contact=canary("contact"),
        address=canary("address"),
    )
    body["notes"] = f"Relato {canary('notes')}"
    created = screener.client.post(
        "/api/v1/screenings",
        json=body,
        headers={**screener._h(), "Idempotency-Key": f"canary-{RUN}"},
    )
    assert created.status_code == 201, created.json
    doc = created.json
    case_url = f"/api/v1/cases/{doc['case_id']}"

    override = supervisor.post(
        f"/api/v1/screenings/{doc['id']}/override",
        json={"status": "possible", "justification": canary("override_justification")},
    )
    assert override.status_code == 200, override.json
    # no consent was recorded: the shelter referral needs a supervisor's override
    shelter = referral_of(doc, "ngo_shelter")
    sent = supervisor.post(
        f"/api/v1/referrals/{shelter['id']}/send",
        json={
            "consent_override_justification": canary("consent_override"),
            "risk_notes": canary("risk_notes"),
        },
    )
    assert sent.status_code == 200, sent.json
    worker = call("caseworker", "ONG-REF-LIM-W")
    assert worker.post(f"/api/v1/referrals/{shelter['id']}/accept").status_code == 200
    admission = worker.post(
        "/api/v1/admissions",
        json={
            "referral_id": shelter["id"],
            "admitted_at": "2026-03-11T09:00:00-05:00",
            "bed": canary("bed"),  # 17 characters: the field takes 20
        },
    )
    assert admission.status_code == 201, admission.json
    discharged = worker.post(
        f"/api/v1/admissions/{admission.json['id']}/discharge",
        json={
            "discharged_at": "2026-04-01T10:00:00-05:00",
            "reason": "independent_living",
            "note": canary("discharge_note"),
        },
    )
    assert discharged.status_code == 200, discharged.json

    cem = referral_of(doc, "cem")
    assert (
        supervisor.post(
            f"/api/v1/referrals/{cem['id']}/send",
            json={"consent_override_justification": canary("consent_override")},
        ).status_code
        == 200
    )
    receiver = call("caseworker", cem["provider"]["code"])
    declined = receiver.post(
        f"/api/v1/referrals/{cem['id']}/decline",
        json={"reason": "no_capacity", "note": canary("decline_note")},
    )
    assert declined.status_code == 200, declined.json
    others = [r for r in doc["referrals"] if r["id"] not in (shelter["id"], cem["id"])]
    assert others, doc["referrals"]
    cancelled = screener.post(
        f"/api/v1/referrals/{others[0]['id']}/cancel",
        json={"reason": "duplicate", "note": canary("cancel_note")},
    )
    assert cancelled.status_code == 200, cancelled.json

    version = screener.get(case_url).json["version"]
    edited = screener.patch(
        case_url, json={"version": version, "person": {"contact": canary("case_edit_contact")}}
    )
    assert edited.status_code == 200, edited.json
    hold_url = f"{case_url}/legal-hold"
    placed = supervisor.post(hold_url, json={"hold": True, "reason": canary("legal_hold_reason")})
    assert placed.status_code == 200, placed.json
    released = supervisor.post(
        hold_url, json={"hold": False, "reason": canary("legal_hold_release")}
    )
    assert released.status_code == 200, released.json
    held = cli(app, "retention", "hold", doc["case_id"], "--reason", canary("cli_hold_reason"))
    assert held.exit_code == 0, held.output

    # searches (nothing to store, but they must not be stored either)
    assert screener.get(f"/api/v1/cases?q={canary('search_api')}").status_code == 200
    assert (
        screener.post("/api/v1/cases/search", json={"q": canary("search_api")}).status_code == 200
    )

    # the pages: a screening through the form, a search, as a signed-in screener
    from caseapp.accounts import services

    with app.app_context():
        user = services.create_user(
            None,
            email=f"page-{RUN.lower()}@tum.test",
            role="screener",
            org_code="ONG-REF-TUM-W",
            password="a long enough passphrase",
        )
        db.session.commit()
        email = user.email
    browser = app.test_client()
    assert login(browser, email, "a long enough passphrase").status_code == 302
    form = {
        **ROSA_FORM,
        "person_given_names": canary("page_given_names"),
        "person_document_type": "",
        "person_document_number": "",
        "notes": canary("page_notes"),
    }
    screening_uuid(submit(browser, form))
    page = browser.get("/cases")
    from tests.conftest import csrf_from

    searched = browser.post(
        "/cases",
        data={"q": canary("search_page"), "csrf_token": csrf_from(page.get_data(as_text=True))},
        follow_redirects=True,
    )
    assert searched.status_code == 200

    reset = cli(app, "users", "reset-2fa", email, "--reason", canary("reset_2fa_reason"))
    assert reset.exit_code == 0, reset.output


def leaked(data: bytes) -> list[str]:
    lowered = data.lower()
    return [f for f in FIELDS if canary(f).lower().encode() in lowered]


def sqlite_bytes(path: Path) -> bytes:
    """The database file and its WAL (before and after a checkpoint moves pages over)."""
    wal = Path(f"{path}-wal")
    chunks = [path.read_bytes(), wal.read_bytes() if wal.exists() else b""]
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
    engine.dispose()
    chunks += [path.read_bytes(), wal.read_bytes() if wal.exists() else b""]
    return b"".join(chunks)


def pg_dump_bytes(url: str) -> bytes:
    env, name = backup.libpq_env(make_url(url))
    done = subprocess.run(
        ["pg_dump", "--format=plain", "--data-only", f"--dbname={name}"],
        env={**os.environ, **env},
        capture_output=True,
        check=True,
    )
    return done.stdout


@pytest.fixture(params=["sqlite", *(["postgresql"] if POSTGRES else [])])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'canary.sqlite3'}"
        name = ""
    else:
        name = f"ruta_canary_{os.getpid()}"
        url = create_database(name)
    app = make_app(tmp_path, url)
    migrate_and_seed(app)
    try:
        yield app, url
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if name:
            drop_database(name)


def test_no_canary_reaches_the_database_in_plaintext(world: tuple[Flask, str]) -> None:
    app, url = world
    write_canaries(app)
    with app.app_context():
        # the canaries did go in: the legal hold reasons are kept, encrypted
        notes = db.session.scalars(sa.select(AuditNote.text)).all()
        assert canary("legal_hold_reason") in notes and canary("reset_2fa_reason") in notes
        details = " ".join(db.session.scalars(sa.select(AuditEvent.details)))
        assert "CANARY" not in details
        db.session.remove()
        db.engine.dispose()
    if url.startswith("sqlite"):
        raw = sqlite_bytes(Path(make_url(url).database or ""))
    else:
        raw = pg_dump_bytes(url)
    assert raw, "nothing was read"
    assert b"ONG-REF-TUM-W" in raw  # the scan does see plaintext columns
    assert leaked(raw) == []


def test_migration_0010_encrypts_existing_bed_labels_and_back(tmp_path: Path) -> None:
    """Bed labels written before 0010 (plaintext) are encrypted by the upgrade."""
    import flask_migrate

    from caseapp.shelters.models import Admission

    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'beds.sqlite3'}")
    migrate_and_seed(app)
    screener = Caller(app, "screener", "ONG-REF-TUM-W")
    body = copy.deepcopy(MARIA)
    body["consent"] = {"given": True, "scope": ["all"], "given_by": "person", "method": "verbal"}
    doc = screener.post("/api/v1/screenings", json=body).json
    shelter = referral_of(doc, "ngo_shelter")
    assert screener.post(f"/api/v1/referrals/{shelter['id']}/send").status_code == 200
    worker = Caller(app, "caseworker", "ONG-REF-LIM-W")
    assert worker.post(f"/api/v1/referrals/{shelter['id']}/accept").status_code == 200
    admitted = worker.post(
        "/api/v1/admissions",
        json={
            "referral_id": shelter["id"],
            "admitted_at": "2026-03-11T09:00:00-05:00",
            "bed": "Cama de María",
        },
    )
    assert admitted.status_code == 201, admitted.json
    raw = sa.text("SELECT bed FROM admissions")
    with app.app_context():
        assert b"Mar" not in bytes(db.session.execute(raw).scalar_one())
        db.session.remove()
        flask_migrate.downgrade(revision="0010_audit")
        assert db.session.execute(raw).scalar_one() == "Cama de María"
        db.session.remove()
        flask_migrate.upgrade()
        assert b"Mar" not in bytes(db.session.execute(raw).scalar_one())
        assert db.session.scalar(sa.select(Admission.bed)) == "Cama de María"
        db.session.remove()
        db.engine.dispose()
