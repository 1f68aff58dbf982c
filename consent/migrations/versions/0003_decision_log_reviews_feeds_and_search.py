"""decision log: reviews, calendar feeds, the log's keyset index and the full-text index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:45:00.000000

The full-text document of a decision is its title, driver and text, and the text of every
concern and objection on record (in the `record` JSON). It is kept by the database itself, in
the same transaction as the decision row, whichever code writes it:
- SQLite: an FTS5 table `decision_fts` whose rowid is `decision_fts_key.id`, a stable integer
  for each decision (a table's own rowid may change on VACUUM), kept by triggers. The key table
  also holds a copy of the columns the log filters and sorts by: a search then reads only these
  small rows for its hits, not the decisions' long texts and records;
- PostgreSQL: a generated tsvector column `decision.decision_fts` with a GIN index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The texts of the concerns and objections, one line each, for the SQLite triggers.
_SQLITE_NOTES = """coalesce((SELECT group_concat(json_extract(value, '$.text'), ' ')
    FROM json_each({row}.record, '$.concerns')), '') || ' ' ||
  coalesce((SELECT group_concat(json_extract(value, '$.text'), ' ')
    FROM json_each({row}.record, '$.objections')), '')"""
_SQLITE_INDEX = (
    """INSERT INTO decision_fts (rowid, title, driver, text, notes)
    SELECT id, {row}.title, {row}.driver, {row}.text, """
    + _SQLITE_NOTES
    + """
    FROM decision_fts_key WHERE decision_id = {row}.id;"""
)
_SQLITE_UNINDEX = (
    """DELETE FROM decision_fts WHERE rowid = (SELECT id FROM decision_fts_key WHERE decision_id = {row}.id);"""
)

_FILTERED = ("circle_id", "domain_id", "status", "review_by", "decided_at")
SQLITE_UP = [
    "CREATE TABLE decision_fts_key (id INTEGER PRIMARY KEY, decision_id BLOB NOT NULL UNIQUE, circle_id BLOB NOT NULL, "
    "domain_id BLOB NOT NULL, status VARCHAR(20) NOT NULL, review_by DATE NOT NULL, decided_at DATETIME NOT NULL)",
    # unicode61 folds case and, with remove_diacritics 2, accents: "Café" is found by "cafe".
    "CREATE VIRTUAL TABLE decision_fts USING fts5(title, driver, text, notes, "
    "tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE TRIGGER decision_fts_insert AFTER INSERT ON decision BEGIN "
    f"INSERT INTO decision_fts_key (decision_id, {', '.join(_FILTERED)}) "
    f"VALUES (new.id, {', '.join('new.' + name for name in _FILTERED)}); " + _SQLITE_INDEX.format(row="new") + " END",
    "CREATE TRIGGER decision_fts_update AFTER UPDATE OF title, driver, text, record ON decision BEGIN "
    + _SQLITE_UNINDEX.format(row="old")
    + " "
    + _SQLITE_INDEX.format(row="new")
    + " END",
    f"CREATE TRIGGER decision_fts_filters AFTER UPDATE OF {', '.join(_FILTERED)} ON decision BEGIN "
    f"UPDATE decision_fts_key SET {', '.join(f'{name} = new.{name}' for name in _FILTERED)} "
    "WHERE decision_id = new.id; END",
    "CREATE TRIGGER decision_fts_delete AFTER DELETE ON decision BEGIN "
    + _SQLITE_UNINDEX.format(row="old")
    + " DELETE FROM decision_fts_key WHERE decision_id = old.id; END",
    # decisions taken before this migration
    f"INSERT INTO decision_fts_key (decision_id, {', '.join(_FILTERED)}) SELECT id, {', '.join(_FILTERED)} "
    "FROM decision",
    "INSERT INTO decision_fts (rowid, title, driver, text, notes) SELECT k.id, d.title, d.driver, d.text, "
    + _SQLITE_NOTES.format(row="d")
    + " FROM decision d JOIN decision_fts_key k ON k.decision_id = d.id",
]
SQLITE_DOWN = [
    "DROP TRIGGER decision_fts_delete",
    "DROP TRIGGER decision_fts_filters",
    "DROP TRIGGER decision_fts_update",
    "DROP TRIGGER decision_fts_insert",
    "DROP TABLE decision_fts",
    "DROP TABLE decision_fts_key",
]
# 'simple': no stemming, so a search finds the words people wrote, in any language.
POSTGRESQL_UP = [
    """ALTER TABLE decision ADD COLUMN decision_fts tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', title || ' ' || driver || ' ' || text)
        || jsonb_to_tsvector('simple', jsonb_path_query_array(record, '$.concerns[*].text')
                                       || jsonb_path_query_array(record, '$.objections[*].text'), '["string"]')
    ) STORED""",
    "CREATE INDEX decision_fts_gin ON decision USING gin (decision_fts)",
]
POSTGRESQL_DOWN = ["DROP INDEX decision_fts_gin", "ALTER TABLE decision DROP COLUMN decision_fts"]


def upgrade() -> None:
    op.create_table(
        "review",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("decision_id", GUID(length=16), nullable=False),
        sa.Column("account_id", GUID(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("previous_review_by", sa.Date(), nullable=False),
        sa.Column("review_by", sa.Date(), nullable=True),
        sa.Column("proposal_id", GUID(length=16), nullable=True),
        sa.Column("reviewed_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_review_account_id_account")),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decision.id"], name=op.f("fk_review_decision_id_decision"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], name=op.f("fk_review_proposal_id_proposal")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review")),
    )
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_decision_id"), ["decision_id"], unique=False)

    op.create_table(
        "calendar_feed",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("account_id", GUID(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_calendar_feed_account_id_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feed")),
        sa.UniqueConstraint("account_id", name=op.f("uq_calendar_feed_account_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_token_hash")),
    )
    op.create_index("ix_decision_decided_at_id", "decision", ["decided_at", "id"], unique=False)
    op.create_index("ix_decision_supersedes_id", "decision", ["supersedes_id"], unique=False)
    for statement in SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRESQL_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRESQL_DOWN:
        op.execute(statement)
    op.drop_index("ix_decision_supersedes_id", table_name="decision")
    op.drop_index("ix_decision_decided_at_id", table_name="decision")
    op.drop_table("calendar_feed")
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_decision_id"))
    op.drop_table("review")
