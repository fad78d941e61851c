"""Encrypted, authenticated backups of the whole database, and restoring them.

Archive layout (docs/decisions/0009-backup-retention-keys.md)::

    b"RUTABAK1" | u32 header length | header (canonical JSON)
    then records: u8 final | u32 length | AES-GCM(chunk)  ... the last one has final=1

The header names the format, the database kind, when, the schema revision, the data key
id, the chunk size, a random salt and a random base nonce. The archive key is
HKDF-SHA256(data key of that id, salt, info=b"ruta-backup-v1"), so an archive stays
restorable after a key rotation as long as its key is in CASEAPP_OLD_DATA_KEYS. Chunk i
is sealed with nonce = base nonce XOR i and associated data = header bytes | i | final,
so an edited header, a changed, dropped, reordered or appended chunk, and a truncated
archive all fail authentication before anything is restored.

The payload is a consistent snapshot: the SQLite online-backup API, or
``pg_dump --format=custom``. Everything streams in 1 MiB chunks; memory stays constant.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import sqlite3
import stat
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import URL

from caseapp.audit import services as audit
from caseapp.audit.services import Actor
from caseapp.core.crypto import Keyring
from caseapp.core.db import keyring
from caseapp.extensions import db

MAGIC = b"RUTABAK1"
FORMAT_VERSION = 1
CHUNK_SIZE = 1 << 20
HKDF_INFO = b"ruta-backup-v1"
KINDS = ("sqlite", "postgresql")
_MAX_HEADER = 64 * 1024
_MAX_CHUNK = 64 << 20
_TAG = 16
_RECORD = struct.Struct(">BI")  # final flag, ciphertext length
_AAD_TAIL = struct.Struct(">QB")  # chunk index, final flag


class BackupError(RuntimeError):
    """The archive or the database cannot be used; the message says why and what to do."""


# -- archive format -------------------------------------------------------------------
@dataclass(frozen=True)
class Header:
    kind: str
    created_at: str
    revision: str | None
    key_id: str
    salt: str  # base64, 16 bytes
    nonce: str  # base64, 12 bytes
    chunk_size: int = CHUNK_SIZE
    format: int = FORMAT_VERSION

    @classmethod
    def new(cls, kind: str, revision: str | None, key_id: str) -> Header:
        return cls(
            kind=kind,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            revision=revision,
            key_id=key_id,
            salt=base64.b64encode(secrets.token_bytes(16)).decode(),
            nonce=base64.b64encode(secrets.token_bytes(12)).decode(),
        )

    def to_bytes(self) -> bytes:
        body = json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()
        return MAGIC + struct.pack(">I", len(body)) + body

    @classmethod
    def read(cls, fh: IO[bytes]) -> tuple[Header, bytes]:
        """Parse the header; return it with its exact bytes (the chunks' associated data)."""
        magic = fh.read(len(MAGIC))
        if magic != MAGIC:
            raise BackupError("not a Ruta backup archive (wrong magic bytes)")
        raw_len = fh.read(4)
        if len(raw_len) != 4:
            raise BackupError("the archive is truncated (incomplete header)")
        (length,) = struct.unpack(">I", raw_len)
        if length > _MAX_HEADER:
            raise BackupError("the archive header is corrupt (implausible length)")
        body = fh.read(length)
        if len(body) != length:
            raise BackupError("the archive is truncated (incomplete header)")
        try:
            data = json.loads(body)
            header = cls(**data)
            salt = base64.b64decode(header.salt, validate=True)
            nonce = base64.b64decode(header.nonce, validate=True)
        except (ValueError, TypeError) as exc:
            raise BackupError("the archive header is corrupt") from exc
        texts = (header.kind, header.created_at, header.key_id, header.salt, header.nonce)
        if not all(isinstance(t, str) for t in texts) or not isinstance(
            header.revision, str | None
        ):
            raise BackupError("the archive header is corrupt")
        if header.format != FORMAT_VERSION:
            raise BackupError(
                f"unsupported backup format {header.format!r} (this version reads "
                f"{FORMAT_VERSION}); restore it with the Ruta version that made it"
            )
        if (
            header.kind not in KINDS
            or len(salt) != 16
            or len(nonce) != 12
            or not isinstance(header.chunk_size, int)
            or not 0 < header.chunk_size <= _MAX_CHUNK
        ):
            raise BackupError("the archive header is corrupt")
        return header, magic + raw_len + body


def archive_key(ring: Keyring, header: Header) -> bytes:
    """HKDF-SHA256 of the named data key: separate from the column keys, per archive."""
    data_key = ring.data_keys.get(header.key_id)
    if data_key is None:
        raise BackupError(
            f"the archive is encrypted under data key {header.key_id!r}, which is not "
            "configured: put that key in CASEAPP_OLD_DATA_KEYS (id:base64) to restore it"
        )
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=base64.b64decode(header.salt),
        info=HKDF_INFO,
    ).derive(data_key)


