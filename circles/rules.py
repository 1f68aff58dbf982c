"""The rules about circles, domains and roles, as plain functions: no I/O, so each is
tested on its own. Each broken rule raises Refusal with a machine code."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date

from consent.base.errors import Refusal, bad_field
from consent.base.i18n import gettext as _
from consent.base.text import clean_name

FACILITATOR, SECRETARY, LEADER, DELEGATE = "facilitator", "secretary", "leader", "delegate"
STANDARD_ROLES = (FACILITATOR, SECRETARY, LEADER, DELEGATE)
# Roles whose holders may change a circle: its facilitator and secretary; its leader is the
# parent circle's link into it, so may change it too.
STEWARD_ROLES = frozenset({FACILITATOR, SECRETARY, LEADER})
LINK_ROLES = frozenset({LEADER, DELEGATE})


def may_accept(invited_email: str, open_link: bool, email: str) -> bool:
    """Whether the account with `email` may accept an invitation by its link: the invited
    person's own, or anyone's if the steward allowed it."""
    return open_link or invited_email == email


def masked(email: str) -> str:
    """Whom an invitation is for, said to someone else who has its link: enough for the invited
    person to recognise their address, not enough to learn someone's."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


def clean_role(name: str) -> str:
    role = clean_name(name, "role")
    role = role.lower() if role.lower() in STANDARD_ROLES else role
    if len(role) > 60:
        raise bad_field("role", _("{Field} must have at most 60 characters."), "name_too_long")
    return role


def check_parent(
    circle_id: uuid.UUID | None,
    parent_id: uuid.UUID,
    parents: Mapping[uuid.UUID, uuid.UUID | None],
    organisation_of: Mapping[uuid.UUID, uuid.UUID],
    organisation_id: uuid.UUID | None,
) -> None:
    """A parent must be in the same organisation, and the tree must stay a tree."""
    if parent_id not in parents:
        raise bad_field("parent_id", _("{Field} does not exist."), "no_such_parent")
    if organisation_id is not None and organisation_of[parent_id] != organisation_id:
        raise bad_field("parent_id", _("{Field} must be a circle of the same organisation."), "other_organisation")
    seen: set[uuid.UUID] = set()
    current: uuid.UUID | None = parent_id
    while current is not None:
        if current == circle_id:
            raise bad_field(
                "parent_id", _("{Field}: a circle cannot sit inside itself or one of its own sub-circles."), "cycle"
            )
        if current in seen:  # defensive: the stored tree is already broken
            raise bad_field("parent_id", _("{Field}: the circle tree has a cycle."), "cycle")
        seen.add(current)
        current = parents.get(current)


def expired(term_ends_on: date | None, today: date) -> bool:
    """A term that ended before today: the role is kept on record, but gives no powers."""
    return term_ends_on is not None and term_ends_on < today


def in_force(roles: Iterable[tuple[str, date | None]], today: date) -> set[str]:
    """The names of the roles, given as (name, term end), whose term has not ended."""
    return {name for name, term_ends_on in roles if not expired(term_ends_on, today)}


def check_keeps_steward(stewards_before: set[uuid.UUID], stewards_after: set[uuid.UUID]) -> None:
    """A circle always keeps a steward: a change may not take away the last one. (A circle that
    has none, such as a new sub-circle before its leader is chosen, is not held to it.)"""
    if stewards_before and not stewards_after:
        raise Refusal(
            "last_steward",
            _(
                "This would leave the circle without a facilitator, secretary or leader: give one of these roles "
                "to someone else first."
            ),
            409,
        )


def may_change(roles: Iterable[str]) -> bool:
    return any(role in STEWARD_ROLES for role in roles)


def require_may_change(roles: Iterable[str], circle_name: str) -> None:
    if not may_change(roles):
        raise Refusal(
            "not_allowed",
            _("Only the facilitator, secretary or leader of {circle_name} may change it.").format(
                circle_name=circle_name
            ),
            status=403,
        )


def check_delegation(parent_domain_circle_id: uuid.UUID, circle_parent_id: uuid.UUID | None) -> None:
    """A domain can only be delegated by the circle that holds it, to one of its sub-circles."""
    if circle_parent_id is None or parent_domain_circle_id != circle_parent_id:
        raise bad_field(
            "parent_domain_id",
            _("{Field}: only the parent circle that holds a domain can delegate part of it."),
            "not_domain_holder",
        )


def check_link_role(role: str, circle_parent_id: uuid.UUID | None) -> None:
    if role in LINK_ROLES and circle_parent_id is None:
        raise bad_field(
            "roles",
            _("{{Field}}: a top-level circle has no {role}; a {role} links a sub-circle to its parent.").format(
                role=role
            ),
            "no_parent_circle",
        )


def who_assigns(role: str) -> str:
    """The leader is chosen by the parent circle; every other role by the circle itself."""
    return "parent" if role == LEADER else "circle"


def check_term_end(term_ends_on: date | None, today: date) -> None:
    if term_ends_on is not None and term_ends_on < today:
        raise bad_field("term_ends_on", _("{Field} cannot be before today."), "term_in_past")


def check_roles(roles: Iterable[str]) -> list[str]:
    """The roles of one request, cleaned; the same role twice is refused like a role held."""
    cleaned: list[str] = []
    for role in map(clean_role, roles):
        if role in cleaned:
            raise bad_field(
                "roles", _("{{Field}}: the role {role} is given twice.").format(role=role), "role_held", 409
            )
        cleaned.append(role)
    return cleaned


def term_ends_soon(term_ends_on: date | None, today: date, days: int = 30) -> bool:
    return term_ends_on is not None and 0 <= (term_ends_on - today).days <= days


def check_quorum(quorum: int, members: int) -> None:
    """A quorum is a number of members, at most the circle's; 0 restores the default, a majority."""
    if quorum < 0:
        raise bad_field("quorum", _("{Field} must be a number of members, or 0 for a majority."))
    if quorum > members:
        raise bad_field(
            "quorum",
            _("{{Field}}: the circle has {members} member(s); a larger quorum could never be met.").format(
                members=members
            ),
        )


def check_reminder_hours(hours: list[int]) -> list[int]:
    """When members an async deadline waits for are reminded: up to three times, each between
    1 hour and 14 days before; none is allowed (a circle that meets often may not want them)."""
    if len(hours) > 3 or any(not 1 <= h <= 14 * 24 for h in hours):
        raise Refusal("invalid", _("Reminders: up to three, each between 1 and 336 hours before the deadline."))
    return sorted(set(hours), reverse=True)
