"""imports: import batches and the provenance of imported screenings

Revision ID: 0011_imports
Revises: 0010_accounts

docs/decisions/0022-register-import.md. Two new tables, nothing else changes: an
imported screening is an ordinary case, person, screening and fact; ``import_records``
says where it came from (register, batch, record id, time).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_imports"
down_revision = "0010_accounts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("actor_email", sa.String(length=255), nullable=False),
        sa.Column("profile", sa.String(length=80), nullable=False),
        sa.Column("register", sa.String(length=80), nullable=False),
        sa.Column("list_kind", sa.String(length=30), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("skip_bad_rows", sa.Boolean(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_bad", sa.Integer(), nullable=False),
        sa.Column("rows_created", sa.Integer(), nullable=False),
        sa.Column("rows_existing", sa.Integer(), nullable=False),
        sa.Column("problems_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rolled_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rolled_back_by", sa.String(length=255), nullable=True),
        sa.Column("report", sa.LargeBinary(), nullable=True),
        sa.Column("upload", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(
            "status IN ('checked','imported','rolled_back')", name="import_status_known"
        ),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
    )
    op.create_index(
        "ix_import_batches_organization_id", "import_batches", ["organization_id"], unique=False
    )
    op.create_table(
        "import_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("register", sa.String(length=80), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("source_record_id", sa.LargeBinary(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("screening_id", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batches.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.ForeignKeyConstraint(["screening_id"], ["screenings.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("screening_id"),
        sa.UniqueConstraint(
            "organization_id", "register", "source_key", name="uq_import_records_source"
        ),
    )
    op.create_index("ix_import_records_batch_id", "import_records", ["batch_id"], unique=False)
    op.create_index("ix_import_records_case_id", "import_records", ["case_id"], unique=False)


def downgrade():
    op.drop_index("ix_import_records_case_id", table_name="import_records")
    op.drop_index("ix_import_records_batch_id", table_name="import_records")
    op.drop_table("import_records")
    op.drop_index("ix_import_batches_organization_id", table_name="import_batches")
    op.drop_table("import_batches")
