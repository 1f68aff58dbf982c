"""The consent process's state machine, exhaustively: every action in every phase, every
refusal code, and random sequences of actions by random members (Hypothesis)."""

from __future__ import annotations

import uuid
from dataclasses import replace

import msgspec
import pytest
from hypothesis import event
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from consent.base.errors import Refusal
from rounds import events as ev
from rounds.actions import Action, decode
from rounds.machine import (
    AGREEING,
    CLARIFYING,
    CONSENTING,
    DECIDED,
    DRAFT,
    INTEGRATING,
    NOT_ADOPTED,
    NOT_BLOCKING,
    OPEN_PHASES,
    PHASES_FOR,
    REACTING,
    TURN_ACTIONS,
    WITHDRAWN,
    Proposal,
    apply,
    available,
    deadline,
    expects,
    member_left,
    restore,
    snapshot,
)

AUTHOR, FACILITATOR, BO, CY = (uuid.UUID(int=i) for i in range(1, 5))
OUTSIDER = uuid.UUID(int=99)
MEMBERS = frozenset({AUTHOR, FACILITATOR, BO, CY})
ALL_PHASES = (DRAFT, CLARIFYING, REACTING, CONSENTING, INTEGRATING, DECIDED, WITHDRAWN, NOT_ADOPTED)


def proposal(mode: str = "async", **changes: object) -> Proposal:
    return replace(
        Proposal(mode=mode, author=AUTHOR, members=MEMBERS, facilitators=frozenset({FACILITATOR})), **changes
    )


def action(type_: str, **data: object) -> Action:
    """The action as it arrives: decoded from its JSON form, which may be refused already."""
    return decode({"type": type_, "client_id": f"{type_}-1", **data})


def act(p: Proposal, actor: uuid.UUID, type_: str, **data: object) -> Proposal:
    new, events = apply(p, actor, action(type_, **data))
    assert new.seq == p.seq + len(events)
    return new


def refused(p: Proposal, actor: uuid.UUID, type_: str, code: str, **data: object) -> None:
    with pytest.raises(Refusal) as caught:
        apply(p, actor, action(type_, **data))
    assert caught.value.code == code


def to_consenting(p: Proposal) -> Proposal:
    p = act(p, FACILITATOR, "start")
    p = act(p, FACILITATOR, "advance")
    return act(p, FACILITATOR, "advance")


@pytest.mark.parametrize("phase", ALL_PHASES)
@pytest.mark.parametrize("action", sorted(PHASES_FOR))
def test_every_action_outside_its_phases_is_wrong_phase(action: str, phase: str) -> None:
    if phase in PHASES_FOR[action]:
        return
    refused(proposal(phase=phase), FACILITATOR, action, "wrong_phase", text="t", reason="r", mode="live")


@pytest.mark.parametrize("action", sorted(PHASES_FOR))
def test_non_members_change_nothing(action: str) -> None:
    p = proposal(phase=CONSENTING)
    refused(p, OUTSIDER, action, "not_a_participant", text="t", mode="live")


def test_async_proposal_decided_when_everyone_consents() -> None:
    p = to_consenting(proposal())
    assert p.phase == CONSENTING and p.round == 3
    for member in (AUTHOR, FACILITATOR, BO):
        p = act(p, member, "consent")
    refused(p, FACILITATOR, "advance", "round_incomplete")
    p, events = apply(p, CY, action("concern", text="watch the cost"))
    # async: the last agreeing response decides it, with nothing left to wait for
    assert [e.type for e in events] == ["responded", "decided"]
    assert p.phase == DECIDED and p.consented() and p.seq == 3 + 4 + 1


def test_objection_needs_a_reason_and_is_integrated_by_amendment() -> None:
    p = to_consenting(proposal())
    refused(p, BO, "object", "objection_needs_reason", text="   ")
    p = act(p, BO, "object", text="unsafe for the food bank")
    refused(p, BO, "consent", "already_responded")
    for member in (AUTHOR, FACILITATOR, CY):
        p = act(p, member, "consent")
    p = act(p, FACILITATOR, "advance")
    assert p.phase == INTEGRATING
    refused(p, BO, "amend", "not_author", text="new")
    # async: the consent round on the amendment needs its own deadline
    refused(p, AUTHOR, "amend", "invalid", text="amended text")
    p, events = apply(p, AUTHOR, action("amend", text="amended text", closes_at="2027-01-08T12:00:00+00:00"))
    assert p.revision == 2 and p.phase == CONSENTING and p.responses == {}
    assert events[0] == ev.Amended(
        revision=2, text="amended text", integrates=["o1"], closes_at="2027-01-08T12:00:00+00:00"
    )
    assert p.objections[0].status == "integrated" and p.objections[0].integrated_by == 2
    for member in sorted(MEMBERS):
        p = act(p, member, "consent")
    assert p.phase == DECIDED


