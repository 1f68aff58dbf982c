"""A circle's meeting, as a state machine: pure, no I/O and no clock.

    scheduled ──start──▶ opening ──advance──▶ item 1 ──advance──▶ … item n ──advance──▶ closing ──advance──▶ ended
        └──cancel──▶ cancelled

The opening and closing rounds go round those present, in the order they joined: the one
whose turn it is checks in (or out) or passes; the facilitator may skip someone who is not
ready, or record what someone without a device says. Someone who arrives during a round has
their turn at its end. Presence is the meeting's, kept across its items: the agenda's
proposals are run in their own live rooms with those present here (rounds.meetings.services).
The facilitator (else whoever called the meeting) moves it on and notes each item's outcome.
Each accepted action gives events; a refused one changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

import msgspec

from consent.base.errors import Refusal, bad_field
from consent.base.i18n import gettext as _
from consent.base.text import clean_text
from rounds.actions import ClientId, refusal

SCHEDULED, OPENING, AGENDA, CLOSING, ENDED, CANCELLED = (
    "scheduled",
    "opening",
    "agenda",
    "closing",
    "ended",
    "cancelled",
)
ROUNDS = frozenset({OPENING, CLOSING})  # taken in turn
OVER = frozenset({ENDED, CANCELLED})
MAX_TEXT = 2000
CHECKED_IN, CHECKED_OUT, PASSED, SKIPPED = "checked_in", "checked_out", "passed", "skipped"


class Act(msgspec.Struct, tag_field="type", kw_only=True, frozen=True, forbid_unknown_fields=True):
    client_id: ClientId

    @property
    def type(self) -> str:
        return self.__struct_config__.tag  # type: ignore[return-value]


class Start(Act, tag="start", frozen=True):
    pass


class Advance(Act, tag="advance", frozen=True):
    pass


class Cancel(Act, tag="cancel", frozen=True):
    reason: str = ""


class Present(Act, tag="present", frozen=True):
    member_id: str | None = None  # yourself, or for the facilitator someone in the room


class Absent(Act, tag="absent", frozen=True):
    member_id: str | None = None


class CheckIn(Act, tag="check_in", frozen=True):
    text: str = ""
    on_behalf_of: str | None = None


class CheckOut(Act, tag="check_out", frozen=True):
    text: str = ""
    on_behalf_of: str | None = None


class Pass(Act, tag="pass", frozen=True):
    on_behalf_of: str | None = None


class Skip(Act, tag="skip", frozen=True):
    pass


class Note(Act, tag="note", frozen=True):
    text: Annotated[str, msgspec.Meta(max_length=2 * MAX_TEXT)] = ""


Acts = Start | Advance | Cancel | Present | Absent | CheckIn | CheckOut | Pass | Skip | Note
TYPES = ("start", "advance", "cancel", "present", "absent", "check_in", "check_out", "pass", "skip", "note")


def decode(raw: Any) -> Acts:
    """A meeting action from the JSON of a request, a socket or a form, or the refusal its
    sender is answered with (worded as a proposal's actions are)."""
    try:
        return msgspec.convert(raw, Acts)
    except msgspec.ValidationError as exc:
        raise refusal(raw, exc) from exc


@dataclass(frozen=True)
class Meeting:
    members: frozenset[uuid.UUID]
    movers: frozenset[uuid.UUID]  # the circle's facilitators, else whoever called the meeting
    items: int  # on the agenda
    phase: str = SCHEDULED
    position: int = -1  # the agenda item under way, from 0 (AGENDA only)
    present: tuple[uuid.UUID, ...] = ()  # in the order they joined: the rounds' order
    spoken: Mapping[uuid.UUID, str] = field(default_factory=dict)  # this round's turns taken, and how
    seq: int = 0

    @property
    def whose_turn(self) -> uuid.UUID | None:
        """In a round, the first one present who has not had their turn; None when all have."""
        if self.phase not in ROUNDS:
            return None
        return next((m for m in self.present if m not in self.spoken), None)


Event = dict[str, Any]  # {"type": …, and what it says}


def apply(m: Meeting, actor: uuid.UUID, act: Acts) -> tuple[Meeting, list[Event]]:
    """The new state and its events, or Refusal. Never changes `m`."""
    if actor not in m.members:
        raise Refusal("not_a_participant", _("Only members of the meeting's circle take part."), status=403)
    if m.phase in OVER:
        raise Refusal("wrong_phase", _("This meeting is over."), 409)
    new, produced = _HANDLERS[act.type](m, actor, act)
    return replace(new, seq=m.seq + len(produced)), produced


def _require_mover(m: Meeting, actor: uuid.UUID) -> None:
    if actor not in m.movers:
        raise Refusal("not_facilitator", _("Only the facilitator runs the meeting."), status=403)


def _member(m: Meeting, value: str, name: str) -> uuid.UUID:
    try:
        member = uuid.UUID(value)
    except ValueError as exc:
        raise bad_field(name, _("{Field} is not a member's id.")) from exc
    if member not in m.members:
        raise bad_field(name, _("{Field} is not a member of this circle."), "not_a_participant", 409)
    return member


def _text(value: str, name: str, required: bool = False) -> str:
    return clean_text(value, name, MAX_TEXT, required=required)


def _start(m: Meeting, actor: uuid.UUID, _a: Any) -> tuple[Meeting, list[Event]]:
    _require_mover(m, actor)
    if m.phase != SCHEDULED:
        raise Refusal("wrong_phase", _("The meeting has started already."), 409)
    present = m.present if actor in m.present else (*m.present, actor)
    events: list[Event] = [{"type": "started"}]
    if actor not in m.present:
        events.insert(0, {"type": "present", "member": str(actor), "recorded_by": str(actor)})
    return replace(m, phase=OPENING, present=present, spoken={}), events


def _advance(m: Meeting, actor: uuid.UUID, _a: Any) -> tuple[Meeting, list[Event]]:
    _require_mover(m, actor)
    if m.phase == SCHEDULED:
        raise Refusal("wrong_phase", _("Start the meeting first."), 409)
    if m.phase == CLOSING:
        return replace(m, phase=ENDED), [{"type": "ended"}]
    position = m.position + 1 if m.phase == AGENDA else 0
    if position < m.items:
        return replace(m, phase=AGENDA, position=position, spoken={}), [{"type": "item_taken_up", "position": position}]
    return replace(m, phase=CLOSING, position=-1, spoken={}), [{"type": "closing_round"}]


def _cancel(m: Meeting, actor: uuid.UUID, a: Cancel) -> tuple[Meeting, list[Event]]:
    _require_mover(m, actor)
    if m.phase != SCHEDULED:
        raise Refusal("wrong_phase", _("A meeting under way is ended, not cancelled."), 409)
    return replace(m, phase=CANCELLED), [{"type": "cancelled", "reason": _text(a.reason, "reason")}]


def _presence(m: Meeting, actor: uuid.UUID, a: Present | Absent) -> tuple[Meeting, list[Event]]:
    member = actor
    if a.member_id not in (None, str(actor)):
        _require_mover(m, actor)
        member = _member(m, a.member_id, "member_id")
    arriving = isinstance(a, Present)
    if arriving == (member in m.present):
        return m, []  # already so: nothing happened, no event
    present = (*m.present, member) if arriving else tuple(p for p in m.present if p != member)
    kind = "present" if arriving else "absent"
    return replace(m, present=present), [{"type": kind, "member": str(member), "recorded_by": str(actor)}]


def _speaker(m: Meeting, actor: uuid.UUID, on_behalf_of: str | None, phase: str) -> uuid.UUID:
    if m.phase != phase:
        wanted = _("the opening round") if phase == OPENING else _("the closing round")
        raise Refusal("wrong_phase", _("This is said in {round}.").format(round=wanted), 409)
    speaker = actor
    if on_behalf_of is not None and on_behalf_of != str(actor):
        _require_mover(m, actor)
        speaker = _member(m, on_behalf_of, "on_behalf_of")
    if speaker not in m.present:
        raise Refusal("not_present", _("Join the meeting first: the round goes round those present."), 409)
    if m.whose_turn != speaker:
        raise Refusal("not_your_turn", _("It is someone else's turn in this round."), 409)
    return speaker


def _said(m: Meeting, actor: uuid.UUID, speaker: uuid.UUID, kind: str, text: str | None) -> tuple[Meeting, list[Event]]:
    event: Event = {"type": kind, "member": str(speaker), "round": m.phase}
    if text is not None:
        event["text"] = text
    if speaker != actor:
        event["recorded_by"] = str(actor)
    return replace(m, spoken={**m.spoken, speaker: kind}), [event]


def _check_in(m: Meeting, actor: uuid.UUID, a: CheckIn) -> tuple[Meeting, list[Event]]:
    speaker = _speaker(m, actor, a.on_behalf_of, OPENING)
    return _said(m, actor, speaker, CHECKED_IN, _text(a.text, "text", required=True))


def _check_out(m: Meeting, actor: uuid.UUID, a: CheckOut) -> tuple[Meeting, list[Event]]:
    speaker = _speaker(m, actor, a.on_behalf_of, CLOSING)
    return _said(m, actor, speaker, CHECKED_OUT, _text(a.text, "text", required=True))


def _pass(m: Meeting, actor: uuid.UUID, a: Pass) -> tuple[Meeting, list[Event]]:
    if m.phase not in ROUNDS:
        raise Refusal("wrong_phase", _("One passes in the opening or the closing round."), 409)
    return _said(m, actor, _speaker(m, actor, a.on_behalf_of, m.phase), PASSED, None)


def _skip(m: Meeting, actor: uuid.UUID, _a: Any) -> tuple[Meeting, list[Event]]:
    _require_mover(m, actor)
    turn = m.whose_turn
    if turn is None:
        raise Refusal("no_turns", _("Nobody is waiting for a turn in this round."), 409)
    return _said(m, actor, turn, SKIPPED, None)


def _note(m: Meeting, actor: uuid.UUID, a: Note) -> tuple[Meeting, list[Event]]:
    _require_mover(m, actor)
    if m.phase == SCHEDULED:
        raise Refusal("wrong_phase", _("Notes are taken once the meeting has started."), 409)
    text = _text(a.text, "text", required=True)
    return m, [{"type": "noted", "position": m.position if m.phase == AGENDA else None, "round": m.phase, "text": text}]


_HANDLERS: Mapping[str, Any] = {
    "start": _start,
    "advance": _advance,
    "cancel": _cancel,
    "present": _presence,
    "absent": _presence,
    "check_in": _check_in,
    "check_out": _check_out,
    "pass": _pass,
    "skip": _skip,
    "note": _note,
}

_SAMPLES = tuple(
    msgspec.convert({"type": t, "client_id": "available", "text": "-"}, Acts)
    if t in {"check_in", "check_out", "note"}
    else msgspec.convert({"type": t, "client_id": "available"}, Acts)
    for t in TYPES
)


def available(m: Meeting, actor: uuid.UUID) -> frozenset[str]:
    """The actions `actor` may take now, found by trying each one (the page offers exactly
    these). Presence is offered as one's own: `present` when away, `absent` when here."""
    allowed = set()
    for sample in _SAMPLES:
        try:
            _new, produced = apply(m, actor, sample)
        except Refusal:
            continue
        if produced:
            allowed.add(sample.type)
    return frozenset(allowed)


def snapshot(m: Meeting) -> dict[str, Any]:
    """The state as JSON, for storage; members, movers and the agenda's length come from outside."""
    return {
        "phase": m.phase,
        "position": m.position,
        "present": [str(p) for p in m.present],
        "spoken": {str(p): kind for p, kind in m.spoken.items()},
        "seq": m.seq,
    }


def restore(
    data: Mapping[str, Any], members: frozenset[uuid.UUID], movers: frozenset[uuid.UUID], items: int
) -> Meeting:
    return Meeting(
        members=members,
        movers=movers,
        items=items,
        phase=data["phase"],
        position=data["position"],
        # someone who left the circle during the meeting is no longer in it, nor waited for
        present=tuple(m for m in (uuid.UUID(p) for p in data["present"]) if m in members),
        spoken={uuid.UUID(p): kind for p, kind in data["spoken"].items()},
        seq=data["seq"],
    )
