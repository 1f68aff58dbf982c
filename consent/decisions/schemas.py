"""The body of a review, checked here rather than by Litestar so that bad input is answered
422 with the field named, like every other refusal of the decision log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import msgspec

from consent.decisions import rules
from consent.decisions.services import Amendment
from consent.base.errors import msgspec_message

Text = Annotated[str, msgspec.Meta(max_length=20_000)]


class NewReview(msgspec.Struct, forbid_unknown_fields=True):
    outcome: Literal["reaffirm", "retire", "amend"]
    review_by: date | None = None  # reaffirm: the next review date
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    # amend: the new proposal, which supersedes the decision once consented
    text: Text = ""
    driver: Text = ""
    title: Annotated[str, msgspec.Meta(max_length=200)] = ""
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
