"""notifications of a circle's meetings: a cursor per meeting, and the meeting a notification is about

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 18:00:00.000000

- `meeting_told_up_to`: the last event of each meeting whose notifications are made (as
  `told_up_to` is per proposal), so that two notifiers tell a meeting's events once.
- `notification.meeting_id`: the meeting a notification is about (its page is the link).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meeting_told_up_to",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("meeting_id", GUID(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_meeting_told_up_to_meeting_id_meeting"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_told_up_to")),
        sa.UniqueConstraint("meeting_id", name=op.f("uq_meeting_told_up_to_meeting_id")),
    )
    # A batch: SQLite adds a foreign key only by copying the table (notification has no triggers).
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meeting_id", GUID(length=16), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_notification_meeting_id_meeting"), "meeting", ["meeting_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_notification_meeting_id_meeting"), type_="foreignkey")
        batch_op.drop_column("meeting_id")
    op.drop_table("meeting_told_up_to")
