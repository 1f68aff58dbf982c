"""What the state machine says happened: one struct per event type (API.md and
docs/consent-process.md name them and their fields). An event is stored and sent as
`type` and `data`, its fields; `row` makes the two, once, when it is recorded."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType


class Event(msgspec.Struct, tag_field="type", kw_only=True, frozen=True):
    recorded_by: str | UnsetType = UNSET  # who took the action, where it is not the member it names

    @property
    def type(self) -> str:
        return self.__struct_config__.tag  # type: ignore[return-value]


class PhaseChanged(Event, tag="phase_changed", frozen=True):
    from_: str = msgspec.field(name="from")
    to: str
    round: int
    open_objections: list[str] | UnsetType = UNSET  # into integration: the objections to integrate
    # Into the consent round: the review date consented to with the proposal (none for a retirement).
    review_by: str | UnsetType = UNSET
    closes_at: str | UnsetType = UNSET  # into an async selection's change round: its deadline


class Decided(Event, tag="decided", frozen=True):
    revision: int
    round: int


class TurnMoved(Event, tag="turn_moved", frozen=True):
    from_: str = msgspec.field(name="from")
    to: str
    round: int
    skipped: bool


class QuestionAsked(Event, tag="question_asked", frozen=True):
    question_id: str
    member: str
    text: str
    round: int


class QuestionAnswered(Event, tag="question_answered", frozen=True):
    question_id: str
    text: str


class ReactionGiven(Event, tag="reaction_given", frozen=True):
    member: str
    text: str
    round: int


class Passed(Event, tag="passed", frozen=True):
    member: str
    round: int


class Responded(Event, tag="responded", frozen=True):
    member: str
    kind: str  # consent, concern, object or stand_aside
    revision: int
    round: int
    text: str | UnsetType = UNSET
    objection_id: str | UnsetType = UNSET
    early: bool | UnsetType = UNSET  # an objection before the round, from someone who cannot attend


class DeadlinePassed(Event, tag="deadline_passed", frozen=True):
    outcome: str  # decided, integrating or next_meeting


class ObjectionWithdrawn(Event, tag="objection_withdrawn", frozen=True):
    objection_id: str
    member: str


class Amended(Event, tag="amended", frozen=True):
    revision: int
    text: str
    integrates: list[str]
    driver: str | UnsetType = UNSET
    review_by: str | UnsetType = UNSET
    criteria: list[str] | UnsetType = UNSET
    action_items: list[dict[str, Any]] | UnsetType = UNSET  # the new items: [{what, owner, due_on}]
    closes_at: str | UnsetType = UNSET  # async: the new deadline
    author_agreed: bool | UnsetType = UNSET  # the facilitator amended, with the author's agreement
    candidate: str | UnsetType = UNSET  # a selection's new candidate
    term_ends_on: str | UnsetType = UNSET  # a selection's new end of the term


class Nominated(Event, tag="nominated", frozen=True):
    """A nomination in a selection. Async, whom and why are not in the event (nor sent to
    anyone) until the nomination period closes: `nominations_revealed` says them then."""

    member: str
    round: int
    candidate: str | UnsetType = UNSET
    reason: str | UnsetType = UNSET


class NominationChanged(Event, tag="nomination_changed", frozen=True):
    member: str
    candidate: str
    reason: str
    round: int


class NominationsRevealed(Event, tag="nominations_revealed", frozen=True):
    """The nomination round closed: every nomination, with its reason."""

    nominations: list[dict[str, str]]  # [{member, candidate, reason}]


class CandidateProposed(Event, tag="candidate_proposed", frozen=True):
    """The facilitator proposes a candidate: the selection's text becomes this revision."""

    candidate: str
    revision: int
    text: str = ""  # written by the service, which knows the names
    closes_at: str | UnsetType = UNSET  # async: the consent round's deadline


class ObjectionTested(Event, tag="objection_tested", frozen=True):
    """The facilitator asked the objector to check the objection against the aim and domain."""

    objection_id: str
    member: str


class ObjectionKept(Event, tag="objection_kept", frozen=True):
    objection_id: str
    member: str


class ObjectionBecameConcern(Event, tag="objection_became_concern", frozen=True):
    objection_id: str
    member: str


class ModeChanged(Event, tag="mode_changed", frozen=True):
    from_: str = msgspec.field(name="from")
    to: str
    reason: str
    closes_at: str | UnsetType = UNSET  # into async: the deadline


class NotAdopted(Event, tag="not_adopted", frozen=True):
    reason: str


class Withdrawn(Event, tag="withdrawn", frozen=True):
    reason: str


class Present(Event, tag="present", frozen=True):
    member: str


class Absent(Event, tag="absent", frozen=True):
    member: str


class MemberLeft(Event, tag="member_left", frozen=True):
    """A member left the circle, or a steward removed them (then `recorded_by`)."""

    member: str
    lapsed: list[str]  # their objections that were open: they lapse, on the record


def row(event: Event) -> tuple[str, dict[str, Any]]:
    """The event's type, and its data as the event table and API.md hold it."""
    data = msgspec.to_builtins(event)
    return data.pop("type"), data


# The events that are someone's contribution to a round: the rounds the pages list.
RESPONSE_TYPES = frozenset(
    {
        "question_asked",
        "question_answered",
        "reaction_given",
        "passed",
        "responded",
        "nominated",
        "nomination_changed",
    }
)
