"""A circle's meeting as a state machine (rounds.meetings.rules): random actions by random
people checked against a model of the meeting simple enough to trust (Hypothesis), and the
rules people rely on, one example each."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field, replace

import msgspec
import pytest
from hypothesis import event
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from consent.base.errors import Refusal
from rounds.meetings import rules
from rounds.meetings.rules import AGENDA, CANCELLED, CLOSING, ENDED, OPENING, OVER, ROUNDS, SCHEDULED, Event, Meeting

AL, FACILITATOR, BO, CY = (uuid.UUID(int=i) for i in range(1, 5))
OUTSIDER = uuid.UUID(int=99)
MEMBERS = frozenset({AL, FACILITATOR, BO, CY})
PEOPLE = [AL, FACILITATOR, BO, CY, OUTSIDER]


def meeting(items: int = 2, movers: frozenset[uuid.UUID] = frozenset({FACILITATOR})) -> Meeting:
    return Meeting(members=MEMBERS, movers=movers, items=items)


def action(type_: str, **data: object) -> rules.Acts:
    """The action as it arrives: decoded from its JSON form, which may be refused already."""
    return rules.decode({"type": type_, "client_id": f"{type_}-1", **data})


def apply(m: Meeting, actor: uuid.UUID, type_: str, **data: object) -> tuple[Meeting, list[Event]]:
    new, events = rules.apply(m, actor, action(type_, **data))
    assert new.seq == m.seq + len(events)
    return new, events


def act(m: Meeting, actor: uuid.UUID, type_: str, **data: object) -> Meeting:
    return apply(m, actor, type_, **data)[0]


def refused(m: Meeting, actor: uuid.UUID, type_: str, code: str, **data: object) -> Refusal:
    with pytest.raises(Refusal) as caught:
        rules.apply(m, actor, action(type_, **data))
    assert caught.value.code == code
    return caught.value


# ---------------------------------------------------------------------------------------------
# The model: what the test believes of a meeting, said as plainly as the rules are told.

WORDS = "Ready, a little tired"
# Texts sent in random actions, and what each is to the rules: words, nothing (fine where a text
# is optional), or refused anyway.
TEXTS = {
    "": "nothing",
    " \r\n ": "nothing",
    WORDS: "words",
    "one line\r\nand another": "words",
    "a NUL \x00 inside": "refused",
    "x" * (rules.MAX_TEXT + 1): "refused",
}
# Whom an action names: nobody (oneself), a member, a non-member, or garbage.
NAMES = [None, *map(str, PEOPLE), "not-a-uuid", ""]
FIELDS = {
    "cancel": ("reason",),
    "present": ("member_id",),
    "absent": ("member_id",),
    "check_in": ("text", "on_behalf_of"),
    "check_out": ("text", "on_behalf_of"),
    "pass": ("on_behalf_of",),
    "note": ("text",),
}
SPEAKING = {"check_in": rules.CHECKED_IN, "check_out": rules.CHECKED_OUT, "pass": rules.PASSED}
TURNS = {*SPEAKING.values(), rules.SKIPPED}  # the events of a turn taken
MOVING = frozenset({"start", "advance", "skip", "note", "cancel"})  # the movers' alone
CODES = {"invalid", "not_a_participant", "wrong_phase", "not_facilitator", "not_present", "not_your_turn", "no_turns"}
UNDER_WAY = frozenset({OPENING, AGENDA, CLOSING})
OWN = {  # each type as its actor would send it for themselves, with words where words are needed
    type_: action(type_, **({"text": WORDS} if "text" in FIELDS.get(type_, ()) else {})) for type_ in rules.TYPES
}


@dataclass(frozen=True)
class Model:
    items: int
    movers: frozenset[uuid.UUID]
    phase: str = SCHEDULED
    position: int = -1
    present: tuple[uuid.UUID, ...] = ()
    spoken: dict[uuid.UUID, str] = field(default_factory=dict)

    @property
    def turn(self) -> uuid.UUID | None:
        """In a round, the first one present who has not spoken in it."""
        waiting = [p for p in self.present if p not in self.spoken]
        return waiting[0] if self.phase in ROUNDS and waiting else None

    def named(self, actor: uuid.UUID, name: str | None) -> uuid.UUID | None:
        """Whom an action is for: its actor, or for a mover any member named; None if refused."""
        if name is None or name == str(actor):
            return actor
        if actor not in self.movers or name not in map(str, MEMBERS):
            return None
        return uuid.UUID(name)


def expect(model: Model, actor: uuid.UUID, type_: str, text: str, name: str | None) -> tuple[Model, list[str]] | None:
    """The model's next state and the types of the events the action gives, or None when the
    rules must refuse it."""
    if actor not in MEMBERS or model.phase in OVER:
        return None
    mover, said = actor in model.movers, TEXTS[text]
    if type_ == "start" and mover and model.phase == SCHEDULED:
        joining = () if actor in model.present else (actor,)
        return replace(model, phase=OPENING, present=model.present + joining), ["present"] * len(joining) + ["started"]
    if type_ == "cancel" and mover and model.phase == SCHEDULED and said != "refused":
        return replace(model, phase=CANCELLED), ["cancelled"]
    if type_ == "advance" and mover and model.phase in UNDER_WAY:
        if model.phase == CLOSING:
            return replace(model, phase=ENDED), ["ended"]
        if model.position + 1 < model.items:  # from the opening round (position -1), the first item
            return replace(model, phase=AGENDA, position=model.position + 1, spoken={}), ["item_taken_up"]
        return replace(model, phase=CLOSING, position=-1, spoken={}), ["closing_round"]
    if type_ == "note" and mover and model.phase in UNDER_WAY and said == "words":
        return model, ["noted"]
    if type_ == "skip" and mover and (turn := model.turn) is not None:
        return replace(model, spoken={**model.spoken, turn: rules.SKIPPED}), [rules.SKIPPED]
    if type_ in {"present", "absent"} and (member := model.named(actor, name)) is not None:
        arriving = type_ == "present"
        if arriving == (member in model.present):
            return model, []  # already so
        present = (*model.present, member) if arriving else tuple(p for p in model.present if p != member)
        return replace(model, present=present), [type_]
    if type_ in SPEAKING and (speaker := model.named(actor, name)) is not None and speaker == model.turn:
        in_its_round = {"check_in": OPENING, "check_out": CLOSING}.get(type_, model.phase) == model.phase
        if in_its_round and (type_ == "pass" or said == "words"):
            return replace(model, spoken={**model.spoken, speaker: SPEAKING[type_]}), [SPEAKING[type_]]
    return None


def rank(m: Meeting) -> int:
    """How far along its one way the meeting is: scheduled, opening, each item, closing, ended."""
    along = {SCHEDULED: 0, OPENING: 1, CLOSING: 2 + m.items, ENDED: 3 + m.items, CANCELLED: -1}
    return 2 + m.position if m.phase == AGENDA else along[m.phase]


class MeetingProcess(RuleBasedStateMachine):
    """Random actions by random people, with and without the right to act, each checked
    against the model: a refused one changes nothing, an accepted one does what the model
    says, and the invariants hold after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.meeting = meeting()
        self.model = Model(items=2, movers=frozenset({FACILITATOR}))
        self.told = 0  # events given so far

    @initialize(
        items=st.integers(min_value=0, max_value=3),
        movers=st.sampled_from([{FACILITATOR}, {AL}, {FACILITATOR, BO}]),  # AL: called it, no facilitator
    )
    def a_meeting(self, items: int, movers: set[uuid.UUID]) -> None:
        self.meeting = meeting(items, frozenset(movers))
        self.model = Model(items=items, movers=frozenset(movers))

    def step(self, actor: uuid.UUID, type_: str, text: str = "", name: str | None = None) -> None:
        data = {f: text if f in {"text", "reason"} else name for f in FIELDS.get(type_, ())}
        sent = {f: value for f, value in data.items() if value is not None}
        expected = expect(self.model, actor, type_, text, name)
        before = self.meeting
        stored = rules.snapshot(before)
        try:
            after, produced = rules.apply(before, actor, rules.decode({"type": type_, "client_id": "r", **sent}))
        except Refusal as refusal:
            assert refusal.code in CODES and refusal.message
            assert actor in MEMBERS or refusal.code == "not_a_participant"
            assert expected is None, f"{type_} {sent} by {actor} refused: {refusal.code} {refusal.message}"
            assert rules.snapshot(before) == stored  # a refusal changes nothing
            return
        assert rules.snapshot(before) == stored  # apply never changes the meeting it is given
        assert expected is not None, f"{type_} {sent} by {actor} accepted in {stored}"
        model, types = expected
        assert [e["type"] for e in produced] == types
        assert after.seq == before.seq + len(produced)
        assert actor in before.movers or type_ not in MOVING
        self.check_the_way(before, after, type_)
        for e in produced:
            self.check_who(before, actor, e)
        self.meeting, self.model = after, model
        self.told += len(produced)

    @staticmethod
    def check_the_way(before: Meeting, after: Meeting, type_: str) -> None:
        """Phases only move forward, one at a time, by start and advance; cancelled only before
        the meeting started."""
        if after.phase == CANCELLED:
            assert before.phase == SCHEDULED and type_ == "cancel"
        else:
            assert rank(after) in {rank(before), rank(before) + 1}
            assert rank(after) == rank(before) or type_ in {"start", "advance"}

    @staticmethod
    def check_who(before: Meeting, actor: uuid.UUID, e: Event) -> None:
        """A turn is taken by the one whose turn it is, once; anyone else acting for someone
        is a mover and is recorded."""
        member = uuid.UUID(e["member"]) if "member" in e else actor
        if e["type"] in TURNS:
            assert member == before.whose_turn and member not in before.spoken
            assert e["round"] == before.phase
        if e["type"] in {"present", "absent"}:
            assert e["recorded_by"] == str(actor)
        elif member == actor:
            assert "recorded_by" not in e
        else:
            assert e["recorded_by"] == str(actor)
        assert member == actor or actor in before.movers

    @rule(
        actor=st.sampled_from(PEOPLE),
        type_=st.sampled_from(rules.TYPES),
        text=st.sampled_from(sorted(TEXTS)),
        name=st.sampled_from(NAMES),
    )
    def anyone_does_anything(self, actor: uuid.UUID, type_: str, text: str, name: str | None) -> None:
        self.step(actor, type_, text, name)

    @rule(member=st.sampled_from(sorted(MEMBERS)), arriving=st.booleans())
    def someone_comes_or_goes(self, member: uuid.UUID, arriving: bool) -> None:
        self.step(member, "present" if arriving else "absent")

    @rule()
    def the_facilitator_moves_on(self) -> None:
        """Random actions rarely move a meeting along; this takes it through its phases."""
        mover = min(self.model.movers)
        self.step(mover, "start" if self.model.phase == SCHEDULED else "advance")

    @rule(type_=st.sampled_from(sorted(SPEAKING)), for_them=st.booleans())
    def whoever_it_is_takes_their_turn(self, type_: str, for_them: bool) -> None:
        turn = self.meeting.whose_turn
        if turn is None:
            return
        if for_them:  # a mover records what someone without a device says
            self.step(min(self.model.movers), type_, WORDS, str(turn))
        else:
            self.step(turn, type_, WORDS)

    @invariant()
    def the_meeting_is_as_the_model_says(self) -> None:
        m = self.meeting
        event(f"reached {m.phase}")  # --hypothesis-show-statistics tells how often each is reached
        assert (m.phase, m.position, m.present, dict(m.spoken)) == (
            self.model.phase,
            self.model.position,
            self.model.present,
            self.model.spoken,
        )
        assert len(set(m.present)) == len(m.present) and set(m.present) <= MEMBERS
        assert (m.phase == AGENDA) == (0 <= m.position < m.items) and (m.phase == AGENDA or m.position == -1)

    @invariant()
    def the_turn_is_the_first_present_who_has_not_spoken(self) -> None:
        assert self.meeting.whose_turn == self.model.turn  # None outside the rounds

    @invariant()
    def seq_counts_every_event(self) -> None:
        assert self.meeting.seq == self.told

    @invariant()
    def available_is_exactly_what_applies(self) -> None:
        m = self.meeting
        for person in PEOPLE:
            applying = set()
            for type_, own in OWN.items():
                try:
                    _after, produced = rules.apply(m, person, own)
                except Refusal:
                    continue
                if produced:
                    applying.add(type_)
            assert rules.available(m, person) == applying
            assert applying == {t for t in rules.TYPES if (r := expect(self.model, person, t, WORDS, None)) and r[1]}

    @invariant()
    def the_stored_snapshot_restores_the_same_state(self) -> None:
        m = self.meeting
        stored = msgspec.json.decode(msgspec.json.encode(rules.snapshot(m)))  # as the database keeps it
        assert rules.restore(stored, m.members, m.movers, m.items) == m

    @invariant()
    def nothing_is_accepted_once_over(self) -> None:
        if self.meeting.phase not in OVER:
            return
        for person, own in itertools.product(PEOPLE, OWN.values()):
            with pytest.raises(Refusal) as caught:
                rules.apply(self.meeting, person, own)
            assert caught.value.code == ("not_a_participant" if person == OUTSIDER else "wrong_phase")


