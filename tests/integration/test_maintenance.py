"""Trust hardening (docs/decisions/0009): data-key rotation, encrypted backups and
restore, retention purge and legal hold.

Rotation, backup and the purge command need real commits and differently keyed apps,
so they run on fresh databases copied from a seeded template (SQLite; and PostgreSQL
too when CASEAPP_TEST_DATABASE_URL is set, in ``ruta_backup_*`` databases next to it).
The purge rules and the legal-hold API run in the suite's rolled-back transaction.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import io
import secrets
import shutil
import struct
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from caseapp.audit import services as audit
from caseapp.audit.models import AuditEvent
from caseapp.audit.services import SystemActor
from caseapp.core.crypto import Keyring
from caseapp.core.db import EncryptedText, UTCDateTime, utcnow
from caseapp.extensions import db
from caseapp.facts.models import LinkageBlock, LinkageRecord, ScreeningFact
from caseapp.maintenance import backup, retention
from caseapp.screening.models import Case, Person, Screening
from tests.conftest import (
    PASSWORD,
    TEST_DATABASE_URL,
    make_app,
    migrate_and_seed,
    reset_database,
)
from tests.integration.test_referral_lifecycle import MARIA, referral_of
from tests.integration.test_screening_api import ROSA


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


K1, K2, INDEX_KEY, SECRET_KEY = _key(), _key(), _key(), _key()
KINDS = ["sqlite", *(["postgresql"] if TEST_DATABASE_URL else [])]
PG_TEMPLATE = "ruta_backup_template"
SYSTEM = SystemActor(email="system:test")
#: the encrypted columns that belong to a case today (the code finds them by type)
CASE_COLUMNS = {
    "persons.given_names",
    "persons.family_names",
    "persons.date_of_birth",
    "persons.document_number",
    "persons.contact",
    "persons.address",
    "screenings.notes",
    "screenings.facts",
    "screenings.override_justification",
    "referrals.risk_notes",
    "referral_events.note",
    "admissions.discharge_note",
    "admissions.bed",
}
#: tables with encrypted columns that hold no case data
#: encrypted tables that do not belong to one case: users, and import batches (a batch's
#: report names lines and values of the rows it refused; its upload is cleared on import)
NOT_CASE_TABLES = {"users", "import_batches"}


# -- databases and apps -------------------------------------------------------------------
def _pg_url(name: str) -> str:
    return TEST_DATABASE_URL.rsplit("/", 1)[0] + "/" + name


def _pg_admin(statement: str, **params: Any) -> Any:
    engine = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        result = conn.execute(sa.text(statement), params)
        value = result.scalar() if result.returns_rows else None
    engine.dispose()
    return value


def _pg_empty(name: str) -> str:
    """An existing, emptied ``name`` database (DROP DATABASE forces a slow checkpoint, so
    databases are created once and emptied on later runs, like ``ruta_migrations``)."""
    if not _pg_admin("SELECT 1 FROM pg_database WHERE datname = :n", n=name):
        _pg_admin(f"CREATE DATABASE {name}")
    _pg_admin(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = :n AND pid <> pg_backend_pid()",
        n=name,
    )
    url = _pg_url(name)
    reset_database(url)
    return url


def _keyed(tmp: Path, url: str | None, current: str = "k1", key: str = K1, old: str = "") -> Any:
    return make_app(
        tmp,
        url,
        DATA_KEY=key,
        DATA_KEY_ID=current,
        OLD_DATA_KEYS=old,
        INDEX_KEY=INDEX_KEY,
        SECRET_KEY=SECRET_KEY,
    )


def _dispose(app: Any) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded SQLite file (and PostgreSQL dump) to start databases from."""
    tmp = tmp_path_factory.mktemp("template")
    app = _keyed(tmp, None)
    migrate_and_seed(app)
    _dispose(app)
    if TEST_DATABASE_URL:
        assert shutil.which("pg_dump") and shutil.which("pg_restore"), (
            "PostgreSQL tests need pg_dump and pg_restore on PATH "
            "(apt install postgresql-client, same major version as the server)"
        )
        url = _pg_empty(PG_TEMPLATE)
        app = _keyed(tmp, url)
        migrate_and_seed(app)
        _dispose(app)
        env, name = backup.libpq_env(make_url(url))
        subprocess.run(
            ["pg_dump", "--format=custom", f"--file={tmp / 'template.dump'}", f"--dbname={name}"],
            env=env,
            check=True,
        )
    return tmp


