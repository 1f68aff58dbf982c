"""Request bodies and answers of the proposal API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

import msgspec

from consent.base.text import Text, Title
from rounds.actions import AnyAction


class NewProposal(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    driver: Text
    text: Text
    domain_id: uuid.UUID
    mode: Literal["live", "async"]
    review_by: date | None = None
    closes_at: datetime | None = None
    supersedes: uuid.UUID | None = None
    evaluation: Text = ""
    agreement: bool = False  # once decided, a standing agreement of the circle


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
    status: str  # open, integrated, withdrawn, or lapsed (its author left the circle)
    integrated_by: int | None


class ProposalOut(msgspec.Struct):
    id: str
    circle_id: str
    domain_id: str
    author: Ref
    title: str
    driver: str
    text: str
    evaluation: str
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
ACTION_SCHEMAS = list(msgspec.json.schema_components([AnyAction])[1].values())
