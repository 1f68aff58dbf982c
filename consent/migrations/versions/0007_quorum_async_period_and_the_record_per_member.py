"""A circle's quorum and async period; a decision's record names every member

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02 23:30:00.000000

`circle.quorum` (None: a majority) and `circle.default_async_days` are new. A decision's
`record.responses` was one `{member, name, response}` per participant; it is now one
`{member: {id, name}, kind, text?, recorded_by?, left?}` per member of the circle (API.md).
Older decisions kept only their participants, so their entries are converted as they were:
nobody is added to them after the fact.
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

decision = sa.table(
    "decision",
    sa.column("id", GUID(length=16)),
    sa.column("record", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
)


def _rewrite(convert: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    bind = op.get_bind()
    for decision_id, record in bind.execute(sa.select(decision.c.id, decision.c.record)).all():
        responses = [convert(r) for r in record.get("responses", [])]
        bind.execute(
            decision.update().where(decision.c.id == decision_id).values(record={**record, "responses": responses})
        )


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN, which SQLite has: no copy of the table other tables refer to.
    op.add_column("circle", sa.Column("quorum", sa.Integer(), nullable=True))
    op.add_column("circle", sa.Column("default_async_days", sa.Integer(), nullable=False, server_default="7"))
    _rewrite(
        lambda r: (
            r if "kind" in r else {"member": {"id": r["member"], "name": r.get("name", "")}, "kind": r["response"]}
        )
    )


def downgrade() -> None:
    _rewrite(lambda r: {"member": r["member"]["id"], "name": r["member"]["name"], "response": r["kind"]})
    op.drop_column("circle", "default_async_days")
    op.drop_column("circle", "quorum")