TestMeetingProcess = MeetingProcess.TestCase
TestMeetingProcess.settings = hypothesis_settings(max_examples=300, stateful_step_count=40, deadline=None)


# ---------------------------------------------------------------------------------------------
# The rules people rely on.


def test_someone_who_arrives_during_a_round_speaks_at_its_end_and_once() -> None:
    m = act(meeting(), AL, "present")
    m = act(m, FACILITATOR, "start")
    assert m.present == (AL, FACILITATOR) and m.whose_turn == AL
    refused(m, FACILITATOR, "check_in", "not_your_turn", text="Fine")
    refused(m, BO, "check_in", "not_present", text="On my way")  # not there yet
    m = act(m, BO, "present")  # late
    m = act(m, AL, "check_in", text="Glad to be here")
    assert m.whose_turn == FACILITATOR
    m = act(act(m, AL, "absent"), AL, "present")  # stepped out and back: Al has had his turn
    m = act(m, FACILITATOR, "pass")
    assert m.whose_turn == BO
    m = act(m, BO, "check_in", text="Sorry I'm late")
    assert m.whose_turn is None and "check_in" not in rules.available(m, AL)
    refused(m, AL, "check_in", "not_your_turn", text="Again")
    m = act(m, CY, "present")  # after everyone: still their turn
    assert m.whose_turn == CY


