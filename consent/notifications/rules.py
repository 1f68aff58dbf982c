"""Who is told what, and when: pure rules, no I/O.

A proposal's events say what happened; `tells` turns them into what each member is told. The
member's choice per kind (at once, in the daily digest, never) says whether it also goes by
mail; the page lists every notification whatever the choice."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# Kinds a member is told, in the order the settings list them.
OPENED = "opened"  # an async proposal opened, or moved to its next round, in my circle
MEETING = "meeting"  # a live meeting of a proposal is starting
REMINDER = "reminder"  # a deadline is near and I have not responded
OBJECTION = "objection"  # an objection to my proposal
CONSENT_AGAIN = "consent_again"  # an amendment asks for consent again
DECIDED = "decided"  # a decision was made (with the record)
REVIEW_DUE = "review_due"  # a decision of my circle is due for review
ACTION_ITEM = "action_item"  # a decision asks me to do something
TERM_ENDING = "term_ending"  # a role's term in my circle ends soon: time to select someone
MEETING_CALLED = "meeting_called"  # a meeting of my circle is called (when, where, its agenda)
# Last ones last: an unsubscribe link names its kind by its place here.
KINDS = (
    OPENED,
    MEETING,
    REMINDER,
    OBJECTION,
    CONSENT_AGAIN,
    DECIDED,
    REVIEW_DUE,
    ACTION_ITEM,
    TERM_ENDING,
    MEETING_CALLED,
)
TERM_NOTICE_DAYS = 30  # how long before a term ends the circle is told

NOW, DIGEST, NEVER = "now", "digest", "never"
DELIVERIES = (NOW, DIGEST, NEVER)
# What is worth a mail at once asks something of the member; a review due waits for the digest.
DEFAULTS = dict.fromkeys(KINDS, NOW) | {REVIEW_DUE: DIGEST, TERM_ENDING: DIGEST}
# Kinds whose mail asks for a response, so it carries a reply address (answering by mail).
ANSWERABLE = frozenset({OPENED, REMINDER, CONSENT_AGAIN})

REMINDER_HOURS = (24, 2)  # a circle's default: a day before the deadline, and two hours before
EVERYONE = None


@dataclass(frozen=True)
class Tell:
    """Tell `to` (None: every member of the circle), except `not_to`, of `kind`, as of event `seq`."""

    kind: str
    seq: int
    to: frozenset[uuid.UUID] | None
    not_to: frozenset[uuid.UUID]
    detail: dict[str, Any]


Logged = tuple[int, str, dict[str, Any], uuid.UUID | None]  # seq, type, data, actor


def tells(
    events: Sequence[Logged], author: uuid.UUID, mode_now: str, asked: frozenset[uuid.UUID] = frozenset()
) -> list[Tell]:
    """What the events of one proposal tell whom. Whoever acted is not told of their own
    action. A live meeting's later steps happen in the room: only its start, objections and its
    decision are told. `mode_now` is the proposal's mode after the events; `asked`, whom its
    action items ask to do something: told so when it is decided."""
    told = []
    changes = [data["from"] for _, kind, data, _ in events if kind == "mode_changed"]
    mode = changes[0] if changes else mode_now  # the mode before these events
    for seq, kind, data, actor in events:
        not_to = frozenset({actor} if actor else ())
        if kind == "mode_changed":
            mode = data["to"]
            if mode == "async":
                told.append(Tell(OPENED, seq, EVERYONE, not_to, {}))
        elif kind == "phase_changed" and data["from"] == "draft":
            told.append(Tell(MEETING if mode == "live" else OPENED, seq, EVERYONE, not_to, {"phase": data["to"]}))
        elif kind == "phase_changed" and data["to"] in {"reacting", "changing", "consenting"} and mode == "async":
            told.append(Tell(OPENED, seq, EVERYONE, not_to, {"phase": data["to"]}))
        elif kind == "responded" and data["kind"] == "object" and actor != author:
            told.append(Tell(OBJECTION, seq, frozenset({author}), frozenset(), {"text": data.get("text", "")}))
        elif kind == "amended" and mode == "async":
            told.append(Tell(CONSENT_AGAIN, seq, EVERYONE, not_to, {"revision": data["revision"]}))
        elif kind == "decided":
            told.append(Tell(DECIDED, seq, EVERYONE, frozenset(), {}))
            if asked:
                told.append(Tell(ACTION_ITEM, seq, asked, frozenset(), {}))
    return told


def meeting_tells(events: Sequence[Logged]) -> list[Tell]:
    """What the events of a circle's meeting tell: that it is called, to everyone but whoever
    called it; that it is starting, to everyone but the facilitator who started it. What
    happens in it is said in the room, and in its minutes."""
    told = []
    for seq, kind, _data, actor in events:
        not_to = frozenset({actor} if actor else ())
        if kind == "scheduled":
            told.append(Tell(MEETING_CALLED, seq, EVERYONE, not_to, {}))
        elif kind == "started":
            told.append(Tell(MEETING, seq, EVERYONE, not_to, {}))
    return told


def reminder_due(closes_at: datetime | None, now: datetime, hours: Sequence[int]) -> int | None:
    """The reminder due now before a deadline: the nearest window it is in (24 then 2 hours
    before, say); a proposal opened an hour before its deadline gets the 2-hour one only."""
    if closes_at is None or closes_at <= now:
        return None
    inside = [h for h in hours if closes_at - timedelta(hours=h) <= now]
    return min(inside) if inside else None


def delivery(choices: dict[str, str] | None, kind: str) -> str:
    chosen = (choices or {}).get(kind)
    return chosen if chosen in DELIVERIES else DEFAULTS[kind]


def digest_day(now: datetime, hour: int) -> str | None:
    """The day whose digest is due at `now` (the digest hour has passed), as an ISO date."""
    return now.date().isoformat() if now.hour >= hour else None