@pytest.mark.parametrize("mode", ["async", "live"])
def test_the_author_is_offered_the_amendment_during_integration(mode: str) -> None:
    """The pages offer what `available` finds: an async amendment is possible (the server gives
    it a deadline), so the author must be offered it."""
    p = to_consenting(proposal(mode, present=tuple(sorted(MEMBERS)) if mode == "live" else ()))
    for member in sorted(MEMBERS):  # in a live round, the order they are present in
        p = act(p, member, "object", text="unsafe") if member == BO else act(p, member, "consent")
    p = act(p, FACILITATOR, "advance")
    assert p.phase == INTEGRATING
    assert "amend" in available(p, AUTHOR) and "amend" not in available(p, BO)


def test_only_a_review_skips_the_clarifying_and_reaction_rounds() -> None:
    review = act(proposal(kind="review"), FACILITATOR, "start")
    skipped, events = apply(review, FACILITATOR, action("advance", to="consenting"))
    assert skipped.phase == CONSENTING and skipped.round == 2
    assert events == [ev.PhaseChanged(from_=CLARIFYING, to=CONSENTING, round=2)]
    refused(review, BO, "advance", "not_facilitator", to="consenting")
    refused(review, FACILITATOR, "advance", "invalid", to="decided")  # only the consent round is skipped to
    refused(skipped, FACILITATOR, "advance", "wrong_phase", to="consenting")  # there already
    assert act(act(review, FACILITATOR, "advance"), FACILITATOR, "advance", to="consenting").phase == CONSENTING

    plain = act(proposal(), FACILITATOR, "start")
    refused(plain, FACILITATOR, "advance", "not_a_review", to="consenting")
    # from the reaction round the consent round is next anyway, for any proposal
    assert act(act(plain, FACILITATOR, "advance"), FACILITATOR, "advance", to="consenting").phase == CONSENTING
    # the kind is the proposal's, not the snapshot's
    assert restore(snapshot(review), AUTHOR, MEMBERS, frozenset({FACILITATOR}), kind="review").kind == "review"
    assert restore(snapshot(review), AUTHOR, MEMBERS, frozenset({FACILITATOR})).kind == "proposal"


def test_an_amendment_may_propose_a_review_date_and_new_criteria() -> None:
    p, events = apply(
        proposal(),
        AUTHOR,
        action("amend", text="New", review_by="2027-01-31", criteria=[" Less waste ", "Fewer trips"]),
    )
    assert events == [
        ev.Amended(
            revision=2, text="New", integrates=[], review_by="2027-01-31", criteria=["Less waste", "Fewer trips"]
        )
    ]
    assert ev.row(apply(p, AUTHOR, action("amend", text="Again"))[1][0])[1] == {
        "revision": 3,
        "text": "Again",
        "integrates": [],
    }  # criteria and date unchanged: not in the event
    refused(proposal(), AUTHOR, "amend", "invalid", text="New", criteria=["Less waste", "Less waste"])
    refused(proposal(), AUTHOR, "amend", "invalid", text="New", criteria=["  "])
    refused(proposal(), AUTHOR, "amend", "invalid", text="New", review_by="soon")
    refused(proposal(), AUTHOR, "amend", "invalid", text="New", criteria="Less waste")


def test_objection_is_withdrawn_only_by_its_author() -> None:
    p = act(to_consenting(proposal()), BO, "object", text="reason")
    refused(p, FACILITATOR, "withdraw_objection", "not_objection_author", objection_id="o1")
    refused(p, BO, "withdraw_objection", "no_such_objection", objection_id="o9")
    p = act(p, BO, "withdraw_objection", objection_id="o1")
    refused(p, BO, "withdraw_objection", "objection_closed", objection_id="o1")
    assert not p.open_objections
    # their objection was their response: they respond again, and the round can end
    assert BO not in p.responses
    for member in (AUTHOR, FACILITATOR, CY, BO):
        p = act(p, member, "consent")
    assert p.phase == DECIDED


def test_withdrawing_the_last_objection_during_integration_returns_to_the_consent_round() -> None:
    p = act(to_consenting(proposal()), BO, "object", text="reason")
    for member in (AUTHOR, FACILITATOR, CY):
        p = act(p, member, "consent")
    p = act(p, FACILITATOR, "advance")
    assert p.phase == INTEGRATING
    p, events = apply(p, BO, action("withdraw_objection", objection_id="o1"))
    assert [e.type for e in events] == ["objection_withdrawn", "phase_changed"]
    assert p.phase == CONSENTING and p.revision == 1
    assert act(p, BO, "stand_aside").phase == DECIDED


def test_not_adopted_needs_a_reason_and_ends_the_process() -> None:
    p = act(to_consenting(proposal()), BO, "object", text="reason")
    for member in (AUTHOR, FACILITATOR, CY):
        p = act(p, member, "consent")
    p = act(p, FACILITATOR, "advance")
    refused(p, FACILITATOR, "not_adopted", "invalid", reason="")
    p = act(p, FACILITATOR, "not_adopted", reason="we could not find a safe version")
    assert p.phase == NOT_ADOPTED


