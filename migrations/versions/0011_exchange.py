"""exchange: imported HTCDS cases, for idempotent re-imports

Revision ID: 0011_exchange
Revises: 0010_accounts

docs/decisions/0023-exchange-formats.md.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_exchange"
down_revision = "0011_imports"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "exchange_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_case_id", sa.String(length=100), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "organization_id", "source", "source_case_id", name="uq_exchange_records_source"
        ),
    )
    op.create_index("ix_exchange_records_case_id", "exchange_records", ["case_id"])


def downgrade():
    op.drop_index("ix_exchange_records_case_id", table_name="exchange_records")
    op.drop_table("exchange_records")
