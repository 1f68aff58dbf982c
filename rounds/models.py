"""Proposals, their revisions, the event log that is the whole history of the process, the
decisions they become, and the reviews of those decisions (a review runs as a proposal, and
its outcome is written with the decision in the same transaction).

Action items (what a proposal asks someone to do) are rows of their own: they are replaced with
each amendment that changes them, carried into the decision, and then accepted, declined and
done by the person asked, each change kept in `ActionItemChange`.

Rounds, responses and objections are not tables of their own: they are what the events say
(each response event names its round and revision), and the state machine's snapshot on the
proposal holds what the next action must be checked against. One source of truth, no copies.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

# advanced-alchemy's JsonB does not work with SQLAlchemy 2.1; this is the same idea.
JsonB = JSON().with_variant(JSONB(), "postgresql")


class Proposal(UUIDAuditBase):
    __tablename__ = "proposal"

    circle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("circle.id", ondelete="CASCADE"), index=True)
    domain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("domain.id"))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    title: Mapped[str] = mapped_column(String(200))
    driver: Mapped[str] = mapped_column(Text)  # of the current revision
    text: Mapped[str] = mapped_column(Text)  # of the current revision
    # "proposal", "review": a review of a decision (its Review row says which and how), or
    # "selection": the selection of someone for a role (its Selection row says which)
    kind: Mapped[str] = mapped_column(String(20), default="proposal")
    criteria: Mapped[list[str]] = mapped_column(JsonB, default=list)  # how we will know it works
    mode: Mapped[str] = mapped_column(String(10))  # live or async
    state: Mapped[str] = mapped_column(String(20), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    seq: Mapped[int] = mapped_column(Integer, default=0)  # the last event's seq
    review_by: Mapped[date | None] = mapped_column(Date, default=None)
    closes_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None, index=True)
    # use_alter: proposal and decision refer to each other
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("decision.id", use_alter=True), default=None)
    machine: Mapped[dict[str, Any]] = mapped_column(JsonB)  # rounds.machine snapshot
    # Once decided, a standing agreement: what someone invited to the circle reads before joining.
    agreement: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Revision(UUIDAuditBase):
    __tablename__ = "revision"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    driver: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)


class LogEntry:
    """The columns of an entry in an event log (a proposal's, a meeting's): `seq` is contiguous
    per log from 1. The first event of an action carries the client's id and how many events
    the action made, so a retried action is found and answered with all of them, not redone."""

    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"), default=None)
    client_id: Mapped[str | None] = mapped_column(String(100), default=None)
    action_events: Mapped[int | None] = mapped_column(Integer, default=None)  # on an action's first event only
    data: Mapped[dict[str, Any]] = mapped_column(JsonB)
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class Event(LogEntry, UUIDAuditBase):
    """One accepted change to a proposal."""

    __tablename__ = "event"
    __table_args__ = (
        UniqueConstraint("proposal_id", "seq", name="uq_event_seq"),
        UniqueConstraint("proposal_id", "client_id", name="uq_event_client_id"),
    )

    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))


class Decision(UUIDAuditBase):
    """A consented proposal, as the decision log keeps it."""

    __tablename__ = "decision"

    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposal.id"), unique=True)
    circle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("circle.id", ondelete="CASCADE"), index=True)
    domain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("domain.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    driver: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    criteria: Mapped[list[str]] = mapped_column(JsonB, default=list)  # what its reviews assess
    revision: Mapped[int] = mapped_column(Integer)
    decided_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    review_by: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active, retired, superseded
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("decision.id"), default=None)
    # Final responses, concerns, objections and how each was integrated: the record of consent.
    record: Mapped[dict[str, Any]] = mapped_column(JsonB)
    # A standing agreement of the circle: shown to whoever is invited, before they accept.
    agreement: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # "proposal", or "selection": someone selected for a role, until `review_by`, the term's end
    kind: Mapped[str] = mapped_column(String(20), default="proposal", server_default="proposal")


class Selection(UUIDAuditBase):
    """What a proposal of kind "selection" selects for: a role of its circle, described, for a
    term. The candidate proposed is the machine's; the term may be amended to integrate an
    objection. Decided, the candidate's membership holds the role until `term_ends_on`."""

    __tablename__ = "selection"

    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), unique=True)
    role: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    term_ends_on: Mapped[date] = mapped_column(Date)


class Review(UUIDAuditBase):
    """A review of a decision by its circle. Reviews opened since migration 0006 run as a
    proposal of kind "review" (`proposal_id`), and the outcome applies to the decision only when
    that proposal is decided, in the same transaction: reaffirm (the decision's next review date
    becomes `review_by`), retire, or amend (the proposal's text becomes a new decision that
    supersedes this one). Reviews recorded before, at once by one member, are `recorded`."""

    __tablename__ = "review"

    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))  # who opened it
    outcome: Mapped[str] = mapped_column(String(10))  # reaffirm, retire, amend
    # open, consented, not_adopted, withdrawn; or recorded (at once, before reviews went by consent)
    state: Mapped[str] = mapped_column(String(20), default="open")
    note: Mapped[str] = mapped_column(Text, default="")  # a recorded review's words; a proposal has its own
    assessments: Mapped[list[dict[str, str]]] = mapped_column(JsonB, default=list)  # [{criterion, assessment}]
    previous_review_by: Mapped[date] = mapped_column(Date)  # the decision's, when the review was opened
    review_by: Mapped[date | None] = mapped_column(Date, default=None)  # the one consented to
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("proposal.id"), default=None, index=True, unique=True
    )
    reviewed_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))  # opened
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    # Once consented: each participant's final response, the concerns and objections (as a decision's).
    record: Mapped[dict[str, Any] | None] = mapped_column(JsonB, default=None)


class ActionItem(UUIDAuditBase):
    """What a proposal asks someone to do, and by when. While the proposal is open the items are
    its current revision's (an amendment replaces them); once decided they are the decision's
    (`decision_id`: the new decision, or for a review that reaffirms or retires, the reviewed one)
    and the person asked accepts, declines, or does them (rounds.item_rules)."""

    __tablename__ = "action_item"

    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    decision_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("decision.id", ondelete="CASCADE"), default=None, index=True
    )
    position: Mapped[int] = mapped_column(Integer)  # the order the proposal lists them in
    what: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    due_on: Mapped[date | None] = mapped_column(Date, default=None)
    state: Mapped[str] = mapped_column(String(10), default="proposed")  # proposed, accepted, declined, done
    note: Mapped[str] = mapped_column(Text, default="")  # said when it was done


class ActionItemChange(UUIDAuditBase):
    """One change of an item's state, as it happened: who, to what, when, with what note. The
    proposal's event log is closed once it is decided; an item's history goes on after."""

    __tablename__ = "action_item_change"

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("action_item.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(10))  # the state it moved to
    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