def test_only_the_facilitator_moves_the_process_or_the_author_without_one() -> None:
    refused(proposal(), BO, "start", "not_facilitator")
    refused(proposal(), AUTHOR, "start", "not_facilitator")
    no_facilitator = proposal(facilitators=frozenset())
    assert act(no_facilitator, AUTHOR, "start").phase == CLARIFYING


def test_questions_are_answered_by_the_author() -> None:
    p = act(proposal(), FACILITATOR, "start")
    p, events = apply(p, BO, action("question", text="what does it cost?"))
    question_id = events[0].question_id
    refused(p, BO, "answer", "not_author", question_id=question_id, text="x")
    refused(p, AUTHOR, "answer", "no_such_question", question_id="q42", text="x")
    p = act(p, AUTHOR, "answer", question_id=question_id, text="nothing")
    assert p.phase == CLARIFYING


def test_live_rounds_go_in_turn_and_only_for_those_present() -> None:
    p = proposal("live")
    for member in (FACILITATOR, BO, AUTHOR):
        p = act(p, member, "present")
    refused(p, CY, "start", "not_facilitator")
    p = act(p, FACILITATOR, "start")
    assert p.whose_turn == FACILITATOR
    refused(p, BO, "question", "not_your_turn", text="?")
    refused(p, CY, "pass", "not_present")
    p = act(p, FACILITATOR, "pass")
    p = act(p, BO, "question", text="when?")
    # the author answers in the clarifying round: their turn is skipped, and they ask nothing
    assert p.whose_turn == FACILITATOR
    refused(p, AUTHOR, "question", "author_answers", text="?")
    p = act(p, FACILITATOR, "advance")
    assert p.whose_turn == FACILITATOR
    p = act(act(act(p, FACILITATOR, "pass"), BO, "pass"), AUTHOR, "reaction", text="glad")  # now in turn
    p = act(p, FACILITATOR, "advance")
    assert p.phase == CONSENTING and p.whose_turn == FACILITATOR
    p = act(p, FACILITATOR, "consent")
    # the facilitator records the response of someone in the room without a device
    p, events = apply(p, FACILITATOR, action("consent", on_behalf_of=str(BO)))
    assert events[0].recorded_by == str(FACILITATOR) and events[0].member == str(BO)
    refused(p, BO, "consent", "not_your_turn")
    p = act(p, AUTHOR, "consent")
    assert act(p, FACILITATOR, "advance").phase == DECIDED  # CY was not present, so is not a participant


def test_the_facilitator_skips_a_turn_and_goes_back_one() -> None:
    p = proposal("live")
    for member in (FACILITATOR, BO, CY):
        p = act(p, member, "present")
    p = act(p, FACILITATOR, "start")
    refused(p, FACILITATOR, "back", "no_turns")  # the round's first turn
    refused(p, BO, "skip", "not_facilitator")
    p, events = apply(p, FACILITATOR, action("skip"))
    assert p.whose_turn == BO
    assert events == [ev.TurnMoved(from_=str(FACILITATOR), to=str(BO), round=1, skipped=True)]
    p = act(p, BO, "pass")
    assert p.whose_turn == CY
    p = act(p, FACILITATOR, "back")
    assert p.whose_turn == BO  # Bo may now ask after all
    p = act(p, BO, "question", text="who keeps the key?")
    refused(to_consenting(proposal()), FACILITATOR, "skip", "no_turns")  # async: no turns
    alone = act(act(proposal("live"), FACILITATOR, "start"), FACILITATOR, "advance")
    refused(alone, FACILITATOR, "skip", "no_turns")  # live, but nobody present


def test_only_the_facilitator_responds_for_someone_else() -> None:
    p = to_consenting(proposal())
    refused(p, BO, "consent", "not_facilitator", on_behalf_of=str(CY))
    refused(p, FACILITATOR, "consent", "not_a_participant", on_behalf_of=str(OUTSIDER))


def test_presence_is_idempotent_and_marks_others_only_for_the_facilitator() -> None:
    p = act(proposal("live"), BO, "present")
    again, events = apply(p, BO, action("present"))
    assert events == [] and again.present == (BO,)
    refused(p, BO, "present", "not_facilitator", member_id=str(CY))
    p = act(p, FACILITATOR, "present", member_id=str(CY))
    assert p.present == (BO, CY)
    p = act(p, BO, "absent")
    assert p.present == (CY,)


def test_withdraw_by_author_or_facilitator_from_any_open_phase() -> None:
    for phase in OPEN_PHASES:
        assert act(proposal(phase=phase), AUTHOR, "withdraw").phase == WITHDRAWN
        assert act(proposal(phase=phase), FACILITATOR, "withdraw", reason="moot").phase == WITHDRAWN
        refused(proposal(phase=phase), BO, "withdraw", "not_allowed")


def test_unknown_actions_and_bad_fields_are_refused() -> None:
    refused(proposal(), FACILITATOR, "vote", "unknown_action")
    p = act(proposal(), FACILITATOR, "start")
    refused(p, BO, "question", "invalid", text=42)
    refused(p, BO, "question", "invalid", text="x" * 20_001)
    refused(p, FACILITATOR, "present", "invalid", member_id="not-a-uuid")


