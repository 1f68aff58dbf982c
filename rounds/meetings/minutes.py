"""A meeting's minutes: what happened, read from its event log, its agenda and the items'
proposals and decisions. One function makes the data (`minutes`); the page and the Markdown
export render it. Only what the events say: a turn nobody took is not written as said."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

import templates
from circles.models import Circle
from consent.base import i18n
from consent.base.labels import ITEM_STATES, PHASE_NAMES, REVIEW_OUTCOMES, REVIEW_STATES
from consent.base.times import as_moment, format_day, format_moment
from rounds import item_rules, item_services, machine, selection, services
from rounds.meetings import rules
from rounds.meetings.models import AgendaItem, Meeting, MeetingEvent
from rounds.models import ActionItem, ActionItemChange, Decision, Proposal, Review

ANSWERED = frozenset({"absent", "present_no_response"})  # a record's entries that are no response
TURNS = frozenset({rules.CHECKED_IN, rules.CHECKED_OUT, rules.PASSED, rules.SKIPPED})


async def minutes(db: AsyncSession, meeting: Meeting, today: date) -> dict[str, Any]:
    """The minutes' data: the circle, when and where, who was there and who was not, the
    opening round, each agenda item with its outcome and its notes, the notes taken in the
    rounds, the closing round, and the overdue action items listed for review."""
    circle = await db.get_one(Circle, meeting.circle_id)
    events = list(
        await db.scalars(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting.id).order_by(MeetingEvent.seq))
    )
    items = list(
        await db.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id).order_by(AgendaItem.position))
    )
    members, _facilitators = await services.members_and_facilitators(db, circle.id, meeting.starts_at.date())
    started = next((e.at for e in events if e.type == "started"), None)
    ended = next((e.at for e in events if e.type in ("ended", "cancelled")), None)
    came: list[uuid.UUID] = []  # everyone present at some point, in the order they first came
    for e in events:
        if e.type == "present" and uuid.UUID(e.data["member"]) not in came:
            came.append(uuid.UUID(e.data["member"]))
    named = {*came, *members, meeting.called_by_id}
    for e in events:
        named |= {uuid.UUID(e.data[k]) for k in ("member", "recorded_by") if e.data.get(k)}
    names = await services.names_of(db, named)
    ref = lambda m: {"id": str(m), "name": names.get(m, "")}  # noqa: E731

    def turn(e: MeetingEvent) -> dict[str, Any]:
        recorder = e.data.get("recorded_by")
        return {
            "member": ref(uuid.UUID(e.data["member"])),
            "kind": e.type,
            "text": e.data.get("text"),
            # a skip is the facilitator's, not a turn recorded for someone
            "recorded_by": ref(uuid.UUID(recorder)) if recorder and e.type != rules.SKIPPED else None,
        }

    def said_in(phase: str) -> list[dict[str, Any]]:
        return [turn(e) for e in events if e.type in TURNS and e.data.get("round") == phase]

    notes = [e for e in events if e.type == "noted"]
    taken_up = {e.data["position"] for e in events if e.type == "item_taken_up"}
    agenda = [
        await _item(db, item, item.position in taken_up, started, ended, today)
        | {"notes": [n.data["text"] for n in notes if n.data.get("position") == item.position]}
        for item in items
    ]
    return {
        "id": str(meeting.id),
        "url": f"/meetings/{meeting.id}",
        "circle": {"id": str(circle.id), "name": circle.name, "url": f"/circles/{circle.id}"},
        "time_zone": circle.time_zone,
        "starts_at": meeting.starts_at,
        "minutes_long": meeting.minutes_long,
        "place": meeting.place,
        "state": meeting.state,
        "called_by": ref(meeting.called_by_id),
        "cancelled": next((e.data.get("reason", "") for e in events if e.type == "cancelled"), None),
        "present": [ref(m) for m in came],
        "absent": [ref(m) for m in sorted(members - set(came), key=lambda m: (names.get(m, ""), str(m)))],
        "opening": said_in(rules.OPENING),
        "agenda": agenda,
        "notes": [{"round": n.data["round"], "text": n.data["text"]} for n in notes if n.data.get("position") is None],
        "closing": said_in(rules.CLOSING),
        "overdue_items": await _overdue(db, circle.id, meeting, started) if started else [],
    }


async def _item(
    db: AsyncSession,
    item: AgendaItem,
    taken_up: bool,
    started: datetime | None,
    ended: datetime | None,
    today: date,
) -> dict[str, Any]:
    """One agenda item and its outcome: its proposal's state (decided: the decision, its
    action items and how many responded; a selection: who was selected as what, until when),
    a review item's decision and the reviews opened during the meeting."""
    out: dict[str, Any] = {
        "position": item.position,
        "kind": item.kind,
        "title": item.title,
        "taken_up": taken_up,
        "proposal": None,
        "decision": None,
        "reviews": [],
    }
    if item.proposal_id is not None and (proposal := await db.get(Proposal, item.proposal_id)) is not None:
        out["title"] = proposal.title
        out["proposal"] = await _proposal(db, proposal, today)
    if item.decision_id is not None and (decision := await db.get(Decision, item.decision_id)) is not None:
        out["decision"] = {"id": str(decision.id), "url": f"/decisions/{decision.id}", "title": decision.title}
        # the reviews opened while the meeting ran (none, if it never started)
        opened: list[ColumnElement[bool]] = [Review.decision_id == decision.id, Review.reviewed_at >= started]
        if ended is not None:
            opened.append(Review.reviewed_at <= ended)
        reviews = list(await db.scalars(select(Review).where(*opened).order_by(Review.reviewed_at))) if started else []
        out["reviews"] = [
            {
                "outcome": r.outcome,
                "state": r.state,
                "proposal": await _proposal(db, await db.get_one(Proposal, r.proposal_id), today)
                if r.proposal_id
                else None,
            }
            for r in reviews
        ]
    return out