@pytest.fixture
def fresh(template: Path, tmp_path: Path) -> Any:
    """``fresh(kind, name)``: URL of a new seeded database (``empty=True``: nothing in it)."""

    def _fresh(kind: str, name: str, *, empty: bool = False) -> str:
        if kind == "sqlite":
            path = tmp_path / f"{name}.sqlite3"
            if not empty:
                shutil.copyfile(template / "test.sqlite3", path)
            return f"sqlite:///{path}"
        url = _pg_empty(name)
        if not empty:
            env, db_name = backup.libpq_env(make_url(url))
            subprocess.run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--single-transaction",
                    f"--dbname={db_name}",
                    str(template / "template.dump"),
                ],
                env=env,
                check=True,
            )
        return url

    return _fresh


@pytest.fixture
def keyed_app(tmp_path: Path) -> Any:
    """``keyed_app(url, current="k1", key=K1, old="")``; engines disposed afterwards."""
    made: list[Any] = []

    def _make(url: str, current: str = "k1", key: str = K1, old: str = "") -> Any:
        app = _keyed(tmp_path, url, current, key, old)
        made.append(app)
        return app

    yield _make
    for app in made:
        _dispose(app)


class Caller:
    """Bearer-token client of a user created (and committed) in a fresh database."""

    def __init__(self, app: Any, role: str, org: str) -> None:
        import pyotp

        from caseapp.accounts import services, two_factor

        with app.app_context():
            user = services.create_user(
                None,
                email=f"{role}-{secrets.token_hex(4)}@{org.lower()}.test",
                role=role,
                org_code=org,
                password=PASSWORD,
            )
            if role in two_factor.REQUIRED_ROLES:  # no token without it (ADR 0013)
                two_factor.start_enrolment(user)
                two_factor.confirm_enrolment(user, pyotp.TOTP(user.totp_secret).now())
            self.token = services.create_token(None, user)
            db.session.commit()
        self.client = app.test_client()

    def _h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, url: str) -> Any:
        return self.client.get(url, headers=self._h())

    def post(self, url: str, json: Any = None) -> Any:
        return self.client.post(url, json=json, headers=self._h())

    def patch(self, url: str, json: Any = None) -> Any:
        return self.client.patch(url, json=json, headers=self._h())


def callers(app: Any) -> Any:
    return lambda role, org: Caller(app, role, org)


def full_case(call: Any) -> dict[str, Any]:
    """A closed case with personal data in every place it can be: person, notes, rule
    input, override justification, risk notes, a decline note and a discharge note."""
    screener = call("screener", "ONG-REF-TUM-W")
    body = copy.deepcopy(MARIA)
    body["person"].update(
        family_names="González Pérez",
        document={"type": "passport", "number": "X1234567"},
        address="Av. Grau 123, Tumbes",
        date_of_birth="2001-06-15",
    )
    body["consent"] = {"given": True, "scope": ["all"], "given_by": "person", "method": "verbal"}
    doc = screener.post("/api/v1/screenings", json=body)
    assert doc.status_code == 201, doc.json
    doc = doc.json
    supervisor = call("supervisor", "ONG-REF-TUM-W")
    override = supervisor.post(
        f"/api/v1/screenings/{doc['id']}/override",
        json={"status": "possible", "justification": "María pidió revisar su relato mañana."},
    )
    assert override.status_code == 200, override.json
    shelter = referral_of(doc, "ngo_shelter")
    sent = screener.post(
        f"/api/v1/referrals/{shelter['id']}/send",
        json={"risk_notes": "El tratante la busca en Gamarra."},
    )
    assert sent.status_code == 200, sent.json
    worker = call("caseworker", "ONG-REF-LIM-W")
    assert worker.post(f"/api/v1/referrals/{shelter['id']}/accept").status_code == 200
    admission = worker.post(
        "/api/v1/admissions",
        json={
            "referral_id": shelter["id"],
            "admitted_at": "2026-03-11T09:00:00-05:00",
            "bed": "Cama de María",
        },
    )
    assert admission.status_code == 201, admission.json
    discharged = worker.post(
        f"/api/v1/admissions/{admission.json['id']}/discharge",
        json={
            "discharged_at": "2026-04-01T10:00:00-05:00",
            "reason": "independent_living",
            "note": "Se muda con su hermana Ana a Piura.",
        },
    )
    assert discharged.status_code == 200, discharged.json
    cem = referral_of(doc, "cem")
    assert screener.post(f"/api/v1/referrals/{cem['id']}/send").status_code == 200
    receiver = call("caseworker", cem["provider"]["code"])
    declined = receiver.post(
        f"/api/v1/referrals/{cem['id']}/decline",
        json={"reason": "no_capacity", "note": "María no contesta al +51 900 000 001"},
    )
    assert declined.status_code == 200, declined.json
    case_url = f"/api/v1/cases/{doc['case_id']}"
    version = supervisor.get(case_url).json["version"]
    closed = supervisor.patch(case_url, json={"version": version, "status": "closed"})
    assert closed.status_code == 200, closed.json
    return doc