def test_a_live_proposal_takes_an_early_objection_from_someone_absent() -> None:
    p = act(proposal("live"), FACILITATOR, "present")
    refused(p, CY, "object", "objection_needs_reason", text="")
    p, events = apply(p, CY, action("object", text="I cannot come, and this is unsafe"))
    assert events[0].early is True and p.open_objections[0].author == CY
    refused(p, BO, "concern", "wrong_phase", text="early concerns are not objections")
    p = act(act(act(p, FACILITATOR, "start"), FACILITATOR, "advance"), FACILITATOR, "advance")
    p = act(p, FACILITATOR, "consent")
    assert act(p, FACILITATOR, "advance").phase == INTEGRATING  # the absent member's objection is open


def test_an_early_objection_is_not_taken_in_async_mode() -> None:
    refused(proposal("async"), CY, "object", "wrong_phase", text="too early")


@pytest.mark.parametrize(
    ("responses", "silence", "outcome", "phase", "mode"),
    [
        ({AUTHOR: "consent", FACILITATOR: "consent", BO: "consent"}, True, "decided", DECIDED, "async"),
        # below the quorum (a majority: three of four) nothing is decided at the deadline
        ({AUTHOR: "consent", FACILITATOR: "consent"}, True, "next_meeting", CONSENTING, "live"),
        ({AUTHOR: "consent", FACILITATOR: "consent"}, False, "next_meeting", CONSENTING, "live"),
        ({AUTHOR: "consent", BO: "object"}, True, "integrating", INTEGRATING, "async"),
        # standing aside does not block; silence, where the circle lets it pass, does not either
        ({AUTHOR: "stand_aside", FACILITATOR: "consent", BO: "stand_aside"}, True, "decided", DECIDED, "async"),
        (
            {AUTHOR: "stand_aside", FACILITATOR: "stand_aside", BO: "stand_aside"},
            True,
            "next_meeting",
            CONSENTING,
            "live",
        ),
    ],
)
def test_the_deadline_applies_the_circles_rule(
    responses: dict, silence: bool, outcome: str, phase: str, mode: str
) -> None:
    p = to_consenting(proposal())
    for member, kind in responses.items():
        p = act(p, member, kind, text="a reason")
    closed, events = deadline(p, silence_is_consent=silence)
    assert events[0] == ev.DeadlinePassed(outcome=outcome)
    assert (closed.phase, closed.mode) == (phase, mode)
    assert closed.seq == p.seq + len(events)
    if phase == DECIDED:
        # Each silent member is recorded as silent, never as consenting.
        silent = sorted(MEMBERS - responses.keys())
        assert [e for e in events if isinstance(e, ev.Responded)] == [
            ev.Responded(member=str(m), kind="silent", revision=1, round=p.round) for m in silent
        ]
        assert dict(closed.responses) == {**responses, **dict.fromkeys(silent, "silent")}


def test_standing_aside_does_not_block_a_live_round_and_is_recorded_as_such() -> None:
    p = proposal("live")
    for member in (FACILITATOR, BO, CY):
        p = act(p, member, "present")
    p = act(act(act(p, FACILITATOR, "start"), FACILITATOR, "advance"), FACILITATOR, "advance")
    for member, kind in ((FACILITATOR, "consent"), (BO, "stand_aside"), (CY, "consent")):
        p = act(p, member, kind)
    decided = act(p, FACILITATOR, "advance")
    assert decided.phase == DECIDED and decided.responses[BO] == "stand_aside"


def test_a_round_where_everyone_stands_aside_decides_nothing() -> None:
    p = to_consenting(proposal())
    for member in sorted(MEMBERS)[:-1]:
        p = act(p, member, "stand_aside")
    last = sorted(MEMBERS)[-1]
    after, events = apply(p, last, action("stand_aside"))
    assert after.phase == CONSENTING and [e.type for e in events] == ["responded"]
    refused(after, FACILITATOR, "advance", "round_incomplete")


def test_a_response_is_recorded_for_someone_else_only_when_they_are_present_in_a_live_meeting() -> None:
    refused(to_consenting(proposal()), FACILITATOR, "consent", "not_present", on_behalf_of=str(BO))  # async
    p = proposal("live")
    for member in (FACILITATOR, BO):
        p = act(p, member, "present")
    p = act(act(act(p, FACILITATOR, "start"), FACILITATOR, "advance"), FACILITATOR, "advance")
    p = act(p, FACILITATOR, "consent")
    refused(p, FACILITATOR, "consent", "not_present", on_behalf_of=str(CY))  # not in the room
    recorded, events = apply(p, FACILITATOR, action("consent", on_behalf_of=str(BO)))
    assert events[0].recorded_by == str(FACILITATOR) and recorded.responses[BO] == "consent"


