"""Action items: what a proposal asks someone to do (what, who, by when), carried into its
decision; and the small state machine of an item once the decision exists. Pure: no I/O and no
clock (the day is given).

    proposed ──accept──▶ accepted ──done──▶ done
        │                   │
        ├──decline──▶ declined ◀──decline──┘
        └──done──▶ done   (doing it is accepting it)

Only the person asked accepts or declines, and only once the decision exists: before that the
circle may still amend the items. The person asked marks an item done; when they have left the
circle, a steward of the circle may, so that the record can be closed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import msgspec

from consent.base.errors import Refusal, bad_field
from consent.base.i18n import N_
from consent.base.i18n import gettext as _
from consent.base.text import clean_text

PROPOSED, ACCEPTED, DECLINED, DONE = "proposed", "accepted", "declined", "done"
STATES = (PROPOSED, ACCEPTED, DECLINED, DONE)
OPEN = frozenset({PROPOSED, ACCEPTED})  # still asked of someone
MAX_ITEMS = 20  # of one proposal
MAX_WHAT = 1000
# An item waits for its owner to accept it, then again from this many days before it is due.
DUE_SOON_DAYS = 7

# Each step: the states it starts from, and the state it leads to.
STEPS: Mapping[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({PROPOSED}), ACCEPTED),
    "decline": (frozenset({PROPOSED, ACCEPTED}), DECLINED),
    "done": (frozenset({PROPOSED, ACCEPTED}), DONE),
}
ALREADY = {
    ACCEPTED: N_("This item is accepted already."),
    DECLINED: N_("This item was declined; it is closed."),
    DONE: N_("This item is done; it is closed."),
}


class ItemIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """An action item as a proposal or an amendment gives it."""

    what: Annotated[str, msgspec.Meta(max_length=2 * MAX_WHAT)]
    owner_id: uuid.UUID  # a member of the circle
    due_on: date | None = None


ItemsIn = Annotated[list[ItemIn], msgspec.Meta(max_length=MAX_ITEMS)]


@dataclass(frozen=True)
class Item:
    """An item as checked: its words trimmed, its owner a member."""

    what: str
    owner: uuid.UUID
    due_on: date | None

    def data(self) -> dict[str, Any]:
        """As an `amended` event records it."""
        return {"what": self.what, "owner": str(self.owner), "due_on": self.due_on.isoformat() if self.due_on else None}


def clean_items(items: Sequence[ItemIn], members: frozenset[uuid.UUID]) -> list[Item]:
    """The items, each with something to do and asked of a member of the circle."""
    if len(items) > MAX_ITEMS:
        raise bad_field("action_items", _("{{Field}}: at most {n}.").format(n=MAX_ITEMS))
    cleaned = []
    for index, item in enumerate(items):
        what = clean_text(item.what, f"action_items[{index}].what", MAX_WHAT, required=True)
        if item.owner_id not in members:
            raise bad_field(
                f"action_items[{index}].owner_id",
                _("{Field} must be a member of the circle."),
                "owner_not_member",
                400,
            )
        cleaned.append(Item(what, item.owner_id, item.due_on))
    return cleaned


def check_due(items: Sequence[ItemIn], today: date) -> None:
    """A due date is not in the past when it is proposed (today is fine: a small thing)."""
    for index, item in enumerate(items):
        if item.due_on is not None and item.due_on < today:
            raise bad_field(f"action_items[{index}].due_on", _("{Field} must not be in the past."))


@dataclass(frozen=True)
class Asker:
    """Who asks to change an item, as the rules need to know them."""

    is_owner: bool
    owner_is_member: bool  # the person asked is still a member of the circle
    steward: bool  # of the circle, with a term not ended


def step(state: str, name: str, decided: bool, asker: Asker) -> str:
    """The state an item moves to when `asker` takes step `name` (accept, decline, done), or the
    refusal: who may (403), whether the decision exists (409), whether the step fits (409)."""
    if name not in STEPS:
        raise Refusal("not_found", _("There is no step called {name}.").format(name=repr(name)), 404)
    owner_acts = asker.is_owner and asker.owner_is_member
    if name == "done" and not (owner_acts or (asker.steward and not asker.owner_is_member)):
        raise Refusal(
            "not_owner",
            _("Only the person asked marks an item done; a steward of the circle may when they have left it."),
            403,
        )
    if name != "done" and not owner_acts:
        raise Refusal("not_owner", _("Only the person asked accepts or declines an item."), 403)
    if not decided:
        raise Refusal(
            "not_decided", _("The proposal is not decided yet: its items may still change. Answer once it is."), 409
        )
    starts, to = STEPS[name]
    if state not in starts:
        raise Refusal(f"already_{state}", _(ALREADY[state]), 409)
    return to


def overdue(state: str, due_on: date | None, today: date) -> bool:
    return state in OPEN and due_on is not None and due_on < today


def circle_order(state: str, due_on: date | None, today: date) -> tuple[bool, bool, date]:
    """How a circle's open items are listed: overdue first, then by due date, undated last."""
    return (not overdue(state, due_on, today), due_on is None, due_on or date.max)
