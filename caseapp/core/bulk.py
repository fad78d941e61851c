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

import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from caseapp.extensions import db

try:  # the JSON wrappers SQLAlchemy's psycopg dialect binds (serialized by psycopg's json.dumps)
    from psycopg.types.json import Json, Jsonb

    _JSON_WRAPPERS: tuple[type, ...] = (Json, Jsonb)
except ImportError:  # pragma: no cover (psycopg is a dependency)
    _JSON_WRAPPERS = ()


def insert(table: sa.Table, rows: Sequence[dict[str, Any]], *, ids: bool = False) -> list[int]:
    """Insert ``rows`` (dicts with the same keys) into ``table``; their ids when ``ids``."""
    if not rows:
        return []
    connection = db.session.connection()
    binder = Binder(table, list(rows[0]), connection.dialect)
    values = [binder(row) for row in rows]
    if not ids:
        write(table, binder.columns, values)
        return []
    new_ids = allocate_ids(table, len(rows))
    write(table, ["id", *binder.columns], [(i, *v) for i, v in zip(new_ids, values, strict=True)])
    return new_ids


class Binder:
    """Row dicts with the keys ``given`` → value tuples in :attr:`columns` order, each value
    bound as SQLAlchemy binds it (its processor is called for ``None`` too: a JSON column
    stores ``null`` as the ORM does), the Python-side column defaults of the columns not
    given added. Needs no connection, only the dialect and the app (encryption keys), so
    rows can be bound in another process than the one that writes them."""

    def __init__(self, table: sa.Table, given: list[str], dialect: sa.Dialect) -> None:
        self.defaults = _defaults(table, given)
        self.given = list(given)
        self.columns = [*given, *self.defaults]
        processors = [table.c[c].type._cached_bind_processor(dialect) for c in self.columns]
        self.active = [(k, p) for k, p in enumerate(processors) if p is not None]

    def __call__(self, row: dict[str, Any]) -> tuple[Any, ...]:
        values = [row[c] for c in self.given]
        values += [make() for make in self.defaults.values()]
        for k, process in self.active:
            value = process(values[k])
            if type(value) is memoryview:  # SQLite's bytes: they cannot cross processes
                value = bytes(value)
            elif type(value) in _JSON_WRAPPERS:  # psycopg's: serialized here, not at COPY
                value = (value.dumps or json.dumps)(value.obj)
            values[k] = value
        return tuple(values)


def write(
    table: sa.Table,
    columns: Sequence[str],
    values: Sequence[tuple[Any, ...]],
    *,
    integers: bool = False,
) -> None:
    """Write bound value tuples (``columns`` order) in the session's transaction.
    ``integers``: every value is an int (a million blocking keys): on PostgreSQL the
    ``COPY`` text is then formatted here, ~10× cheaper than psycopg's per-row
    ``write_row``."""
    if not values:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    raw = connection.connection.driver_connection
    assert raw is not None
    names = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
    target = dialect.identifier_preparer.format_table(table)
    if dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            if integers:
                line = "\t".join(["%d"] * len(columns)) + "\n"
                for start in range(0, len(values), 50_000):
                    copy.write("".join([line % row for row in values[start : start + 50_000]]))
            else:
                for row in values:
                    copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        cursor = raw.cursor()
        try:
            cursor.executemany(f"INSERT INTO {target} ({names}) VALUES ({marks})", values)  # noqa: S608 (names from the table)
        finally:
            cursor.close()


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


def allocate_ids(table: sa.Table, n: int) -> list[int]:
    """``n`` new primary keys of ``table``, in order (see the module docstring)."""
    connection = db.session.connection()
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
