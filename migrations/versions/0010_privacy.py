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
down_revision = '0009'
branch_labels = None
depends_on = None


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


def downgrade():
    with op.batch_alter_table("audit_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_notes_subject_id"))
    op.drop_table("audit_notes")
