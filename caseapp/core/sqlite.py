"""SQLite connection settings: foreign keys, WAL, real transactions, private files.

pysqlite's legacy implicit transactions break SAVEPOINT and transactional DDL, so the
driver is put in autocommit mode and SQLAlchemy emits BEGIN itself (the recipe from the
SQLAlchemy SQLite dialect documentation).

The database file holds personal data (encrypted columns, but also blind indexes and
codes): it is created 0600 before SQLite opens it, and an existing file (and its -wal
and -shm, which SQLite creates with the database's mode) is made 0600 when connecting.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

_installed = False


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        # 64 MiB of page cache (SQLite's default is 2 MiB): a register import inserts
        # millions of index entries at random keys (linkage blocks)
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if missing; take group and others' access away."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
            if mode & 0o077:
                file.chmod(mode & 0o700)
        except FileNotFoundError:
            continue


def _before_connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> None:
    if dialect.name != "sqlite":
        return
    name = cargs[0] if cargs else cparams.get("database", "")
    if isinstance(name, str) and name and name != ":memory:" and not name.startswith("file:"):
        private_file(Path(name))


def _on_begin(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


def install_pragmas() -> None:
    global _installed
    if not _installed:
        sa.event.listen(Engine, "do_connect", _before_connect)
        sa.event.listen(Engine, "connect", _on_connect)
        sa.event.listen(Engine, "begin", _on_begin)
        _installed = True