def rosa_case(call: Any, org: str = "PNP-TRATA-MDD", **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(ROSA)
    body.update(changes)
    response = call("screener", org).post("/api/v1/screenings", json=body)
    assert response.status_code == 201, response.json
    return response.json


def encrypted_columns_in_test() -> list[tuple[str, str]]:
    """(table, column) of every EncryptedText column, found here independently."""
    return sorted(
        (table.name, column.name)
        for table in db.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, EncryptedText)
    )


def raw_values(table: str, column: str, case_id: int | None = None) -> list[bytes | None]:
    """Stored bytes of a column (all rows, or the rows of one case), by plain SQL."""
    if case_id is None:
        sql = f"SELECT {column} FROM {table}"  # noqa: S608
    elif table == "referral_events":
        sql = (
            f"SELECT {column} FROM referral_events WHERE referral_id IN "  # noqa: S608
            "(SELECT id FROM referrals WHERE case_id = :case_id)"
        )
    elif table == "audit_notes":  # about a case by its public id (caseapp/audit/notes.py)
        sql = (
            f"SELECT {column} FROM audit_notes WHERE subject_type = 'case' "  # noqa: S608
            "AND subject_id = (SELECT uuid FROM cases WHERE id = :case_id)"
        )
    else:
        names = db.metadata.tables[table].c
        assert "case_id" in names, f"teach this test how {table} belongs to a case"
        sql = f"SELECT {column} FROM {table} WHERE case_id = :case_id"  # noqa: S608
    rows = db.session.execute(sa.text(sql), {"case_id": case_id}).scalars()
    return [None if v is None else bytes(v) for v in rows]


def case_id_of(case_uuid: str) -> int:
    return db.session.scalar(sa.select(Case.id).where(Case.uuid == case_uuid))


def case_personal_data(case_id: int) -> dict[str, list[bytes | None]]:
    data = {}
    for table, column in encrypted_columns_in_test():
        if table in NOT_CASE_TABLES:
            continue
        data[f"{table}.{column}"] = raw_values(table, column, case_id)
    return data


def backdate(case_id: int, days: int) -> None:
    """Move every timestamp of a case (and its rows) ``days`` into the past."""
    old = utcnow() - timedelta(days=days)
    referrals = db.metadata.tables["referrals"]
    for table in db.metadata.sorted_tables:
        if table.name == "cases":
            where = table.c.id == case_id
        elif table.name == "referral_events":
            where = table.c.referral_id.in_(
                sa.select(referrals.c.id).where(referrals.c.case_id == case_id)
            )
        elif "case_id" in table.c:
            where = table.c.case_id == case_id
        else:
            continue
        for column in table.columns:
            if isinstance(column.type, UTCDateTime):
                db.session.execute(
                    sa.update(table).where(where, column.is_not(None)).values({column: old})
                )


def cli(app: Any, *args: str, input: str | None = None) -> Any:
    return app.test_cli_runner().invoke(args=list(args), input=input)


