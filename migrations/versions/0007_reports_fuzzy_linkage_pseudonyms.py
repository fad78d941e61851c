"""reports: fuzzy linkage pseudonyms (name Bloom filter, name-pair blocks, date-of-birth key)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 19:19:36.546413

Generated with ``flask db revision --autogenerate`` (as 0005, renumbered 0007) and
written without batch mode: the columns are nullable, so plain ``ALTER TABLE ... ADD/DROP COLUMN``
works on PostgreSQL and on SQLite >= 3.35, and no table is copied (batch mode would
recreate ``screening_facts``, which ``screening_fact_purposes`` references). Facts written
before this revision have no fuzzy keys and keep matching on the exact keys only: computing
them needs the decrypted names, which a migration has no key for (docs/decisions/0006).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('screening_facts', sa.Column('name_bloom', sa.LargeBinary(), nullable=True))
    op.add_column('screening_facts', sa.Column('name_blocks', sa.String(length=200), nullable=True))
    op.add_column('screening_facts', sa.Column('dob_key', sa.String(length=16), nullable=True))
    op.create_index('ix_screening_facts_sex_birth_year', 'screening_facts', ['sex', 'birth_year'],
                    unique=False)


def downgrade():
    op.drop_index('ix_screening_facts_sex_birth_year', table_name='screening_facts')
    op.drop_column('screening_facts', 'dob_key')
    op.drop_column('screening_facts', 'name_blocks')
    op.drop_column('screening_facts', 'name_bloom')
