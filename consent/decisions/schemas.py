"""The body of a review, checked here rather than by Litestar so that bad input is answered
422 with the field named, like every other refusal of the decision log; and the bodies the
decision API answers, key for key the dicts of `services` (which the pages and exports use),
so that the OpenAPI document describes them. Times and dates stay the strings `services` wrote:
msgspec would write UTC as `Z`, not `+00:00`."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import msgspec

from consent.base.errors import msgspec_refusal
from consent.base.text import Criteria, Moment, Text, Title
from consent.decisions import rules
from consent.decisions.services import Opening
from rounds.schemas import ActionItemOut, Assessment, EventOut, Ref, RevisionOut


class NewReview(msgspec.Struct, forbid_unknown_fields=True):
    """A review: it runs as a proposal of the decision's circle, of kind "review"."""

    outcome: rules.Outcome
    review_by: date | None = None  # reaffirm: the decision's next review date; amend: the new decision's
    text: Text = ""  # amend: the superseding text; reaffirm, retire: why
    assessments: list[Assessment] = []  # one for each of the decision's criteria
    # the review's proposal
    driver: Text = ""
    title: Title = ""
    criteria: Criteria | None = None  # amend: the new decision's (default: the decision's)
    mode: Literal["live", "async"] = "live"
    closes_at: Moment | None = None

    def opening(self) -> Opening:
        return Opening(
            outcome=self.outcome,
            review_by=self.review_by,
            text=self.text,
            assessments=[(a.criterion, a.assessment) for a in self.assessments],
            driver=self.driver,
            title=self.title,
            criteria=self.criteria,
            mode=self.mode,
            closes_at=self.closes_at,
        )


def parse_review(body: Any) -> NewReview:
    try:
        return msgspec.convert(body, NewReview)
    except msgspec.ValidationError as exc:
        raise msgspec_refusal(exc, 422) from exc  # this call answers 422, not 400 (docs/api.md)


class ReviewOpened(msgspec.Struct):
    """The review, and the proposal it runs as."""

    review_id: str
    proposal_id: str


class RecordedResponse(msgspec.Struct, omit_defaults=True):
    """What one member of the circle did in the round that decided: their response, or that
    they were present without one, or absent; `left` when they have left the circle since."""

    member: Ref
    kind: Literal["consent", "stand_aside", "concern", "object", "silent", "absent", "present_no_response"]
    text: str | None = None
    recorded_by: Ref | None = None  # the facilitator, for someone in the room without a device
    left: bool = False


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
    status: str  # integrated, withdrawn, concern (its author made it one after the test), lapsed (its author left)
    integrated_by: int | None  # the revision that integrated it
    test: Literal["asked", "kept", "concern"] | None = None  # the objection test, where the facilitator asked for it


class DecisionSummary(msgspec.Struct):
    """A decision as the log lists it."""

    id: str
    url: str
    title: str
    driver: str
    text: str
    criteria: list[str]  # how the circle will know it works; a review assesses each
    evaluation: str  # the criteria, one a line
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
    action_items: list[ActionItemOut]  # what it asks people to do: its proposal's, then its reviews'
    kind: Literal["proposal", "selection"]  # a selection: someone holds a role until review_by, the term's end


class DecisionChange(msgspec.Struct, forbid_unknown_fields=True):
    agreement: bool


class ConsentRecord(msgspec.Struct):
    """How the circle consented: each participant's final response, the concerns and objections."""

    responses: list[RecordedResponse]
    concerns: list[RecordedConcern]
    objections: list[RecordedObjection]


class ReviewOut(msgspec.Struct):
    id: str
    decision_id: str
    outcome: rules.Outcome
    state: rules.ReviewState
    text: str  # of its proposal: amend, the superseding text; otherwise why
    by: Ref  # who opened it
    at: str  # opened
    closed_at: str | None
    previous_review_by: str
    review_by: str | None  # consented to: reaffirm, the decision's next review; amend, the new decision's
    assessments: list[Assessment]
    proposal_id: str | None  # the proposal it runs as (none for a review recorded at once)
    record: ConsentRecord | None  # once consented


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
