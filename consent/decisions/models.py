"""The decision log's own tables: reviews of decisions and the secret calendar feed links.

The decision rows themselves belong to `rounds` (rounds.models.Decision). Their full-text index
is not mapped here: migration 0003 builds it in the database (an FTS5 table kept by triggers on
SQLite, a generated tsvector column on PostgreSQL), so that it changes in the same transaction
as the decision whoever writes it, and nothing in `rounds` needs to know it exists.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rounds.models import Decision

# Every name of the search index starts with this (tables, FTS5's shadow tables, the column and
# index on PostgreSQL); Alembic leaves them out of its comparisons, since no model maps them.
SEARCH_INDEX = "decision_fts"

# The log is read newest first, a page at a time: (decided_at, id) is its keyset.
Index("ix_decision_decided_at_id", Decision.decided_at, Decision.id)
# The supersede chain is followed both ways: which decision superseded this one?
Index("ix_decision_supersedes_id", Decision.supersedes_id)


def is_mapped(name: str | None, type_: Any, _parent_names: Any) -> bool:
    """Alembic's include_name hook: everything but the search index."""
    return not (name or "").startswith(SEARCH_INDEX)


class Review(UUIDAuditBase):
    """A circle's review of a decision: reaffirmed (with its next review date), retired, or
    amended (a new proposal that will supersede the decision once consented)."""

    __tablename__ = "review"

    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    outcome: Mapped[str] = mapped_column(String(10))  # reaffirm, retire, amend
    note: Mapped[str] = mapped_column(Text, default="")
    previous_review_by: Mapped[date] = mapped_column(Date)
    review_by: Mapped[date | None] = mapped_column(Date, default=None)  # the next one, when reaffirmed
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("proposal.id"), default=None)  # when amended
    reviewed_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class CalendarFeed(UUIDAuditBase):
    """An account's secret link to its calendar of review dates (calendar apps send no cookie).
    Only the token's SHA-256 is kept; a new link replaces the old one, and deleting revokes it."""

    __tablename__ = "calendar_feed"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
