"""Bulk inserts below the ORM, for loads of hundreds of thousands of rows (register
import; ADR 0027).

``insert(table, rows)`` writes plain row dicts in the session's transaction: on
PostgreSQL with ``COPY … FROM STDIN``, on SQLite with the driver's ``executemany``. Each
value goes through its column type's bind processor first (encryption of
``EncryptedText``, UTC of ``UTCDateTime``, JSON), so what is stored is exactly what an
ORM insert stores. ``ids=True`` assigns the primary keys first (PostgreSQL: from the
table's sequence; SQLite: after the largest id, as SQLite itself would, the database
being locked by the transaction's writes) and returns them in row order.

SQLAlchemy's own executemany costs ~10–40 µs per row in parameter handling and psycopg's
pipeline; ``COPY`` costs ~1 µs. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from caseapp.extensions import db


def insert(table: sa.Table, rows: Sequence[dict[str, Any]], *, ids: bool = False) -> list[int]:
    """Insert ``rows`` (dicts with the same keys) into ``table``; their ids when ``ids``."""
    if not rows:
        return []
    connection = db.session.connection()
    dialect = connection.dialect
    columns = list(rows[0])
    defaults = _defaults(table, columns)
    if defaults:  # the Python-side column defaults an ORM insert would apply
        rows = [row | {c: make() for c, make in defaults.items()} for row in rows]
        columns += list(defaults)
    new_ids: list[int] = []
    if ids:
        new_ids = _allocate_ids(connection, table, len(rows))
        columns = ["id", *(c for c in columns if c != "id")]
    processors: list[Callable[[Any], Any] | None] = [
        table.c[c].type._cached_bind_processor(dialect) for c in columns
    ]
    values = _rows(rows, columns, processors, new_ids)
    raw = connection.connection.driver_connection
    assert raw is not None
    names = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
    target = dialect.identifier_preparer.format_table(table)
    if dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        cursor = raw.cursor()
        try:
            cursor.executemany(f"INSERT INTO {target} ({names}) VALUES ({marks})", values)  # noqa: S608 (names from the table)
        finally:
            cursor.close()
    return new_ids


def _rows(
    rows: Sequence[dict[str, Any]],
    columns: list[str],
    processors: list[Callable[[Any], Any] | None],
    ids: list[int],
) -> list[tuple[Any, ...]]:
    """Value tuples in ``columns`` order, each value bound as SQLAlchemy binds it (its
    processor is called for ``None`` too: a JSON column stores ``null`` as the ORM does)."""
    active = [(k, p) for k, p in enumerate(processors) if p is not None]
    named = columns[1:] if ids else columns
    out: list[tuple[Any, ...]] = []
    for n, row in enumerate(rows):
        values = [ids[n], *(row[c] for c in named)] if ids else [row[c] for c in named]
        for k, process in active:
            values[k] = process(values[k])
        out.append(tuple(values))
    return out


def _defaults(table: sa.Table, given: list[str]) -> dict[str, Callable[[], Any]]:
    out: dict[str, Callable[[], Any]] = {}
    for column in table.columns:
        default = column.default
        if column.name in given or column.primary_key or default is None:
            continue
        if isinstance(default, sa.ColumnDefault) and default.is_callable:
            arg = default.arg
            out[column.name] = lambda arg=arg: arg(None)  # type: ignore[misc]
        elif isinstance(default, sa.ColumnDefault) and default.is_scalar:
            value = default.arg
            out[column.name] = lambda value=value: value  # type: ignore[misc]
    return out


def _allocate_ids(connection: sa.Connection, table: sa.Table, n: int) -> list[int]:
    name = table.name
    if connection.dialect.name == "postgresql":
        return list(
            connection.execute(
                sa.text(
                    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"table": name, "n": n},
            ).scalars()
        )
    top = connection.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
    return list(range(int(top) + 1, int(top) + n + 1))
