"""account.language and account.time_zone, circle.time_zone

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:30:00.000000

A person chooses the language of their pages and mails and the time zone their times are
shown and typed in; a circle has a time zone for those who chose none. NULL on an account:
not chosen (the browser's language and zone are used).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN, which SQLite has: a batch copy of tables others refer to
    # would cascade-delete their rows when the old table is dropped.
    op.add_column("account", sa.Column("language", sa.String(length=10), nullable=True))
    op.add_column("account", sa.Column("time_zone", sa.String(length=64), nullable=True))
    op.add_column("circle", sa.Column("time_zone", sa.String(length=64), nullable=False, server_default="UTC"))


def downgrade() -> None:
    op.drop_column("circle", "time_zone")
    op.drop_column("account", "time_zone")
    op.drop_column("account", "language")
