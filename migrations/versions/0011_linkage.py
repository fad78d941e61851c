"""linkage: keyed encodings in their own narrow tables; the facts row keeps only its person

Revision ID: 0011_linkage
Revises: 0011_exchange

docs/linkage.md, docs/decisions/0020-probabilistic-linkage.md. The old pseudonyms
(``doc_key``, ``name_dob_key``, ``name_sex_key``, ``birth_year``, ``name_bloom``,
``name_blocks``, ``dob_key``) leave ``screening_facts``. They were one-way hashes of
another layout, so the new encodings are computed here from the persons' encrypted
identity data (decrypted with the running app's keys, encoded under ``INDEX_KEY``);
every fact keeps its ``person_id``, so the published counts do not move until the next
``flask reports relink``. Purged cases get no encodings (as before: their facts stay
with their person). Downgrade restores the empty old columns (re-run ``flask reports
relink`` on the old version, which recomputes nothing without pseudonyms: restore a
backup instead if the old linkage is needed).
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0011_linkage"
down_revision = "0011_exchange"
branch_labels = None
depends_on = None

OLD = (
    "doc_key",
    "name_dob_key",
    "name_sex_key",
    "birth_year",
    "name_bloom",
    "name_blocks",
    "dob_key",
)
#: the expression of 0008's GIN index (restored on downgrade)
NAME_BLOCK_KEYS_0008 = (
    "string_to_array(regexp_replace(name_blocks::text, '(\\S+)'::text, "
    "((((sex::text || ':'::text) || COALESCE(birth_year::text, '-'::text)) "
    "|| ':\\1 '::text) || sex::text) || ':*:\\1'::text, 'g'::text), ' '::text)"
)
OLD_INDEXES = (
    "ix_screening_facts_doc_key",
    "ix_screening_facts_name_dob_key",
    "ix_screening_facts_name_sex_key",
    "ix_screening_facts_sex_birth_year",
)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_screening_facts_name_blocks")
    # plain DROP INDEX / ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): batch mode would copy
    # and drop the facts table, which other tables point to (see 0006)
    for name in OLD_INDEXES:
        op.drop_index(name, table_name="screening_facts")
    for column in OLD:
        op.drop_column("screening_facts", column)
    op.create_table(
        "linkage_records",
        sa.Column("screening_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=True),
        sa.Column("sex", sa.String(length=10), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("dated", sa.Boolean(), nullable=True),
        sa.Column("dob", sa.LargeBinary(), nullable=True),
        sa.Column("doc_type", sa.String(length=20), nullable=True),
        sa.Column("doc", sa.LargeBinary(), nullable=True),
        sa.Column("given", sa.LargeBinary(), nullable=True),
        sa.Column("family", sa.LargeBinary(), nullable=True),
        sa.Column("given_value", sa.BigInteger(), nullable=True),
        sa.Column("family_value", sa.BigInteger(), nullable=True),
        sa.Column("blocks", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["screening_id"], ["screening_facts.screening_id"]),
        sa.PrimaryKeyConstraint("screening_id"),
    )
    op.create_table(
        "linkage_blocks",
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("screening_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["screening_id"], ["screening_facts.screening_id"]),
        sa.PrimaryKeyConstraint("block", "screening_id"),
    )
    op.create_index("ix_linkage_blocks_screening", "linkage_blocks", ["screening_id"])
    op.create_table(
        "linkage_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("estimated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "linkage_frequencies",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=10), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["linkage_models.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("model_id", "field", "value"),
    )
    _encode_existing()


def _encode_existing():
    """Encode every unpurged screening's person under the current index key."""
    from flask import current_app

    from caseapp.core.time import LIMA
    from caseapp.facts import encoding

    ring = current_app.extensions["caseapp_keyring"]
    encoder = encoding.Encoder(ring.index_key)
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT f.screening_id, p.given_names, p.family_names, p.date_of_birth, "
            "p.document_type, p.document_number, p.sex, s.age_years, s.identified_at "
            "FROM screening_facts f JOIN screenings s ON s.id = f.screening_id "
            "JOIN cases c ON c.id = s.case_id JOIN persons p ON p.case_id = c.id "
            "WHERE c.purged_at IS NULL ORDER BY f.screening_id"
        )
    )
    records = sa.table(
        "linkage_records",
        *(
            sa.column(c)
            for c in (
                "screening_id",
                "key_id",
                "sex",
                "birth_year",
                "dated",
                "dob",
                "doc_type",
                "doc",
                "given",
                "family",
                "given_value",
                "family_value",
                "blocks",
            )
        ),
    )
    blocks = sa.table("linkage_blocks", sa.column("block"), sa.column("screening_id"))

    def plain(value, column):
        if value is None:
            return None
        return ring.decrypt(bytes(value), context=f"persons.{column}")

    batch, block_rows = [], []
    for sid, given, family, dob, doc_type, doc_number, sex, age, identified_at in rows:
        dob_text = plain(dob, "date_of_birth")
        born = date.fromisoformat(dob_text) if dob_text else None
        year = None
        if born is None and age is not None:
            if isinstance(identified_at, str):
                from datetime import datetime

                identified_at = datetime.fromisoformat(identified_at)
            if identified_at.tzinfo is None:
                from datetime import UTC

                identified_at = identified_at.replace(tzinfo=UTC)
            year = identified_at.astimezone(LIMA).year - age
        keys = encoder.encode(
            given_names=plain(given, "given_names"),
            family_names=plain(family, "family_names"),
            sex=sex,
            date_of_birth=born,
            birth_year=year,
            doc_type=doc_type,
            doc_number=plain(doc_number, "document_number"),
        )
        batch.append(
            {
                "screening_id": sid,
                "key_id": encoder.key_id,
                "sex": keys.sex,
                "birth_year": keys.birth_year,
                "dated": keys.dated,
                "dob": keys.dob,
                "doc_type": keys.doc_type,
                "doc": keys.doc,
                "given": keys.given,
                "family": keys.family,
                "given_value": keys.given_value,
                "family_value": keys.family_value,
                "blocks": keys.blocks,
            }
        )
        block_rows += [
            {"block": b, "screening_id": sid} for b in encoding.unpack_codes(keys.blocks)
        ]
        if len(batch) >= 5000:
            op.bulk_insert(records, batch)
            op.bulk_insert(blocks, block_rows)
            batch, block_rows = [], []
    if batch:
        op.bulk_insert(records, batch)
    if block_rows:
        op.bulk_insert(blocks, block_rows)


