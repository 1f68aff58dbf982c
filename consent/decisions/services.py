"""Finding decisions (filters, full-text search, pages by cursor), describing them, opening
their reviews (each runs as a proposal), and the calendar feed links. Every query is limited
to what the viewer may see: the circles of their organisations, less the private circles they
are not a member of."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, cast

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Date,
    ScalarSelect,
    Select,
    SQLColumnExpression,
    String,
    and_,
    column,
    delete,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.ext.asyncio import AsyncSession

from circles import services as circles
from circles.models import Circle, Domain, Membership
from consent.base.errors import Refusal, bad_field
from consent.base.i18n import gettext as _
from consent.base.tokens import hash_token
from consent.decisions import rules
from consent.decisions.models import CalendarFeed
from rounds import item_services
from rounds import services as rounds
from rounds.meetings import rules as meeting_rules
from rounds.meetings.models import Meeting
from rounds.models import Decision, Proposal, Review, Revision


class Columns(NamedTuple):
    """Where the log's filters and order read from: the decision table, or on SQLite, when
    searching, the search index's compact copy of the same columns (migration 0003)."""

    id: SQLColumnExpression[Any]
    circle_id: SQLColumnExpression[Any]
    domain_id: SQLColumnExpression[Any]
    status: SQLColumnExpression[Any]
    review_by: SQLColumnExpression[Any]
    decided_at: SQLColumnExpression[Any]


DECISION = Columns(
    Decision.id, Decision.circle_id, Decision.domain_id, Decision.status, Decision.review_by, Decision.decided_at
)
# The search index of migration 0003, which no model maps.
_fts = table("decision_fts", column("rowid"), column("decision_fts"))
_fts_key = table(
    "decision_fts_key",
    column("id"),
    column("decision_id", GUID()),
    column("circle_id", GUID()),
    column("domain_id", GUID()),
    column("status", String()),
    column("review_by", Date()),
    column("decided_at", DateTimeUTC(timezone=True)),
)
INDEXED = Columns(*(_fts_key.c[name] for name in ("decision_id", *Columns._fields[1:])))
FEED_PREFIX = "cal_"


def not_found() -> Refusal:
    return Refusal("not_found", _("No such decision, or it is not visible to you."), 404)


async def visible_circles(db: AsyncSession, account_id: uuid.UUID) -> dict[uuid.UUID, Circle]:
    """The circles whose decisions the viewer may see."""
    mine = {circle.id for circle in await circles.circles_of(db, account_id)}
    return {c.id: c for c in await circles.visible_circles(db, account_id) if not c.private or c.id in mine}


def _descendants(root: uuid.UUID, visible: dict[uuid.UUID, Circle]) -> set[uuid.UUID]:
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [c.id for c in visible.values() if c.parent_id == parent and c.id not in found]
        found.update(children)
        frontier.extend(children)
    return found


def _status_condition(c: Columns, status: str, today: date) -> ColumnElement[bool]:
    soon = today + timedelta(days=rules.DUE_DAYS)
    active = c.status == "active"
    return {
        "active": and_(active, c.review_by > soon),
        "due": and_(active, c.review_by >= today, c.review_by <= soon),
        "overdue": and_(active, c.review_by < today),
    }.get(status, c.status == status)


def _circle_ids(filters: rules.Filters, visible: dict[uuid.UUID, Circle]) -> set[uuid.UUID]:
    if filters.circle_id is None:
        return set(visible)
    if filters.circle_id not in visible:
        raise bad_field(
            "circle_id", _("{Field} does not exist, or its decisions are not visible to you."), "not_found", 404
        )
    return _descendants(filters.circle_id, visible) if filters.subcircles else {filters.circle_id}


