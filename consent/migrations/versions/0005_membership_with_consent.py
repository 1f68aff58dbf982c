"""membership with consent: invitations for an email, with roles and an answer; agreements

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:00:00.000000

Nobody is in a circle without accepting: adding someone who is not a member makes an
invitation for their email, holding the roles they will get (and the roles' term), which they
accept or decline. `accepted_at` becomes `answered_at` with the answer in `status`; a link
invitation used before this is `accepted`. One invitation is open per circle and email.

A decision may be a standing agreement of its circle (`agreement`, set from its proposal's):
what someone invited reads before they accept.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_ONLY = sa.text("status = 'open'")


def upgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.alter_column("accepted_at", new_column_name="answered_at")
        batch_op.add_column(sa.Column("roles", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("term_ends_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=10), server_default="open", nullable=False))
    op.execute("UPDATE invitation SET roles = '[]'")
    op.execute("UPDATE invitation SET status = 'accepted' WHERE answered_at IS NOT NULL")
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.alter_column("roles", existing_type=sa.JSON(), nullable=False)
    # Link invitations made before could be several for one email: the newest stays open.
    op.execute(
        "UPDATE invitation SET status = 'declined' WHERE status = 'open' AND EXISTS ("
        "SELECT 1 FROM invitation AS newer WHERE newer.status = 'open' AND newer.circle_id = invitation.circle_id "
        "AND newer.email = invitation.email AND newer.created_at > invitation.created_at)"
    )
    op.create_index(
        "uq_invitation_open",
        "invitation",
        ["circle_id", "email"],
        unique=True,
        sqlite_where=OPEN_ONLY,
        postgresql_where=OPEN_ONLY,
    )
    # Plain ADD COLUMN (no table copy on SQLite): the decision table's search triggers stay.
    op.add_column("proposal", sa.Column("agreement", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("decision", sa.Column("agreement", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    # Plain DROP COLUMN, as they were added: a copy of the decision table would lose its triggers.
    op.drop_column("decision", "agreement")
    op.drop_column("proposal", "agreement")
    op.drop_index("uq_invitation_open", table_name="invitation")
    # An answered invitation is a used link to the schema before: declined ones stay used up.
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_column("status")
        batch_op.drop_column("term_ends_on")
        batch_op.drop_column("roles")
        batch_op.alter_column("answered_at", new_column_name="accepted_at")
