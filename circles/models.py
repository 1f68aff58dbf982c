"""Circles, the domains they hold, memberships and roles, and invitations to join."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    column,
    false,
    table,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship


class Circle(UUIDAuditBase):
    __tablename__ = "circle"

    name: Mapped[str] = mapped_column(String(100))
    aim: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("circle.id"), index=True, default=None)
    # The top-level circle of the tree; a top-level circle is its own organisation.
    organisation_id: Mapped[uuid.UUID] = mapped_column(index=True)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    default_review_months: Mapped[int] = mapped_column(Integer, default=6)
    # Async rule: after the deadline, does a member who said nothing count as consenting?
    silence_is_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # The least number of members taking part in a decision; None: a majority of the members.
    quorum: Mapped[int | None] = mapped_column(Integer, default=None)
    # How long an async consent round runs when no deadline is given (after an amendment, say).
    default_async_days: Mapped[int] = mapped_column(Integer, default=7)
    # Hours before an async deadline when members it still waits for are reminded.
    reminder_hours: Mapped[list[int]] = mapped_column(JSON, default=lambda: [24, 2], server_default="[24, 2]")
    # Times are shown in it to those who chose no time zone and whose browser did not say.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")

    memberships: Mapped[list[Membership]] = relationship(back_populates="circle", lazy="raise")
    domains: Mapped[list[Domain]] = relationship(back_populates="circle", lazy="raise")


class Domain(UUIDAuditBase):
    __tablename__ = "domain"

    circle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("circle.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    # Set when a parent circle delegated this part of its own domain.
    parent_domain_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("domain.id"), default=None)

    circle: Mapped[Circle] = relationship(back_populates="domains", lazy="raise")


class Membership(UUIDAuditBase):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("circle_id", "account_id"),)

    circle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("circle.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)

    circle: Mapped[Circle] = relationship(back_populates="memberships", lazy="raise")
    roles: Mapped[list[Role]] = relationship(back_populates="membership", lazy="selectin", cascade="all, delete-orphan")


class Role(UUIDAuditBase):
    __tablename__ = "role"
    __table_args__ = (UniqueConstraint("membership_id", "name"),)

    membership_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("membership.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))  # facilitator, secretary, leader, delegate, or an operational role
    term_ends_on: Mapped[date | None] = mapped_column(Date, default=None)

    membership: Mapped[Membership] = relationship(back_populates="roles", lazy="raise")


OPEN, ACCEPTED, DECLINED = "open", "accepted", "declined"


class Invitation(UUIDAuditBase):
    """An invitation to join a circle, for an email: nobody is in a circle without accepting.
    The account with that email finds it among its invitations; a link, which the steward
    sends, lets them sign up first (anyone who has it, if the steward allowed it). Only a hash of the link's secret is kept, and one
    invitation is open per circle and email."""

    __tablename__ = "invitation"
    __table_args__ = (
        Index(
            "uq_invitation_open",
            "circle_id",
            "email",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    circle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("circle.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")  # how the link's page greets them, if given
    email: Mapped[str] = mapped_column(String(254))  # stored lower-cased, as accounts' are
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)  # given on accepting
    term_ends_on: Mapped[date | None] = mapped_column(Date, default=None)  # of those roles
    status: Mapped[str] = mapped_column(String(10), default=OPEN, server_default=OPEN)  # open, accepted, declined
    # The link is for the account with `email`, unless the steward let anyone who has it accept.
    open_link: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    answered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


# People are accounts, owned by consent.accounts; circles only reads who they are.
person = table("account", column("id", GUID()), column("name", String()), column("email", String()))
