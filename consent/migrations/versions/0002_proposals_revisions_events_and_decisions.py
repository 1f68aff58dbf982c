"""proposals, revisions, events and decisions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:04:41.112645
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "proposal",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("circle_id", GUID(length=16), nullable=False),
        sa.Column("domain_id", GUID(length=16), nullable=False),
        sa.Column("author_id", GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("driver", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evaluation", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("review_by", sa.Date(), nullable=True),
        sa.Column("closes_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("supersedes_id", GUID(length=16), nullable=True),
        sa.Column(
            "machine", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["account.id"], name=op.f("fk_proposal_author_id_account")),
        sa.ForeignKeyConstraint(
            ["circle_id"], ["circle.id"], name=op.f("fk_proposal_circle_id_circle"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["domain_id"], ["domain.id"], name=op.f("fk_proposal_domain_id_domain")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal")),
    )
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_circle_id"), ["circle_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposal_closes_at"), ["closes_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposal_state"), ["state"], unique=False)

    op.create_table(
        "decision",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("proposal_id", GUID(length=16), nullable=False),
        sa.Column("circle_id", GUID(length=16), nullable=False),
        sa.Column("domain_id", GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("driver", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evaluation", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("decided_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("review_by", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("supersedes_id", GUID(length=16), nullable=True),
        sa.Column(
            "record", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["circle_id"], ["circle.id"], name=op.f("fk_decision_circle_id_circle"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["domain_id"], ["domain.id"], name=op.f("fk_decision_domain_id_domain")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"], name=op.f("fk_decision_proposal_id_proposal")),
        sa.ForeignKeyConstraint(["supersedes_id"], ["decision.id"], name=op.f("fk_decision_supersedes_id_decision")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision")),
        sa.UniqueConstraint("proposal_id", name=op.f("uq_decision_proposal_id")),
    )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_circle_id"), ["circle_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_decision_domain_id"), ["domain_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_decision_review_by"), ["review_by"], unique=False)

    op.create_table(
        "event",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("proposal_id", GUID(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("actor_id", GUID(length=16), nullable=True),
        sa.Column("client_id", sa.String(length=100), nullable=True),
        sa.Column(
            "data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["account.id"], name=op.f("fk_event_actor_id_account")),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_event_proposal_id_proposal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("proposal_id", "client_id", name=op.f("uq_event_client_id")),
        sa.UniqueConstraint("proposal_id", "seq", name=op.f("uq_event_seq")),
    )
    op.create_table(
        "revision",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("proposal_id", GUID(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("driver", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_revision_proposal_id_proposal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revision")),
        sa.UniqueConstraint("proposal_id", "number", name=op.f("uq_revision_proposal_id")),
    )
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revision_proposal_id"), ["proposal_id"], unique=False)

    # proposal and decision refer to each other: the second reference is added once both exist
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.create_foreign_key(op.f("fk_proposal_supersedes_id_decision"), "decision", ["supersedes_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_proposal_supersedes_id_decision"), type_="foreignkey")

    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revision_proposal_id"))

    op.drop_table("revision")
    op.drop_table("event")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_review_by"))
        batch_op.drop_index(batch_op.f("ix_decision_domain_id"))
        batch_op.drop_index(batch_op.f("ix_decision_circle_id"))

    op.drop_table("decision")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_state"))
        batch_op.drop_index(batch_op.f("ix_proposal_closes_at"))
        batch_op.drop_index(batch_op.f("ix_proposal_circle_id"))

    op.drop_table("proposal")
