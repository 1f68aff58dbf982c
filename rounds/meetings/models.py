"""A circle's meetings: when and where, the agenda, and the event log that is the whole of what
happened (as a proposal's is). Its state machine's snapshot sits on the meeting, as a
proposal's does; its minutes are read from the events, the agenda and the items' proposals."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rounds.models import JsonB, LogEntry


class Meeting(UUIDAuditBase):
    __tablename__ = "meeting"

    circle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("circle.id", ondelete="CASCADE"), index=True)
    called_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))  # runs it where there is no facilitator
    starts_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    minutes_long: Mapped[int] = mapped_column(Integer, default=90)  # for calendars
    place: Mapped[str] = mapped_column(String(500), default="")  # a room, or a link to a call
    state: Mapped[str] = mapped_column(String(20), index=True)  # the machine's phase, to query by
    seq: Mapped[int] = mapped_column(Integer, default=0)  # the last event's seq
    machine: Mapped[dict[str, Any]] = mapped_column(JsonB)  # rounds.meetings.rules snapshot


class AgendaItem(UUIDAuditBase):
    """One item of a meeting's agenda, in order: a proposal (or a selection, or a review, each
    a proposal run live), a decision due for review, or a free item (a report, a topic)."""

    __tablename__ = "agenda_item"
    __table_args__ = (UniqueConstraint("meeting_id", "position"),)

    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # proposal, review, free
    title: Mapped[str] = mapped_column(String(200))  # a free item's; else the proposal's or decision's then
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("proposal.id", ondelete="SET NULL"), default=None, index=True
    )
    decision_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("decision.id", ondelete="SET NULL"), default=None)


class MeetingEvent(LogEntry, UUIDAuditBase):
    """One accepted change to a meeting, as a proposal's Event is to a proposal."""

    __tablename__ = "meeting_event"
    __table_args__ = (
        UniqueConstraint("meeting_id", "seq", name="uq_meeting_event_seq"),
        UniqueConstraint("meeting_id", "client_id", name="uq_meeting_event_client_id"),
    )

    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
