"""Meetings: calling one with its agenda, taking its actions, and reading it back (the live
page's state, the event log, the minutes).

An action is taken as a proposal's is: the meeting row locked, the rules applied to its
snapshot, the events written with contiguous seqs in the same transaction, a retried client_id
answered with what it did the first time. The agenda's proposals are run in their own live
rooms; what the meeting carries into them (who is present, the item starting) is returned as
proposal actions for the caller to send through the proposal writer after commit (`Carried`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from circles import services as circles
from circles.models import Circle
from consent.base.errors import Refusal, bad_field
from consent.base.i18n import N_
from consent.base.i18n import gettext as _
from consent.base.text import clean_text
from rounds import actions, item_services, machine, services
from rounds.meetings import rules
from rounds.meetings.models import AgendaItem, Meeting, MeetingEvent
from rounds.models import Decision, Event, Proposal

NOT_FOUND = N_("There is no such meeting, or you may not see it.")
MAX_ITEMS = 30  # on one agenda
MAX_PLACE = 500
PROPOSAL, REVIEW, FREE = "proposal", "review", "free"
EVENTS_PAGE = services.EVENTS_PAGE


@dataclass(frozen=True)
class AgendaIn:
    """One item as a caller gives it: exactly one of the three."""

    proposal_id: uuid.UUID | None = None
    decision_id: uuid.UUID | None = None
    title: str | None = None


@dataclass
class Outcome:
    """What a meeting action did, as a proposal action's Outcome says it; and what it carries
    into the proposal under way (its actions, to send after commit)."""

    seq: int
    events: Sequence[MeetingEvent]
    json: list[dict[str, Any]] = field(default_factory=list)
    repeated: bool = False
    carried: list[services.Attempt] = field(default_factory=list)


async def visible_meeting(db: AsyncSession, meeting_id: uuid.UUID, account_id: uuid.UUID) -> Meeting:
    """The meeting, if its circle is seen by the account (a private circle's by its members)."""
    meeting = await db.get(Meeting, meeting_id)
    if meeting is None or not await services.sees_circle(db, meeting.circle_id, account_id):
        raise Refusal("not_found", _(NOT_FOUND), 404)
    return meeting


async def _items(db: AsyncSession, meeting_id: uuid.UUID) -> list[AgendaItem]:
    return list(
        await db.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position))
    )


async def state_of(db: AsyncSession, meeting: Meeting, today: date) -> rules.Meeting:
    members, facilitators = await services.members_and_facilitators(db, meeting.circle_id, today)
    movers = facilitators or frozenset({meeting.called_by_id})
    # Whoever started the meeting runs it to its end, even if the circle selects another
    # facilitator (or its facilitator's term ends) while it is under way.
    if meeting.state not in (rules.SCHEDULED, *rules.OVER):
        starter = await db.scalar(
            select(MeetingEvent.actor_id).where(MeetingEvent.meeting_id == meeting.id, MeetingEvent.type == "started")
        )
        if starter is not None:
            movers |= {starter}
    count = len(await _items(db, meeting.id))
    return rules.restore(meeting.machine, members, movers, count)


async def taking_up(db: AsyncSession, proposal_id: uuid.UUID) -> uuid.UUID | None:
    """The meeting whose item under way is this proposal, if one is: its live page leads back
    there, where the meeting goes on."""
    rows = await db.execute(
        select(Meeting.id, Meeting.machine, AgendaItem.position)
        .join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .where(AgendaItem.proposal_id == proposal_id, Meeting.state == rules.AGENDA)
    )
    return next((meeting for meeting, snapshot, position in rows if snapshot["position"] == position), None)


def _on_open_agenda(meeting_id: uuid.UUID | None = None) -> Any:
    """Agenda items of meetings not yet over (but `meeting_id`'s own)."""
    query = (
        select(AgendaItem.id).join(Meeting, Meeting.id == AgendaItem.meeting_id).where(Meeting.state.notin_(rules.OVER))
    )
    return query if meeting_id is None else query.where(Meeting.id != meeting_id)


