"""maintenance: legal hold and purge marker on cases; screenings.facts may be purged

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 19:00:00

Hand-written (docs/decisions/0009-backup-retention-keys.md).

SQLite cannot change a column's nullability in place: Alembic's batch mode copies
``screenings`` into a new table and drops the old one. With ``PRAGMA foreign_keys=ON``
(caseapp/core/sqlite.py) dropping a table that referrals, gaps and statistics facts point
to fails as soon as it holds rows, and the pragma only takes effect outside a
transaction; so the migration commits, copies with foreign keys off in a new
transaction, and requires ``PRAGMA foreign_key_check`` to come back empty before it
commits and switches them on again (also on failure: pooled connections keep them).
"""
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


@contextmanager
def _sqlite_foreign_keys_off():
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    # The app's SQLite recipe emits BEGIN on every SQLAlchemy "begin" (autocommit_block
    # included), so talk to the driver directly: end the transaction, switch the
    # pragma, and open a new one that SQLAlchemy will commit or roll back as usual.
    raw = bind.connection.dbapi_connection

    def switch(state, end):
        if raw.in_transaction:
            raw.execute(end)
        raw.execute(f"PRAGMA foreign_keys={state}")
        raw.execute("BEGIN")

    switch("OFF", "COMMIT")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the table copy: {broken[:5]}")
    except BaseException:
        switch("ON", "ROLLBACK")  # never hand a pooled connection back without them
        raise
    switch("ON", "COMMIT")


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        # A plain string default keeps SQLite on ALTER TABLE ADD COLUMN (an SQL
        # expression default would make batch mode copy the whole table).
        batch_op.add_column(
            sa.Column("legal_hold", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))

    with _sqlite_foreign_keys_off():
        with op.batch_alter_table("screenings", schema=None) as batch_op:
            batch_op.alter_column("facts", existing_type=sa.LargeBinary(), nullable=True)


def downgrade():
    purged = op.get_bind().scalar(sa.text("SELECT count(*) FROM screenings WHERE facts IS NULL"))
    if purged:
        raise RuntimeError(
            f"cannot downgrade below 0006: {purged} screening(s) had their personal data "
            "purged (screenings.facts is NULL) and the older schema requires it; restore a "
            "backup made before the purge instead"
        )
    with _sqlite_foreign_keys_off():
        with op.batch_alter_table("screenings", schema=None) as batch_op:
            batch_op.alter_column("facts", existing_type=sa.LargeBinary(), nullable=False)
        with op.batch_alter_table("cases", schema=None) as batch_op:
            batch_op.drop_column("purged_at")
            batch_op.drop_column("legal_hold")
