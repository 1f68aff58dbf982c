"""event.action_events: the retry bookkeeping in a column of its own

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00.000000

An action's first event recorded how many events the action made (so a retry is answered with
all of them) as `_count` inside its `data`, which every reader then had to strip. It moves to
the nullable column `action_events`; `data` holds only what API.md gives.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# `data` is JSON text on SQLite and JSONB on PostgreSQL.
MOVE_OUT = {
    "sqlite": "UPDATE event SET action_events = json_extract(data, '$._count'), data = json_remove(data, '$._count') "
    "WHERE json_type(data, '$._count') IS NOT NULL",
    "postgresql": "UPDATE event SET action_events = (data->>'_count')::integer, data = data - '_count' "
    "WHERE data->'_count' IS NOT NULL",
}
MOVE_BACK = {
    "sqlite": "UPDATE event SET data = json_set(data, '$._count', action_events) WHERE action_events IS NOT NULL",
    "postgresql": "UPDATE event SET data = data || jsonb_build_object('_count', action_events) "
    "WHERE action_events IS NOT NULL",
}


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("action_events", sa.Integer(), nullable=True))
    op.execute(MOVE_OUT[op.get_bind().dialect.name])


def downgrade() -> None:
    op.execute(MOVE_BACK[op.get_bind().dialect.name])
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("action_events")