def _nonce(base: bytes, index: int) -> bytes:
    return (int.from_bytes(base, "big") ^ index).to_bytes(12, "big")


def _read_exactly(fh: IO[bytes], size: int) -> bytes:
    """Read ``size`` bytes, fewer only at end of stream (pipes return short reads)."""
    parts = []
    remaining = size
    while remaining:
        part = fh.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def encrypt_stream(src: IO[bytes], out: IO[bytes], header: Header, ring: Keyring) -> int:
    """Write the header and the sealed chunks of ``src``; return the plaintext size."""
    head = header.to_bytes()
    aead = AESGCM(archive_key(ring, header))
    base = base64.b64decode(header.nonce)
    out.write(head)
    size = 0
    index = 0
    chunk = _read_exactly(src, header.chunk_size)
    while True:
        # read one chunk ahead: the last chunk must carry final=1 in its associated data
        following = _read_exactly(src, header.chunk_size) if chunk else b""
        final = 0 if following else 1
        sealed = aead.encrypt(_nonce(base, index), chunk, head + _AAD_TAIL.pack(index, final))
        out.write(_RECORD.pack(final, len(sealed)))
        out.write(sealed)
        size += len(chunk)
        if final:
            return size
        chunk = following
        index += 1


def decrypt_stream(src: IO[bytes], out: IO[bytes] | None, ring: Keyring) -> Header:
    """Authenticate every chunk of an archive, writing the plaintext to ``out``."""
    header, head = Header.read(src)
    aead = AESGCM(archive_key(ring, header))
    base = base64.b64decode(header.nonce)
    index = 0
    while True:
        record = _read_exactly(src, _RECORD.size)
        if len(record) != _RECORD.size:
            raise BackupError(
                "the archive is truncated (its final chunk is missing); nothing was restored"
            )
        final, length = _RECORD.unpack(record)
        if final not in (0, 1) or not _TAG <= length <= header.chunk_size + _TAG:
            raise BackupError(f"the archive is corrupt at chunk {index}; nothing was restored")
        sealed = _read_exactly(src, length)
        if len(sealed) != length:
            raise BackupError("the archive is truncated; nothing was restored")
        try:
            chunk = aead.decrypt(_nonce(base, index), sealed, head + _AAD_TAIL.pack(index, final))
        except InvalidTag:
            raise BackupError(
                f"the archive failed authentication at chunk {index}: it was altered or "
                f"truncated, or data key {header.key_id!r} is not the key it was made with; "
                "nothing was restored"
            ) from None
        if out is not None:
            out.write(chunk)
        if final:
            if src.read(1):
                raise BackupError(
                    "the archive has data after its final chunk; nothing was restored"
                )
            return header
        index += 1


def read_header(path: Path) -> Header:
    """The (not yet authenticated) header of an archive file."""
    with _open_archive(path) as fh:
        return Header.read(fh)[0]


@contextmanager
def _open_archive(path: Path) -> Iterator[IO[bytes]]:
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from exc
    with fh:
        yield fh


# -- the configured database ----------------------------------------------------------
def database_kind() -> str:
    kind = db.engine.dialect.name
    if kind not in KINDS:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {kind}")
    return kind


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"cannot back up or restore SQLite database {url.database!r}")
    return Path(url.database).resolve()


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def _database_revision() -> str | None:
    try:
        with db.engine.connect() as conn:
            value = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.DBAPIError:
        return None
    return None if value is None else str(value)


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from flask import current_app

    directory = current_app.extensions["migrate"].directory
    try:
        ScriptDirectory(directory).get_revision(revision)
    except Exception:  # alembic raises several types for an unknown id
        return False
    return True


def _private_file(directory: Path, prefix: str) -> Path:
    """A new 0600 file next to the database (same protection as the database itself)."""
    fd, name = tempfile.mkstemp(prefix=prefix, dir=directory)
    os.close(fd)
    return Path(name)


_LIBPQ_QUERY = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "host": "PGHOST",
    "port": "PGPORT",
    "user": "PGUSER",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


def libpq_env(url: URL) -> tuple[dict[str, str], str]:
    """Environment for pg_dump/pg_restore and the database name: connection settings,
    the password included, travel in PG* variables, never on the command line."""
    env = dict(os.environ)
    for key, value in url.query.items():
        name = _LIBPQ_QUERY.get(key)
        if name and value:
            env[name] = value if isinstance(value, str) else value[-1]
    settings: tuple[tuple[str, object], ...] = (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
    )
    for name, setting in settings:
        if setting:
            env[name] = str(setting)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    if not url.database:
        raise BackupError("the PostgreSQL URL names no database")
    env["PGDATABASE"] = url.database
    return env, url.database


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} not found on PATH: install the PostgreSQL client tools "
            "(the same major version as the server, e.g. apt install postgresql-client)"
        )
    return path


