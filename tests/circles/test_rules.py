"""The pure rules of circles.rules, each on its own: no database, no app."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from circles import rules
from consent.base.errors import Refusal
from consent.base.text import MAX_NAME

TODAY = date(2026, 3, 15)


def broken(call, *args, **kwargs) -> Refusal:  # type: ignore[no-untyped-def]
    with pytest.raises(Refusal) as caught:
        call(*args, **kwargs)
    return caught.value


# clean_role


@pytest.mark.parametrize("role", ["facilitator", "Facilitator", " SECRETARY ", "Leader", "dElEgAtE"])
def test_clean_role_lower_cases_standard_roles(role: str) -> None:
    cleaned = rules.clean_role(role)
    assert cleaned == role.strip().lower()
    assert cleaned in rules.STANDARD_ROLES


def test_clean_role_keeps_named_roles_as_written() -> None:
    assert rules.clean_role("  Treasurer ") == "Treasurer"
    assert rules.clean_role("Web   Master") == "Web Master"


def test_clean_role_refuses_empty_and_too_long() -> None:
    empty = broken(rules.clean_role, "   ")
    assert empty.code == "empty_name"
    assert empty.field == "role"
    assert rules.clean_role("r" * 60) == "r" * 60
    long = broken(rules.clean_role, "r" * 61)
    assert long.code == "name_too_long"
    assert "60" in str(long)
    longer = broken(rules.clean_role, "r" * (MAX_NAME + 1))
    assert longer.code == "name_too_long"


# check_parent


def tree() -> tuple[dict, dict, uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]:
    """org: top > a > a1, top > b; other: a separate organisation."""
    top, a, a1, b, other = (uuid.uuid4() for _ in range(5))
    parents = {top: None, a: top, a1: a, b: top, other: None}
    organisation_of = {top: top, a: top, a1: top, b: top, other: other}
    return parents, organisation_of, top, a, a1, b, other


def test_check_parent_accepts_a_valid_move() -> None:
    parents, organisation_of, top, _a, a1, b, _ = tree()
    assert rules.check_parent(a1, b, parents, organisation_of, top) is None
    assert rules.check_parent(a1, top, parents, organisation_of, top) is None
    assert rules.check_parent(None, a1, parents, organisation_of, top) is None  # a new circle
    assert rules.check_parent(None, a1, parents, organisation_of, None) is None  # no organisation to check


def test_check_parent_refuses_itself() -> None:
    parents, organisation_of, top, a, *_ = tree()
    error = broken(rules.check_parent, a, a, parents, organisation_of, top)
    assert error.code == "cycle"
    assert error.status == 422
    assert error.field == "parent_id"


def test_check_parent_refuses_a_descendant() -> None:
    parents, organisation_of, top, a, a1, *_ = tree()
    assert broken(rules.check_parent, a, a1, parents, organisation_of, top).code == "cycle"
    assert broken(rules.check_parent, top, a1, parents, organisation_of, top).code == "cycle"


def test_check_parent_refuses_a_stored_cycle() -> None:
    x, y, z = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    parents = {x: y, y: x, z: None}
    organisation_of = {x: z, y: z, z: z}
    error = broken(rules.check_parent, z, x, parents, organisation_of, z)
    assert error.code == "cycle"


def test_check_parent_refuses_another_organisation() -> None:
    parents, organisation_of, top, a, _, _, other = tree()
    error = broken(rules.check_parent, a, other, parents, organisation_of, top)
    assert error.code == "other_organisation"
    assert error.status == 422


def test_check_parent_refuses_an_unknown_parent() -> None:
    parents, organisation_of, top, a, *_ = tree()
    error = broken(rules.check_parent, a, uuid.uuid4(), parents, organisation_of, top)
    assert error.code == "no_such_parent"
    assert error.status == 422


# may_change / require_may_change


@pytest.mark.parametrize("roles", [["facilitator"], ["secretary"], ["leader"], ["Treasurer", "secretary"], {"leader"}])
def test_stewards_may_change(roles: list[str]) -> None:
    assert rules.may_change(roles) is True
    assert rules.require_may_change(roles, "Ops") is None


@pytest.mark.parametrize("roles", [["delegate"], ["Treasurer"], [], set(), ["Facilitator"]])
def test_others_may_not_change(roles: list[str]) -> None:
    assert rules.may_change(roles) is False
    error = broken(rules.require_may_change, roles, "Ops")
    assert error.code == "not_allowed"
    assert error.status == 403
    assert "Ops" in str(error)


# check_delegation


def test_check_delegation_from_the_parent_is_fine() -> None:
    parent = uuid.uuid4()
    assert rules.check_delegation(parent, parent) is None


@pytest.mark.parametrize("circle_parent", [None, "other"])
def test_check_delegation_refuses_a_domain_not_held_by_the_parent(circle_parent: str | None) -> None:
    holder = uuid.uuid4()
    error = broken(rules.check_delegation, holder, uuid.uuid4() if circle_parent else None)
    assert error.code == "not_domain_holder"
    assert error.status == 422
    assert error.field == "parent_domain_id"


# check_link_role


@pytest.mark.parametrize("role", ["leader", "delegate"])
def test_link_roles_need_a_parent_circle(role: str) -> None:
    error = broken(rules.check_link_role, role, None)
    assert error.code == "no_parent_circle"
    assert error.status == 422
    assert role in str(error)
    assert rules.check_link_role(role, uuid.uuid4()) is None


@pytest.mark.parametrize("role", ["facilitator", "secretary", "Treasurer"])
def test_other_roles_fit_any_circle(role: str) -> None:
    assert rules.check_link_role(role, None) is None
    assert rules.check_link_role(role, uuid.uuid4()) is None


# who_assigns


def test_who_assigns() -> None:
    assert rules.who_assigns("leader") == "parent"
    for role in ("facilitator", "secretary", "delegate", "Treasurer"):
        assert rules.who_assigns(role) == "circle"


# check_term_end


def test_check_term_end() -> None:
    assert rules.check_term_end(None, TODAY) is None
    assert rules.check_term_end(TODAY, TODAY) is None
    assert rules.check_term_end(TODAY + timedelta(days=400), TODAY) is None
    error = broken(rules.check_term_end, TODAY - timedelta(days=1), TODAY)
    assert error.code == "term_in_past"
    assert error.status == 422
    assert error.field == "term_ends_on"


# term_ends_soon


@pytest.mark.parametrize(
    ("ends", "soon"),
    [
        (TODAY, True),
        (TODAY + timedelta(days=1), True),
        (TODAY + timedelta(days=30), True),
        (TODAY + timedelta(days=31), False),
        (TODAY - timedelta(days=1), False),
        (None, False),
    ],
)
def test_term_ends_soon(ends: date | None, soon: bool) -> None:
    assert rules.term_ends_soon(ends, TODAY) is soon


def test_term_ends_soon_with_another_window() -> None:
    assert rules.term_ends_soon(TODAY + timedelta(days=7), TODAY, days=7) is True
    assert rules.term_ends_soon(TODAY + timedelta(days=8), TODAY, days=7) is False
    assert rules.term_ends_soon(TODAY, TODAY, days=0) is True


def test_an_invitation_link_is_its_emails_unless_open() -> None:
    assert rules.may_accept("eve@example.org", False, "eve@example.org")
    assert not rules.may_accept("eve@example.org", False, "bob@example.org")
    assert rules.may_accept("eve@example.org", True, "bob@example.org")
    assert rules.masked("eve@example.org") == "e…@example.org"
    assert rules.masked("e@example.org") == "e…@example.org"
