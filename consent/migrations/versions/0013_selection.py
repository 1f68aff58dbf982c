"""selection of roles by consent: the selection table and decision.kind

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 13:00:00.000000

- `selection`: what a proposal of kind "selection" selects for (a role, its description, the
  term's end); the nominations and the candidate are in the proposal's events and state.
- `decision.kind`: "proposal", or "selection" (someone selected for a role until the decision's
  review date, the term's end).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "selection",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("proposal_id", GUID(length=16), nullable=False),
        sa.Column("role", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("term_ends_on", sa.Date(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_selection_proposal_id_proposal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection")),
        sa.UniqueConstraint("proposal_id", name=op.f("uq_selection_proposal_id")),
    )
    # Plain ALTER TABLE, also on SQLite: a batch would copy the decision table, and lose the
    # search index's triggers on it (as 0006 says).
    op.add_column("decision", sa.Column("kind", sa.String(length=20), nullable=False, server_default="proposal"))


def downgrade() -> None:
    op.drop_column("decision", "kind")
    op.drop_table("selection")