def _tail(path: Path, limit: int = 2000) -> str:
    text = path.read_text(errors="replace").strip()
    return text[-limit:] or "(no message)"


# -- create ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BackupInfo:
    path: Path
    header: Header
    size: int  # plaintext bytes
    archive_size: int


def create_backup(actor: Actor | None, path: Path) -> BackupInfo:
    """Write an encrypted snapshot of the configured database to ``path`` (a new file)
    and audit it (the caller commits the audit event)."""
    try:
        return _create_backup(actor, Path(path))
    except OSError as exc:
        raise BackupError(f"cannot write the backup: {exc}") from exc


def _create_backup(actor: Actor | None, path: Path) -> BackupInfo:
    kind = database_kind()
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} already exists; choose a new file name")
    if not path.parent.is_dir():
        raise BackupError(f"directory {path.parent} does not exist")
    ring: Keyring = keyring()
    partial = _private_file(path.parent, f".{path.name}.partial-")
    try:
        with partial.open("wb") as out:
            if kind == "sqlite":
                header, size = _sqlite_backup(out, ring)
            else:
                header, size = _pg_backup(out, ring)
            out.flush()
            os.fsync(out.fileno())
        _publish(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    info = BackupInfo(path, header, size, path.stat().st_size)
    audit.record(
        actor,
        "backup.create",
        object_type="database",
        object_id=kind,
        details={
            "file": path.name,
            "bytes": info.archive_size,
            "key_id": header.key_id,
            "revision": header.revision,
        },
    )
    return info


def _publish(partial: Path, path: Path) -> None:
    """Give the finished archive its name without overwriting a file created meanwhile."""
    try:
        os.link(partial, path)  # refuses to overwrite
    except FileExistsError:
        raise BackupError(f"{path} already exists; choose a new file name") from None
    except OSError:  # a filesystem without hard links
        if path.exists():
            raise BackupError(f"{path} already exists; choose a new file name") from None
        os.replace(partial, path)


def _sqlite_backup(out: IO[bytes], ring: Keyring) -> tuple[Header, int]:
    source = _sqlite_path(db.engine.url)
    if not source.exists():
        raise BackupError(f"database file {source} does not exist")
    snapshot = _private_file(source.parent, f".{source.name}.snapshot-")
    try:
        src = sqlite3.connect(source)
        dst = sqlite3.connect(snapshot)
        try:
            src.backup(dst)  # one step: a consistent snapshot even while others write
            revision = _sqlite_revision(dst)
        finally:
            dst.close()
            src.close()
        header = Header.new("sqlite", revision, ring.current_key_id)
        with snapshot.open("rb") as fh:
            size = encrypt_stream(fh, out, header, ring)
    finally:
        for leftover in (snapshot, Path(f"{snapshot}-wal"), Path(f"{snapshot}-shm")):
            leftover.unlink(missing_ok=True)
    return header, size


def _pg_backup(out: IO[bytes], ring: Keyring) -> tuple[Header, int]:
    pg_dump = _pg_tool("pg_dump")
    env, name = libpq_env(db.engine.url)
    header = Header.new("postgresql", _database_revision(), ring.current_key_id)
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(  # noqa: S603  (fixed argv; secrets only in env)
            [pg_dump, "--format=custom", "--no-password", f"--dbname={name}"],
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
        )
        assert proc.stdout is not None
        try:
            size = encrypt_stream(proc.stdout, out, header, ring)
        finally:
            proc.stdout.close()
            code = proc.wait()
        if code != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()[-2000:]
            raise BackupError(f"pg_dump failed (exit {code}): {message}")
    return header, size


# -- verify and restore ---------------------------------------------------------------
def verify_archive(path: Path) -> Header:
    """Authenticate a whole archive with the configured keys, writing nothing."""
    with _open_archive(Path(path)) as fh:
        return decrypt_stream(fh, None, keyring())


@dataclass(frozen=True)
class RestoreResult:
    header: Header
    target: str  # the database, password hidden
    up_to_date: bool  # the archive's schema revision is the code's head


def restore_backup(
    actor: Actor | None,
    path: Path,
    *,
    confirm: Callable[[Header, str], bool] = lambda _h, _t: True,
) -> RestoreResult:
    """Replace the configured database with an archive's content.

    Order matters: the header is checked against the target, the whole archive is
    decrypted and authenticated into a private temporary file, only then is
    ``confirm`` asked, and only then is the database replaced — atomically (SQLite:
    rename over the file; PostgreSQL: pg_restore in one transaction). The
    ``backup.restore`` audit event is written afterwards, into the restored database.
    """
    path = Path(path)
    kind = database_kind()
    url = db.engine.url
    target = url.render_as_string(hide_password=True)
    header = read_header(path)
    if header.kind != kind:
        raise BackupError(
            f"the archive is a {header.kind} backup but the configured database is "
            f"{kind} ({target}); restore it into a {header.kind} database"
        )
    if header.revision is not None and not _known_revision(header.revision):
        raise BackupError(
            f"the archive has schema revision {header.revision}, unknown to this version "
            "of Ruta: restore it with the version that made it (or a newer one)"
        )
    try:
        if kind == "sqlite":
            _restore_sqlite(path, _sqlite_path(url), lambda: confirm(header, target))
        else:
            _restore_pg(path, url, lambda: confirm(header, target))
    except OSError as exc:
        raise BackupError(f"restore failed: {exc}") from exc
    head = _head_revision()
    audit.record(
        actor,
        "backup.restore",
        object_type="database",
        object_id=kind,
        details={
            "file": path.name,
            "created_at": header.created_at,
            "key_id": header.key_id,
            "revision": header.revision,
        },
    )
    return RestoreResult(header, target, header.revision == head)


def _head_revision() -> str | None:
    from alembic.script import ScriptDirectory
    from flask import current_app

    return ScriptDirectory(current_app.extensions["migrate"].directory).get_current_head()


def _decrypt_to(path: Path, plain: Path) -> None:
    ring: Keyring = keyring()
    with _open_archive(path) as src, plain.open("wb") as out:
        decrypt_stream(src, out, ring)
        out.flush()
        os.fsync(out.fileno())


def _restore_sqlite(path: Path, target: Path, confirm: Callable[[], bool]) -> None:
    if not target.parent.is_dir():
        raise BackupError(f"directory {target.parent} does not exist")
    plain = _private_file(target.parent, f".{target.name}.restore-")
    try:
        _decrypt_to(path, plain)
        try:
            check = sqlite3.connect(plain)
            try:
                ok = check.execute("PRAGMA quick_check").fetchone()
            finally:
                check.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"the archive does not hold a usable SQLite database: {exc}") from exc
        if not ok or ok[0] != "ok":
            raise BackupError(f"the archived SQLite database is damaged: {ok}")
        if not confirm():
            raise BackupError("restore cancelled; nothing was changed")
        _release_sqlite(target)
        _same_owner_and_mode(plain, target)
        os.replace(plain, target)  # atomic: the old or the new database, never half
        _fsync_dir(target.parent)
    finally:
        for leftover in (plain, Path(f"{plain}-wal"), Path(f"{plain}-shm")):
            leftover.unlink(missing_ok=True)


