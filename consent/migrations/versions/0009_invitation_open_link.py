"""invitation.open_link: whether anyone with the link may accept, not only the invited email

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00.000000

An invitation's link was accepted by whoever was signed in. It is now for the account with
the invited email, unless the steward who invited allowed anyone with the link. Invitations
made before stay bound to their email, the safer reading of a link sent to one person.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("open_link", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_column("open_link")