# -- key rotation -----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_key_rotation_reencrypts_everything_once_and_old_key_can_go(kind, fresh, keyed_app):
    url = fresh(kind, "ruta_backup_keys")
    old_app = keyed_app(url)
    doc = full_case(callers(old_app))
    with old_app.app_context():
        ring_k1 = old_app.extensions["caseapp_keyring"]
        before = {
            (t, c): [(v, ring_k1.decrypt(v, context=f"{t}.{c}")) for v in raw_values(t, c) if v]
            for t, c in encrypted_columns_in_test()
        }
    filled = {f"{t}.{c}" for (t, c), values in before.items() if values}
    assert filled >= CASE_COLUMNS, f"the fixture should fill every column: {CASE_COLUMNS - filled}"
    assert {Keyring.key_id_of(v) for values in before.values() for v, _ in values} == {"k1"}

    # without k1 the rotation cannot read the data, and says what to do
    lost = keyed_app(url, current="k2", key=K2)
    refused = cli(lost, "keys", "rotate")
    assert refused.exit_code == 1
    assert "unknown data key id 'k1'" in refused.output
    assert "CASEAPP_OLD_DATA_KEYS" in refused.output

    rotating = keyed_app(url, current="k2", key=K2, old=f"k1:{K1}")
    status = cli(rotating, "keys", "status")
    assert status.exit_code == 0 and "persons.given_names: k1=1" in status.output
    result = cli(rotating, "keys", "rotate", "--batch-size", "3")
    assert result.exit_code == 0, result.output
    total = sum(len(v) for v in before.values())
    assert f"re-encrypted {total} value(s) under data key k2" in result.output
    assert "persons.given_names: 1 re-encrypted, 0 already under k2" in result.output
    assert "linkage record(s) under the current index key" in result.output  # re-encoded
    with rotating.app_context():
        after = {(t, c): [v for v in raw_values(t, c) if v] for t, c in encrypted_columns_in_test()}
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "keys.rotate")
        ).all()
        assert len(events) == 1 and audit.parse_details(events[0])["rotated"] == total
    assert {Keyring.key_id_of(v) for values in after.values() for v in values} == {"k2"}

    again = cli(rotating, "keys", "rotate")
    assert again.exit_code == 0 and "re-encrypted 0 value(s)" in again.output
    with rotating.app_context():
        unchanged = {
            (t, c): [v for v in raw_values(t, c) if v] for t, c in encrypted_columns_in_test()
        }
    assert unchanged == after

    # k1 is gone from the configuration: everything still reads, equal to before
    new_app = keyed_app(url, current="k2", key=K2)
    with new_app.app_context():
        ring_k2 = new_app.extensions["caseapp_keyring"]
        for (t, c), values in before.items():
            plain = sorted(p for _, p in values)
            assert sorted(ring_k2.decrypt(v, context=f"{t}.{c}") for v in after[(t, c)]) == plain
        case = db.session.scalar(sa.select(Case).where(Case.uuid == doc["case_id"]))
        assert case.person.given_names == "María"
        assert case.screenings[0].override_justification.startswith("María pidió")
    reader = Caller(new_app, "screener", "ONG-REF-TUM-W")
    assert reader.get(f"/api/v1/cases/{doc['case_id']}").json["person"]["given_names"] == "María"


def test_generate_prints_a_usable_key(app):
    result = cli(app, "keys", "generate")
    assert result.exit_code == 0
    key = base64.b64decode(result.stdout.strip().splitlines()[-1], validate=True)
    assert len(key) == 32


# -- backup and restore ------------------------------------------------------------------------
def _names(app: Any) -> list[str]:
    with app.app_context():
        return sorted(p.given_names or "" for p in db.session.scalars(sa.select(Person)))


@pytest.mark.parametrize("kind", KINDS)
def test_backup_round_trip_into_an_empty_database_and_over_a_live_one(
    kind, fresh, keyed_app, tmp_path
):
    src = keyed_app(fresh(kind, "ruta_backup_src"))
    call = callers(src)
    rosa = rosa_case(call)
    archive = tmp_path / "ruta.rbk"
    made = cli(src, "backup", "create", str(archive))
    assert made.exit_code == 0, made.output
    data = archive.read_bytes()
    assert data.startswith(backup.MAGIC)
    assert b"pnp-trata-mdd.test" not in data  # user e-mails are plain in the database
    assert b"CREATE TABLE" not in data
    refused = cli(src, "backup", "create", str(archive))
    assert refused.exit_code == 1 and "already exists" in refused.output
    assert cli(src, "backup", "verify", str(archive)).exit_code == 0

    dst = keyed_app(fresh(kind, "ruta_backup_dst", empty=True))
    restored = cli(dst, "backup", "restore", str(archive), "--yes")
    assert restored.exit_code == 0, restored.output
    assert "audit chain ok" in restored.output
    with dst.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.uuid == rosa["case_id"]))
        assert case.person.given_names == "Rosa"
        assert case.person.family_names == "Quispe Mamani"
        assert audit.verify().ok
        last = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert last.action == "backup.restore"
    with src.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
        assert "backup.create" in actions

    # restore over the live source: what was added after the backup is gone
    rosa_case(call, person={**ROSA["person"], "given_names": "Luz"})
    assert _names(src) == ["Luz", "Rosa"]
    over = cli(src, "backup", "restore", str(archive), "--yes")
    assert over.exit_code == 0, over.output
    assert _names(src) == ["Rosa"]
    with src.app_context():
        assert audit.verify().ok


def _state(app: Any) -> tuple[list[str], int]:
    with app.app_context():
        cases = sorted(db.session.scalars(sa.select(Case.uuid)))
        return cases, db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))


def _leftovers(app: Any) -> list[str]:
    with app.app_context():
        url = db.engine.url
    if url.get_backend_name() != "sqlite":
        return []
    return [p.name for p in Path(url.database).parent.iterdir() if ".restore-" in p.name]


