"""privacy: free text of audited actions in encrypted audit notes

Revision ID: 0010_privacy
Revises: 0009
Create Date: 2026-12-05 08:10:00

A legal hold's reason and a two-factor reset's reason were stored in plaintext in
``audit_events.details``, shown to administrators and never purged. They now go to
``audit_notes.text`` (AES-GCM, like case notes), referenced from the event by the note's
id, and a case's notes are purged with its personal data (docs/decisions/0014).
Events written before this revision cannot be rewritten (the chain is append-only).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010_privacy'
down_revision = '0010_audit'
branch_labels = None
depends_on = None


def _keyring():
    from caseapp.core.db import keyring  # the running app's keys (flask db upgrade)

    return keyring()


def _retype_bed(new_type, convert):
    """Replace ``admissions.bed`` by a column of ``new_type``, converting each label."""
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, bed FROM admissions WHERE bed IS NOT NULL")).all()
    with op.batch_alter_table("admissions", schema=None) as batch_op:
        batch_op.drop_column("bed")
    with op.batch_alter_table("admissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bed", new_type, nullable=True))
    update = sa.text("UPDATE admissions SET bed = :bed WHERE id = :id")
    for row_id, bed in rows:
        conn.execute(update, {"id": row_id, "bed": convert(bed)})


def upgrade():
    op.create_table(
        "audit_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_notes")),
        sa.UniqueConstraint("uuid", name=op.f("uq_audit_notes_uuid")),
    )
    with op.batch_alter_table("audit_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_notes_subject_id"), ["subject_id"], unique=False
        )
    ring = _keyring()
    _retype_bed(sa.LargeBinary(), lambda bed: ring.encrypt(bed, context="admissions.bed"))


def downgrade():
    ring = _keyring()
    _retype_bed(
        sa.String(length=20), lambda bed: ring.decrypt(bytes(bed), context="admissions.bed")
    )
    with op.batch_alter_table("audit_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_notes_subject_id"))
    op.drop_table("audit_notes")
