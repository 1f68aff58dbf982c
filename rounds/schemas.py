"""Request bodies and answers of the proposal API."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

import msgspec

from consent.base.errors import bad_field
from consent.base.i18n import gettext as _
from consent.base.text import Criteria, Moment, Name, Text, Title
from rounds.actions import AnyAction
from rounds.item_rules import ItemsIn


class NewProposal(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    driver: Text
    text: Text
    domain_id: uuid.UUID
    mode: Literal["live", "async"]
    review_by: date | None = None
    closes_at: Moment | None = None
    supersedes: uuid.UUID | None = None
    criteria: Criteria | None = None  # how the circle will know it works; a review assesses each
    evaluation: Text = ""  # the field before criteria: one criterion
    agreement: bool = False  # once decided, a standing agreement of the circle
    action_items: ItemsIn = []  # what it asks members to do, by when

    def all_criteria(self) -> list[str]:
        if self.criteria is not None and self.evaluation.strip():
            raise bad_field("evaluation", _("Give the evaluation criteria, or an evaluation, not both."))
        return self.criteria if self.criteria is not None else [self.evaluation] if self.evaluation.strip() else []


class NewSelection(msgspec.Struct, forbid_unknown_fields=True):
    """A selection of someone for a role of the circle, for a term (docs/selection.md)."""

    role: Name
    term_ends_on: date
    mode: Literal["live", "async"]
    description: Text = ""
    closes_at: Moment | None = None  # async: when the nomination period closes


# Answers of the proposal API: the same keys and values as services.describe and
# services.event_json build, typed, so that /schema/openapi.json documents them.


class Ref(msgspec.Struct):
    """A person, a circle or a domain: its id and name."""

    id: str
    name: str


class EventOut(msgspec.Struct):
    seq: int  # first: rounds.live reads it from the bytes
    type: str
    at: str
    actor: Ref | None  # none for the server's own events (deadlines)
    data: dict[str, Any]


class RevisionOut(msgspec.Struct):
    number: int
    driver: str
    text: str
    at: str


class RoundOut(msgspec.Struct):
    number: int
    phase: str
    turn: Ref | None  # in a live round: whose turn it is
    responded: list[str]
    complete: bool  # a live round where everyone taking turns has had one


class ParticipantOut(msgspec.Struct):
    id: str
    name: str
    present: bool
    response: str | None  # this round's consent response


class ObjectionOut(msgspec.Struct):
    id: str
    member: Ref
    text: str
    revision: int
    status: str  # open, integrated, withdrawn, concern (made one after the test), lapsed (its author left)
    integrated_by: int | None
    test: Literal["asked", "kept", "concern"] | None  # the objection test, where the facilitator asked for it


class Assessment(msgspec.Struct, forbid_unknown_fields=True):
    """How a decision did by one of its evaluation criteria, as its review says."""

    criterion: Text
    assessment: Text


class ReviewOfOut(msgspec.Struct):
    """What a review proposal reviews: the decision, the outcome proposed, the assessments."""

    id: str  # the review's
    decision: Ref  # its name is the decision's title
    outcome: Literal["reaffirm", "retire", "amend"]
    state: str  # open, consented, not_adopted, withdrawn
    assessments: list[Assessment]


class ItemChangeOut(msgspec.Struct, omit_defaults=True):
    """One change of an action item: to which state, by whom, when, and the note of a done."""

    state: Literal["accepted", "declined", "done"]
    by: Ref
    at: str
    note: str | None = None


class ActionItemOut(msgspec.Struct, omit_defaults=True):
    """What a proposal or decision asks someone (`owner`) to do, by when (`due_on`)."""

    id: str
    what: str
    owner: Ref
    due_on: str | None
    state: Literal["proposed", "accepted", "declined", "done"]
    overdue: bool  # open, and its due date has passed
    proposal_id: str  # the proposal that asked it
    decision: Ref | None  # once decided: the decision it belongs to (its name is the title)
    history: list[ItemChangeOut]
    note: str | None = None  # said when it was done


class ItemDone(msgspec.Struct, forbid_unknown_fields=True):
    note: Text = ""  # what was done, briefly


class NominationOut(msgspec.Struct):
    member: Ref
    candidate: Ref
    reason: str


class TallyOut(msgspec.Struct):
    candidate: Ref
    count: int


class SelectionOut(msgspec.Struct):
    """What a selection selects for, and where it stands. Async, the nominations are not given
    (`nominations_hidden`) until the nomination period closes: only how many were made."""

    role: str
    description: str
    term_ends_on: str
    candidate: Ref | None  # proposed by the facilitator
    nominations_hidden: bool
    nominated: int
    nominations: list[NominationOut]  # each member's current nomination, once heard
    tally: list[TallyOut]  # each candidate named and how many named them, most first


class ProposalOut(msgspec.Struct):
    id: str
    circle_id: str
    domain_id: str
    author: Ref
    title: str
    driver: str
    text: str
    kind: Literal["proposal", "review", "selection"]
    criteria: list[str]
    evaluation: str  # the criteria, one a line
    review: ReviewOfOut | None  # for a review
    selection: SelectionOut | None  # for a selection
    mode: str
    state: str
    revision: int
    seq: int
    review_by: str | None
    closes_at: str | None
    supersedes: str | None
    decision_id: str | None
    agreement: bool  # once decided, a standing agreement of the circle
    revisions: list[RevisionOut]
    action_items: list[ActionItemOut]
    round: RoundOut
    participants: list[ParticipantOut]
    facilitators: list[str]
    objections: list[ObjectionOut]
    responses: list[EventOut]


class ActedOut(msgspec.Struct):
    seq: int
    event: EventOut | None  # the first event; none for an action that changed nothing
    events: list[EventOut]


class EventsOut(msgspec.Struct):
    items: list[EventOut]


# The actions as the API's documentation shows them, one schema each, told apart by `type`.
# The API decodes an action itself (rounds.actions.decode), so that a malformed one is
# answered with its own refusal code; these schemas are what it accepts.
# The parts they share (an amendment's action items) are written into each, since the document
# has no place for msgspec's own definitions.


def inlined(schema: Any, parts: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return inlined(parts[ref.removeprefix("#/$defs/")], parts)
        return {key: inlined(value, parts) for key, value in schema.items()}
    if isinstance(schema, list):
        return [inlined(value, parts) for value in schema]
    return schema


_ACTIONS = msgspec.json.schema_components([AnyAction])[1]
ACTION_SCHEMAS = [inlined(s, _ACTIONS) for s in _ACTIONS.values() if "type" in s.get("properties", {})]
