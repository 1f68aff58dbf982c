"""reviews by consent: a proposal's kind, evaluation criteria as a list, a review's state

Revision ID: 0006
Revises: 0007
Create Date: 2026-11-26 10:00:00.000000

- `proposal.kind`: "proposal", or "review" for a review of a decision, which runs through the
  consent process like any proposal. The proposals that earlier "amend" reviews opened become
  reviews, since that is what they were.
- `criteria` (a JSON list) on proposals and decisions replaces the free text `evaluation`: a
  review assesses each criterion. An evaluation becomes the one criterion, word for word.
- `review`: its `state` (open, consented, not_adopted, withdrawn; earlier reviews, recorded at
  once by one member, are `recorded`), the `assessments`, when it closed, and the consent
  `record`; its proposal is unique to it. An earlier amendment's record is its decision's (in
  the shape 0007 gave it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0007"  # after 0007, which gave decision records their present shape
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
EMPTY_LIST = "[]"
# `criteria` is JSON text on SQLite and JSONB on PostgreSQL.
TO_CRITERIA = {
    "sqlite": "UPDATE {table} SET criteria = json_array(evaluation) WHERE evaluation != ''",
    "postgresql": "UPDATE {table} SET criteria = jsonb_build_array(evaluation) WHERE evaluation <> ''",
}
TO_EVALUATION = {
    "sqlite": "UPDATE {table} SET evaluation = "
    "coalesce((SELECT group_concat(value, char(10)) FROM json_each({table}.criteria)), '')",
    "postgresql": "UPDATE {table} SET evaluation = array_to_string(ARRAY(SELECT jsonb_array_elements_text(criteria)), E'\\n')",
}
REVIEWS = [
    "UPDATE proposal SET kind = 'review' WHERE id IN (SELECT proposal_id FROM review WHERE proposal_id IS NOT NULL)",
    "UPDATE review SET state = 'recorded', closed_at = reviewed_at WHERE proposal_id IS NULL",
    """UPDATE review SET state = CASE (SELECT state FROM proposal WHERE proposal.id = review.proposal_id)
        WHEN 'decided' THEN 'consented' WHEN 'withdrawn' THEN 'withdrawn' WHEN 'not_adopted' THEN 'not_adopted'
        ELSE 'open' END
    WHERE proposal_id IS NOT NULL""",
    """UPDATE review SET
        record = (SELECT record FROM decision WHERE decision.proposal_id = review.proposal_id),
        review_by = (SELECT review_by FROM decision WHERE decision.proposal_id = review.proposal_id),
        closed_at = (SELECT decided_at FROM decision WHERE decision.proposal_id = review.proposal_id)
    WHERE state = 'consented'""",
    """UPDATE review SET closed_at = (SELECT updated_at FROM proposal WHERE proposal.id = review.proposal_id)
    WHERE state IN ('withdrawn', 'not_adopted')""",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("proposal", sa.Column("kind", sa.String(length=20), nullable=False, server_default="proposal"))
    for table in ("proposal", "decision"):
        # Plain ALTER TABLE, also on SQLite (3.35 and later drop a column): a batch would copy
        # the decision table, and lose the search index's triggers on it.
        op.add_column(table, sa.Column("criteria", JSON, nullable=False, server_default=EMPTY_LIST))
        op.execute(TO_CRITERIA[dialect].format(table=table))
        op.drop_column(table, "evaluation")
    op.add_column("review", sa.Column("state", sa.String(length=20), nullable=False, server_default="open"))
    op.add_column("review", sa.Column("assessments", JSON, nullable=False, server_default=EMPTY_LIST))
    op.add_column("review", sa.Column("closed_at", DateTimeUTC(timezone=True), nullable=True))
    op.add_column("review", sa.Column("record", JSON, nullable=True))
    op.create_index(op.f("ix_review_proposal_id"), "review", ["proposal_id"], unique=True)
    for statement in REVIEWS:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index(op.f("ix_review_proposal_id"), table_name="review")
    for name in ("record", "closed_at", "assessments", "state"):
        op.drop_column("review", name)
    for table in ("decision", "proposal"):
        op.add_column(table, sa.Column("evaluation", sa.Text(), nullable=False, server_default=""))
        op.execute(TO_EVALUATION[dialect].format(table=table))
        op.drop_column(table, "criteria")
    op.drop_column("proposal", "kind")
