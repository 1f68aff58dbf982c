"""Request and response bodies of the circle API."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec

from consent.base.text import Description, Email, Name


class NewCircle(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    aim: Description = ""
    parent_id: uuid.UUID | None = None


class CircleChange(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    aim: Description | None = None
    parent_id: uuid.UUID | None = None
    private: bool | None = None
    default_review_months: int | None = None
    silence_is_consent: bool | None = None
    quorum: int | None = None  # the least number of members taking part; 0: a majority (the default)
    default_async_days: int | None = None  # an async consent round's deadline when none is given
    reminder_hours: list[int] | None = None  # hours before an async deadline when members are reminded
    time_zone: str | None = None  # an IANA name: times for those who chose no zone (docs/time_zones.md)


class NewMember(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    roles: list[Name] = []
    term_ends_on: date | None = None
    name: Name = ""  # how an invitation's link greets them, when they are invited
    open_link: bool = False  # anyone with the invitation's link may accept it, not only this email


class NewDomain(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    description: Description = ""
    parent_domain_id: uuid.UUID | None = None


class RoleOut(msgspec.Struct):
    id: str
    name: str
    term_ends_on: date | None
    expired: bool  # the term has ended: the role is on record, but gives no powers


class MemberOut(msgspec.Struct, omit_defaults=True):
    id: str
    name: str
    roles: list[RoleOut]
    email: str | None = None


class DomainOut(msgspec.Struct):
    id: str
    name: str
    description: str
    parent_domain_id: str | None


class CircleRef(msgspec.Struct):
    id: str
    name: str


class PersonRef(msgspec.Struct):
    id: str
    name: str


class InvitationOut(msgspec.Struct, omit_defaults=True):
    id: str
    circle_id: str
    circle_name: str
    invited_by: PersonRef
    roles: list[str]  # given on accepting
    term_ends_on: date | None  # of those roles
    email: str
    open_link: bool  # anyone with the link may accept, not only the account with `email`
    link: str | None = None  # only when the invitation is made or renewed: the server keeps only its hash


class CircleOut(msgspec.Struct, omit_defaults=True):
    id: str
    name: str
    parent_id: str | None
    organisation_id: str
    private: bool
    aim: str | None = None
    default_review_months: int | None = None
    silence_is_consent: bool | None = None
    quorum: int | None = None  # absent: a majority of the members
    default_async_days: int | None = None
    reminder_hours: list[int] | None = None
    time_zone: str | None = None
    members: list[MemberOut] | None = None
    domains: list[DomainOut] | None = None
    children: list[CircleRef] | None = None
    invitations: list[InvitationOut] | None = None  # the open ones, for the circle's stewards


class CircleList(msgspec.Struct):
    items: list[CircleOut]


class MembershipOut(msgspec.Struct):
    circle_id: str
    member: MemberOut


class Invited(msgspec.Struct):
    """Someone who is not a member was invited (the same whether or not the email has an account)."""

    invitation: InvitationOut


class InvitationList(msgspec.Struct):
    items: list[InvitationOut]
