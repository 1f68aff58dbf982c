"""A notification tells one member one thing, once (its `key`); the mail that carries it is an
outbox row (consent.base.outbox). Proposals' and meetings' events are the notifications' source:
a cursor per proposal (and per meeting) says up to which event they were told, in the
transaction that tells them."""

from __future__ import annotations

import uuid
from datetime import datetime

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column


class Notification(UUIDAuditBase):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_account_at", "account_id", "at"),)

    # What, about what, for whom: a pass that runs again (after a crash) makes none twice.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    circle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("circle.id", ondelete="CASCADE"))
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), default=None)
    decision_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"), default=None)
    meeting_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), default=None)
    seq: Mapped[int | None] = mapped_column(Integer, default=None)  # the proposal's (or meeting's) event that told it
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    # How the member chose to get this kind when it was made: now, digest or never (page only).
    delivery: Mapped[str] = mapped_column(String(10))
    mailed: Mapped[bool] = mapped_column(Boolean, default=False)  # at once, or in a digest


class ToldUpTo(UUIDAuditBase):
    """The last event of a proposal whose notifications are made."""

    __tablename__ = "told_up_to"

    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), unique=True)
    seq: Mapped[int] = mapped_column(Integer)


class MeetingToldUpTo(UUIDAuditBase):
    """The last event of a circle's meeting whose notifications are made."""

    __tablename__ = "meeting_told_up_to"

    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), unique=True)
    seq: Mapped[int] = mapped_column(Integer)


class MailChoices(UUIDAuditBase):
    """What a member wants by mail, per kind (rules.DEFAULTS for the kinds not chosen)."""

    __tablename__ = "mail_choices"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), unique=True)
    choices: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