@pytest.mark.parametrize("kind", KINDS)
def test_tampered_truncated_or_unconfirmed_archives_change_nothing(
    kind, fresh, keyed_app, tmp_path
):
    src = keyed_app(fresh(kind, "ruta_backup_src"))
    rosa_case(callers(src))
    archive = tmp_path / "ruta.rbk"
    assert cli(src, "backup", "create", str(archive)).exit_code == 0
    data = archive.read_bytes()
    target = keyed_app(fresh(kind, "ruta_backup_dst"))
    rosa_case(callers(target), person={**ROSA["person"], "given_names": "Luz"})
    before = _state(target)

    header_end = len(backup.MAGIC) + 4 + struct.unpack(">I", data[8:12])[0]
    cases = {
        "payload byte flipped": (
            data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 1]) + data[len(data) // 2 + 1 :]
        ),
        "header byte flipped": data[:30] + bytes([data[30] ^ 1]) + data[31:],
        "truncated": data[: header_end + (len(data) - header_end) // 2],
        "last bytes cut": data[:-1],
        "extra bytes": data + b"\0",
        "not an archive": b"SQLite format 3\0" + data[16:],
    }
    for name, blob in cases.items():
        bad = tmp_path / f"{name}.rbk"
        bad.write_bytes(blob)
        result = cli(target, "backup", "restore", str(bad), "--yes")
        assert result.exit_code == 1, (name, result.output)
        assert "error:" in result.output and "Traceback" not in result.output, name
        assert _state(target) == before, name
        assert _leftovers(target) == [], name
    flipped = cli(target, "backup", "restore", str(tmp_path / "payload byte flipped.rbk"), "--yes")
    assert "failed authentication" in flipped.output
    cut = cli(target, "backup", "restore", str(tmp_path / "truncated.rbk"), "--yes")
    assert "truncated" in cut.output

    no = cli(target, "backup", "restore", str(archive), input="n\n")
    assert no.exit_code == 1 and "cancelled" in no.output
    assert _state(target) == before
    assert _leftovers(target) == []


def test_backup_made_before_a_key_rotation_needs_the_old_key(fresh, keyed_app, tmp_path):
    src = keyed_app(fresh("sqlite", "ruta_backup_src"))
    rosa = rosa_case(callers(src))
    archive = tmp_path / "before-rotation.rbk"
    assert cli(src, "backup", "create", str(archive)).exit_code == 0
    assert backup.read_header(archive).key_id == "k1"

    without = keyed_app(fresh("sqlite", "ruta_backup_dst1"), current="k2", key=K2)
    before = _state(without)
    refused = cli(without, "backup", "restore", str(archive), "--yes")
    assert refused.exit_code == 1
    assert "data key 'k1'" in refused.output and "CASEAPP_OLD_DATA_KEYS" in refused.output
    assert _state(without) == before

    # same id, other key bytes: authentication fails instead of garbage being restored
    impostor = keyed_app(fresh("sqlite", "ruta_backup_dst2"), current="k1", key=K2)
    wrong = cli(impostor, "backup", "restore", str(archive), "--yes")
    assert wrong.exit_code == 1 and "failed authentication" in wrong.output

    rotated = keyed_app(fresh("sqlite", "ruta_backup_dst3"), current="k2", key=K2, old=f"k1:{K1}")
    restored = cli(rotated, "backup", "restore", str(archive), "--yes")
    assert restored.exit_code == 0, restored.output
    assert cli(rotated, "keys", "rotate").exit_code == 0
    with rotated.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.uuid == rosa["case_id"]))
        assert case.person.given_names == "Rosa"


def test_pg_tools_get_connection_settings_and_password_from_the_environment():
    url = make_url("postgresql+psycopg://ruta:s3cr%40t@db.example:5433/ruta_prod?sslmode=require")
    env, name = backup.libpq_env(url)
    assert name == "ruta_prod"
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"]) == ("db.example", "5433", "ruta")
    assert env["PGPASSWORD"] == "s3cr@t" and env["PGSSLMODE"] == "require"


def test_archive_of_another_database_kind_is_refused(app, tmp_path):
    ring = app.extensions["caseapp_keyring"]
    with app.app_context():
        other = "postgresql" if db.engine.dialect.name == "sqlite" else "sqlite"
        header = backup.Header.new(other, "0001", ring.current_key_id)
        archive = tmp_path / "other.rbk"
        with archive.open("wb") as out:
            backup.encrypt_stream(io.BytesIO(b"not restored"), out, header, ring)
        with pytest.raises(backup.BackupError, match=f"is a {other} backup"):
            backup.restore_backup(SYSTEM, archive)