def test_the_deadline_takes_an_unfinished_process_to_the_next_meeting_and_ignores_live_ones() -> None:
    p = act(proposal(), FACILITATOR, "start")
    closed, events = deadline(p, silence_is_consent=True)
    assert events == [ev.DeadlinePassed(outcome="next_meeting")] and closed.mode == "live"
    assert deadline(closed, silence_is_consent=True) == (closed, [])


def test_the_objection_test_is_asked_by_the_facilitator_and_answered_only_by_the_objector() -> None:
    p = act(to_consenting(proposal()), BO, "object", text="it takes our only room")
    refused(p, BO, "test_objection", "not_facilitator", objection_id="o1")
    refused(p, BO, "keep_objection", "objection_not_tested", objection_id="o1")
    p, events = apply(p, FACILITATOR, action("test_objection", objection_id="o1"))
    assert events == [ev.ObjectionTested(objection_id="o1", member=str(BO))] and p.objections[0].test == "asked"
    refused(p, FACILITATOR, "test_objection", "objection_tested", objection_id="o1")
    refused(p, CY, "objection_to_concern", "not_objection_author", objection_id="o1")
    kept, events = apply(p, BO, action("keep_objection", objection_id="o1"))
    assert events == [ev.ObjectionKept(objection_id="o1", member=str(BO))]
    assert kept.open_objections and kept.objections[0].test == "kept"
    # made a concern instead: recorded as a concern, no longer blocking
    p, events = apply(p, BO, action("objection_to_concern", objection_id="o1"))
    assert events == [ev.ObjectionBecameConcern(objection_id="o1", member=str(BO))]
    assert p.objections[0].status == "concern" and p.responses[BO] == "concern" and not p.open_objections
    for member in (AUTHOR, FACILITATOR, CY):
        p = act(p, member, "consent")
    assert p.phase == DECIDED


def test_an_objection_made_a_concern_during_integration_returns_to_the_consent_round() -> None:
    p = act(to_consenting(proposal("async", quorum=2)), BO, "object", text="unsafe")
    for member in (AUTHOR, FACILITATOR, CY):
        p = act(p, member, "consent")
    p, _ = deadline(p, silence_is_consent=False)
    assert p.phase == INTEGRATING
    p = act(p, FACILITATOR, "test_objection", objection_id="o1")
    p, events = apply(p, BO, action("objection_to_concern", objection_id="o1"))
    # everyone's response stands on the same revision: the proposal is decided at once
    assert [e.type for e in events] == ["objection_became_concern", "phase_changed", "decided"]
    assert p.phase == DECIDED and p.revision == 1


def test_a_live_consent_round_closes_only_with_a_quorum_present() -> None:
    p = proposal("live")  # four members: a majority is three
    for member in (FACILITATOR, BO):
        p = act(p, member, "present")
    p = act(act(act(p, FACILITATOR, "start"), FACILITATOR, "advance"), FACILITATOR, "advance")
    p = act(act(p, FACILITATOR, "consent"), BO, "consent")
    refused(p, FACILITATOR, "advance", "no_quorum")
    assert act(replace(p, quorum=2), FACILITATOR, "advance").phase == DECIDED  # the circle's own quorum
    # a quorum larger than the circle counts as the whole circle
    assert replace(p, quorum=10).quorum_needed == len(MEMBERS)


def test_the_facilitator_takes_a_proposal_into_a_live_meeting_and_back() -> None:
    p = act(proposal(), FACILITATOR, "start")
    refused(p, BO, "change_mode", "not_facilitator", mode="live")
    refused(p, FACILITATOR, "change_mode", "invalid", mode="async")  # already async
    p, events = apply(p, FACILITATOR, action("change_mode", mode="live", reason="we meet on Thursday"))
    assert events == [ev.ModeChanged(from_="async", to="live", reason="we meet on Thursday")] and p.mode == "live"
    refused(p, FACILITATOR, "change_mode", "invalid", mode="async")  # needs a deadline
    p, events = apply(p, FACILITATOR, action("change_mode", mode="async", closes_at="2027-01-08T12:00:00+00:00"))
    assert p.mode == "async" and events[0].closes_at == "2027-01-08T12:00:00+00:00"


def test_the_authors_turn_is_skipped_in_the_clarifying_round_also_as_people_come_and_go() -> None:
    p = proposal("live")
    for member in (AUTHOR, FACILITATOR, BO, CY):
        p = act(p, member, "present")
    p = act(p, FACILITATOR, "start")
    assert p.speakers == (FACILITATOR, BO, CY) and p.whose_turn == FACILITATOR
    p = act(p, FACILITATOR, "pass")
    assert p.whose_turn == BO
    p = act(p, AUTHOR, "absent")  # the author leaving does not move the turn
    assert p.whose_turn == BO
    p = act(p, FACILITATOR, "absent")  # someone before the turn leaving does not either
    assert p.whose_turn == BO
    p = act(p, FACILITATOR, "present")
    p = act(p, BO, "question", text="which room?")
    assert p.whose_turn == CY
    refused(proposal(), AUTHOR, "question", "wrong_phase", text="?")
    refused(act(proposal(), FACILITATOR, "start"), AUTHOR, "question", "author_answers", text="?")