async def waiting_items(db: AsyncSession, circle_id: uuid.UUID, day: date, meeting_id: uuid.UUID) -> list[AgendaIn]:
    """What the next meeting takes up of itself: the circle's async proposals whose deadline
    passed without a decision (`next_meeting`), and its decisions due for review by the
    meeting's day with no review open; none already on another meeting's agenda."""
    elsewhere = _on_open_agenda(meeting_id)
    carried = await db.scalars(
        select(Proposal.id)
        .where(
            Proposal.circle_id == circle_id,
            Proposal.state.in_(machine.OPEN_PHASES),
            exists().where(
                Event.proposal_id == Proposal.id,
                Event.type == "deadline_passed",
                Event.data["outcome"].as_string() == "next_meeting",
            ),
            ~exists(elsewhere.where(AgendaItem.proposal_id == Proposal.id)),
        )
        .order_by(Proposal.created_at)
    )
    due = await db.scalars(
        select(Decision.id)
        .where(
            Decision.circle_id == circle_id,
            Decision.status == "active",
            Decision.review_by <= day,
            ~exists(elsewhere.where(AgendaItem.decision_id == Decision.id)),
        )
        .order_by(Decision.review_by)
    )
    found = [AgendaIn(proposal_id=p) for p in carried]
    for decision_id in due:
        if await services.open_change(db, decision_id) is None:
            found.append(AgendaIn(decision_id=decision_id))
    return found


async def _agenda_rows(db: AsyncSession, meeting: Meeting, given: Sequence[AgendaIn], start: int) -> list[AgendaItem]:
    """The items as rows from `start`, each checked: a proposal or decision of the circle, once."""
    taken = {(i.proposal_id, i.decision_id) for i in await _items(db, meeting.id)} - {(None, None)}
    rows = []
    for offset, item in enumerate(given):
        named = [v for v in (item.proposal_id, item.decision_id, item.title) if v is not None]
        if len(named) != 1:
            raise bad_field("agenda", _("{Field}: each item is a proposal_id, a decision_id or a title."), status=422)
        row = AgendaItem(meeting_id=meeting.id, position=start + offset, kind=FREE, title="")
        if item.title is not None:
            row.title = clean_text(item.title, "agenda", 200, required=True)
        elif item.proposal_id is not None:
            proposal = await db.get(Proposal, item.proposal_id)
            if proposal is None or proposal.circle_id != meeting.circle_id:
                raise bad_field("agenda", _("{Field}: that proposal is not one of this circle's."), status=422)
            if proposal.state not in machine.OPEN_PHASES:
                raise bad_field("agenda", _("{Field}: that proposal is closed already."), "not_open", 409)
            row.kind, row.title, row.proposal_id = PROPOSAL, proposal.title, proposal.id
        else:
            decision = await db.get(Decision, item.decision_id)
            if decision is None or decision.circle_id != meeting.circle_id:
                raise bad_field("agenda", _("{Field}: that decision is not one of this circle's."), status=422)
            row.kind, row.title, row.decision_id = REVIEW, decision.title, decision.id
        if (row.proposal_id, row.decision_id) in taken:
            raise bad_field("agenda", _("{Field}: an item is on the agenda twice."), "already_on_agenda", 409)
        elsewhere = _on_open_agenda(meeting.id).where(
            AgendaItem.proposal_id == row.proposal_id if row.proposal_id else AgendaItem.decision_id == row.decision_id
        )
        if row.kind != FREE and await db.scalar(elsewhere.limit(1)) is not None:
            raise bad_field(
                "agenda", _("{Field}: an item is on the agenda of another meeting already."), "already_on_agenda", 409
            )
        if row.kind != FREE:
            taken.add((row.proposal_id, row.decision_id))
        rows.append(row)
    return rows