def test_the_facilitator_skips_someone_not_ready_and_records_for_someone_without_a_device() -> None:
    m = act(act(act(meeting(), AL, "present"), BO, "present"), FACILITATOR, "start")
    refused(m, BO, "skip", "not_facilitator")
    m, events = apply(m, FACILITATOR, "skip")
    assert events == [{"type": "skipped", "member": str(AL), "round": OPENING, "recorded_by": str(FACILITATOR)}]
    assert m.spoken == {AL: rules.SKIPPED} and m.whose_turn == BO
    refused(m, AL, "check_in", "not_your_turn", text="Ready now")  # a skipped turn is taken
    refused(m, AL, "check_in", "not_facilitator", text="For Bo", on_behalf_of=str(BO))
    m, events = apply(m, FACILITATOR, "check_in", text="Bo is fine", on_behalf_of=str(BO))
    assert events == [
        {
            "type": "checked_in",
            "member": str(BO),
            "round": OPENING,
            "text": "Bo is fine",
            "recorded_by": str(FACILITATOR),
        }
    ]
    m = act(m, FACILITATOR, "skip")  # the facilitator too
    refused(m, FACILITATOR, "skip", "no_turns")
    refused(act(m, FACILITATOR, "advance"), FACILITATOR, "skip", "no_turns")  # no turns between rounds


