"""Request bodies of the proposal API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

Text = Annotated[str, msgspec.Meta(max_length=20_000)]


class NewProposal(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(max_length=200)]
    driver: Text
    text: Text
    domain_id: uuid.UUID
    mode: Literal["live", "async"]
    review_by: date | None = None
    closes_at: datetime | None = None
    supersedes: uuid.UUID | None = None
    evaluation: Text = ""