def downgrade():
    op.drop_table("linkage_frequencies")
    op.drop_table("linkage_models")
    op.drop_index("ix_linkage_blocks_screening", table_name="linkage_blocks")
    op.drop_table("linkage_blocks")
    op.drop_table("linkage_records")
    facts = "screening_facts"
    op.add_column(facts, sa.Column("doc_key", sa.String(length=64), nullable=True))
    op.add_column(facts, sa.Column("name_dob_key", sa.String(length=64), nullable=True))
    op.add_column(facts, sa.Column("name_sex_key", sa.String(length=64), nullable=True))
    op.add_column(facts, sa.Column("birth_year", sa.Integer(), nullable=True))
    op.add_column(facts, sa.Column("name_bloom", sa.LargeBinary(), nullable=True))
    op.add_column(facts, sa.Column("name_blocks", sa.String(length=200), nullable=True))
    op.add_column(facts, sa.Column("dob_key", sa.String(length=16), nullable=True))
    op.create_index("ix_screening_facts_doc_key", facts, ["doc_key"])
    op.create_index("ix_screening_facts_name_dob_key", facts, ["name_dob_key"])
    op.create_index("ix_screening_facts_name_sex_key", facts, ["name_sex_key"])
    op.create_index("ix_screening_facts_sex_birth_year", facts, ["sex", "birth_year"])
    if op.get_bind().dialect.name == "postgresql":  # 0008's GIN index over the name blocks
        op.create_index(
            "ix_screening_facts_name_blocks",
            facts,
            [sa.text(NAME_BLOCK_KEYS_0008)],
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        )
