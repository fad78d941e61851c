"""Synthetic data: bulk writing (COPY on PostgreSQL), id reservation and deferred
indexes and foreign keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from caseapp.core.db import EncryptedText
from caseapp.extensions import db
from devtools.synth.rows import _JSON_COLUMNS, TABLES, Batch

# --- Writing -------------------------------------------------------------------------------


def _plain_table(table: sa.Table) -> sa.TableClause:
    """The table for Core inserts of ready-made values: encrypted columns take the
    ciphertext bytes, JSON columns their text; other types (UTC datetimes) as modelled."""
    columns: list[sa.ColumnClause[Any]] = []
    for c in table.columns:
        if isinstance(c.type, EncryptedText):
            columns.append(sa.column(c.name, sa.LargeBinary()))
        elif c.name in _JSON_COLUMNS:
            columns.append(sa.column(c.name, sa.Text()))
        else:
            columns.append(sa.column(c.name, c.type))
    return sa.table(table.name, *columns)


class Writer:
    """Batched inserts: psycopg COPY on PostgreSQL; elsewhere one ``executemany`` per table
    and batch, with values converted once by the column types' bind processors."""

    def __init__(self) -> None:
        self.connection = db.session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"
        self.inserts: dict[str, tuple[str, list[Any]]] = {}
        if not self.postgres:
            dialect = self.connection.dialect
            if dialect.name == "sqlite":
                # random keys (uuids, pseudonyms) in seven indexes: the default 2 MB page
                # cache makes every insert a disk read once the tables outgrow it
                self.connection.exec_driver_sql("PRAGMA cache_size = -262144")  # 256 MB
            marker = "?" if dialect.paramstyle == "qmark" else "%s"
            for table, columns in TABLES:
                plain_table = _plain_table(table)
                processors = [
                    plain_table.c[name].type._cached_bind_processor(dialect) for name in columns
                ]
                sql = (
                    f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608
                    f"VALUES ({', '.join([marker] * len(columns))})"
                )
                self.inserts[table.name] = (sql, processors)
        self.rows = 0

    def write(self, batch: Batch) -> None:
        for table, columns, rows in batch.tables():
            if not rows:
                continue
            if self.postgres:
                self._copy(table.name, columns, rows)
            else:
                sql, processors = self.inserts[table.name]
                converted = [
                    tuple(
                        v if f is None or v is None else f(v)
                        for f, v in zip(processors, row, strict=True)
                    )
                    for row in rows
                ]
                self.connection.exec_driver_sql(sql, converted)
            self.rows += len(rows)

    def _copy(self, name: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        raw = self.connection.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)


_ID_TABLES = ("cases", "persons", "screenings")


@dataclass
class DeferredChecks:
    """PostgreSQL: the secondary indexes and foreign keys of the five tables synth loads,
    dropped for the load and rebuilt after the linkage, in the same transaction.

    Loading 1.5 million screenings row by row into about twenty indexes (the facts alone
    have ten, one of them a GIN index of name blocks) and checking four foreign keys per
    row is most of PostgreSQL's time in ``synth``, and linking then rewrites a third of
    the facts in every index again. A sorted bulk build of each index and one validating
    join per foreign key afterwards cost a fraction of that. Primary keys and unique
    constraints stay (other tables reference them). The definitions are read back from
    the catalog, so what is restored is exactly what was there. The tables are held
    exclusively until the commit: synth is for demos and benchmarks, never production.
    """

    statements: list[str] = field(default_factory=list)

    @classmethod
    def drop(cls) -> DeferredChecks:
        conn = db.session.connection()
        if conn.dialect.name != "postgresql":
            return cls()
        tables = [t.name for t, _ in TABLES]
        params = {"tables": tables}
        foreign_keys = conn.execute(
            sa.text(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c WHERE c.contype = 'f' "
                "AND c.conrelid = ANY (SELECT oid FROM pg_class WHERE relname = ANY(:tables) "
                "AND relnamespace = current_schema()::regnamespace) ORDER BY c.conname"
            ),
            params,
        ).all()
        indexes = conn.execute(
            sa.text(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                "WHERE t.relname = ANY(:tables) "
                "AND t.relnamespace = current_schema()::regnamespace "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                "ORDER BY 1"
            ),
            params,
        ).all()
        for table, name, _ in foreign_keys:
            conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            conn.exec_driver_sql(f"DROP INDEX {name}")
        return cls(
            [definition for _, definition in indexes]
            + [
                f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
                for table, name, definition in foreign_keys
            ]
        )

    def restore(self) -> None:
        conn = db.session.connection()
        # memory for the sorts of the index builds, for this transaction only
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        for statement in self.statements:
            conn.exec_driver_sql(statement)


def _reserve_ids() -> dict[str, int]:
    """First free id of each table. On PostgreSQL the tables are locked against other
    writers until commit (so no one else takes an id in between) and the sequences may
    be ahead of the largest id (rolled-back inserts); SQLite has no sequences."""
    conn = db.session.connection()
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.exec_driver_sql("LOCK TABLE cases, persons, screenings IN EXCLUSIVE MODE")
    first: dict[str, int] = {}
    for name in _ID_TABLES:
        top = int(
            conn.exec_driver_sql(
                f"SELECT coalesce(max(id), 0) FROM {name}"  # noqa: S608 - fixed table names
            ).scalar()
            or 0
        )
        if postgres:
            last = conn.execute(
                sa.text(
                    "SELECT last_value FROM pg_sequences "
                    "WHERE schemaname || '.' || sequencename = pg_get_serial_sequence(:t, 'id')"
                ),
                {"t": name},
            ).scalar()
            top = max(top, int(last or 0))
        first[name] = top + 1
    return first


def _advance_sequences(used: Mapping[str, int]) -> None:
    """Point each PostgreSQL sequence at the last id synth used."""
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        return
    for name, last in used.items():
        if last < 1:
            continue
        conn.execute(
            sa.text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"), {"t": name, "v": last}
        )
