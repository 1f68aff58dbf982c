"""What the proposal page shows, built from its description and its events: no I/O. The page
(rounds.pages) builds it whole for one viewer; the live page's updates (rounds.page_updates)
build what one batch of events changed, for everyone at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from consent.base.labels import PHASE_NAMES
from rounds import events, machine
from rounds.diff import word_diff

# Events after which everyone's "what you can do now" may differ: the phase, the mode, the
# revision or the circle changed.
FOR_EVERYONE = frozenset(
    {
        "phase_changed",
        "amended",
        "mode_changed",
        "deadline_passed",
        "decided",
        "withdrawn",
        "not_adopted",
        "member_left",
    }
)
# Events after which the list of participants is sent whole: everyone's response was reset
# (a new round) or who takes part changed at once.
PARTICIPANTS_WHOLE = frozenset({"phase_changed", "mode_changed", "deadline_passed", "member_left"})
# More members concerned than this and every page asks: a list that long costs every socket more
# than the few extra fetches it saves.
MANY = 64


def round_of(event: Mapping[str, Any], question: Mapping[str, Any] | None) -> int:
    """The round a response belongs to. An answer (its event has no round) goes with its question."""
    if event["type"] == "question_answered":
        return int(question["data"].get("round", 0)) if question else 0
    return int(event["data"].get("round", 0))


def rounds_of(history: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Responses grouped by round, each round named by its phase and the revision it was on."""
    rounds: dict[int, dict[str, Any]] = {}
    questions: dict[str, dict[str, Any]] = {}
    for event in history:
        data = event["data"]
        if event["type"] == "phase_changed" and "round" in data:  # named by the phase that opened it, not the one
            # that closed it (a consent round closed with an objection open stays a consent round)
            rounds.setdefault(data["round"], {"number": data["round"], "items": []}).setdefault(
                "phase", PHASE_NAMES[data["to"]]
            )
        elif event["type"] in events.RESPONSE_TYPES:
            if event["type"] == "question_asked":
                questions[data["question_id"]] = event
            question = questions.get(data["question_id"]) if event["type"] == "question_answered" else None
            number = round_of(event, question)
            rounds.setdefault(number, {"number": number, "items": []})["items"].append({**event, "question": question})
    return [rounds[n] for n in sorted(rounds)]


def mode_history(history: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Why the proposal changed mode: each change, and each deadline that took it to a meeting."""
    return [
        e
        for e in history
        if e["type"] == "mode_changed" or (e["type"] == "deadline_passed" and e["data"]["outcome"] == "next_meeting")
    ]


def with_diffs(revisions: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any], list[tuple[str, str]] | None]]:
    """Each revision with its word differences from the one before (none for the first)."""
    return [(r, word_diff(revisions[i - 1]["text"], r["text"]) if i else None) for i, r in enumerate(revisions)]


def concerned(batch: Sequence[dict[str, Any]], state: machine.Proposal, turn_moved: bool = True) -> list[str] | None:
    """Whose "what you can do now" these events may have changed, by account id; None for
    everyone. The facilitator's and the author's always may (the turn, a question to answer);
    besides them, whoever the events name, and whose turn it is now, if the turn moved (or
    it is not known whether it did)."""
    if any(e["type"] in FOR_EVERYONE for e in batch):
        return None
    ids = {str(m) for m in state.movers} | {str(state.author)}
    if state.whose_turn is not None and turn_moved:
        ids.add(str(state.whose_turn))
    for event in batch:
        if event["actor"]:
            ids.add(event["actor"]["id"])
        for key in ("member", "recorded_by", "from", "to"):
            if isinstance(named := event["data"].get(key), str):
                ids.add(named)
    return None if len(ids) > MANY else sorted(ids)
