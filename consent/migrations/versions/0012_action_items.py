"""action_item and action_item_change: what a decision asks people to do

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 13:00:00.000000

A proposal's action items (what, who, by when) are carried into its decision; the person asked
accepts, declines or does each, and each change is kept with who made it and when.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _audit() -> list[sa.Column[object]]:
    return [
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "action_item",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("proposal_id", GUID(length=16), nullable=False),
        sa.Column("decision_id", GUID(length=16), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("owner_id", GUID(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        *_audit(),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_action_item_proposal_id_proposal"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decision.id"], name=op.f("fk_action_item_decision_id_decision"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["account.id"], name=op.f("fk_action_item_owner_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_item")),
    )
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_item_proposal_id"), ["proposal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_item_decision_id"), ["decision_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_item_owner_id"), ["owner_id"], unique=False)
    op.create_table(
        "action_item_change",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("item_id", GUID(length=16), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("actor_id", GUID(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", DateTimeUTC(timezone=True), nullable=False),
        *_audit(),
        sa.ForeignKeyConstraint(
            ["item_id"], ["action_item.id"], name=op.f("fk_action_item_change_item_id_action_item"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["actor_id"], ["account.id"], name=op.f("fk_action_item_change_actor_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_item_change")),
    )
    with op.batch_alter_table("action_item_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_item_change_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    op.drop_table("action_item_change")
    op.drop_table("action_item")
