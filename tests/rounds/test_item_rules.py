"""The action items' rules, exhaustively: every step from every state by every kind of asker,
random sequences of steps (Hypothesis), and what an item asked in a proposal may be."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.base.errors import Refusal
from rounds import actions, machine
from rounds.item_rules import (
    ACCEPTED,
    DECLINED,
    DONE,
    OPEN,
    PROPOSED,
    STATES,
    STEPS,
    Asker,
    ItemIn,
    check_due,
    circle_order,
    clean_items,
    overdue,
    step,
)

OWNER = Asker(is_owner=True, owner_is_member=True, steward=False)
askers = st.builds(Asker, st.booleans(), st.booleans(), st.booleans())


@given(state=st.sampled_from(STATES), name=st.sampled_from(list(STEPS)), decided=st.booleans(), asker=askers)
def test_every_step_from_every_state_by_anyone(state: str, name: str, decided: bool, asker: Asker) -> None:
    owner_acts = asker.is_owner and asker.owner_is_member
    allowed = owner_acts or (name == "done" and asker.steward and not asker.owner_is_member)
    starts, to = STEPS[name]
    try:
        moved = step(state, name, decided, asker)
    except Refusal as refusal:
        if not allowed:
            assert (refusal.code, refusal.status) == ("not_owner", 403)
        elif not decided:
            assert (refusal.code, refusal.status) == ("not_decided", 409)
        else:
            assert state not in starts
            assert (refusal.code, refusal.status) == (f"already_{state}", 409)
        return
    assert allowed and decided and state in starts and moved == to


@given(st.lists(st.sampled_from(list(STEPS)), max_size=8))
def test_an_item_only_moves_forward_and_closes_for_good(names: list[str]) -> None:
    state, seen = PROPOSED, [PROPOSED]
    for name in names:
        try:
            state = step(state, name, True, OWNER)
        except Refusal:
            continue
        seen.append(state)
    # proposed, then at most accepted, then at most one closing state: never back
    assert seen[0] == PROPOSED and len(seen) <= 3
    assert all(s not in (DECLINED, DONE) for s in seen[:-1])
    assert seen.count(ACCEPTED) <= 1


def test_doing_it_is_accepting_it_and_one_may_decline_after_accepting() -> None:
    assert step(PROPOSED, "done", True, OWNER) == DONE
    assert step(ACCEPTED, "decline", True, OWNER) == DECLINED


def test_a_steward_closes_only_the_item_of_someone_who_left() -> None:
    steward = Asker(is_owner=False, owner_is_member=False, steward=True)
    assert step(ACCEPTED, "done", True, steward) == DONE
    with pytest.raises(Refusal, match="Only the person asked accepts"):
        step(PROPOSED, "accept", True, steward)
    with pytest.raises(Refusal) as refused:
        step(ACCEPTED, "done", True, Asker(is_owner=False, owner_is_member=True, steward=True))
    assert refused.value.code == "not_owner"


@given(st.sampled_from(STATES), st.one_of(st.none(), st.dates()), st.dates())
def test_overdue_is_open_and_past_its_date(state: str, due_on: date | None, today: date) -> None:
    assert overdue(state, due_on, today) == (state in OPEN and due_on is not None and due_on < today)


@given(st.lists(st.tuples(st.sampled_from(STATES), st.one_of(st.none(), st.dates())), max_size=12), st.dates())
def test_a_circle_lists_overdue_items_first_then_by_due_date(items: list[tuple[str, date | None]], today: date) -> None:
    listed = sorted(items, key=lambda i: circle_order(*i, today))
    flags = [overdue(*i, today) for i in listed]
    assert flags == sorted(flags, reverse=True)  # every overdue one before the rest
    rest = [due for state, due in listed if not overdue(state, due, today)]
    dated = [d for d in rest if d is not None]
    assert dated == sorted(dated) and rest == dated + [None] * (len(rest) - len(dated))  # undated last


MEMBERS = frozenset({uuid.uuid4(), uuid.uuid4()})


def test_an_item_is_something_to_do_asked_of_a_member() -> None:
    ada, bo = sorted(MEMBERS)
    [cleaned] = clean_items([ItemIn(what="  Ask the\r\nbaker ", owner_id=ada)], MEMBERS)
    assert (cleaned.what, cleaned.owner, cleaned.due_on) == ("Ask the\nbaker", ada, None)
    with pytest.raises(Refusal) as outsider:
        clean_items([ItemIn(what="Ask", owner_id=bo), ItemIn(what="Sweep", owner_id=uuid.uuid4())], MEMBERS)
    assert (outsider.value.code, outsider.value.status, outsider.value.field) == (
        "owner_not_member",
        400,
        "action_items[1].owner_id",
    )
    with pytest.raises(Refusal, match="must not be empty"):
        clean_items([ItemIn(what=" ", owner_id=ada)], MEMBERS)
    with pytest.raises(Refusal, match="at most 20"):
        clean_items([ItemIn(what="Ask", owner_id=ada)] * 21, MEMBERS)


def test_a_due_date_is_not_in_the_past() -> None:
    today, ada = date(2026, 11, 23), next(iter(MEMBERS))
    check_due([ItemIn(what="Ask", owner_id=ada, due_on=today)], today)  # today is fine
    with pytest.raises(Refusal) as past:
        check_due([ItemIn(what="Ask", owner_id=ada, due_on=today - timedelta(days=1))], today)
    assert past.value.field == "action_items[0].due_on"


def test_an_amendment_records_the_new_items() -> None:
    ada, bo = sorted(MEMBERS)
    proposal = machine.Proposal(mode="async", author=ada, members=MEMBERS, kind="proposal")
    action = actions.decode(
        {
            "type": "amend",
            "client_id": "a",
            "text": "With crates.",
            "action_items": [{"what": "Find crates", "owner_id": str(bo), "due_on": "2026-12-01"}],
        }
    )
    _, [amended] = machine.apply(proposal, ada, action)
    assert amended.action_items == [{"what": "Find crates", "owner": str(bo), "due_on": "2026-12-01"}]
    outsider = actions.decode(
        {"type": "amend", "client_id": "b", "text": "x", "action_items": [{"what": "x", "owner_id": str(uuid.uuid4())}]}
    )
    with pytest.raises(Refusal) as refused:
        machine.apply(proposal, ada, outsider)
    assert refused.value.code == "owner_not_member"
