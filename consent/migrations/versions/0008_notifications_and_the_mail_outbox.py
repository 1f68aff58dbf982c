"""notifications, the mail outbox, members' mail choices, circles' reminder hours

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-03 09:01:38.320793

Notifications are made from proposals' events after a cursor per proposal (`told_up_to`).
Proposals that exist already start with their cursor at their last event: upgrading tells
nobody again of what happened before.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sent_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail")),
        sa.UniqueConstraint("key", name=op.f("uq_mail_key")),
    )
    with op.batch_alter_table("mail", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_next_attempt_at"), ["next_attempt_at"], unique=False)

    op.create_table(
        "mail_choices",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("account_id", GUID(length=16), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_mail_choices_account_id_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_choices")),
        sa.UniqueConstraint("account_id", name=op.f("uq_mail_choices_account_id")),
    )
    op.create_table(
        "told_up_to",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("proposal_id", GUID(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_told_up_to_proposal_id_proposal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_told_up_to")),
        sa.UniqueConstraint("proposal_id", name=op.f("uq_told_up_to_proposal_id")),
    )
    op.create_table(
        "notification",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("account_id", GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("circle_id", GUID(length=16), nullable=False),
        sa.Column("proposal_id", GUID(length=16), nullable=True),
        sa.Column("decision_id", GUID(length=16), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("read_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("delivery", sa.String(length=10), nullable=False),
        sa.Column("mailed", sa.Boolean(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_notification_account_id_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["circle_id"], ["circle.id"], name=op.f("fk_notification_circle_id_circle"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decision.id"], name=op.f("fk_notification_decision_id_decision"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_notification_proposal_id_proposal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("key", name=op.f("uq_notification_key")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_account_at", ["account_id", "at"], unique=False)

    # Plain ADD COLUMN (no copy of a table others refer to).
    op.add_column("circle", sa.Column("reminder_hours", sa.JSON(), server_default="[24, 2]", nullable=False))
    bind = op.get_bind()
    proposal = sa.table("proposal", sa.column("id", GUID(length=16)), sa.column("seq", sa.Integer()))
    told = sa.table(
        "told_up_to",
        sa.column("id", GUID(length=16)),
        sa.column("proposal_id", GUID(length=16)),
        sa.column("seq", sa.Integer()),
        sa.column("created_at", DateTimeUTC(timezone=True)),
        sa.column("updated_at", DateTimeUTC(timezone=True)),
    )
    now = datetime.now(UTC)
    rows = [
        {"id": uuid.uuid4(), "proposal_id": p, "seq": seq, "created_at": now, "updated_at": now}
        for p, seq in bind.execute(sa.select(proposal.c.id, proposal.c.seq).where(proposal.c.seq > 0)).all()
    ]
    if rows:
        bind.execute(told.insert(), rows)


def downgrade() -> None:
    op.drop_column("circle", "reminder_hours")

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_account_at")

    op.drop_table("notification")
    op.drop_table("told_up_to")
    op.drop_table("mail_choices")
    with op.batch_alter_table("mail", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_next_attempt_at"))

    op.drop_table("mail")