def test_chunks_are_bound_to_their_place_in_the_archive():
    ring = Keyring({"k1": secrets.token_bytes(32)}, "k1", secrets.token_bytes(32))
    header = dataclasses.replace(backup.Header.new("sqlite", "0001", "k1"), chunk_size=64)
    payload = secrets.token_bytes(64 * 5 + 10)
    sealed = io.BytesIO()
    backup.encrypt_stream(io.BytesIO(payload), sealed, header, ring)
    data = sealed.getvalue()
    head_len = len(header.to_bytes())
    records, pos = [], head_len
    while pos < len(data):
        _, size = struct.unpack(">BI", data[pos : pos + 5])
        records.append(data[pos : pos + 5 + size])
        pos += 5 + size
    assert len(records) == 6
    head = data[:head_len]

    def opened(blob: bytes) -> bytes:
        out = io.BytesIO()
        backup.decrypt_stream(io.BytesIO(blob), out, ring)
        return out.getvalue()

    assert opened(data) == payload
    broken = {
        "reordered": head + records[1] + records[0] + b"".join(records[2:]),
        "chunk dropped": head + records[0] + b"".join(records[2:]),
        "final chunk dropped": head + b"".join(records[:-1]),
        "chunk repeated": head + b"".join(records[:3]) + records[2] + b"".join(records[3:]),
        "final flag set early": head + bytes([1]) + records[0][1:] + b"".join(records[1:]),
        "cut, with a forged final flag": head
        + b"".join(records[:-2])
        + bytes([1])
        + records[-2][1:],
    }
    for name, blob in broken.items():
        with pytest.raises(backup.BackupError) as refused:
            opened(blob)
        assert "truncated" in str(refused.value) or "authentication" in str(refused.value), name
    empty = io.BytesIO()
    backup.encrypt_stream(io.BytesIO(b""), empty, header, ring)
    assert opened(empty.getvalue()) == b""


# -- retention: purge --------------------------------------------------------------------------
POLICY = retention.RetentionPolicy(days_closed=3650, days_open=0, days_not_indicated=730)
LATER = timedelta(days=4000)


def test_purge_removes_personal_data_and_keeps_statistics(app, db_tx, api):
    doc = full_case(api)
    held = full_case(api)
    open_case = rosa_case(api)
    case_id, held_id = case_id_of(doc["case_id"]), case_id_of(held["case_id"])
    supervisor = api("supervisor", "ONG-REF-TUM-W")
    hold = supervisor.post(
        f"/api/v1/cases/{held['case_id']}/legal-hold",
        json={"hold": True, "reason": "Carpeta fiscal 123-2026, FISTRAP Lima"},
    )
    assert hold.status_code == 200, hold.json
    before = case_personal_data(case_id)
    assert {k for k, v in before.items() if any(v)} >= CASE_COLUMNS
    fact_before = db.session.execute(
        sa.select(ScreeningFact).join(Screening).where(Screening.case_id == case_id)
    ).scalar_one()
    counted = (fact_before.status, fact_before.sex, fact_before.age_group, fact_before.person_id)
    link_before = db.session.get(LinkageRecord, fact_before.screening_id)
    assert link_before.doc and link_before.given and link_before.blocks
    blocks_of = sa.select(sa.func.count()).where(
        LinkageBlock.screening_id == fact_before.screening_id
    )
    assert db.session.scalar(blocks_of) > 0
    audit_count = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))

    preview = retention.purge(SYSTEM, policy=POLICY, now=utcnow() + LATER, dry_run=True)
    would = {c.uuid: c.rule for c in preview.candidates}
    assert would.get(doc["case_id"]) == "closed"
    assert held["case_id"] not in would and open_case["case_id"] not in would
    db.session.expire_all()
    assert case_personal_data(case_id) == before
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == audit_count

    result = retention.purge(SYSTEM, policy=POLICY, now=utcnow() + LATER)
    assert doc["case_id"] in {c.uuid for c in result.candidates}
    after = case_personal_data(case_id)
    assert all(v is None for values in after.values() for v in values), after
    assert [len(v) for v in after.values()] == [len(v) for v in before.values()]
    person = db.session.execute(
        sa.text("SELECT name_index, document_index, sex FROM persons WHERE case_id = :c"),
        {"c": case_id},
    ).one()
    assert person == (None, None, "F")
    fact = db.session.execute(
        sa.select(ScreeningFact).join(Screening).where(Screening.case_id == case_id)
    ).scalar_one()
    assert (fact.status, fact.sex, fact.age_group, fact.person_id) == counted
    link = db.session.get(LinkageRecord, fact.screening_id)
    assert (link.doc, link.given, link.family, link.dob, link.birth_year, link.blocks) == (
        (None,) * 6
    )
    assert db.session.scalar(blocks_of) == 0  # the blocking keys are deleted
    case = db.session.get(Case, case_id)
    assert case.purged_at is not None and case.status == "closed"
    assert case.determination == "possible" and case.person.given_names is None
    assert case.screenings[0].status == "indicated"  # the coded decision stays
    reader = api("supervisor", "ONG-REF-TUM-W")
    shown = reader.get(f"/api/v1/cases/{doc['case_id']}")
    assert shown.status_code == 200 and "María" not in shown.get_data(as_text=True)

    # the held and the open case keep everything
    kept = case_personal_data(held_id)
    assert {k for k, v in kept.items() if any(v)} >= CASE_COLUMNS
    assert db.session.get(Case, held_id).person.given_names == "María"
    assert db.session.get(Case, case_id_of(open_case["case_id"])).person.given_names == "Rosa"

    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action.startswith("retention."))
    ).all()
    per_case = [e for e in events if e.object_id == doc["case_id"]]
    assert len(per_case) == 1 and audit.parse_details(per_case[0]) == {"rule": "closed"}
    summary = [e for e in events if e.action == "retention.purge_run"]
    assert len(summary) == 1 and audit.parse_details(summary[0])["purged"] >= 1
    assert not any({"Mar", "Gonz"} & set(str(audit.parse_details(e)).split()) for e in events)
    assert "María" not in str([audit.parse_details(e) for e in events])
    assert audit.verify().ok

    # idempotent: a purged case is not selected again; the hold cannot be placed now
    assert doc["case_id"] not in {
        c.uuid for c in retention.purge(SYSTEM, policy=POLICY, now=utcnow() + LATER).candidates
    }
    late = supervisor.post(
        f"/api/v1/cases/{doc['case_id']}/legal-hold",
        json={"hold": True, "reason": "Carpeta fiscal 999-2036, FISTRAP Lima"},
    )
    assert late.status_code == 409 and late.json["error"]["code"] == "case_purged"


