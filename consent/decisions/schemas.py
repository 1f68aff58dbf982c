"""The body of a review, checked here rather than by Litestar so that bad input is answered
422 with the field named, like every other refusal of the decision log; and the bodies the
decision API answers, key for key the dicts of `services` (which the pages and exports use),
so that the OpenAPI document describes them. Times and dates stay the strings `services` wrote:
msgspec would write UTC as `Z`, not `+00:00`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

import msgspec

from consent.base.errors import msgspec_message
from consent.base.text import Note, Text, Title
from consent.decisions import rules
from consent.decisions.services import Amendment
from rounds.schemas import EventOut, Ref, RevisionOut


class NewReview(msgspec.Struct, forbid_unknown_fields=True):
    outcome: rules.Outcome
    review_by: date | None = None  # reaffirm: the next review date
    note: Note = ""
    # amend: the new proposal, which supersedes the decision once consented
    text: Text = ""
    driver: Text = ""
    title: Title = ""
    mode: Literal["live", "async"] = "live"
    closes_at: datetime | None = None

    def amendment(self) -> Amendment | None:
        if self.outcome != "amend":
            return None
        closes_at = self.closes_at.replace(tzinfo=self.closes_at.tzinfo or UTC) if self.closes_at else None
        return Amendment(text=self.text, driver=self.driver, title=self.title, mode=self.mode, closes_at=closes_at)


def parse_review(body: Any) -> NewReview:
    try:
        return msgspec.convert(body, NewReview)
    except msgspec.ValidationError as exc:
        raise rules.invalid(msgspec_message(exc)) from exc


class RecordedResponse(msgspec.Struct):
    """A participant's final response in the consent round."""

    member: str
    name: str
    response: str  # consent, concern, stand_aside, object


class RecordedConcern(msgspec.Struct):
    member: str
    name: str
    text: str


class RecordedObjection(msgspec.Struct):
    id: str
    member: str
    name: str
    text: str
    revision: int
    status: str  # integrated, withdrawn, or lapsed (its author left the circle)
    integrated_by: int | None  # the revision that integrated it


class DecisionSummary(msgspec.Struct):
    """A decision as the log lists it."""

    id: str
    url: str
    title: str
    driver: str
    text: str
    evaluation: str
    circle: Ref
    domain: Ref
    decided_at: str
    review_by: str
    status: rules.Status
    revision: int
    proposal_id: str
    supersedes: str | None
    superseded_by: str | None
    responses: list[RecordedResponse]
    concerns: list[RecordedConcern]
    objections: list[RecordedObjection]
    agreement: bool  # one of its circle's standing agreements, which whoever is invited reads


class DecisionChange(msgspec.Struct, forbid_unknown_fields=True):
    agreement: bool


class ReviewOut(msgspec.Struct):
    id: str
    decision_id: str
    outcome: rules.Outcome
    note: str
    by: Ref
    at: str
    previous_review_by: str
    review_by: str | None  # reaffirm: the next review date
    proposal_id: str | None  # amend: the new proposal


class DecisionOut(DecisionSummary):
    """A decision with its whole record."""

    revisions: list[RevisionOut]
    reviews: list[ReviewOut]
    timeline: list[EventOut]


class DecisionPage(msgspec.Struct):
    items: list[DecisionSummary]
    next_cursor: str | None  # None on the last page


class FeedLink(msgspec.Struct):
    """A secret calendar link: shown once, only its fingerprint is kept."""

    token: str
    url: str