def test_a_check_in_without_words_is_refused_naming_the_text() -> None:
    m = act(meeting(), FACILITATOR, "start")
    for empty in ("", "  \r\n "):
        refusal = refused(m, FACILITATOR, "check_in", "invalid", text=empty)
        assert refusal.field == "text" and refusal.message == "The text must not be empty."
    assert refused(m, FACILITATOR, "check_in", "invalid").field == "text"  # no text at all
    assert m.whose_turn == FACILITATOR and act(m, FACILITATOR, "pass").whose_turn is None


def test_advance_without_agenda_items_goes_from_the_opening_straight_to_the_closing_round() -> None:
    m = act(meeting(items=0), FACILITATOR, "start")
    m, events = apply(m, FACILITATOR, "advance")
    assert events == [{"type": "closing_round"}] and (m.phase, m.position) == (CLOSING, -1)
    assert m.whose_turn == FACILITATOR  # a new round
    m = act(m, FACILITATOR, "check_out", text="Short and good")
    m, events = apply(m, FACILITATOR, "advance")
    assert events == [{"type": "ended"}] and m.phase == ENDED
    refused(m, FACILITATOR, "note", "wrong_phase", text="Afterthought")


def test_the_agenda_is_taken_up_in_order_and_presence_carries_across_items() -> None:
    m = act(act(meeting(items=2), BO, "present"), FACILITATOR, "start")
    positions = []
    for _ in range(2):
        m, events = apply(m, FACILITATOR, "advance")
        positions += [e["position"] for e in events]
        assert m.present == (BO, FACILITATOR) and m.whose_turn is None
    assert positions == [0, 1]
    assert apply(m, FACILITATOR, "note", text="Consented")[1] == [
        {"type": "noted", "position": 1, "round": AGENDA, "text": "Consented"}
    ]
    assert act(m, FACILITATOR, "advance").phase == CLOSING