async def schedule(
    db: AsyncSession,
    account_id: uuid.UUID,
    circle_id: uuid.UUID,
    *,
    starts_at: datetime,
    place: str,
    minutes_long: int,
    agenda: Sequence[AgendaIn],
    now: datetime,
) -> Meeting:
    """A steward calls a meeting of the circle: its agenda is what they give, then what waits
    for a meeting (`waiting_items`). Written with its first event, `scheduled`, which tells the
    circle (consent.notifications)."""
    circle = await services.member_of(db, circle_id, account_id)
    await circles.require_steward(db, circle, account_id, now.date())
    if starts_at < now - timedelta(hours=12) or starts_at > now + timedelta(days=2 * 366):
        raise bad_field("starts_at", _("{Field} must be from now to two years ahead."))
    if len(agenda) > MAX_ITEMS:
        raise bad_field("agenda", _("{Field}: at most {count} items.").replace("{count}", str(MAX_ITEMS)))
    meeting = Meeting(
        circle_id=circle.id,
        called_by_id=account_id,
        starts_at=starts_at,
        minutes_long=minutes_long,
        place=clean_text(place, "place", MAX_PLACE),
        state=rules.SCHEDULED,
        seq=1,
        machine={},
    )
    db.add(meeting)
    await db.flush()
    rows = await _agenda_rows(db, meeting, agenda, 0)
    rows += await _agenda_rows(db, meeting, await waiting_items(db, circle.id, starts_at.date(), meeting.id), len(rows))
    db.add_all(rows)
    members, facilitators = await services.members_and_facilitators(db, circle.id, now.date())
    state = rules.Meeting(members, facilitators or frozenset({account_id}), len(rows), seq=1)
    meeting.machine = rules.snapshot(state)
    db.add(
        MeetingEvent(
            meeting_id=meeting.id,
            seq=1,
            type="scheduled",
            actor_id=account_id,
            data={"starts_at": starts_at.isoformat(), "place": meeting.place, "items": len(rows)},
            at=now,
        )
    )
    await db.flush()
    return meeting


async def act(
    db: AsyncSession, account_id: uuid.UUID, meeting_id: uuid.UUID, act: rules.Acts, now: datetime
) -> Outcome:
    """One action, in the caller's transaction: its outcome, or a refusal that changed nothing."""
    await visible_meeting(db, meeting_id, account_id)
    # Locked until commit on PostgreSQL (SQLite's BEGIN IMMEDIATE already serialises writers).
    meeting = await db.scalar(select(Meeting).where(Meeting.id == meeting_id).with_for_update())
    assert meeting is not None
    first = await db.scalar(
        select(MeetingEvent).where(MeetingEvent.meeting_id == meeting.id, MeetingEvent.client_id == act.client_id)
    )
    if first is not None:
        if first.actor_id != account_id:  # a client_id is its sender's: never someone else's answer
            raise bad_field(
                "client_id",
                _("{Field} is taken by someone else's action; send yours with a new one."),
                "client_id_taken",
                409,
            )
        count = first.action_events or 1
        repeated = await _events(db, meeting.id, first.seq - 1, count)
        return Outcome(first.seq + count - 1, repeated, await services.as_json(db, repeated), repeated=True)
    if isinstance(act, rules.Start) and meeting.state == rules.SCHEDULED:
        # What fell due since the meeting was called joins its agenda as it opens.
        start = len(await _items(db, meeting.id))
        db.add_all(
            await _agenda_rows(db, meeting, await waiting_items(db, meeting.circle_id, now.date(), meeting.id), start)
        )
        await db.flush()
    state = await state_of(db, meeting, now.date())
    new, produced = rules.apply(state, account_id, act)
    events = [
        MeetingEvent(
            meeting_id=meeting.id,
            seq=meeting.seq + offset + 1,
            type=event["type"],
            actor_id=account_id,
            client_id=act.client_id if offset == 0 else None,
            action_events=len(produced) if offset == 0 else None,
            data={k: v for k, v in event.items() if k != "type"},
            at=now,
        )
        for offset, event in enumerate(produced)
    ]
    db.add_all(events)
    meeting.state, meeting.seq, meeting.machine = new.phase, new.seq, rules.snapshot(new)
    await db.flush()
    carried = await _carried(db, meeting, state, new, account_id, now)
    return Outcome(meeting.seq, events, await services.as_json(db, events), carried=carried)


async def _carried(
    db: AsyncSession, meeting: Meeting, before: rules.Meeting, after: rules.Meeting, actor: uuid.UUID, now: datetime
) -> list[services.Attempt]:
    """What the meeting carries into the proposal of the item under way: taken up, it opens
    live with everyone present (started, or made live, by the facilitator); then whoever
    arrives or leaves the meeting arrives or leaves it too. Each is a proposal action the
    rules there may still refuse (the proposal's own facilitator decides), answered there."""
    if after.phase != rules.AGENDA:
        return []
    item = (await _items(db, meeting.id))[after.position]
    if item.proposal_id is None:
        return []
    proposal = await db.get_one(Proposal, item.proposal_id)
    if proposal.state not in machine.OPEN_PHASES:
        return []
    taken_up = after.position != before.position or before.phase != rules.AGENDA
    moves: list[tuple[uuid.UUID, actions.Action]] = []
    if taken_up and proposal.mode == "async":
        moves.append((actor, actions.ChangeMode(client_id=f"meeting:{meeting.id}:{after.seq}:mode", mode="live")))
    if taken_up and proposal.state == machine.DRAFT:
        moves.append((actor, actions.Start(client_id=f"meeting:{meeting.id}:{after.seq}:start")))
    arrived = after.present if taken_up else tuple(m for m in after.present if m not in before.present)
    left = () if taken_up else tuple(m for m in before.present if m not in after.present)
    for member in arrived:
        moves.append((member, actions.Present(client_id=f"meeting:{meeting.id}:{after.seq}:present:{member}")))
    for member in left:
        moves.append((member, actions.Absent(client_id=f"meeting:{meeting.id}:{after.seq}:absent:{member}")))
    return [services.Attempt(account, proposal.id, action, now) for account, action in moves]