async def _proposal(db: AsyncSession, proposal: Proposal, today: date) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(proposal.id),
        "url": f"/proposals/{proposal.id}",
        "kind": proposal.kind,
        "state": proposal.state,
        "decision": None,
        "selected": None,
    }
    if proposal.state != machine.DECIDED:
        return out
    decision = await db.scalar(select(Decision).where(Decision.proposal_id == proposal.id))
    if decision is not None:
        responses = decision.record.get("responses", [])
        out["decision"] = {"id": str(decision.id), "url": f"/decisions/{decision.id}", "title": decision.title}
        out["responded"] = sum(1 for r in responses if r["kind"] not in ANSWERED)
        out["members"] = len(responses)
        out["action_items"] = (await item_services.of_decisions(db, [decision.id], today))[decision.id]
    if proposal.kind == selection.SELECTION:
        chosen = await services.selection_of(db, proposal.id)
        candidate = (await services.state_of(db, proposal, today)).candidate
        out["selected"] = {
            "member": {"id": str(candidate), "name": (await services.names_of(db, {candidate})).get(candidate, "")}
            if candidate
            else None,
            "role": chosen.role,
            "term_ends_on": chosen.term_ends_on.isoformat(),
        }
    return out


async def _overdue(db: AsyncSession, circle_id: uuid.UUID, meeting: Meeting, started: datetime) -> list[dict[str, Any]]:
    """The items the meeting listed as overdue: due before its day and still open when it
    started (done or declined since, they keep their state now)."""
    day = as_moment(started).date()
    decisions = select(Decision.id).where(Decision.circle_id == circle_id)
    closed_before = select(ActionItemChange.item_id).where(
        ActionItemChange.state.notin_(item_rules.OPEN), ActionItemChange.at < started
    )
    ids = set(
        await db.scalars(
            select(ActionItem.id).where(
                ActionItem.decision_id.in_(decisions), ActionItem.due_on < day, ActionItem.id.notin_(closed_before)
            )
        )
    )
    if not ids:
        return []
    listed = await item_services.of_decisions(db, list(await db.scalars(decisions)), day)
    return sorted(
        (i for found in listed.values() for i in found if uuid.UUID(i["id"]) in ids), key=lambda i: i["due_on"]
    )


_MARKDOWN = templates.markdown()
i18n.install(_MARKDOWN)  # the minutes in the reader's language
_MINUTES = _MARKDOWN.get_template("rounds/minutes.md")


def render_markdown(m: Mapping[str, Any], base_url: str, zone: ZoneInfo) -> str:
    """The minutes in Markdown, times in `zone` (the circle's)."""
    return _MINUTES.render(
        m=m,
        base_url=base_url.rstrip("/"),
        when=lambda value: format_moment(value, zone),
        day=lambda value: format_day(value, zone),
        phases=PHASE_NAMES,
        item_states=ITEM_STATES,
        review_outcomes=REVIEW_OUTCOMES,
        review_states=REVIEW_STATES,
    )
