"""Data-key rotation: re-encrypt every ``EncryptedText`` value under the current key.

Each ciphertext names its key id (core/crypto.py), so rotation is: make the new key
current (``CASEAPP_DATA_KEY`` + a new ``CASEAPP_DATA_KEY_ID``), keep the old one readable
(``CASEAPP_OLD_DATA_KEYS``), then run :func:`rotate`. It streams every encrypted column by
primary key on raw bytes (no ORM objects, constant memory), skips values already under
the current key — so a second run changes nothing and an interrupted run just continues
— and writes each new value only if the row still holds the value it read, so it is
safe while the application keeps writing (new writes already use the current key).
"""

from __future__ import annotations

import base64
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from caseapp.audit import services as audit
from caseapp.audit.services import Actor
from caseapp.core.crypto import DecryptionError, Keyring
from caseapp.core.db import EncryptedText, keyring
from caseapp.extensions import db

DEFAULT_BATCH = 2000


class RotationError(RuntimeError):
    """A stored value cannot be decrypted with the configured keys."""


@dataclass(frozen=True)
class EncryptedColumn:
    """One ``EncryptedText`` column; ``context`` is its AES-GCM associated data."""

    table: sa.Table
    column: sa.Column[Any]
    context: str

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column.name}"

    @property
    def pk(self) -> sa.Column[Any]:
        pk = list(self.table.primary_key.columns)
        if len(pk) != 1:
            raise RotationError(f"{self.name}: encrypted columns need a one-column primary key")
        return pk[0]

    @property
    def raw(self) -> sa.ColumnElement[bytes]:
        """The column as stored bytes, bypassing the decrypting type."""
        return sa.type_coerce(self.column, sa.LargeBinary)


def encrypted_columns(metadata: sa.MetaData | None = None) -> list[EncryptedColumn]:
    """Every ``EncryptedText`` column of the schema, found by type (never a fixed list)."""
    found = [
        EncryptedColumn(table, column, column.type.context)
        for table in (metadata or db.metadata).tables.values()
        for column in table.columns
        if isinstance(column.type, EncryptedText)
    ]
    return sorted(found, key=lambda c: c.name)


def iter_raw(col: EncryptedColumn, batch_size: int) -> Iterator[list[tuple[Any, bytes]]]:
    """Batches of (primary key, ciphertext) of the non-NULL values, in key order."""
    last: Any = None
    while True:
        stmt = (
            sa.select(col.pk, col.raw)
            .where(col.column.is_not(None))
            .order_by(col.pk)
            .limit(batch_size)
        )
        if last is not None:
            stmt = stmt.where(col.pk > last)
        rows = [(pk, bytes(value)) for pk, value in db.session.execute(stmt)]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


@dataclass
class ColumnRotation:
    name: str
    #: values per key id before the run
    by_key: Counter[str] = field(default_factory=Counter)
    rotated: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_key.values())


@dataclass
class RotationResult:
    key_id: str
    columns: list[ColumnRotation]
    dry_run: bool = False

    @property
    def rotated(self) -> int:
        return sum(c.rotated for c in self.columns)

    @property
    def by_key(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for c in self.columns:
            total.update(c.by_key)
        return total


def rotate(
    actor: Actor | None,
    *,
    batch_size: int = DEFAULT_BATCH,
    dry_run: bool = False,
    on_batch: Callable[[], None] | None = None,
) -> RotationResult:
    """Re-encrypt every value whose key id is not the current one.

    ``on_batch`` runs after each batch is written (the CLI commits there, so a large
    database is rotated in short transactions). ``dry_run`` only counts values per key
    id: it needs no old key and writes nothing, not even an audit event.
    """
    ring: Keyring = keyring()
    current = ring.current_key_id
    result = RotationResult(current, [], dry_run)
    for col in encrypted_columns():
        stats = ColumnRotation(col.name)
        result.columns.append(stats)
        update = (
            sa.update(col.table)
            .where(
                col.pk == sa.bindparam("_pk"), col.raw == sa.bindparam("_old", type_=sa.LargeBinary)
            )
            .values({col.column.name: sa.bindparam("_new", type_=sa.LargeBinary)})
        )
        for rows in iter_raw(col, batch_size):
            changes = []
            for pk, blob in rows:
                try:
                    kid = Keyring.key_id_of(blob)
                    stats.by_key[kid] += 1
                    if kid == current or dry_run:
                        continue
                    text = ring.decrypt(blob, context=col.context)
                except DecryptionError as exc:
                    raise RotationError(_explain(col.name, pk, exc)) from exc
                new = ring.encrypt(text, context=col.context)
                changes.append({"_pk": pk, "_old": blob, "_new": new})
            if changes:
                db.session.execute(update, changes)
                stats.rotated += len(changes)
                if on_batch is not None:
                    on_batch()
    if not dry_run:
        audit.record(
            actor,
            "keys.rotate",
            object_type="keyring",
            object_id=current,
            details={
                "key_id": current,
                "rotated": result.rotated,
                "columns": {c.name: c.rotated for c in result.columns if c.rotated},
            },
        )
    return result


def _explain(name: str, pk: Any, exc: DecryptionError) -> str:
    message = f"{name} (row {pk}): {exc}"
    if "unknown data key id" in str(exc):
        message += " — add that key to CASEAPP_OLD_DATA_KEYS (id:base64) and run again"
    return message


def generate_key() -> str:
    """A fresh data (or index) key: base64 of 32 random bytes."""
    return base64.b64encode(secrets.token_bytes(32)).decode()