def test_purge_rules_open_not_indicated_and_recent_activity(app, db_tx, api):
    nothing = rosa_case(
        api,
        acts=[],
        means=[],
        purposes=[],
        indicators=[],
        person={**ROSA["person"], "given_names": "Nadia", "age_years": 30},
    )
    assert nothing["determination"]["status"] == "not_indicated"
    indicated = rosa_case(api)
    now = utcnow()

    def chosen(policy: retention.RetentionPolicy, at: Any) -> dict[str, str]:
        return {c.uuid: c.rule for c in retention.find_candidates(policy, at)}

    assert nothing["case_id"] not in chosen(POLICY, now + timedelta(days=700))
    assert chosen(POLICY, now + timedelta(days=731))[nothing["case_id"]] == "not_indicated"
    assert indicated["case_id"] not in chosen(POLICY, now + LATER)  # open: kept
    keep_open = retention.RetentionPolicy(days_closed=3650, days_open=1000, days_not_indicated=0)
    assert chosen(keep_open, now + timedelta(days=1001))[indicated["case_id"]] == "open"
    assert nothing["case_id"] not in chosen(keep_open, now + timedelta(days=999))

    # any recorded activity restarts the clock: here a consent recorded 400 days later
    caller = api("screener")
    consent = caller.post(
        f"/api/v1/cases/{nothing['case_id']}/consent",
        json={"given": True, "scope": ["all"], "given_by": "person", "method": "verbal"},
    )
    assert consent.status_code == 201, consent.json
    db.session.execute(
        sa.update(db.metadata.tables["consents"])
        .where(db.metadata.tables["consents"].c.case_id == case_id_of(nothing["case_id"]))
        .values(recorded_at=now + timedelta(days=400))
    )
    assert nothing["case_id"] not in chosen(POLICY, now + timedelta(days=731))
    assert chosen(POLICY, now + timedelta(days=1131))[nothing["case_id"]] == "not_indicated"


