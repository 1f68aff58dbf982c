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


class NewMember(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    roles: list[Name] = []
    term_ends_on: date | None = None


class NewDomain(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    description: Description = ""
    parent_domain_id: uuid.UUID | None = None


class NewInvitation(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    email: Email


class RoleOut(msgspec.Struct):
    id: str
    name: str
    term_ends_on: date | None


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
    members: list[MemberOut] | None = None
    domains: list[DomainOut] | None = None
    children: list[CircleRef] | None = None


class CircleList(msgspec.Struct):
    items: list[CircleOut]


class MembershipOut(msgspec.Struct):
    circle_id: str
    member: MemberOut


class InvitationOut(msgspec.Struct):
    link: str