# A member leaves the circle (or is removed from it)


def test_a_leaving_members_open_objections_lapse_and_what_they_said_stays() -> None:
    p = to_consenting(proposal())
    p = act(p, BO, "object", text="Too heavy for one person.")
    p = act(p, CY, "concern", text="Keep it short.")
    p = act(act(p, AUTHOR, "consent"), FACILITATOR, "consent")
    left, events = member_left(p, CY)
    assert events == [ev.MemberLeft(member=str(CY), lapsed=[])]
    assert left.responses[CY] == "concern" and CY not in left.participants  # kept, but no longer waited for
    assert left.phase == CONSENTING and left.seq == p.seq + 1  # Bo's objection still blocks

    gone, events = member_left(left, BO, removed_by=FACILITATOR)
    assert events[0] == ev.MemberLeft(member=str(BO), lapsed=["o1"], recorded_by=str(FACILITATOR))
    [objection] = gone.objections
    assert objection.status == "lapsed" and objection.text == "Too heavy for one person."  # on the record
    # Without Bo's objection, and with everyone remaining agreed, the async round is decided.
    assert events[1:] == [ev.Decided(revision=1, round=3)]
    assert gone.phase == DECIDED and gone.seq == left.seq + 2
    assert BO not in gone.members and BO not in gone.participants
    refused(gone, BO, "consent", "not_a_participant")


def test_an_async_round_still_waiting_for_others_is_not_decided_when_someone_leaves() -> None:
    p = act(to_consenting(proposal()), AUTHOR, "consent")
    left, events = member_left(p, BO)
    assert [e.type for e in events] == ["member_left"] and left.phase == CONSENTING  # Cy and the facilitator
    left = act(left, CY, "consent")
    decided = apply(left, FACILITATOR, action("consent"))[0]
    assert decided.phase == DECIDED  # everyone remaining agreed: Bo is not waited for


def test_a_live_meeting_goes_on_without_the_member_who_left() -> None:
    p = proposal("live")
    for member in (FACILITATOR, BO, CY):
        p = act(p, member, "present")
    p = act(act(p, FACILITATOR, "start"), FACILITATOR, "pass")
    assert p.whose_turn == BO
    left, events = member_left(p, BO)
    assert left.present == (FACILITATOR, CY) and left.whose_turn == CY  # the turn passes to the next
    assert [e.type for e in events] == ["member_left"] and left.phase == CLARIFYING  # live: nothing decided
    early = act(proposal("live"), CY, "object", text="I cannot come, and this harms the aim.")
    assert member_left(early, CY)[0].objections[0].status == "lapsed"


def test_a_member_who_had_nothing_open_leaves_with_one_event() -> None:
    integrating = act(to_consenting(proposal()), BO, "object", text="unsafe")
    for member in (AUTHOR, FACILITATOR, CY):
        integrating = act(integrating, member, "consent")
    integrating = act(integrating, FACILITATOR, "advance")  # Bo's objection is still to integrate
    for p in (proposal(), to_consenting(proposal("live")), integrating):
        left, events = member_left(p, CY)
        assert events == [ev.MemberLeft(member=str(CY), lapsed=[])] and left.phase == p.phase
        assert restore(snapshot(left), left.author, left.members, left.facilitators) == left


ACTIONS = sorted(PHASES_FOR)
PEOPLE = [AUTHOR, FACILITATOR, BO, CY, OUTSIDER]