def test_purge_command_dry_run_then_purge_and_hold(fresh, keyed_app):
    app = keyed_app(fresh("sqlite", "ruta_backup_ret"))  # the rules run on both in db_tx
    call = callers(app)
    old = rosa_case(call)
    held = rosa_case(call, person={**ROSA["person"], "given_names": "Luz"})
    recent = rosa_case(call, person={**ROSA["person"], "given_names": "Eva"})
    with app.app_context():
        for doc in (old, held, recent):
            db.session.execute(
                sa.update(Case)
                .where(Case.uuid == doc["case_id"])
                .values(status="closed", closed_at=utcnow())
            )
        backdate(case_id_of(old["case_id"]), 3700)
        backdate(case_id_of(held["case_id"]), 3700)
        db.session.execute(
            sa.insert(db.metadata.tables["idempotency_records"]).values(
                user_id=db.session.scalar(sa.select(sa.func.min(Case.created_by_id))),
                key="k-old",
                endpoint="screenings",
                request_hash="0" * 64,
                status=201,
                response='{"person": "Rosa"}',
                created_at=utcnow() - timedelta(hours=25),
            )
        )
        db.session.commit()
    hold = cli(app, "retention", "hold", held["case_id"], "--reason", "Oficio 45-2026-FISTRAP")
    assert hold.exit_code == 0 and "under legal hold" in hold.output
    assert cli(app, "retention", "hold", held["case_id"], "--reason", "x").exit_code == 1
    assert _names(app) == ["Eva", "Luz", "Rosa"]

    dry = cli(app, "retention", "purge", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"would purge case {old['case_id']} (closed)" in dry.output
    assert held["case_id"] not in dry.output and recent["case_id"] not in dry.output
    assert "would delete 1 idempotency record(s)" in dry.output
    assert _names(app) == ["Eva", "Luz", "Rosa"]

    done = cli(app, "retention", "purge")
    assert done.exit_code == 0, done.output
    assert f"purged case {old['case_id']} (closed)" in done.output
    assert "deleted 1 idempotency record(s)" in done.output
    assert _names(app) == ["", "Eva", "Luz"]
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(db.metadata.tables["idempotency_records"])
            )
            == 0
        )
        assert audit.verify().ok

    release = cli(
        app,
        "retention",
        "hold",
        held["case_id"],
        "--reason",
        "Archivo definitivo 2036",
        "--release",
    )
    assert release.exit_code == 0 and "no longer under legal hold" in release.output
    again = cli(app, "retention", "purge")
    assert f"purged case {held['case_id']} (closed)" in again.output
    assert _names(app) == ["", "", "Eva"]


# -- legal hold API ----------------------------------------------------------------------------
def test_legal_hold_api_is_for_supervisors_of_the_case(app, db_tx, api):
    doc = rosa_case(api)
    url = f"/api/v1/cases/{doc['case_id']}/legal-hold"
    body = {"hold": True, "reason": "Carpeta fiscal 123-2026, FISTRAP Lima"}
    supervisor = api("supervisor")
    placed = supervisor.post(url, json=body)
    assert placed.status_code == 200, placed.json
    assert placed.json["legal_hold"] is True and placed.json["purged_at"] is None
    assert db.session.get(Case, case_id_of(doc["case_id"])).legal_hold is True
    assert api("screener").post(url, json=body).status_code == 403
    assert api("caseworker").post(url, json=body).status_code == 403
    assert api("supervisor", "PNP-TRATA-LIM").post(url, json=body).status_code == 404
    missing = supervisor.post(url, json={"hold": False})
    assert missing.status_code == 422 and "reason" in missing.json["error"]["fields"]
    extra = supervisor.post(url, json={**body, "note": "x"})
    assert extra.status_code == 422 and "note" in extra.json["error"]["fields"]
    released = supervisor.post(url, json={"hold": False, "reason": "Archivo definitivo 2030"})
    assert released.status_code == 200 and released.json["legal_hold"] is False
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.object_id == doc["case_id"], AuditEvent.action.startswith("case.legal"))
        .order_by(AuditEvent.seq)
    ).all()
    assert [(e.action, e.is_flagged) for e in events] == [
        ("case.legal_hold", False),
        ("case.legal_hold_release", True),
    ]


# -- migration 0006 with data ------------------------------------------------------------------
def test_migration_0006_down_and_up_keeps_data_on_sqlite(fresh, keyed_app):
    """SQLite copies ``screenings`` and ``cases`` to change them, which fails with rows
    pointing at them unless the migration switches foreign keys off (and back on)."""
    import flask_migrate
    from alembic.script import ScriptDirectory

    app = keyed_app(fresh("sqlite", "ruta_backup_mig"))
    doc = full_case(callers(app))
    with app.app_context():
        script = ScriptDirectory(app.extensions["migrate"].directory)
        previous = script.get_revision("0006").down_revision
        flask_migrate.downgrade(revision=previous)
        flask_migrate.upgrade()
        db.session.remove()
        case = db.session.scalar(sa.select(Case).where(Case.uuid == doc["case_id"]))
        assert case.person.given_names == "María" and case.legal_hold is False
        assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        assert not db.session.execute(sa.text("PRAGMA foreign_key_check")).all()
        db.session.execute(sa.update(Screening).values(facts=None))
        db.session.commit()
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the message and exits 1
            flask_migrate.downgrade(revision=previous)
        version = db.session.execute(sa.text("SELECT version_num FROM alembic_version"))
        assert version.scalar() == "0006"
