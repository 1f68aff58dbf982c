"""The rules of a selection by consent that the consent process does not have: no I/O.

A selection is a proposal of kind "selection": before its consent round come a nomination
round (each member names one member, with a reason, or passes) and a change round (each may
change their nomination), after which the facilitator proposes a candidate. docs/selection.md."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

SELECTION = "selection"  # a proposal's kind
NOMINATING, CHANGING = "nominating", "changing"  # its phases before the consent round
# A leader is chosen by the parent circle (circles.rules.who_assigns), not selected in the circle.
NOT_SELECTED = frozenset({"leader"})


@dataclass(frozen=True)
class Nomination:
    candidate: uuid.UUID
    reason: str
    heard: bool = True  # said aloud (live) or in the change round; async nominations are not, until heard


def hidden(mode: str, phase: str) -> bool:
    """Async, nominations are hidden from everyone but their author until the nomination period
    closes, so that nobody follows the first name given. Live, they are said aloud in turn."""
    return mode == "async" and phase == NOMINATING


def heard(nominations: Mapping[uuid.UUID, Nomination]) -> dict[uuid.UUID, Nomination]:
    """The nominations everyone may know now: those said aloud, and all of them once the
    nomination round has closed (which hears them). One given async stays hidden also if the
    selection is then taken into a live meeting, or withdrawn before the round closes."""
    return {m: n for m, n in nominations.items() if n.heard}


def tally(nominations: Mapping[uuid.UUID, Nomination]) -> list[tuple[uuid.UUID, int]]:
    """Each candidate named and how many named them, most first: what the facilitator weighs."""
    counted = Counter(n.candidate for n in nominations.values())
    return sorted(counted.items(), key=lambda item: (-item[1], str(item[0])))


def proposed_text(candidate: str, role: str, term_ends_on: date, reasons: Sequence[tuple[str, str]]) -> str:
    """The proposal the circle consents to: "<candidate> as <role> until <term>", with the
    reasons heard for them, each with who gave it (`reasons`: (nominator, reason))."""
    text = f"{candidate} as {role} until {term_ends_on.isoformat()}."
    if reasons:
        text += "\n\nReasons heard:\n" + "\n".join(f"- {who}: {reason}" for who, reason in reasons)
    return text


def reasons_for(nominations: Mapping[uuid.UUID, Nomination], candidate: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """The reasons given for `candidate`, as (nominator, reason), in a stable order."""
    return sorted(((m, n.reason) for m, n in nominations.items() if n.candidate == candidate), key=lambda r: str(r[0]))
