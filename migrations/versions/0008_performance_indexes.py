"""performance: GIN index for fuzzy-linkage candidates (PostgreSQL)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 20:00:00

``facts._link_fuzzy`` looks for the facts that share a name-pair code with a new
screening. Without an index that is a sequential scan of ``screening_facts`` per new
screening (about 0.5 s at 1.5 million facts, docs/performance.md); on PostgreSQL the
query is an array overlap on ``string_to_array(name_blocks, ' ')``, answered by this GIN
index. SQLite keeps substring matches without an index (it is the embedded, small
deployment).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_screening_facts_name_blocks",
            "screening_facts",
            [sa.text("string_to_array(name_blocks, ' ')")],
            postgresql_using="gin",
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_screening_facts_name_blocks", table_name="screening_facts")
