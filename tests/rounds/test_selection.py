"""A selection's rules in the state machine: the nomination and change rounds, the proposal of a
candidate, and the consent round after them; random sequences with Hypothesis."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import msgspec
import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from consent.base.errors import Refusal
from rounds import events as ev
from rounds.actions import decode
from rounds.machine import (
    CONSENTING,
    DECIDED,
    INTEGRATING,
    PHASES_FOR,
    Proposal,
    apply,
    available,
    deadline,
    expects,
    member_left,
    restore,
    snapshot,
)
from rounds.selection import CHANGING, NOMINATING, SELECTION, Nomination, heard, proposed_text, reasons_for, tally

AUTHOR, FACILITATOR, BO, CY = (uuid.UUID(int=i) for i in range(1, 5))
OUTSIDER = uuid.UUID(int=99)
MEMBERS = frozenset({AUTHOR, FACILITATOR, BO, CY})
CLOSES = "2027-01-08T12:00:00+00:00"


def selection(mode: str = "async", **changes: object) -> Proposal:
    p = Proposal(mode=mode, author=AUTHOR, members=MEMBERS, facilitators=frozenset({FACILITATOR}), kind=SELECTION)
    return replace(p, **changes)


def apply_(p: Proposal, actor: uuid.UUID, type_: str, **data: object) -> tuple[Proposal, list[ev.Event]]:
    new, events = apply(p, actor, decode({"type": type_, "client_id": f"{type_}-1", **data}))
    assert new.seq == p.seq + len(events)
    return new, events


def act(p: Proposal, actor: uuid.UUID, type_: str, **data: object) -> Proposal:
    return apply_(p, actor, type_, **data)[0]


def refused(p: Proposal, actor: uuid.UUID, type_: str, code: str, **data: object) -> None:
    with pytest.raises(Refusal) as caught:
        apply(p, actor, decode({"type": type_, "client_id": "x", **data}))
    assert caught.value.code == code


def nominate(p: Proposal, member: uuid.UUID, candidate: uuid.UUID, reason: str = "steady") -> Proposal:
    return act(p, member, "nominate", candidate_id=str(candidate), reason=reason)


def test_async_nominations_stay_hidden_when_the_selection_is_withdrawn_before_they_are_heard() -> None:
    """Found by the state machine below: withdrawing a selection during its async nomination
    round showed every nomination given, though no event had told them."""
    p = nominate(act(selection(), FACILITATOR, "start"), BO, CY, "Cy keeps good books")
    p = act(p, AUTHOR, "withdraw")
    assert p.phase != NOMINATING and heard(p.nominations) == {}


def test_async_nominations_are_hidden_until_everyone_has_spoken_then_heard() -> None:
    p = act(selection(), FACILITATOR, "start")
    assert p.phase == NOMINATING and expects(p, BO) == "respond"
    refused(p, BO, "nominate", "candidate_needed", reason="steady")
    refused(p, BO, "nominate", "not_a_participant", candidate_id=str(OUTSIDER), reason="steady")
    refused(p, BO, "nominate", "nomination_needs_reason", candidate_id=str(CY), reason="  ")
    p, events = apply_(p, BO, "nominate", candidate_id=str(CY), reason="Cy keeps good books")
    # the event says that Bo nominated, not whom or why
    assert events == [ev.Nominated(member=str(BO), round=1)]
    refused(p, BO, "nominate", "already_responded", candidate_id=str(AUTHOR), reason="x")
    refused(p, BO, "change_nomination", "wrong_phase", candidate_id=str(AUTHOR), reason="x")
    p = nominate(p, CY, CY, "I would like to")
    p = act(p, AUTHOR, "pass")
    p, events = apply_(p, FACILITATOR, "nominate", candidate_id=str(BO), reason="Bo did it before")
    # the last one to speak closes the nomination round: every nomination is heard
    assert [e.type for e in events] == ["nominated", "nominations_revealed", "phase_changed"]
    assert events[1] == ev.NominationsRevealed(
        nominations=[
            {"member": str(FACILITATOR), "candidate": str(BO), "reason": "Bo did it before"},
            {"member": str(BO), "candidate": str(CY), "reason": "Cy keeps good books"},
            {"member": str(CY), "candidate": str(CY), "reason": "I would like to"},
        ]
    )
    assert p.phase == CHANGING and tally(p.nominations) == [(CY, 2), (BO, 1)]
    assert expects(p, BO) is None  # changing is optional
    # the change round: heard at once, and async anyone may change again
    p, events = apply_(p, FACILITATOR, "change_nomination", candidate_id=str(CY), reason="convinced")
    assert events == [ev.NominationChanged(member=str(FACILITATOR), candidate=str(CY), reason="convinced", round=2)]
    p = act(p, FACILITATOR, "change_nomination", candidate_id=str(CY), reason="convinced, really")
    refused(p, BO, "propose_candidate", "not_facilitator", candidate_id=str(CY), closes_at=CLOSES)
    refused(p, FACILITATOR, "propose_candidate", "invalid", candidate_id=str(CY))  # async: needs a deadline
    p, events = apply_(p, FACILITATOR, "propose_candidate", candidate_id=str(CY), closes_at=CLOSES)
    assert events == [
        ev.CandidateProposed(candidate=str(CY), revision=2, closes_at=CLOSES),
        ev.PhaseChanged(from_=CHANGING, to=CONSENTING, round=3),
    ]
    assert p.candidate == CY and p.revision == 2
    for member in sorted(MEMBERS):
        p = act(p, member, "consent")
    assert p.phase == DECIDED


def test_a_live_selection_goes_in_turn_and_is_heard_at_once() -> None:
    p = act(selection("live"), FACILITATOR, "start")
    for member in (AUTHOR, BO, CY):
        p = act(p, member, "present")
    assert p.whose_turn == AUTHOR
    refused(p, BO, "nominate", "not_your_turn", candidate_id=str(CY), reason="r")
    refused(p, FACILITATOR, "nominate", "not_present", candidate_id=str(CY), reason="r")
    p, events = apply_(p, AUTHOR, "nominate", candidate_id=str(CY), reason="careful")
    assert events == [ev.Nominated(member=str(AUTHOR), round=1, candidate=str(CY), reason="careful")]
    p = act(p, BO, "pass")
    p = nominate(p, CY, BO)
    refused(p, FACILITATOR, "propose_candidate", "wrong_phase", candidate_id=str(CY))
    p, events = apply_(p, FACILITATOR, "advance")
    assert [e.type for e in events] == ["nominations_revealed", "phase_changed"] and p.phase == CHANGING
    p = act(p, AUTHOR, "pass")
    p = act(p, BO, "change_nomination", candidate_id=str(CY), reason="after hearing Ann")
    refused(p, BO, "change_nomination", "not_your_turn", candidate_id=str(AUTHOR), reason="r")
    assert reasons_for(p.nominations, CY) == sorted([(AUTHOR, "careful"), (BO, "after hearing Ann")], key=str)
    p = act(p, FACILITATOR, "propose_candidate", candidate_id=str(CY))
    # the candidate takes part in the consent round like anyone: they may object too
    p = act(p, AUTHOR, "consent")
    p = act(p, BO, "consent")
    p = act(p, CY, "object", text="I cannot until March")
    p = act(p, FACILITATOR, "advance")
    assert p.phase == INTEGRATING
    refused(p, BO, "amend", "not_facilitator", term_ends_on="2027-03-31")
    refused(p, FACILITATOR, "amend", "candidate_needed")
    refused(p, FACILITATOR, "amend", "invalid", term_ends_on="2027-03-31", review_by="2027-03-31")
    p, events = apply_(p, FACILITATOR, "amend", candidate_id=str(BO))
    assert events[0] == ev.Amended(revision=3, text="", integrates=["o1"], candidate=str(BO))
    assert p.candidate == BO and p.phase == CONSENTING
    for member in (AUTHOR, BO, CY):
        p = act(p, member, "consent")
    p = act(p, FACILITATOR, "advance")
    assert p.phase == DECIDED


def test_a_selection_is_amended_only_to_integrate_an_objection() -> None:
    p = act(selection(), FACILITATOR, "start")
    refused(p, FACILITATOR, "amend", "wrong_phase", text="t")
    refused(act(selection(), FACILITATOR, "start"), FACILITATOR, "question", "wrong_phase", text="t")


def test_the_async_deadlines_close_the_nominations_and_then_the_change_round() -> None:
    p = nominate(act(selection(), FACILITATOR, "start"), BO, CY, "why not")
    p, events = deadline(p, silence_is_consent=False)
    assert [e.type for e in events] == ["deadline_passed", "nominations_revealed", "phase_changed"]
    assert events[0] == ev.DeadlinePassed(outcome=CHANGING) and p.phase == CHANGING and p.mode == "async"
    p, events = deadline(p, silence_is_consent=False)
    assert events == [ev.DeadlinePassed(outcome="awaiting_candidate")] and p.phase == CHANGING
    assert "propose_candidate" in available(p, FACILITATOR)


def test_a_candidate_who_leaves_the_circle_takes_the_selection_back_to_the_change_round() -> None:
    p = act(act(selection(), FACILITATOR, "start"), FACILITATOR, "advance")
    p = act(p, FACILITATOR, "propose_candidate", candidate_id=str(CY), closes_at=CLOSES)
    p, events = member_left(p, CY)
    assert [e.type for e in events] == ["member_left", "phase_changed"]
    assert p.phase == CHANGING and p.candidate is None
    assert restore(snapshot(p), p.author, p.members, p.facilitators, None, SELECTION) == p


def test_the_proposed_text_names_the_candidate_role_term_and_reasons() -> None:
    text = proposed_text("Cy", "treasurer", date(2027, 6, 30), [("Bo", "keeps good books")])
    assert text == "Cy as treasurer until 2027-06-30.\n\nReasons heard:\n- Bo: keeps good books"
    assert proposed_text("Cy", "treasurer", date(2027, 6, 30), []) == "Cy as treasurer until 2027-06-30."


PEOPLE = [AUTHOR, FACILITATOR, BO, CY, OUTSIDER]
ACTIONS = sorted(PHASES_FOR)


class SelectionProcess(RuleBasedStateMachine):
    """Random actions on a selection by random people: what is hidden stays hidden, every
    nomination is heard when the round closes, and a decision has a candidate who is a member."""

    def __init__(self) -> None:
        super().__init__()
        self.p = selection()
        self.public: dict[uuid.UUID, tuple[str, str]] = {}  # each nomination as the events have told it

    def record(self, before: Proposal, after: Proposal, produced: list[ev.Event]) -> None:
        for e in produced:
            if isinstance(e, ev.Nominated) and e.candidate is not msgspec.UNSET:
                self.public[uuid.UUID(e.member)] = (e.candidate, e.reason)
            if isinstance(e, ev.NominationChanged):
                self.public[uuid.UUID(e.member)] = (e.candidate, e.reason)
            if isinstance(e, ev.NominationsRevealed):
                self.public |= {uuid.UUID(n["member"]): (n["candidate"], n["reason"]) for n in e.nominations}
            if isinstance(e, ev.Nominated):
                hidden = before.mode == "async" and before.phase == NOMINATING
                assert (e.candidate is msgspec.UNSET) == hidden and (e.reason is msgspec.UNSET) == hidden
            if isinstance(e, ev.NominationsRevealed):  # every nomination given is heard
                heard = {
                    uuid.UUID(n["member"]): Nomination(uuid.UUID(n["candidate"]), n["reason"]) for n in e.nominations
                }
                assert heard == after.nominations

    @initialize(mode=st.sampled_from(["live", "async"]))
    def in_mode(self, mode: str) -> None:
        self.p = act(selection(mode), FACILITATOR, "start")

    @rule(
        actor=st.sampled_from(PEOPLE),
        action=st.sampled_from(ACTIONS),
        other=st.sampled_from(["", *map(str, PEOPLE)]),
        text=st.sampled_from(["", "a reason"]),
        closes_at=st.sampled_from([None, CLOSES]),
        term=st.sampled_from([None, "2027-06-30"]),
    )
    def act(
        self, actor: uuid.UUID, action: str, other: str, text: str, closes_at: str | None, term: str | None
    ) -> None:
        data = {"text": text, "reason": text, "candidate_id": other, "closes_at": closes_at, "mode": "live"}
        if action == "amend":
            data |= {"term_ends_on": term} if other == "" else {}
            data["candidate_id"] = other or None
        before = self.p
        try:
            after, produced = apply(before, actor, decode({"type": action, "client_id": "r", **data}))
        except Refusal as refusal:
            assert refusal.code and self.p == before
            return
        assert actor in MEMBERS and after.seq == before.seq + len(produced)
        self.record(before, after, produced)
        self.p = after

    @rule()
    def facilitator_moves_on(self) -> None:
        for type_, data in (("advance", {}), ("propose_candidate", {"candidate_id": str(BO), "closes_at": CLOSES})):
            try:
                p, produced = apply_(self.p, FACILITATOR, type_, **data)
            except Refusal:
                continue
            self.record(self.p, p, produced)
            self.p = p
            return

    @rule()
    def the_deadline_passes(self) -> None:
        p, produced = deadline(self.p, silence_is_consent=True)
        self.record(self.p, p, produced)
        self.p = p

    @rule(member=st.sampled_from([BO, CY]))
    def a_member_leaves(self, member: uuid.UUID) -> None:
        if member in self.p.members and self.p.phase in {NOMINATING, CHANGING, CONSENTING, INTEGRATING}:
            p, produced = member_left(self.p, member)
            self.record(self.p, p, produced)
            self.p = p

    @invariant()
    def a_selection_has_only_its_own_phases(self) -> None:
        assert self.p.phase not in {"clarifying", "reacting"}
        if self.p.phase in {CONSENTING, INTEGRATING, DECIDED}:
            assert self.p.candidate is not None and self.p.candidate in self.p.members
        elif self.p.phase in {NOMINATING, CHANGING}:
            assert self.p.candidate is None

    @invariant()
    def only_what_the_events_told_is_shown(self) -> None:
        """The proposal shows (selection.heard) no nomination that its events have not told
        everyone: async, none before the nomination round closes, also if it is taken live."""
        for member, n in heard(self.p.nominations).items():
            assert self.public.get(member) == (str(n.candidate), n.reason)

    @invariant()
    def the_snapshot_restores_it(self) -> None:
        p = self.p
        assert restore(snapshot(p), p.author, p.members, p.facilitators, p.quorum, p.kind) == p


TestSelectionProcess = SelectionProcess.TestCase
TestSelectionProcess.settings = hypothesis_settings(max_examples=200, stateful_step_count=40, deadline=None)
