"""audit: re-chain the audit events with HMAC-SHA256 under CASEAPP_AUDIT_KEY

Revision ID: 0010_audit
Revises: 0009
Create Date: 2026-12-05 08:30:00

Until 0009 each event's hash was an unkeyed SHA-256, which anyone who can write the
table can recompute after editing it (issue 13). From here on it is an HMAC under the
audit key, which the database never holds (docs/decisions/0012-tamper-evident-audit.md).

Upgrade first checks the existing chain (consecutive seq, links, each hash either the
old unkeyed SHA-256 or already the keyed one, e.g. a ``backup.restore`` event appended by
new code to an old archive) and refuses to touch a broken chain, naming the event; then
it rewrites every hash and link with the keyed function, in batches, with the
append-only triggers off for this transaction only. Re-chaining launders nothing: an
unkeyed chain proves nothing against someone who could rewrite it, so only a chain that
verifies at this moment is carried over. Downgrade does the reverse (checks the keyed
chain, writes unkeyed hashes) so 0009's code verifies it again.

The canonical form is copied here on purpose: a migration must not change meaning when
the application's code changes later.
"""
import hashlib
import hmac
import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010_audit'
down_revision = '0009'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
BATCH = 2000

events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("actor_user_id", sa.Integer),
    sa.column("actor_email", sa.String),
    sa.column("actor_org_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("object_type", sa.String),
    sa.column("object_id", sa.String),
    sa.column("details", sa.Text),
    sa.column("is_flagged", sa.Boolean),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)

SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
)


def _canonical(row, prev_hash):
    occurred = row.occurred_at
    occurred = occurred.replace(tzinfo=UTC) if occurred.tzinfo is None else occurred
    payload = {
        "seq": row.seq,
        "occurred_at": occurred.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_user_id": row.actor_user_id,
        "actor_email": row.actor_email,
        "actor_org_id": row.actor_org_id,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "details": row.details,
        "is_flagged": bool(row.is_flagged),
        "prev_hash": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def _unkeyed(row, prev_hash):
    return hashlib.sha256(_canonical(row, prev_hash)).hexdigest()


def _keyed(key):
    return lambda row, prev_hash: hmac.new(
        key, _canonical(row, prev_hash), hashlib.sha256
    ).hexdigest()


def _audit_key():
    from flask import current_app

    return current_app.config["AUDIT_KEY_BYTES"]


def _rechain(accept, write):
    """Check every event with ``accept`` (hash functions), rewrite it with ``write``."""
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "postgresql":  # this transaction only; needs the table's owner
        bind.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
    else:
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
    old_prev, new_prev, expected = GENESIS, GENESIS, 1
    while True:
        rows = bind.execute(
            sa.select(events).where(events.c.seq >= expected).order_by(events.c.seq).limit(BATCH)
        ).all()
        if not rows:
            break
        updates = []
        for row in rows:
            if row.seq != expected:
                raise RuntimeError(f"audit chain broken at event {expected}: event missing")
            if row.prev_hash != old_prev:
                raise RuntimeError(f"audit chain broken at event {row.seq}: link broken")
            if not any(h(row, old_prev) == row.hash for h in accept):
                raise RuntimeError(f"audit chain broken at event {row.seq}: content altered")
            new_hash = write(row, new_prev)
            updates.append({"b_id": row.id, "b_prev": new_prev, "b_hash": new_hash})
            old_prev, new_prev, expected = row.hash, new_hash, expected + 1
        bind.execute(
            events.update()
            .where(events.c.id == sa.bindparam("b_id"))
            .values(prev_hash=sa.bindparam("b_prev"), hash=sa.bindparam("b_hash")),
            updates,
        )
    if dialect == "postgresql":
        bind.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change")
    else:
        for statement in SQLITE_TRIGGERS:
            bind.exec_driver_sql(statement)


def upgrade():
    keyed = _keyed(_audit_key())
    _rechain((_unkeyed, keyed), keyed)


def downgrade():
    keyed = _keyed(_audit_key())
    _rechain((keyed, _unkeyed), _unkeyed)