class ConsentProcess(RuleBasedStateMachine):
    """Random actions by random people, with and without the right to act: every accepted
    action keeps the invariants, every refused one changes nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.proposal = proposal("live")
        self.revisions = [1]
        self.event_count = 0
        self.said: dict[tuple[int, str], str] = {}  # (round, member) -> the response they gave

    def record(self, produced: list[ev.Event]) -> None:
        self.event_count += len(produced)
        for e in produced:
            if isinstance(e, ev.Responded) and not e.early:
                self.said[(e.round, e.member)] = e.kind
            if isinstance(e, ev.ObjectionBecameConcern) and self.said.get(key := (self.proposal.round, e.member)):
                self.said[key] = "concern"  # after the test, the objector made it a concern

    @initialize(
        mode=st.sampled_from(["live", "async"]),
        quorum=st.sampled_from([None, 1, 2, 4]),
        kind=st.sampled_from(["proposal", "review"]),
    )
    def in_mode(self, mode: str, quorum: int | None, kind: str) -> None:
        self.proposal = proposal(mode, quorum=quorum, kind=kind)

    @rule(
        actor=st.sampled_from(PEOPLE),
        action=st.sampled_from(ACTIONS),
        text=st.sampled_from(["", "a reason", "  "]),
        other=st.sampled_from([None, *PEOPLE]),
        item=st.sampled_from(["o1", "o2", "q1", "x"]),
        mode=st.sampled_from(["live", "async"]),
        closes_at=st.sampled_from([None, "2027-01-08T12:00:00+00:00"]),
        to=st.sampled_from([None, "consenting"]),
        agreed=st.booleans(),
    )
    def act(
        self,
        actor: uuid.UUID,
        action: str,
        text: str,
        other: uuid.UUID | None,
        item: str,
        mode: str,
        closes_at: str | None,
        to: str | None,
        agreed: bool,
    ) -> None:
        data = {
            "author_agreed": agreed,
            "text": text,
            "reason": text,
            "objection_id": item,
            "question_id": item,
            "mode": mode,
            "closes_at": closes_at,
        } | ({"to": to} if to else {})
        if other is not None:
            data["member_id" if action in {"present", "absent"} else "on_behalf_of"] = str(other)
        before = self.proposal
        try:
            after, events = apply(before, actor, decode({"type": action, "client_id": "random", **data}))
        except Refusal as refusal:
            assert refusal.code and str(refusal)
            assert self.proposal == before  # a refusal changes nothing
            return
        assert actor in MEMBERS, "a non-member changed something"
        assert after.seq == before.seq + len(events)
        for amended in (e for e in events if isinstance(e, ev.Amended)):  # by the author, or with their agreement
            assert actor == before.author or (actor in before.movers and amended.author_agreed is True)
        self.record(events)
        self.proposal = after
        self.revisions.append(after.revision)

    @rule()
    def facilitator_moves_on(self) -> None:
        for type_ in ("start", "advance"):
            try:
                p, events = apply(self.proposal, FACILITATOR, action(type_))
            except Refusal:
                continue
            self.proposal = p
            self.record(events)
            return

    @rule(silence=st.booleans())
    def the_deadline_passes(self, silence: bool) -> None:
        p, events = deadline(self.proposal, silence_is_consent=silence)
        assert p.seq == self.proposal.seq + len(events)
        self.proposal = p
        self.record(events)

    @rule(kinds=st.lists(st.sampled_from(["consent", "consent", "concern", "stand_aside"]), min_size=4, max_size=4))
    def everyone_responds(self, kinds: list[str]) -> None:
        """Random actions rarely finish a round; this drives a consent round to its end, with
        some standing aside, so that the invariants about decisions are exercised too."""
        p = self.proposal
        for kind in kinds:
            if p.phase != CONSENTING:
                break
            speaker = p.whose_turn or next((m for m in sorted(p.participants) if m not in p.responses), None)
            if speaker is None:
                break
            try:
                p, events = apply(p, speaker, action(kind, text="a concern"))
            except Refusal:
                break
            self.record(events)
        self.proposal = p

    @rule(member=st.sampled_from(sorted(MEMBERS - {FACILITATOR})), removed=st.booleans())
    def a_member_leaves(self, member: uuid.UUID, removed: bool) -> None:
        # the circle's open proposals hear of it; a closed one's record is as it was decided
        p = self.proposal
        if member not in p.members or len(p.members) <= 2 or p.phase not in OPEN_PHASES:
            return
        p, events = member_left(self.proposal, member, removed_by=FACILITATOR if removed else None)
        assert p.seq == self.proposal.seq + len(events) and member not in p.members | set(p.present)
        self.proposal = p
        self.record(events)

    @invariant()
    def a_member_who_left_has_nothing_open(self) -> None:
        for objection in self.proposal.objections:
            if objection.author not in self.proposal.members:
                assert objection.status != "open"
        if self.proposal.phase == INTEGRATING:  # integration has something to integrate
            assert self.proposal.open_objections

    @invariant()
    def decided_means_everyone_agreed_on_the_final_revision(self) -> None:
        p = self.proposal
        event(f"reached {p.phase}")  # --hypothesis-show-statistics tells how often each phase is reached
        if p.phase == DECIDED:
            assert not p.open_objections
            assert p.taking_part >= p.quorum_needed
            given = [p.responses.get(m) for m in p.participants]
            assert all(r in NOT_BLOCKING for r in given) and any(r in AGREEING for r in given)

    @invariant()
    def every_members_entry_is_what_they_did(self) -> None:
        """The state's responses, which a decision's record is made of, say exactly what each
        member gave in this round: nothing more, silence only as silence."""
        p = self.proposal
        for member, kind in p.responses.items():
            assert self.said[(p.round, str(member))] == kind

    @invariant()
    def the_stored_snapshot_restores_the_same_state(self) -> None:
        p = self.proposal
        assert restore(snapshot(p), p.author, p.members, p.facilitators, p.quorum, p.kind) == p

    @invariant()
    def whoever_the_process_waits_for_can_act(self) -> None:
        """ "Waiting for you" never lists what its reader cannot do anything about."""
        p = self.proposal
        for member in p.members | {OUTSIDER}:
            reason = expects(p, member)
            if reason is None:
                continue
            assert p.phase in OPEN_PHASES - {DRAFT} and member in p.members
            wanted = {"withdraw_objection"} if reason == "your_objection" else TURN_ACTIONS
            assert available(p, member) & wanted, (reason, p)

    @invariant()
    def revisions_only_grow(self) -> None:
        assert self.revisions == sorted(self.revisions)

    @invariant()
    def seq_counts_every_event(self) -> None:
        assert self.proposal.seq == self.event_count

    @invariant()
    def integrated_objections_name_a_later_revision(self) -> None:
        for objection in self.proposal.objections:
            if objection.status == "integrated":
                assert objection.integrated_by is not None and objection.integrated_by > objection.revision


TestConsentProcess = ConsentProcess.TestCase
TestConsentProcess.settings = hypothesis_settings(max_examples=300, stateful_step_count=40, deadline=None)


def test_when_the_only_objector_leaves_during_integration_the_consent_round_goes_on() -> None:
    p = act(to_consenting(proposal(quorum=2)), BO, "object", text="unsafe")
    for member in (AUTHOR, FACILITATOR, CY):
        p = act(p, member, "consent")
    p, _ = deadline(p, silence_is_consent=False)
    assert p.phase == INTEGRATING
    left, events = member_left(p, BO)
    # nothing is left to integrate, and everyone remaining agreed on this revision
    assert [e.type for e in events] == ["member_left", "phase_changed", "decided"]
    assert left.phase == DECIDED and left.objections[0].status == "lapsed"


def test_the_facilitator_amends_only_with_the_authors_agreement_which_is_recorded() -> None:
    p = to_consenting(proposal())
    p = act(p, BO, "object", text="unsafe for the food bank")
    for member in (AUTHOR, FACILITATOR, CY):
        p = act(p, member, "consent")
    p = act(p, FACILITATOR, "advance")
    assert "amend" in available(p, FACILITATOR) and "amend" not in available(p, BO)  # offered, with the box to tick
    closes = "2027-01-08T12:00:00+00:00"
    refused(p, FACILITATOR, "amend", "author_agreement_needed", text="amended", closes_at=closes)
    refused(p, BO, "amend", "not_author", text="amended", closes_at=closes, author_agreed=True)
    p, events = apply(p, FACILITATOR, action("amend", text="amended", closes_at=closes, author_agreed=True))
    assert events[0] == ev.Amended(revision=2, text="amended", integrates=["o1"], closes_at=closes, author_agreed=True)
    assert p.phase == CONSENTING and p.objections[0].status == "integrated"
    # the author's own amendment says nothing of agreement: it is theirs
    assert apply(proposal(), AUTHOR, action("amend", text="again"))[1][0].author_agreed is msgspec.UNSET


def test_a_live_round_is_complete_when_everyone_has_had_a_turn() -> None:
    p = proposal("live")
    for member in (FACILITATOR, BO, CY, AUTHOR):
        p = act(p, member, "present")
    p = act(p, FACILITATOR, "start")
    assert not p.round_complete
    p = act(act(p, FACILITATOR, "pass"), BO, "question", text="when?")
    assert not p.round_complete and p.whose_turn == CY
    p = act(p, CY, "pass")  # the author answers and takes no turn: everyone has had one
    assert p.round_complete and p.whose_turn == FACILITATOR  # going round again stays possible
    p = act(p, FACILITATOR, "advance")
    assert not p.round_complete
    p = act(p, FACILITATOR, "advance")  # reacting -> consenting
    p = act(act(p, FACILITATOR, "consent"), BO, "pass")
    p = act(act(p, CY, "consent"), AUTHOR, "consent")
    assert not p.round_complete  # Bo passed: the round goes round again for Bo
    p = act(act(p, FACILITATOR, "skip"), BO, "stand_aside")  # the facilitator responded: on to Bo
    assert p.round_complete and p.consented()
    assert not proposal().round_complete  # async: no turns


def test_what_waits_for_whom() -> None:
    clarifying = act(proposal(), FACILITATOR, "start")
    assert {m: expects(clarifying, m) for m in MEMBERS} == {
        AUTHOR: None,
        FACILITATOR: "respond",
        BO: "respond",
        CY: "respond",
    }
    assert expects(act(clarifying, BO, "pass"), BO) is None
    consenting = to_consenting(proposal())
    assert expects(consenting, AUTHOR) == "respond" and expects(consenting, OUTSIDER) is None
    integrating = act(
        act(
            act(act(act(consenting, BO, "object", text="unsafe"), AUTHOR, "consent"), FACILITATOR, "consent"),
            CY,
            "consent",
        ),
        FACILITATOR,
        "advance",
    )
    assert integrating.phase == INTEGRATING
    assert {m: expects(integrating, m) for m in MEMBERS} == dict.fromkeys(MEMBERS, None) | {BO: "your_objection"}
    amended = act(integrating, AUTHOR, "amend", text="safely", closes_at="2026-12-01T09:00:00Z")
    assert {expects(amended, m) for m in MEMBERS} == {"consent_again"}
    live = act(act(act(proposal("live"), AUTHOR, "present"), BO, "present"), FACILITATOR, "start")
    assert (expects(live, BO), expects(live, AUTHOR), expects(live, CY)) == ("your_turn", None, None)