def _conditions(
    c: Columns, filters: rules.Filters, circle_ids: set[uuid.UUID], today: date
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [c.circle_id.in_(circle_ids) if circle_ids else false()]
    if filters.domain_id is not None:
        conditions.append(c.domain_id == filters.domain_id)
    if filters.statuses:
        conditions.append(or_(*(_status_condition(c, s, today) for s in filters.statuses)))
    if filters.review_after is not None:
        conditions.append(c.review_by >= filters.review_after)
    if filters.review_before is not None:
        conditions.append(c.review_by <= filters.review_before)
    if filters.cursor is not None:
        at, ident = filters.cursor.decided_at, filters.cursor.id
        conditions.append(or_(c.decided_at < at, and_(c.decided_at == at, c.id < ident)))
    return conditions


def _filtered(
    db: AsyncSession, filters: rules.Filters, visible: dict[uuid.UUID, Circle], today: date, limit: int | None = None
) -> Select[Any]:
    """The decisions the filters find, newest first (at most `limit`)."""
    circle_ids = _circle_ids(filters, visible)
    newest_first = (DECISION.decided_at.desc(), DECISION.id.desc())
    terms = filters.terms
    if terms and db.get_bind().dialect.name == "sqlite":
        # The hits are filtered and sorted on the index's small rows; only the page's decisions are read.
        hits = (
            select(INDEXED.id)
            .join(_fts, _fts.c.rowid == _fts_key.c.id)
            .where(
                _fts.c.decision_fts.op("MATCH")(rules.fts5_query(terms)),
                *_conditions(INDEXED, filters, circle_ids, today),
            )
            .order_by(INDEXED.decided_at.desc(), INDEXED.id.desc())
            .limit(limit)
        )
        return select(Decision).where(Decision.id.in_(hits)).order_by(*newest_first)
    query = select(Decision).where(*_conditions(DECISION, filters, circle_ids, today))
    if terms:
        document: ColumnElement[Any] = literal_column("decision.decision_fts")
        query = query.where(
            document.op("@@")(func.to_tsquery(literal_column("'simple'::regconfig"), rules.tsquery(terms)))
        )
    return query.order_by(*newest_first).limit(limit)


@dataclass
class Found:
    decisions: list[Decision]
    next_cursor: str | None
    visible: dict[uuid.UUID, Circle]


async def search(db: AsyncSession, account_id: uuid.UUID, filters: rules.Filters, today: date) -> Found:
    """One page of the log, newest first, and the cursor of the next page (None on the last)."""
    visible = await visible_circles(db, account_id)
    decisions = list(await db.scalars(_filtered(db, filters, visible, today, filters.limit + 1)))
    more, decisions = len(decisions) > filters.limit, decisions[: filters.limit]
    cursor = rules.encode_cursor(rules.Cursor(decisions[-1].decided_at, decisions[-1].id)) if more else None
    return Found(decisions, cursor, visible)


async def export(db: AsyncSession, account_id: uuid.UUID, filters: rules.Filters, today: date) -> list[dict[str, Any]]:
    """Every decision the filters find (no pages), described."""
    visible = await visible_circles(db, account_id)
    decisions = list(await db.scalars(_filtered(db, filters.first_page(), visible, today)))
    return await describe_many(db, decisions, visible, today)


async def deadlines(db: AsyncSession, account_id: uuid.UUID, circle_id: uuid.UUID | None) -> list[dict[str, Any]]:
    """The deadlines of the async rounds that wait for the account (of one circle, or all),
    each with its circle's time zone: the calendar's timed events."""
    waiting = [w for w in await rounds.waiting_for(db, account_id) if w.closes_at and circle_id in (None, w.circle_id)]
    ids = {w.circle_id for w in waiting}
    zones = dict((await db.execute(select(Circle.id, Circle.time_zone).where(Circle.id.in_(ids)))).all())
    return [
        {
            "id": str(w.proposal_id),
            "url": f"/proposals/{w.proposal_id}",
            "title": w.title,
            "circle": w.circle_name,
            "closes_at": w.closes_at,
            "time_zone": zones.get(w.circle_id, "UTC"),
        }
        for w in waiting
    ]


async def meetings(
    db: AsyncSession, account_id: uuid.UUID, circle_id: uuid.UUID | None, now: datetime
) -> list[dict[str, Any]]:
    """The meetings of the account's circles (of one, or all) from a year ago on, cancelled
    ones too (a calendar app removes what it was told is cancelled), each in its circle's
    time zone: the calendar's meetings."""
    query = (
        select(Meeting, Circle.name, Circle.time_zone)
        .join(Circle, Circle.id == Meeting.circle_id)
        .join(Membership, (Membership.circle_id == Meeting.circle_id) & (Membership.account_id == account_id))
        .where(Meeting.starts_at >= now - timedelta(days=366))
        .order_by(Meeting.starts_at)
    )
    if circle_id is not None:
        query = query.where(Meeting.circle_id == circle_id)
    return [
        {
            "id": str(m.id),
            "url": f"/meetings/{m.id}",
            "circle": name,
            "starts_at": m.starts_at,
            "minutes_long": m.minutes_long,
            "place": m.place,
            "cancelled": m.state == meeting_rules.CANCELLED,
            "time_zone": zone,
        }
        for m, name, zone in (await db.execute(query)).all()
    ]


async def visible_decision(
    db: AsyncSession, decision_id: uuid.UUID, account_id: uuid.UUID, lock: bool = False
) -> Decision:
    """The decision, if the viewer may see it; `lock`: its row is locked until commit (PostgreSQL),
    so two reviews at once queue instead of both applying."""
    query = select(Decision).where(Decision.id == decision_id)
    decision = await db.scalar(query.with_for_update() if lock else query)
    if decision is None or decision.circle_id not in await visible_circles(db, account_id):
        raise not_found()
    return decision


def _summary(
    d: Decision, circle: Circle, domain: Domain | None, superseded_by: uuid.UUID | None, today: date
) -> dict[str, Any]:
    return {
        "id": str(d.id),
        "url": f"/decisions/{d.id}",
        "title": d.title,
        "driver": d.driver,
        "text": d.text,
        "criteria": d.criteria,
        "evaluation": "\n".join(d.criteria),  # the field before criteria
        "circle": {"id": str(circle.id), "name": circle.name},
        "domain": {"id": str(d.domain_id), "name": domain.name if domain else ""},
        "decided_at": d.decided_at.isoformat(),
        "review_by": d.review_by.isoformat(),
        "status": rules.status_of(d.status, d.review_by, today),
        "revision": d.revision,
        "proposal_id": str(d.proposal_id),
        "supersedes": str(d.supersedes_id) if d.supersedes_id else None,
        "superseded_by": str(superseded_by) if superseded_by else None,
        "responses": d.record.get("responses", []),
        "concerns": d.record.get("concerns", []),
        "objections": d.record.get("objections", []),
        "agreement": d.agreement,
        "kind": d.kind,
    }


async def describe_many(
    db: AsyncSession, decisions: list[Decision], visible: dict[uuid.UUID, Circle], today: date
) -> list[dict[str, Any]]:
    """Decisions as the log's list gives them: everything but revisions, reviews and timeline."""
    if not decisions:
        return []
    domains = {d.id: d for d in await db.scalars(select(Domain).where(Domain.id.in_({d.domain_id for d in decisions})))}
    successors: dict[uuid.UUID, uuid.UUID] = {}
    superseded = [d.id for d in decisions if d.status == "superseded"]  # only those have a successor
    if superseded:
        rows = await db.execute(
            select(Decision.supersedes_id, Decision.id)
            .where(Decision.supersedes_id.in_(superseded))
            .order_by(Decision.decided_at)
        )
        # In date order, so the latest wins, should two proposals have superseded one decision.
        successors.update((old, successor) for old, successor in rows.all() if old is not None)
    items = await item_services.of_decisions(db, [d.id for d in decisions], today)
    return [
        _summary(d, visible[d.circle_id], domains.get(d.domain_id), successors.get(d.id), today)
        | {"action_items": items[d.id]}
        for d in decisions
    ]


def review_json(review: Review, proposal: Proposal | None, names: dict[uuid.UUID, str]) -> dict[str, Any]:
    return {
        "id": str(review.id),
        "decision_id": str(review.decision_id),
        "outcome": review.outcome,
        "state": review.state,
        "text": proposal.text if proposal is not None else review.note,
        "by": {"id": str(review.account_id), "name": names.get(review.account_id, "")},
        "at": review.reviewed_at.isoformat(),
        "closed_at": review.closed_at.isoformat() if review.closed_at else None,
        "previous_review_by": review.previous_review_by.isoformat(),
        "review_by": review.review_by.isoformat() if review.review_by else None,
        "assessments": review.assessments,
        "proposal_id": str(review.proposal_id) if review.proposal_id else None,
        "record": review.record,
    }


async def describe(db: AsyncSession, decision: Decision, account_id: uuid.UUID, today: date) -> dict[str, Any]:
    """One decision with its whole record: revisions, reviews, and the consent process's events."""
    visible = await visible_circles(db, account_id)
    described = (await describe_many(db, [decision], visible, today))[0]
    revisions = await db.scalars(
        select(Revision).where(Revision.proposal_id == decision.proposal_id).order_by(Revision.number)
    )
    reviews = list(
        await db.scalars(
            select(Review).where(Review.decision_id == decision.id).order_by(Review.reviewed_at, Review.created_at)
        )
    )
    proposals = {
        p.id: p
        for p in await db.scalars(
            select(Proposal).where(Proposal.id.in_([r.proposal_id for r in reviews if r.proposal_id]))
        )
    }
    proposal = await db.get_one(Proposal, decision.proposal_id)
    events = await rounds.events_since(db, proposal, 0, limit=100_000)
    names = await rounds.names_of(db, {e.actor_id for e in events if e.actor_id} | {r.account_id for r in reviews})
    return {
        **described,
        "revisions": [
            {"number": r.number, "driver": r.driver, "text": r.text, "at": r.created_at.isoformat()} for r in revisions
        ],
        "reviews": [review_json(r, proposals.get(r.proposal_id) if r.proposal_id else None, names) for r in reviews],
        "timeline": [rounds.event_json(e, names) for e in events],
    }


async def chain(db: AsyncSession, decision: Decision, visible: dict[uuid.UUID, Circle]) -> list[Decision]:
    """The decisions this one superseded and those that superseded it, oldest first (the ones
    the viewer may see); `decision` is among them."""
    earlier: list[Decision] = []
    current = decision
    while current.supersedes_id is not None and len(earlier) < 100:
        current = await db.get_one(Decision, current.supersedes_id)
        earlier.insert(0, current)
    later: list[Decision] = []
    newer: Decision | None = decision
    while newer is not None and len(later) < 100:
        newer = await db.scalar(
            select(Decision).where(Decision.supersedes_id == newer.id).order_by(Decision.decided_at.desc()).limit(1)
        )
        if newer is not None:
            later.append(newer)
    return [d for d in [*earlier, decision, *later] if d.circle_id in visible]


@dataclass(frozen=True)
class Opening:
    """A review as a member opens it: the outcome it proposes, the assessment of each of the
    decision's criteria, and its proposal (defaults in rules.review_proposal)."""

    outcome: str
    review_by: date | None = None  # reaffirm: the decision's next review date; amend: the new decision's
    text: str = ""  # amend: the superseding text; otherwise why
    assessments: Sequence[tuple[str, str]] = ()  # (criterion, assessment)
    driver: str = ""
    title: str = ""
    criteria: Sequence[str] | None = None  # amend: the new decision's (default: the decision's)
    mode: str = "live"
    closes_at: datetime | None = None


async def review(
    db: AsyncSession, account_id: uuid.UUID, decision_id: uuid.UUID, opening: Opening, now: datetime
) -> Review:
    """Opens a review by a member of the decision's circle: a proposal of kind "review", which
    changes the decision only when the circle consents to it (rounds.services._decide)."""
    decision = await visible_decision(db, decision_id, account_id, lock=True)
    circle = await db.get_one(Circle, decision.circle_id)
    if await circles.roles_in(db, circle.id, account_id) is None:
        raise Refusal("not_a_member", _("Only members of {name} review its decisions.").format(name=circle.name), 403)
    outcome = opening.outcome
    if outcome not in rules.OUTCOMES:
        raise bad_field("outcome", _("{{Field}} must be one of {join}.").format(join=", ".join(rules.OUTCOMES)))
    if outcome == "retire" and opening.review_by is not None:
        raise bad_field("review_by", _("{Field}: a retired decision has none."))
    if outcome == "amend" and not opening.text.strip():
        raise bad_field("text", _("{Field}: an amendment needs the new text."))
    if outcome != "amend" and opening.criteria is not None:
        raise bad_field("criteria", _("{Field}: only an amendment gives the decision new ones."))
    assessments = rules.assessed(decision.criteria, opening.assessments)
    title, driver, text = rules.review_proposal(outcome, decision.title, decision.driver, decision.review_by)
    criteria = decision.criteria if outcome == "amend" else []
    proposal = await rounds.create_proposal(
        db,
        account_id,
        circle.id,
        title=opening.title or title,
        driver=opening.driver or driver,
        text=opening.text or text,
        domain_id=decision.domain_id,
        mode=opening.mode,
        now=now,
        review_by=opening.review_by,
        closes_at=opening.closes_at,
        supersedes=decision.id if outcome == "amend" else None,
        criteria=opening.criteria if opening.criteria is not None else criteria,
        review=rounds.ReviewOf(decision, outcome, assessments),
        agreement=decision.agreement and outcome == "amend",  # an agreement, amended, is still one
    )
    return await rounds.review_of(db, proposal.id)


async def set_agreement(
    db: AsyncSession, account_id: uuid.UUID, decision_id: uuid.UUID, agreement: bool, today: date
) -> Decision:
    """A steward of the decision's circle marks it as one of the circle's standing agreements
    (what someone invited reads before joining), or unmarks it."""
    decision = await visible_decision(db, decision_id, account_id)
    await circles.require_steward(db, await db.get_one(Circle, decision.circle_id), account_id, today)
    decision.agreement = agreement
    await db.flush()
    return decision


async def agreements(db: AsyncSession, circle_id: uuid.UUID) -> list[Decision]:
    """The circle's standing agreements: its decisions in force marked as agreements, oldest first."""
    return list(
        await db.scalars(
            select(Decision)
            .where(Decision.circle_id == circle_id, Decision.agreement, Decision.status == "active")
            .order_by(Decision.decided_at)
        )
    )


async def due_for_review(
    db: AsyncSession, account_id: uuid.UUID, today: date, circle_id: uuid.UUID | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(overdue, due within DUE_DAYS days), soonest first: of one circle, or of every circle
    the viewer is a member of."""
    visible = await visible_circles(db, account_id)
    if circle_id is None:
        circle_ids = [c.id for c in await circles.circles_of(db, account_id)]
    else:
        circle_ids = [circle_id] if circle_id in visible else []
    rows = list(
        await db.scalars(select(Decision).where(_due(circle_ids, today)).order_by(Decision.review_by).limit(100))
    )
    described = await describe_many(db, rows, visible, today)
    return [d for d in described if d["status"] == "overdue"], [d for d in described if d["status"] == "due"]


def _due(circle_ids: Sequence[uuid.UUID] | Select[uuid.UUID], today: date) -> ColumnElement[bool]:
    """Decisions of these circles to review: overdue, or due within DUE_DAYS days (rules.status_of)."""
    return and_(
        Decision.circle_id.in_(circle_ids),
        Decision.status == "active",
        Decision.review_by <= today + timedelta(days=rules.DUE_DAYS),
    )


def due_count(account_id: uuid.UUID, today: date) -> ScalarSelect[int]:
    """How many decisions `due_for_review` lists for the account, as a subquery: the header
    counts them with the rest of what waits, in one query."""
    mine = select(Membership.circle_id).where(Membership.account_id == account_id)
    return select(func.count()).select_from(Decision).where(_due(mine, today)).scalar_subquery()


async def new_feed(db: AsyncSession, account_id: uuid.UUID) -> str:
    """A new secret for the account's calendar link; the old link stops working."""
    await revoke_feed(db, account_id)
    token = FEED_PREFIX + secrets.token_urlsafe(24)
    db.add(CalendarFeed(account_id=account_id, token_hash=hash_token(token)))
    await db.flush()
    return token


async def revoke_feed(db: AsyncSession, account_id: uuid.UUID) -> bool:
    result = cast(
        "CursorResult[Any]", await db.execute(delete(CalendarFeed).where(CalendarFeed.account_id == account_id))
    )
    return bool(result.rowcount)


async def has_feed(db: AsyncSession, account_id: uuid.UUID) -> bool:
    return await db.scalar(select(CalendarFeed.id).where(CalendarFeed.account_id == account_id)) is not None


async def feed_account(db: AsyncSession, token: str) -> uuid.UUID | None:
    return await db.scalar(select(CalendarFeed.account_id).where(CalendarFeed.token_hash == hash_token(token)))
