"""Request bodies and answers of the meeting API (API.md: meetings)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from consent.base.text import Moment
from rounds.meetings import rules, services
from rounds.schemas import ActionItemOut, Ref, inlined


class AgendaEntry(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One item: a proposal of the circle, a decision of it to review, or a free item's title."""

    proposal_id: uuid.UUID | None = None
    decision_id: uuid.UUID | None = None
    title: Annotated[str, msgspec.Meta(max_length=400)] | None = None


class NewMeeting(msgspec.Struct, forbid_unknown_fields=True):
    starts_at: Moment
    place: Annotated[str, msgspec.Meta(max_length=2 * services.MAX_PLACE)] = ""  # a room, or a call's link
    minutes_long: Annotated[int, msgspec.Meta(ge=10, le=12 * 60)] = 90  # for calendars
    agenda: Annotated[list[AgendaEntry], msgspec.Meta(max_length=services.MAX_ITEMS)] = []

    def items(self) -> list[services.AgendaIn]:
        return [services.AgendaIn(e.proposal_id, e.decision_id, e.title) for e in self.agenda]


class AgendaItemOut(msgspec.Struct):
    position: int
    kind: Literal["proposal", "review", "free"]
    title: str
    proposal_id: str | None  # a proposal (or selection, or review) run live in its own room
    decision_id: str | None  # the decision reviewed, or the one the item's proposal became
    proposal_state: str | None


class MeetingOut(msgspec.Struct):
    id: str
    circle_id: str
    circle: str
    starts_at: datetime
    minutes_long: int
    place: str
    state: Literal["scheduled", "opening", "agenda", "closing", "ended", "cancelled"]
    seq: int
    position: int | None  # the agenda item under way
    agenda: list[AgendaItemOut]
    present: list[Ref]  # in the order the rounds go
    spoken: dict[str, str]  # this round: member id -> checked_in, checked_out, passed or skipped
    whose_turn: str | None
    facilitators: list[Ref]
    available: list[str]  # the actions the asker may take now
    overdue_items: list[ActionItemOut]  # the circle's, reviewed at the meeting


class MeetingsOut(msgspec.Struct):
    items: list[MeetingOut]


_ACTS = msgspec.json.schema_components([rules.Acts])[1]
MEETING_ACTION_SCHEMAS: list[Any] = [inlined(s, _ACTS) for s in _ACTS.values() if "type" in s.get("properties", {})]