def _release_sqlite(target: Path) -> None:
    """Close this process's connections and make sure nobody else has the file open:
    a write-ahead log left next to the new file would be replayed into it."""
    db.session.remove()
    db.engine.dispose()
    wal = Path(f"{target}-wal")
    if target.exists():
        with suppress(sqlite3.DatabaseError):
            conn = sqlite3.connect(target)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
    if wal.exists():
        raise BackupError(
            f"{target} is in use by another process (its write-ahead log is open): "
            "stop the application and try again; nothing was changed"
        )
    for sidecar in (Path(f"{target}-shm"), Path(f"{target}-journal")):
        sidecar.unlink(missing_ok=True)


def _same_owner_and_mode(new: Path, old: Path) -> None:
    """The restored file keeps the permissions (and, run as root, the owner) of the one
    it replaces, so the application's user can still open it."""
    if not old.exists():
        return
    st = old.stat()
    os.chmod(new, stat.S_IMODE(st.st_mode))
    with suppress(PermissionError):
        os.chown(new, st.st_uid, st.st_gid)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _restore_pg(path: Path, url: URL, confirm: Callable[[], bool]) -> None:
    pg_restore = _pg_tool("pg_restore")
    env, name = libpq_env(url)
    with tempfile.TemporaryDirectory(prefix="ruta-restore-") as tmp:
        plain = Path(tmp) / "database.dump"
        _decrypt_to(path, plain)
        if not confirm():
            raise BackupError("restore cancelled; nothing was changed")
        db.session.remove()
        db.engine.dispose()
        errors = Path(tmp) / "errors.txt"
        with errors.open("wb") as err:
            # one transaction: on any error PostgreSQL rolls the whole restore back
            code = subprocess.call(  # noqa: S603  (fixed argv; secrets only in env)
                [
                    pg_restore,
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    "--exit-on-error",
                    "--no-password",
                    f"--dbname={name}",
                    str(plain),
                ],
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
            )
        if code != 0:
            raise BackupError(
                f"pg_restore failed (exit {code}); the database was left unchanged: {_tail(errors)}"
            )
