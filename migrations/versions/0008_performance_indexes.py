"""performance: GIN index of the fuzzy-linkage block keys (PostgreSQL)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 20:00:00

``facts._link_fuzzy`` looks, for every new screening, for the facts of the same sex that
share a name-pair code and have a birth year within one year (or none). Without an index
that is a sequential scan of ``screening_facts`` (about 0.5 s per screening at 1.5
million facts, docs/performance.md); an index on the codes alone still visits every
bearer of a common pair of names (thousands of rows). This GIN index is on
``NAME_BLOCK_KEYS`` (caseapp/reports/models.py): per code a ``sex:birth_year:code`` and a
``sex:*:code`` key, so a lookup returns only the candidates. ``fastupdate`` is off,
because every lookup would scan the pending list. ANALYZE gives the planner statistics
of the new expression. SQLite keeps its substring match without an index (the small,
embedded deployment).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# the same text as caseapp.reports.models.NAME_BLOCK_KEYS at this revision
NAME_BLOCK_KEYS = (
    "string_to_array(regexp_replace(name_blocks::text, '(\\S+)'::text, "
    "((((sex::text || ':'::text) || COALESCE(birth_year::text, '-'::text)) "
    "|| ':\\1 '::text) || sex::text) || ':*:\\1'::text, 'g'::text), ' '::text)"
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_screening_facts_name_blocks",
            "screening_facts",
            [sa.text(NAME_BLOCK_KEYS)],
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        )
        op.execute("ANALYZE screening_facts")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_screening_facts_name_blocks", table_name="screening_facts")
