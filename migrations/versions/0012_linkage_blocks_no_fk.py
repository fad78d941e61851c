"""linkage_blocks: no foreign key to screening_facts (a derived index written in bulk)

Revision ID: 0012_linkage_blocks_no_fk
Revises: 0011_linkage

docs/decisions/0027-import-linking-and-bulk-writes.md. The ~12 blocking keys per
screening are derived from ``linkage_records.blocks``; checking a foreign key for each
of them cost PostgreSQL ~8 s of a 100,000-row import. Every path that deletes a fact
deletes its blocks first, and the retention purge reaches them through the owner column
(``facts.models.BLOCK_OWNER``).
"""

from alembic import op

revision = "0012_linkage_blocks_no_fk"
down_revision = "0011_linkage"
branch_labels = None
depends_on = None

FK = "fk_linkage_blocks_screening_id_screening_facts"


def upgrade():
    # batch mode: SQLite rebuilds the table (nothing points to it)
    with op.batch_alter_table("linkage_blocks") as batch:
        batch.drop_constraint(FK, type_="foreignkey")


def downgrade():
    # blocks left by anything that deleted a fact without them would fail the constraint
    op.execute(
        "DELETE FROM linkage_blocks WHERE screening_id NOT IN "
        "(SELECT screening_id FROM screening_facts)"
    )
    with op.batch_alter_table("linkage_blocks") as batch:
        batch.create_foreign_key(FK, "screening_facts", ["screening_id"], ["screening_id"])