def test_start_marks_the_facilitator_present() -> None:
    refused(meeting(), BO, "start", "not_facilitator")
    m, events = apply(meeting(), FACILITATOR, "start")
    assert events == [
        {"type": "present", "member": str(FACILITATOR), "recorded_by": str(FACILITATOR)},
        {"type": "started"},
    ]
    assert m.phase == OPENING and m.present == (FACILITATOR,)
    # already there: only started
    _m, events = apply(act(meeting(), FACILITATOR, "present"), FACILITATOR, "start")
    assert events == [{"type": "started"}]
    refused(m, FACILITATOR, "start", "wrong_phase")
    refused(m, FACILITATOR, "cancel", "wrong_phase")  # under way: ended, not cancelled


def test_an_unknown_action_and_a_bad_client_id_are_refused_with_clear_messages() -> None:
    with pytest.raises(Refusal) as caught:
        rules.decode({"type": "vote", "client_id": "v-1"})
    assert (caught.value.code, caught.value.field) == ("unknown_action", "type")
    assert caught.value.message == "There is no action called 'vote'."
    for client_id in ({}, {"client_id": ""}, {"client_id": "x" * 101}, {"client_id": "a\x00b"}):
        with pytest.raises(Refusal) as caught:
            rules.decode({"type": "start", **client_id})
        assert (caught.value.code, caught.value.field) == ("invalid", "client_id")
        assert caught.value.message == (
            "The client id must be a text of 1 to 100 characters, chosen by the client and unique to the action."
        )
    with pytest.raises(Refusal) as caught:  # a meeting's actions take only their own fields
        rules.decode({"type": "start", "client_id": "s-1", "text": "now"})
    assert (caught.value.code, caught.value.field) == ("invalid", "text")
