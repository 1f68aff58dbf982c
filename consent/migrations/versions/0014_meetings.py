"""meetings of a circle: the meeting, its agenda and its event log

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 17:00:00.000000

- `meeting`: when, where, how long (for calendars), who called it, and its state machine's
  snapshot and last seq, as a proposal has.
- `agenda_item`: the agenda in order: a proposal, a decision due for review, or a free item.
- `meeting_event`: what happened, contiguous per meeting, with the client's id on an action's
  first event.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _audit() -> list[sa.Column]:
    return [
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "meeting",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("circle_id", GUID(length=16), nullable=False),
        sa.Column("called_by_id", GUID(length=16), nullable=False),
        sa.Column("starts_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("minutes_long", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("machine", JSON, nullable=False),
        *_audit(),
        sa.ForeignKeyConstraint(
            ["circle_id"], ["circle.id"], name=op.f("fk_meeting_circle_id_circle"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["called_by_id"], ["account.id"], name=op.f("fk_meeting_called_by_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
    )
    op.create_index(op.f("ix_meeting_circle_id"), "meeting", ["circle_id"])
    op.create_index(op.f("ix_meeting_starts_at"), "meeting", ["starts_at"])
    op.create_index(op.f("ix_meeting_state"), "meeting", ["state"])
    op.create_table(
        "agenda_item",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("meeting_id", GUID(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("proposal_id", GUID(length=16), nullable=True),
        sa.Column("decision_id", GUID(length=16), nullable=True),
        *_audit(),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_agenda_item_meeting_id_meeting"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_agenda_item_proposal_id_proposal"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decision.id"], name=op.f("fk_agenda_item_decision_id_decision"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_item")),
        sa.UniqueConstraint("meeting_id", "position", name=op.f("uq_agenda_item_meeting_id")),
    )
    op.create_index(op.f("ix_agenda_item_meeting_id"), "agenda_item", ["meeting_id"])
    op.create_index(op.f("ix_agenda_item_proposal_id"), "agenda_item", ["proposal_id"])
    op.create_table(
        "meeting_event",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("meeting_id", GUID(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("actor_id", GUID(length=16), nullable=True),
        sa.Column("client_id", sa.String(length=100), nullable=True),
        sa.Column("action_events", sa.Integer(), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.Column("at", DateTimeUTC(timezone=True), nullable=False),
        *_audit(),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_meeting_event_meeting_id_meeting"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["actor_id"], ["account.id"], name=op.f("fk_meeting_event_actor_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_event")),
        sa.UniqueConstraint("meeting_id", "seq", name="uq_meeting_event_seq"),
        sa.UniqueConstraint("meeting_id", "client_id", name="uq_meeting_event_client_id"),
    )


def downgrade() -> None:
    op.drop_table("meeting_event")
    op.drop_table("agenda_item")
    op.drop_table("meeting")
