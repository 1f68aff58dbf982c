"""The consent process as a pure state machine: no I/O, no clock, no database.

`apply(proposal, actor, action)` either returns the new proposal state and the events it produced,
or raises `Refusal` with a machine code. Services load the state, call `apply`, and
store the state and events in one transaction. The rules are DESIGN.md's "The consent
process, precisely"; the table `PHASES_FOR` says which action is legal in which phase.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import msgspec

from consent.base.errors import Refusal, bad_field
from consent.base.i18n import N_
from consent.base.i18n import gettext as _
from consent.base.text import MAX_TEXT, clean_criteria, clean_text
from rounds import actions, events, item_rules, selection
from rounds.actions import Action
from rounds.events import Event
from rounds.selection import CHANGING, NOMINATING, SELECTION, Nomination

DRAFT, CLARIFYING, REACTING, CONSENTING, INTEGRATING = "draft", "clarifying", "reacting", "consenting", "integrating"
DECIDED, WITHDRAWN, NOT_ADOPTED = "decided", "withdrawn", "not_adopted"
REVIEW = "review"  # a proposal's kind, for the review of a decision
OPEN_PHASES = frozenset({DRAFT, CLARIFYING, REACTING, NOMINATING, CHANGING, CONSENTING, INTEGRATING})
# A selection's change round ends when the facilitator proposes a candidate, not by `advance`.
NEXT_PHASE = {CLARIFYING: REACTING, REACTING: CONSENTING, NOMINATING: CHANGING}
TURN_PHASES = frozenset({CLARIFYING, REACTING, NOMINATING, CHANGING, CONSENTING})  # live: taken in turn
CONSENT_KINDS = frozenset({"consent", "concern", "object", "stand_aside"})
AGREEING = frozenset({"consent", "concern"})  # a stand-aside is not consent
# Only an objection blocks: standing aside does not, nor, where the circle counts it so at a
# deadline, silence. Each is recorded as what it was.
NOT_BLOCKING = AGREEING | {"stand_aside", "silent"}

# Which phases accept which action. Everything else is `wrong_phase`.
PHASES_FOR: Mapping[str, frozenset[str]] = {
    "start": frozenset({DRAFT}),
    "advance": frozenset({CLARIFYING, REACTING, NOMINATING, CONSENTING}),
    "question": frozenset({CLARIFYING}),
    "answer": frozenset({CLARIFYING, REACTING, CONSENTING, INTEGRATING}),
    "reaction": frozenset({REACTING}),
    "pass": TURN_PHASES,
    "consent": frozenset({CONSENTING}),
    "concern": frozenset({CONSENTING}),
    "object": frozenset({DRAFT, CLARIFYING, REACTING, CONSENTING}),  # before the round: only early, see below
    "stand_aside": frozenset({CONSENTING}),
    "withdraw_objection": frozenset({CONSENTING, INTEGRATING}),
    "amend": frozenset({DRAFT, CLARIFYING, REACTING, INTEGRATING}),
    "not_adopted": frozenset({INTEGRATING}),
    "withdraw": OPEN_PHASES,
    "present": OPEN_PHASES,
    "absent": OPEN_PHASES,
    "skip": TURN_PHASES,
    "back": TURN_PHASES,
    "test_objection": frozenset({CONSENTING, INTEGRATING}),
    "keep_objection": frozenset({CONSENTING, INTEGRATING}),
    "objection_to_concern": frozenset({CONSENTING, INTEGRATING}),
    "change_mode": OPEN_PHASES,
    "nominate": frozenset({NOMINATING}),
    "change_nomination": frozenset({CHANGING}),
    "propose_candidate": frozenset({CHANGING}),
}
# Actions taken in turn during a live round; everything else may come at any time.
TURN_ACTIONS = frozenset(
    {"question", "reaction", "pass", "consent", "concern", "object", "stand_aside", "nominate", "change_nomination"}
)


@dataclass(frozen=True)
class Objection:
    id: str
    author: uuid.UUID
    text: str
    revision: int
    status: str = "open"  # open, integrated, withdrawn, concern (its author made it one after the test)
    integrated_by: int | None = None
    test: str | None = None  # the objection test: asked, then kept or concern


@dataclass(frozen=True)
class Proposal:
    mode: str  # live or async
    author: uuid.UUID
    members: frozenset[uuid.UUID]
    facilitators: frozenset[uuid.UUID] = frozenset()
    phase: str = DRAFT
    revision: int = 1
    round: int = 0  # counts rounds, so responses can be grouped by round
    present: tuple[uuid.UUID, ...] = ()  # live participants, in the order they speak
    turn: int = 0  # index into `present` during a live round
    responses: Mapping[uuid.UUID, str] = field(default_factory=dict)  # this round's consent responses
    responded: frozenset[uuid.UUID] = frozenset()  # who spoke in this round (any kind)
    objections: tuple[Objection, ...] = ()
    questions: Mapping[str, uuid.UUID] = field(default_factory=dict)  # question id -> asker
    seq: int = 0
    kind: str = "proposal"  # or REVIEW, or SELECTION
    quorum: int | None = None  # the circle's: the least number taking part; None is a majority
    nominations: Mapping[uuid.UUID, Nomination] = field(default_factory=dict)  # a selection's, by nominator
    candidate: uuid.UUID | None = None  # the one a selection proposes

    @property
    def movers(self) -> frozenset[uuid.UUID]:
        """The facilitator moves the process; where the circle has none, the author does."""
        return self.facilitators or frozenset({self.author})

    @cached_property  # asked "is m taking part?" for each of 2,000 in a hall: a set, made once
    def participants(self) -> frozenset[uuid.UUID]:
        """Live: the members present. Async: every member of the circle."""
        return frozenset(self.present) if self.mode == "live" else self.members

    @property
    def open_objections(self) -> tuple[Objection, ...]:
        return tuple(o for o in self.objections if o.status == "open")

    @property
    def speakers(self) -> tuple[uuid.UUID, ...]:
        """Who takes turns in a live round, in order: those present, except the author in the
        clarifying round, who answers the questions instead of asking."""
        if self.phase == CLARIFYING:
            return tuple(m for m in self.present if m != self.author)
        return self.present

    @property
    def whose_turn(self) -> uuid.UUID | None:
        speakers = self.speakers
        if self.mode != "live" or self.phase not in TURN_PHASES or not speakers:
            return None
        return speakers[self.turn % len(speakers)]

    @property
    def round_complete(self) -> bool:
        """Everyone taking turns in this live round has had one: in the consent round, everyone
        present has responded. The turn may still go round again (a late question, someone who
        passed), but the page says the round is complete rather than "your turn" again."""
        if self.whose_turn is None:
            return False
        if self.phase == CONSENTING:
            return all(m in self.responses for m in self.participants)
        return self.turn >= len(self.speakers)

    @property
    def quorum_needed(self) -> int:
        """The least number of members taking part for a decision: the circle's quorum (by
        default a majority), and never more than the circle has members."""
        wanted = self.quorum if self.quorum is not None else len(self.members) // 2 + 1
        return min(wanted, len(self.members))

    @property
    def taking_part(self) -> int:
        """Live: the members present. Async: those who responded (silence is not taking part)."""
        if self.mode == "live":
            return len(self.present)
        return sum(1 for m in self.members if self.responses.get(m) not in (None, "silent"))

    def consented(self) -> bool:
        """No objection is open and everyone taking part gave a response that does not block,
        at least one of them consent: a round where all stand aside decides nothing."""
        given = [self.responses.get(p) for p in self.participants]
        return not self.open_objections and all(r in NOT_BLOCKING for r in given) and any(r in AGREEING for r in given)


NEEDS_REASON = N_("An objection needs a reason: say what harm you see, or how it keeps the circle from its aim.")


def _text(value: str, name: str, code: str = "invalid", required: bool = True) -> str:
    """What was said, by the one text rule; an objection without a reason is not yet one."""
    text = clean_text(value, name, MAX_TEXT)
    if required and not text:
        if code == "objection_needs_reason":
            raise Refusal(code, _(NEEDS_REASON), 409)
        raise bad_field(name, _("{Field} must not be empty."), code)
    return text


def _member(proposal: Proposal, value: str, name: str) -> uuid.UUID:
    try:
        member = uuid.UUID(value)
    except ValueError as exc:
        raise bad_field(name, _("{Field} is not a member's id.")) from exc
    if member not in proposal.members:
        raise bad_field(name, _("{Field} is not a member of this circle."), "not_a_participant", 409)
    return member


def apply(proposal: Proposal, actor: uuid.UUID, action: Action) -> tuple[Proposal, list[Event]]:
    """The new state and its events, or Refusal. Never changes `proposal`."""
    if actor not in proposal.members:
        raise Refusal("not_a_participant", _("Only members of the proposal's circle take part."), status=403)
    if proposal.phase not in PHASES_FOR[action.type]:
        raise Refusal(
            "wrong_phase",
            _("{type} is not possible while the proposal is {phase}.").format(type=action.type, phase=proposal.phase),
            409,
        )

    speaker = actor
    if isinstance(action, actions.Spoken) and action.on_behalf_of is not None:
        if actor not in proposal.movers:
            raise Refusal("not_facilitator", _("Only the facilitator records responses for someone else."), status=403)
        speaker = _member(proposal, action.on_behalf_of, "on_behalf_of")
        if proposal.mode != "live" or speaker not in proposal.participants:
            # Only for someone in the room without a device: the record must not show a
            # response from someone who was not there to give it.
            raise Refusal(
                "not_present",
                _("A response is recorded for someone else only in a live meeting, for a member marked present."),
                409,
            )

    new, produced = _HANDLERS[action.type](proposal, actor, action, speaker)
    if speaker != actor:  # recorded by the facilitator for someone without a device
        produced = [msgspec.structs.replace(event, recorded_by=str(actor)) for event in produced]
    return replace(new, seq=proposal.seq + len(produced)), produced


def _require_mover(proposal: Proposal, actor: uuid.UUID) -> None:
    if actor not in proposal.movers:
        raise Refusal(
            "not_facilitator",
            _("Only the facilitator moves the process (or the author, where the circle has no facilitator)."),
            status=403,
        )


def _require_participant(proposal: Proposal, speaker: uuid.UUID) -> None:
    if speaker not in proposal.participants:
        raise Refusal("not_present", _("Join the meeting first: in a live round only those present respond."), 409)


def _require_turn(proposal: Proposal, speaker: uuid.UUID) -> None:
    if proposal.mode == "live" and proposal.whose_turn != speaker:
        raise Refusal("not_your_turn", _("It is someone else's turn in this round."), 409)


def _next_turn(proposal: Proposal) -> Proposal:
    return replace(proposal, turn=proposal.turn + 1) if proposal.mode == "live" else proposal


def _new_round(proposal: Proposal, phase: str) -> Proposal:
    return replace(proposal, phase=phase, round=proposal.round + 1, turn=0, responses={}, responded=frozenset())


def _start(p: Proposal, actor: uuid.UUID, _a: actions.Start, _s: uuid.UUID) -> tuple[Proposal, list[Event]]:
    """A proposal opens with its clarifying round; a selection with its nomination round."""
    _require_mover(p, actor)
    first = NOMINATING if p.kind == SELECTION else CLARIFYING
    return _new_round(p, first), [events.PhaseChanged(from_=DRAFT, to=first, round=p.round + 1)]


def _advance(p: Proposal, actor: uuid.UUID, a: actions.Advance, _s: uuid.UUID) -> tuple[Proposal, list[Event]]:
    _require_mover(p, actor)
    if p.phase in NEXT_PHASE:
        to = a.to or NEXT_PHASE[p.phase]
        if to != NEXT_PHASE[p.phase] and p.kind != REVIEW:
            raise Refusal("not_a_review", _("Only a review may skip the clarifying and reaction rounds."), 409)
        if p.phase == NOMINATING:
            return _close_nominations(p)
        return _new_round(p, to), [events.PhaseChanged(from_=p.phase, to=to, round=p.round + 1)]
    if a.to is not None:
        raise Refusal(
            "wrong_phase", _("advance to {to}: the proposal is {phase} already.").format(to=a.to, phase=p.phase), 409
        )
    return close_consent_round(p)


def close_consent_round(p: Proposal, silence_is_consent: bool = False) -> tuple[Proposal, list[Event]]:
    """Ends a consent round: decided when everyone agreed and nothing is open; integration
    when an objection is open; otherwise the round is not complete. `silence_is_consent`
    is the circle's async policy, applied at the deadline: each silent member is recorded as
    silent, never as consenting."""
    if p.open_objections:
        return replace(p, phase=INTEGRATING, turn=0), [
            events.PhaseChanged(
                from_=CONSENTING, to=INTEGRATING, round=p.round, open_objections=[o.id for o in p.open_objections]
            )
        ]
    silent = sorted(p.participants - p.responses.keys()) if silence_is_consent else []
    p = replace(p, responses={**p.responses, **dict.fromkeys(silent, "silent")})
    missing = [m for m in p.participants if m not in p.responses]
    if missing:
        raise Refusal(
            "round_incomplete", _("{len} participant(s) have not responded yet.").format(len=len(missing)), 409
        )
    if p.taking_part < p.quorum_needed:
        raise Refusal(
            "no_quorum",
            _(
                "{taking_part} of the {quorum_needed} members this circle needs are taking part: a decision needs its quorum."
            ).format(taking_part=p.taking_part, quorum_needed=p.quorum_needed),
            409,
        )
    if not p.consented():
        raise Refusal("round_incomplete", _("Everyone stood aside: a decision needs at least one consent."), 409)
    recorded: list[Event] = [
        events.Responded(member=str(m), kind="silent", revision=p.revision, round=p.round) for m in silent
    ]
    return replace(p, phase=DECIDED), [*recorded, events.Decided(revision=p.revision, round=p.round)]


def _move_turn(
    p: Proposal, actor: uuid.UUID, a: actions.Skip | actions.Back, _s: uuid.UUID
) -> tuple[Proposal, list[Event]]:
    """The facilitator moves on from someone who is not ready (`skip`) or goes back one (`back`)."""
    _require_mover(p, actor)
    if p.whose_turn is None:
        raise Refusal("no_turns", _("Turns are taken only in a live round with someone present."), 409)
    skipped = isinstance(a, actions.Skip)
    if not skipped and p.turn == 0:
        raise Refusal("no_turns", _("This is the round's first turn; there is none to go back to."), 409)
    moved = replace(p, turn=p.turn + (1 if skipped else -1))
    return moved, [events.TurnMoved(from_=str(p.whose_turn), to=str(moved.whose_turn), round=p.round, skipped=skipped)]


def _question(p: Proposal, _actor: uuid.UUID, a: actions.Question, s: uuid.UUID) -> tuple[Proposal, list[Event]]:
    if s == p.author:
        raise Refusal("author_answers", _("In the clarifying round the author answers; the others ask."), 409)
    _require_participant(p, s)
    _require_turn(p, s)
    text = _text(a.text, "text")
    question_id = f"q{len(p.questions) + 1}"
    new = replace(p, questions={**p.questions, question_id: s}, responded=p.responded | {s})
    return _next_turn(new), [events.QuestionAsked(question_id=question_id, member=str(s), text=text, round=p.round)]


def _answer(p: Proposal, actor: uuid.UUID, a: actions.Answer, _s: uuid.UUID) -> tuple[Proposal, list[Event]]:
    if actor != p.author:
        raise Refusal("not_author", _("Clarifying questions are answered by the proposal's author."), status=403)
    if a.question_id not in p.questions:
        raise bad_field("question_id", _(actions.NO_SUCH_QUESTION), "no_such_question")
    return p, [events.QuestionAnswered(question_id=a.question_id, text=_text(a.text, "text"))]


def _reaction(p: Proposal, _actor: uuid.UUID, a: actions.Reaction, s: uuid.UUID) -> tuple[Proposal, list[Event]]:
    _require_participant(p, s)
    _require_turn(p, s)
    if s in p.responded:
        raise Refusal("already_responded", _("You already reacted in this round."), 409)
    text = _text(a.text, "text")
    return _next_turn(replace(p, responded=p.responded | {s})), [
        events.ReactionGiven(member=str(s), text=text, round=p.round)
    ]


def _pass(p: Proposal, _actor: uuid.UUID, _a: actions.Pass, s: uuid.UUID) -> tuple[Proposal, list[Event]]:
    _require_participant(p, s)
    _require_turn(p, s)
    return _next_turn(replace(p, responded=p.responded | {s})), [events.Passed(member=str(s), round=p.round)]


def _consent_response(p: Proposal, _actor: uuid.UUID, a: actions.Said, s: uuid.UUID) -> tuple[Proposal, list[Event]]:
    if p.mode == "live" and s not in p.participants and isinstance(a, actions.Object):
        return _early_objection(p, a, s)
    if p.phase != CONSENTING:
        raise Refusal(
            "wrong_phase",
            _("{type} is not possible while the proposal is {phase}.").format(type=a.type, phase=p.phase),
            409,
        )
    _require_participant(p, s)
    _require_turn(p, s)
    if s in p.responses:
        raise Refusal("already_responded", _("You already gave your consent response on this revision."), 409)
    response = events.Responded(member=str(s), kind=a.type, revision=p.revision, round=p.round)
    objections = p.objections
    if isinstance(a, actions.Object):
        text = _text(a.text, "text", code="objection_needs_reason")
        objection = Objection(id=f"o{len(p.objections) + 1}", author=s, text=text, revision=p.revision)
        response = msgspec.structs.replace(response, text=objection.text, objection_id=objection.id)
        objections = (*objections, objection)
    elif isinstance(a, actions.Concern) or a.text:  # a concern says what it is; consent and standing aside may
        response = msgspec.structs.replace(response, text=_text(a.text, "text"))
    new = replace(p, responses={**p.responses, s: a.type}, responded=p.responded | {s}, objections=objections)
    produced: list[Event] = [response]
    if new.mode == "async" and new.consented():  # everyone has agreed: nothing to wait for
        new, decided = close_consent_round(new)
        produced += decided
    return _next_turn(new), produced


def _early_objection(p: Proposal, a: actions.Object, s: uuid.UUID) -> tuple[Proposal, list[Event]]:
    """A live proposal takes an objection from a member who cannot attend, at any time
    before a decision; it is open in the meeting like any other."""
    text = _text(a.text, "text", code="objection_needs_reason")
    objection = Objection(id=f"o{len(p.objections) + 1}", author=s, text=text, revision=p.revision)
    return replace(p, objections=(*p.objections, objection)), [
        events.Responded(
            member=str(s),
            kind="object",
            text=text,
            objection_id=objection.id,
            revision=p.revision,
            round=p.round,
            early=True,
        )
    ]


def deadline(p: Proposal, silence_is_consent: bool) -> tuple[Proposal, list[Event]]:
    """An async proposal's deadline has come: decided if the circle's rule holds (no open
    objection, and everyone agreed or silence counts as consent), integration if an objection
    is open, otherwise it is taken into the next live meeting."""
    if p.mode != "async" or p.phase not in OPEN_PHASES:
        return p, []
    if p.phase in (NOMINATING, CHANGING):
        return _selection_deadline(p)
    if p.phase == CONSENTING:
        try:
            closed, produced = close_consent_round(p, silence_is_consent)
        except Refusal:
            pass
        else:
            outcome = DECIDED if closed.phase == DECIDED else INTEGRATING
            return replace(closed, seq=p.seq + 1 + len(produced)), [events.DeadlinePassed(outcome=outcome), *produced]
    return replace(p, mode="live", seq=p.seq + 1), [events.DeadlinePassed(outcome="next_meeting")]


def member_left(p: Proposal, member: uuid.UUID, removed_by: uuid.UUID | None = None) -> tuple[Proposal, list[Event]]:
    """A member left the circle, or a steward (`removed_by`) removed them: their open
    objections lapse, on the record; they are no longer present, as if they had left the
    room; what they said stays in the record. An async consent round then waits for them no
    more: it is decided at once if everyone remaining has agreed; and an integration whose
    last open objection was theirs goes back to the consent round."""
    lapsed = [o.id for o in p.open_objections if o.author == member]
    objections = tuple(replace(o, status="lapsed") if o.id in lapsed else o for o in p.objections)
    new = replace(p, members=p.members - {member}, objections=objections)
    new, _absent = _presence(new, member, actions.Absent(client_id="member_left"), member)
    left: list[Event] = [
        events.MemberLeft(
            member=str(member), lapsed=lapsed, recorded_by=str(removed_by) if removed_by else msgspec.UNSET
        )
    ]
    if p.candidate == member and p.phase in (CONSENTING, INTEGRATING):
        # A selection's candidate left the circle: the circle goes back to its change round.
        new = _new_round(replace(new, candidate=None), CHANGING)
        produced = [*left, events.PhaseChanged(from_=p.phase, to=CHANGING, round=new.round)]
    else:
        new, produced = _objection_closed(new, left)
    return replace(new, seq=p.seq + len(produced)), produced


def _withdraw_objection(
    p: Proposal, _actor: uuid.UUID, a: actions.WithdrawObjection, s: uuid.UUID
) -> tuple[Proposal, list[Event]]:
    objection = _objection(p, a.objection_id)
    if objection.author != s:
        raise Refusal(
            "not_objection_author", _("Only its author withdraws an objection: it is never overruled."), status=403
        )
    # Their objection was their response in this round: they respond again.
    withdrawn = replace(
        p,
        objections=_with(p, objection, status="withdrawn"),
        responses={m: kind for m, kind in p.responses.items() if not (m == s and kind == "object")},
        responded=p.responded - {s} if p.responses.get(s) == "object" else p.responded,
    )
    return _objection_closed(withdrawn, [events.ObjectionWithdrawn(objection_id=objection.id, member=str(s))])


def _objection_closed(p: Proposal, produced: list[Event]) -> tuple[Proposal, list[Event]]:
    """An objection closed without an amendment: with none left to integrate, the consent round
    on the same revision goes on (everyone's responses stand); async, it decides once all agree."""
    if p.phase == INTEGRATING and not p.open_objections:
        p = replace(p, phase=CONSENTING)
        produced = [*produced, events.PhaseChanged(from_=INTEGRATING, to=CONSENTING, round=p.round)]
    if p.mode == "async" and p.phase == CONSENTING and p.consented():
        p, decided = close_consent_round(p)
        produced = [*produced, *decided]
    return p, produced


def _objection(p: Proposal, objection_id: str) -> Objection:
    objection = next((o for o in p.objections if o.id == objection_id), None)
    if objection is None:
        raise bad_field("objection_id", _(actions.NO_SUCH_OBJECTION), "no_such_objection")
    if objection.status != "open":
        raise Refusal("objection_closed", _("This objection is already {status}.").format(status=objection.status), 409)
    return objection


def _with(p: Proposal, objection: Objection, **changes: Any) -> tuple[Objection, ...]:
    return tuple(replace(o, **changes) if o.id == objection.id else o for o in p.objections)


def _test_objection(
    p: Proposal, actor: uuid.UUID, a: actions.TestObjection, _s: uuid.UUID
) -> tuple[Proposal, list[Event]]:
    """The facilitator asks the objector to check the objection against the circle's aim and
    domain; only the objector answers, by keeping it or making it a concern."""
    _require_mover(p, actor)
    objection = _objection(p, a.objection_id)
    if objection.test is not None:
        raise Refusal("objection_tested", _("This objection was tested already; its author kept it."), 409)
    return replace(p, objections=_with(p, objection, test="asked")), [
        events.ObjectionTested(objection_id=objection.id, member=str(objection.author))
    ]


def _answer_test(
    p: Proposal, _actor: uuid.UUID, a: actions.KeepObjection | actions.ObjectionToConcern, s: uuid.UUID
) -> tuple[Proposal, list[Event]]:
    objection = _objection(p, a.objection_id)
    if objection.author != s:
        raise Refusal("not_objection_author", _("Only its author answers the test of an objection."), status=403)
    if objection.test != "asked":
        raise Refusal("objection_not_tested", _("The facilitator has not asked to test this objection."), 409)
    if isinstance(a, actions.KeepObjection):
        return replace(p, objections=_with(p, objection, test="kept")), [
            events.ObjectionKept(objection_id=objection.id, member=str(s))
        ]
    # Now a concern: recorded, and no longer blocking. Their response this round says so too.
    responses = {**p.responses, s: "concern"} if p.responses.get(s) == "object" else p.responses
    return _objection_closed(
        replace(p, objections=_with(p, objection, test="concern", status="concern"), responses=responses),
        [events.ObjectionBecameConcern(objection_id=objection.id, member=str(s))],
    )


def _change_mode(p: Proposal, actor: uuid.UUID, a: actions.ChangeMode, _s: uuid.UUID) -> tuple[Proposal, list[Event]]:
    """The facilitator takes an async proposal into a live meeting, or a live one out to the
    members who cannot attend (with a deadline); the record says when and why."""
    _require_mover(p, actor)
    if a.mode == p.mode:
        raise bad_field("mode", _("The proposal is {mode} already.").format(mode=p.mode))
    if a.mode == "async" and a.closes_at is None:
        raise bad_field("closes_at", _("{Field}: an async proposal needs one."))
    changed = events.ModeChanged(
        from_=p.mode,
        to=a.mode,
        reason=_text(a.reason, "reason", required=False),
        closes_at=a.closes_at.isoformat() if a.mode == "async" and a.closes_at else msgspec.UNSET,
    )
    return replace(p, mode=a.mode, turn=0), [changed]


def _amend(p: Proposal, actor: uuid.UUID, a: actions.Amend, _s: uuid.UUID) -> tuple[Proposal, list[Event]]:
    if p.kind == SELECTION:
        return _amend_selection(p, actor, a)
    if a.candidate_id is not None or a.term_ends_on is not None:
        raise bad_field("candidate_id", _("{Field}: only a selection has a candidate and a term."))
    if actor != p.author:
        if actor not in p.movers:
            raise Refusal(
                "not_author", _("Only the proposal's author, or the facilitator with their agreement, amends it."), 403
            )
        if not a.author_agreed:  # the author's proposal changes only as they agree: it says so on the record
            raise Refusal(
                "author_agreement_needed",
                _("The facilitator amends the proposal only with its author's agreement."),
                409,
            )
    text = _text(a.text, "text")
    driver = _text(a.driver, "driver", required=False)
    criteria = clean_criteria(a.criteria) if a.criteria is not None else msgspec.UNSET
    items = (
        [i.data() for i in item_rules.clean_items(a.action_items, p.members)]
        if a.action_items is not None
        else msgspec.UNSET
    )
    return _amended(p, actor, a, text, driver=driver or msgspec.UNSET, criteria=criteria, action_items=items)


def _amend_selection(p: Proposal, actor: uuid.UUID, a: actions.Amend) -> tuple[Proposal, list[Event]]:
    """A selection is amended only to integrate an objection, by the facilitator or whoever
    opened it: another candidate, another end of the term, or both. Its text is made of them
    (by the service, which knows the names)."""
    if actor != p.author:
        _require_mover(p, actor)
    if p.phase != INTEGRATING:
        raise Refusal("wrong_phase", _("A selection is amended only to integrate an objection."), 409)
    if a.review_by is not None or a.criteria is not None:
        raise bad_field("review_by", _("{Field}: a selection's is the end of the term; amend that."))
    if a.candidate_id is None and a.term_ends_on is None:
        raise bad_field(
            "candidate_id",
            _("{Field}: amend a selection by another candidate, another term, or both."),
            "candidate_needed",
        )
    candidate = _nominee(p, a.candidate_id) if a.candidate_id is not None else p.candidate
    return _amended(
        replace(p, candidate=candidate),
        actor,
        a,
        "",
        candidate=str(candidate) if a.candidate_id is not None else msgspec.UNSET,
        term_ends_on=a.term_ends_on.isoformat() if a.term_ends_on else msgspec.UNSET,
    )


def _amended(
    p: Proposal, actor: uuid.UUID, a: actions.Amend, text: str, **changes: Any
) -> tuple[Proposal, list[Event]]:
    """The new revision; amending during integration integrates the open objections and
    opens a consent round on it."""
    revision = p.revision + 1
    integrated = [o.id for o in p.open_objections] if p.phase == INTEGRATING else []
    objections = tuple(
        replace(o, status="integrated", integrated_by=revision) if o.id in integrated else o for o in p.objections
    )
    if p.mode == "async" and p.phase == INTEGRATING and a.closes_at is None:
        raise bad_field("closes_at", _("{Field}: the consent round on the amendment needs one."))
    produced: list[Event] = [
        events.Amended(
            revision=revision,
            text=text,
            integrates=integrated,
            review_by=a.review_by.isoformat() if a.review_by else msgspec.UNSET,
            closes_at=a.closes_at.isoformat() if p.mode == "async" and a.closes_at else msgspec.UNSET,
            author_agreed=True if actor != p.author and p.kind != SELECTION else msgspec.UNSET,
            **changes,
        )
    ]
    new = replace(p, revision=revision, objections=objections)
    if p.phase == INTEGRATING:  # everyone consents again, on the new revision
        new = _new_round(new, CONSENTING)
        produced.append(events.PhaseChanged(from_=INTEGRATING, to=CONSENTING, round=new.round))
    return new, produced


def _not_adopted(p: Proposal, actor: uuid.UUID, a: actions.NotAdopted, _s: uuid.UUID) -> tuple[Proposal, list[Event]]:
    _require_mover(p, actor)
    return replace(p, phase=NOT_ADOPTED), [events.NotAdopted(reason=_text(a.reason, "reason"))]


def _withdraw(p: Proposal, actor: uuid.UUID, a: actions.Withdraw, _s: uuid.UUID) -> tuple[Proposal, list[Event]]:
    if actor != p.author and actor not in p.facilitators:
        raise Refusal("not_allowed", _("Only the author or the facilitator withdraws a proposal."), status=403)
    return replace(p, phase=WITHDRAWN), [events.Withdrawn(reason=_text(a.reason, "reason", required=False))]


def _presence(p: Proposal, actor: uuid.UUID, a: actions.Presence, s: uuid.UUID) -> tuple[Proposal, list[Event]]:
    member = s
    if a.member_id not in (None, str(actor)):
        _require_mover(p, actor)
        member = _member(p, a.member_id, "member_id")
    present = list(p.present)
    arrived = isinstance(a, actions.Present)
    if arrived:
        if member in present:
            return p, []  # already here: nothing happened, no event
        present.append(member)
    else:
        if member not in present:
            return p, []
        present.remove(member)
        speakers = p.speakers
        # keep the turn on the same person when someone before them leaves
        if member in speakers and len(speakers) > 1 and speakers.index(member) < p.turn % len(speakers):
            p = replace(p, turn=p.turn - 1)
    event = (events.Present if arrived else events.Absent)(member=str(member), recorded_by=str(actor))
    return replace(p, present=tuple(present)), [event]


def _nominee(p: Proposal, value: str) -> uuid.UUID:
    if not value.strip():
        raise bad_field("candidate_id", _("{Field}: name a member of the circle."), "candidate_needed")
    return _member(p, value, "candidate_id")


def _nominate(
    p: Proposal, _actor: uuid.UUID, a: actions.Nominate | actions.ChangeNomination, s: uuid.UUID
) -> tuple[Proposal, list[Event]]:
    """A nomination, in turn when live. Async, its candidate and reason stay out of the event
    until the nomination period closes; in the change round anyone may change theirs (live:
    in turn, once), and it is heard at once."""
    _require_participant(p, s)
    _require_turn(p, s)
    changing = isinstance(a, actions.ChangeNomination)
    if s in p.responded and (not changing or p.mode == "live"):
        raise Refusal("already_responded", _("You already spoke in this round."), 409)
    candidate = _nominee(p, a.candidate_id)
    reason = _text(a.reason, "reason", code="nomination_needs_reason")
    new = _next_turn(
        replace(
            p,
            nominations={
                **p.nominations,
                s: Nomination(candidate, reason, changing or not selection.hidden(p.mode, p.phase)),
            },
            responded=p.responded | {s},
        )
    )
    if changing:
        return new, [events.NominationChanged(member=str(s), candidate=str(candidate), reason=reason, round=p.round)]
    said = events.Nominated(member=str(s), round=p.round)
    if not selection.hidden(p.mode, p.phase):
        said = msgspec.structs.replace(said, candidate=str(candidate), reason=reason)
    if p.mode == "async" and new.members <= new.responded:  # everyone has spoken: nothing to wait for
        new, closed = _close_nominations(new)
        return new, [said, *closed]
    return new, [said]


def _close_nominations(p: Proposal) -> tuple[Proposal, list[Event]]:
    """The nomination round ends: every nomination is heard, then the change round opens."""
    heard = [
        {"member": str(m), "candidate": str(n.candidate), "reason": n.reason}
        for m, n in sorted(p.nominations.items(), key=lambda item: str(item[0]))
    ]
    said = {m: replace(n, heard=True) for m, n in p.nominations.items()}  # async ones too, now
    new = replace(_new_round(p, CHANGING), nominations=said)
    return new, [
        events.NominationsRevealed(nominations=heard),
        events.PhaseChanged(from_=NOMINATING, to=CHANGING, round=new.round),
    ]


def _selection_deadline(p: Proposal) -> tuple[Proposal, list[Event]]:
    """Async: the nomination period's end opens the change round; the change round's end
    leaves the proposal of a candidate to the facilitator."""
    if p.phase == NOMINATING:
        new, produced = _close_nominations(p)
        return replace(new, seq=p.seq + 1 + len(produced)), [events.DeadlinePassed(outcome=CHANGING), *produced]
    return replace(p, seq=p.seq + 1), [events.DeadlinePassed(outcome="awaiting_candidate")]


def _propose_candidate(
    p: Proposal, actor: uuid.UUID, a: actions.ProposeCandidate, _s: uuid.UUID
) -> tuple[Proposal, list[Event]]:
    """The facilitator proposes a candidate, with the reasons heard: the selection's next
    revision, and its consent round."""
    _require_mover(p, actor)
    candidate = _nominee(p, a.candidate_id)
    if p.mode == "async" and a.closes_at is None:
        raise bad_field("closes_at", _("{Field}: the consent round needs one."))
    new = _new_round(replace(p, candidate=candidate, revision=p.revision + 1), CONSENTING)
    return new, [
        events.CandidateProposed(
            candidate=str(candidate),
            revision=new.revision,
            closes_at=a.closes_at.isoformat() if p.mode == "async" and a.closes_at else msgspec.UNSET,
        ),
        events.PhaseChanged(from_=CHANGING, to=CONSENTING, round=new.round),
    ]


_HANDLERS: Mapping[str, Callable[[Proposal, uuid.UUID, Any, uuid.UUID], tuple[Proposal, list[Event]]]] = {
    "start": _start,
    "advance": _advance,
    "question": _question,
    "answer": _answer,
    "reaction": _reaction,
    "pass": _pass,
    "consent": _consent_response,
    "concern": _consent_response,
    "object": _consent_response,
    "stand_aside": _consent_response,
    "withdraw_objection": _withdraw_objection,
    "amend": _amend,
    "not_adopted": _not_adopted,
    "withdraw": _withdraw,
    "present": _presence,
    "absent": _presence,
    "skip": _move_turn,
    "back": _move_turn,
    "test_objection": _test_objection,
    "keep_objection": _answer_test,
    "objection_to_concern": _answer_test,
    "change_mode": _change_mode,
    "nominate": _nominate,
    "change_nomination": _nominate,
    "propose_candidate": _propose_candidate,
}
# One of each action, with words and a deadline where it needs them (an amendment in async
# integration, a change to async), to find what the rules allow.
_SAMPLE = {"client_id": "available", "text": "-", "reason": "-", "closes_at": "2000-01-01T00:00:00+00:00"}
_SAMPLES = tuple(
    actions.decode({"type": action_type, **_SAMPLE}) for action_type in PHASES_FOR if action_type != "change_mode"
) + tuple(actions.decode({"type": "change_mode", "mode": mode, **_SAMPLE}) for mode in ("live", "async"))


# Why the process waits for a member (`expects`).
RESPOND, YOUR_TURN, CONSENT_AGAIN, INTEGRATING_YOURS = "respond", "your_turn", "consent_again", "your_objection"


def expects(p: Proposal, member: uuid.UUID) -> str | None:
    """Why the process waits for `member` now, or None: an async round they have not spoken in
    (the consent round on an amendment asks them to consent again), their turn in a live round,
    or their own objection while the proposal is amended to integrate it. The author asks no
    clarifying question, so that round does not wait for them."""
    if member not in p.members:
        return None
    if p.phase == INTEGRATING:
        return INTEGRATING_YOURS if any(o.author == member for o in p.open_objections) else None
    if p.mode == "live":
        return YOUR_TURN if p.whose_turn == member and not p.round_complete else None
    if p.phase not in NEXT_PHASE.keys() | {CONSENTING} or member in p.responded:
        return None
    if p.phase == CLARIFYING and member == p.author:
        return None
    return CONSENT_AGAIN if p.phase == CONSENTING and p.revision > 1 else RESPOND


def allows(p: Proposal, actor: uuid.UUID, action: Action) -> bool:
    """Whether the rules let `actor` take `action` now, found by trying it."""
    try:
        apply(p, actor, action)
    except Refusal as refusal:
        # allowed, given a real question or objection, or the author's agreement
        # (or a candidate)
        return refusal.code in {"no_such_question", "no_such_objection", "author_agreement_needed", "candidate_needed"}
    return True


def available(p: Proposal, actor: uuid.UUID) -> frozenset[str]:
    """The actions `actor` may take now, found by trying each one: the pages offer exactly
    what the rules allow, with no second copy of the rules."""
    return frozenset(sample.type for sample in _SAMPLES if allows(p, actor, sample))


def snapshot(p: Proposal) -> dict[str, Any]:
    """The state as JSON, for storage; author, members and facilitators come from the circle."""
    return {
        "mode": p.mode,
        "phase": p.phase,
        "revision": p.revision,
        "round": p.round,
        "present": [str(m) for m in p.present],
        "turn": p.turn,
        "responses": {str(m): kind for m, kind in p.responses.items()},
        "responded": sorted(str(m) for m in p.responded),
        "objections": [
            {
                "id": o.id,
                "author": str(o.author),
                "text": o.text,
                "revision": o.revision,
                "status": o.status,
                "integrated_by": o.integrated_by,
                "test": o.test,
            }
            for o in p.objections
        ],
        "questions": {q: str(m) for q, m in p.questions.items()},
        "seq": p.seq,
        "nominations": {
            str(m): {"candidate": str(n.candidate), "reason": n.reason, "heard": n.heard}
            for m, n in p.nominations.items()
        },
        "candidate": str(p.candidate) if p.candidate else None,
    }


def restore(
    data: Mapping[str, Any],
    author: uuid.UUID,
    members: frozenset[uuid.UUID],
    facilitators: frozenset[uuid.UUID],
    quorum: int | None = None,
    kind: str = "proposal",
) -> Proposal:
    """The state from its snapshot; who takes part (and the quorum) comes from the circle, the
    kind from the proposal."""
    return Proposal(
        kind=kind,
        mode=data["mode"],
        author=author,
        members=members,
        facilitators=facilitators,
        phase=data["phase"],
        revision=data["revision"],
        round=data["round"],
        present=tuple(uuid.UUID(m) for m in data["present"]),
        turn=data["turn"],
        responses={uuid.UUID(m): response for m, response in data["responses"].items()},
        responded=frozenset(uuid.UUID(m) for m in data["responded"]),
        objections=tuple(Objection(**{**o, "author": uuid.UUID(o["author"])}) for o in data["objections"]),
        questions={q: uuid.UUID(m) for q, m in data["questions"].items()},
        seq=data["seq"],
        quorum=quorum,
        # snapshots from before selections have neither
        nominations={
            uuid.UUID(m): Nomination(uuid.UUID(n["candidate"]), n["reason"], n["heard"])
            for m, n in data.get("nominations", {}).items()
        },
        candidate=uuid.UUID(data["candidate"]) if data.get("candidate") else None,
    )
