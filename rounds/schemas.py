"""Request bodies of the proposal API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

import msgspec

from consent.base.text import Text, Title


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
