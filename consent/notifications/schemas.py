"""What the notifications API takes and gives (API.md: Notifications and mail)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class NotificationOut(msgspec.Struct):
    """One thing I was told. `kind`: opened, meeting, reminder, objection, consent_again,
    decided, review_due, action_item, term_ending, meeting_called; `text` says it as the page does, and `url` is where it happened."""

    id: str
    kind: str
    at: datetime
    read: bool
    title: str
    circle: str
    text: str
    url: str
    proposal_id: str | None = None
    decision_id: str | None = None
    meeting_id: str | None = None


class Notifications(msgspec.Struct):
    items: list[NotificationOut]
    unread: int


class Preferences(msgspec.Struct):
    """What I get by mail, per kind: "now" (a mail at once), "digest" (in the daily digest) or
    "never" (only on the notifications page). A PATCH may name only the kinds it changes."""

    mail: dict[str, str]