async def _events(db: AsyncSession, meeting_id: uuid.UUID, since: int, limit: int = EVENTS_PAGE) -> list[MeetingEvent]:
    return list(
        await db.scalars(
            select(MeetingEvent)
            .where(MeetingEvent.meeting_id == meeting_id, MeetingEvent.seq > since)
            .order_by(MeetingEvent.seq)
            .limit(limit)
        )
    )


async def events_since(db: AsyncSession, meeting: Meeting, since: int, limit: int = EVENTS_PAGE) -> list[MeetingEvent]:
    return await _events(db, meeting.id, since, limit)


async def describe(
    db: AsyncSession, meeting: Meeting, viewer: uuid.UUID | None, today: date, state: rules.Meeting | None = None
) -> dict[str, Any]:
    """The meeting as API.md gives it, and as its live page starts from: when and where, the
    agenda with each item's proposal state, who is present, whose turn it is, what the viewer
    may do, and the circle's overdue action items (reviewed at the meeting). `state`: the
    meeting's, where the caller has it."""
    state = state or await state_of(db, meeting, today)
    circle = await db.get_one(Circle, meeting.circle_id)
    items = await _items(db, meeting.id)
    proposals = {
        p.id: p
        for p in await db.scalars(
            select(Proposal).where(Proposal.id.in_([i.proposal_id for i in items if i.proposal_id]))
        )
    }
    decided = dict(
        (
            await db.execute(select(Decision.proposal_id, Decision.id).where(Decision.proposal_id.in_(list(proposals))))
        ).all()
    )
    names = await services.names_of(db, {*state.present, *state.spoken, *state.movers})
    agenda = []
    for item in items:
        proposal = proposals.get(item.proposal_id) if item.proposal_id else None
        outcome = decided.get(proposal.id) if proposal else None
        agenda.append(
            {
                "position": item.position,
                "kind": item.kind,
                "title": proposal.title if proposal else item.title,
                "proposal_id": str(item.proposal_id) if item.proposal_id else None,
                "decision_id": str(item.decision_id or outcome) if (item.decision_id or outcome) else None,
                "proposal_state": proposal.state if proposal else None,
            }
        )
    turn = state.whose_turn
    return {
        "id": str(meeting.id),
        "circle_id": str(meeting.circle_id),
        "circle": circle.name,
        "starts_at": meeting.starts_at,
        "minutes_long": meeting.minutes_long,
        "place": meeting.place,
        "state": state.phase,
        "seq": meeting.seq,
        "position": state.position if state.phase == rules.AGENDA else None,
        "agenda": agenda,
        "present": [{"id": str(m), "name": names.get(m, "")} for m in state.present],
        "spoken": {str(m): kind for m, kind in state.spoken.items()},
        "whose_turn": str(turn) if turn else None,
        "facilitators": [{"id": str(m), "name": names.get(m, "")} for m in sorted(state.movers)],
        "available": sorted(rules.available(state, viewer)) if viewer is not None and viewer in state.members else [],
        "overdue_items": await item_services.overdue_in(db, meeting.circle_id, today),
    }


async def of_circle(db: AsyncSession, circle_id: uuid.UUID, since: datetime | None = None) -> list[Meeting]:
    """The circle's meetings, soonest first (those starting after `since`, given one)."""
    query = select(Meeting).where(Meeting.circle_id == circle_id)
    if since is not None:
        query = query.where(
            or_(Meeting.starts_at >= since, and_(Meeting.state.notin_(rules.OVER), Meeting.state != rules.SCHEDULED))
        )
    return list(await db.scalars(query.order_by(Meeting.starts_at)))
