"""The decision log's own table, the secret calendar feed links, and the log's indexes.

The decisions and their reviews belong to `rounds` (rounds.models.Decision and Review), which
writes them when a proposal is decided. The decisions' full-text index is not mapped here:
migration 0003 builds it in the database (an FTS5 table kept by triggers on SQLite, a generated
tsvector column on PostgreSQL), so that it changes in the same transaction as the decision
whoever writes it, and nothing in `rounds` needs to know it exists.
"""

from __future__ import annotations

import uuid
from typing import Any

from advanced_alchemy.base import UUIDAuditBase
from sqlalchemy import ForeignKey, Index, String
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


class CalendarFeed(UUIDAuditBase):
    """An account's secret link to its calendar of review dates (calendar apps send no cookie).
    Only the token's SHA-256 is kept; a new link replaces the old one, and deleting revokes it."""

    __tablename__ = "calendar_feed"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
