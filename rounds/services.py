"""Loading and storing proposals: each accepted action's events are written in the same
transaction as the new state; a retried action (same client_id) returns its first result."""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import msgspec
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from circles import services as circles
from circles.models import Circle, Domain, Membership, Role, person
from circles.rules import FACILITATOR, check_link_role, clean_role, expired
from consent.base import i18n
from consent.base.db import as_uuid, raw_id
from consent.base.errors import Refusal, bad_field
from consent.base.i18n import N_
from consent.base.i18n import gettext as _
from consent.base.text import MAX_TEXT, MAX_TITLE, clean_criteria, clean_text
from rounds import actions, item_rules, item_services, machine, selection
from rounds import events as machine_events
from rounds.models import Decision, Event, Proposal, Review, Revision, Selection

MODES = ("live", "async")


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


LATEST_REVIEW_YEARS = 10  # a circle reviews by default within 5; 9999-12-31 broke calendar feeds


def check_review_date(review_by: date, today: date, name: str = "review_by") -> None:
    """A review date (or a selection's term end, which is its review date) is in the future,
    and near enough to be a review."""
    if review_by <= today:
        raise bad_field(name, _("{Field} must be in the future."))
    if review_by > add_months(today, 12 * LATEST_REVIEW_YEARS):
        raise bad_field(
            name,
            _("{{Field}} must be within {LATEST_REVIEW_YEARS} years.").format(LATEST_REVIEW_YEARS=LATEST_REVIEW_YEARS),
        )


async def member_of(db: AsyncSession, circle_id: uuid.UUID, account_id: uuid.UUID) -> Circle:
    """The circle, if the account may see it (else 404) and is a member of it (else 403)."""
    circle = await circles.get_visible(db, circle_id, account_id)
    if await circles.roles_in(db, circle.id, account_id) is None:
        raise Refusal(
            "not_a_participant", _("Only members of {name} take part in its proposals.").format(name=circle.name), 403
        )
    return circle


@dataclass(frozen=True)
class ReviewOf:
    """What a review proposal reviews: the decision, the outcome it proposes (reaffirm, retire
    or amend), and an assessment of each of the decision's criteria."""

    decision: Decision
    outcome: str
    assessments: list[dict[str, str]]


async def open_change(db: AsyncSession, decision_id: uuid.UUID) -> uuid.UUID | None:
    """The open proposal that would change the decision, if any: an amendment (a proposal that
    supersedes it) or a review."""
    return await db.scalar(
        select(Proposal.id)
        .where(
            Proposal.state.in_(machine.OPEN_PHASES),
            or_(
                Proposal.supersedes_id == decision_id,
                Proposal.id.in_(select(Review.proposal_id).where(Review.decision_id == decision_id)),
            ),
        )
        .limit(1)
    )


async def _may_change(db: AsyncSession, decision: Decision) -> None:
    """A decision is reviewed or amended only while in force, and by one proposal at a time."""
    if decision.status != "active":
        raise Refusal(
            "not_in_force",
            _("This decision is {status}; only a decision in force is reviewed or amended.").format(
                status=decision.status
            ),
            409,
        )
    if await open_change(db, decision.id) is not None:
        raise Refusal(
            "amendment_open", _("A review or amendment of this decision is open already; take part in it."), 409
        )


async def create_proposal(
    db: AsyncSession,
    account_id: uuid.UUID,
    circle_id: uuid.UUID,
    *,
    title: str,
    driver: str,
    text: str,
    domain_id: uuid.UUID,
    mode: str,
    now: datetime,
    review_by: date | None = None,
    closes_at: datetime | None = None,
    supersedes: uuid.UUID | None = None,
    criteria: Sequence[str] = (),
    review: ReviewOf | None = None,
    agreement: bool = False,
    action_items: Sequence[item_rules.ItemIn] = (),
    kind: str = "proposal",
) -> Proposal:
    """A draft proposal; with `review`, the review of a decision (kind "review"), recorded in
    the decision's history as open until the circle decides it; of kind "selection", the
    selection of someone for a role (`create_selection`)."""
    circle = await member_of(db, circle_id, account_id)
    items = []
    if action_items:
        members = (await _members(db, {circle.id}, now.date()))[circle.id][0]
        items = item_rules.clean_items(action_items, members)
        item_rules.check_due(action_items, now.date())
    domain = await db.get(Domain, domain_id)
    if domain is None or domain.circle_id != circle.id:
        raise bad_field(
            "domain_id", _("{{Field}} must be one that {name} holds.").format(name=circle.name), "domain_not_held"
        )
    if mode not in MODES:
        raise bad_field("mode", _("{Field} must be live or async."))
    if closes_at is not None and closes_at.tzinfo is None:
        closes_at = closes_at.replace(tzinfo=UTC)
    if mode == "async" and closes_at is None:
        raise bad_field("closes_at", _("{Field}: an async proposal needs one."))
    if closes_at is not None and closes_at <= now:
        raise bad_field("closes_at", _("{Field} must be in the future."))
    if review_by is not None:
        check_review_date(review_by, now.date())
    changed = review.decision if review is not None else None
    if supersedes is not None:
        changed = await db.get(Decision, supersedes)
        if changed is None or changed.circle_id != circle.id:
            raise bad_field("supersedes", _("{Field} must be a decision of this circle."))
    if changed is not None:
        await _may_change(db, changed)
    kind = machine.REVIEW if review is not None else kind
    state = machine.Proposal(mode=mode, author=account_id, members=frozenset(), kind=kind)
    proposal = Proposal(
        id=uuid.uuid4(),
        circle_id=circle.id,
        domain_id=domain.id,
        author_id=account_id,
        kind=kind,
        title=clean_text(title, "title", MAX_TITLE, required=True),
        driver=clean_text(driver, "driver", MAX_TEXT, required=True),
        text=clean_text(text, "text", MAX_TEXT, required=True),
        criteria=clean_criteria(criteria),
        mode=mode,
        state=state.phase,
        revision=1,
        seq=0,
        review_by=review_by,
        closes_at=closes_at,
        supersedes_id=supersedes,
        machine=machine.snapshot(state),
        agreement=agreement,
    )
    db.add(proposal)
    await db.flush()
    db.add(Revision(proposal_id=proposal.id, number=1, driver=proposal.driver, text=proposal.text))
    await item_services.store(db, proposal.id, [item.data() for item in items])
    if review is not None:
        db.add(
            Review(
                decision_id=review.decision.id,
                account_id=account_id,
                outcome=review.outcome,
                assessments=review.assessments,
                previous_review_by=review.decision.review_by,
                proposal_id=proposal.id,
                reviewed_at=now,
            )
        )
    await db.flush()
    return proposal


async def create_selection(
    db: AsyncSession,
    account_id: uuid.UUID,
    circle_id: uuid.UUID,
    *,
    role: str,
    description: str,
    term_ends_on: date,
    mode: str,
    now: datetime,
    closes_at: datetime | None = None,
) -> Proposal:
    """A selection of someone for a role of the circle, for a term, opened by a steward of the
    circle: a draft proposal of kind "selection" in the circle's first domain, whose review date
    is the term's end. Async, `closes_at` ends the nomination period."""
    circle = await member_of(db, circle_id, account_id)
    await circles.require_steward(db, circle, account_id, now.date())
    role = clean_role(role)
    if role in selection.NOT_SELECTED:
        raise bad_field(
            "role", _("{{Field}}: the {role} is chosen by the parent circle.").format(role=role), "chosen_by_parent"
        )
    check_link_role(role, circle.parent_id)
    check_review_date(term_ends_on, now.date(), "term_ends_on")
    domain = await db.scalar(select(Domain).where(Domain.circle_id == circle.id).order_by(Domain.created_at).limit(1))
    if domain is None:  # a decision is always taken in a domain the circle holds
        raise Refusal(
            "no_domain",
            _("{circle} holds no domain yet: add one before selecting for a role.").format(circle=circle.name),
            409,
        )
    description = clean_text(description, "description", MAX_TEXT)
    proposal = await create_proposal(
        db,
        account_id,
        circle.id,
        title=f"Selection: {role}",
        driver=description or f"The circle needs someone as {role}.",
        text=f"Someone as {role} until {term_ends_on.isoformat()}: nominations are open.",
        domain_id=domain.id,
        mode=mode,
        now=now,
        review_by=term_ends_on,
        closes_at=closes_at,
        kind=selection.SELECTION,
    )
    db.add(Selection(proposal_id=proposal.id, role=role, description=description, term_ends_on=term_ends_on))
    await db.flush()
    return proposal


async def selection_of(db: AsyncSession, proposal_id: uuid.UUID) -> Selection:
    """What a proposal of kind "selection" selects for."""
    return (await db.scalars(select(Selection).where(Selection.proposal_id == proposal_id))).one()


async def selection_summary(db: AsyncSession, proposal: Proposal, state: machine.Proposal) -> dict[str, Any]:
    """The role, its term, the candidate proposed, and the nominations with their reasons once
    they are heard: async, none until the nomination period closes (only how many there are)."""
    chosen = await selection_of(db, proposal.id)
    nominations = selection.heard(state.nominations)
    hidden = len(nominations) < len(state.nominations)
    names = await names_of(
        db,
        {*nominations, *(n.candidate for n in nominations.values()), *([state.candidate] if state.candidate else [])},
    )
    ref = lambda m: {"id": str(m), "name": names.get(m, "")}  # noqa: E731
    return {
        "role": chosen.role,
        "description": chosen.description,
        "term_ends_on": chosen.term_ends_on.isoformat(),
        "candidate": ref(state.candidate) if state.candidate else None,
        "nominations_hidden": hidden,
        "nominated": len(state.nominations),
        "nominations": [
            {"member": ref(m), "candidate": ref(n.candidate), "reason": n.reason}
            for m, n in sorted(nominations.items(), key=lambda item: (names.get(item[0], ""), str(item[0])))
        ],
        "tally": [{"candidate": ref(c), "count": count} for c, count in selection.tally(nominations)],
    }


async def _selection_text(db: AsyncSession, chosen: Selection, state: machine.Proposal) -> str:
    """A selection's text: its candidate as its role until its term's end, with the reasons heard."""
    assert state.candidate is not None, "a selection's text is written once a candidate is proposed"
    reasons = selection.reasons_for(state.nominations, state.candidate)
    names = await names_of(db, {state.candidate, *(m for m, _ in reasons)})
    return selection.proposed_text(
        names.get(state.candidate, ""),
        chosen.role,
        chosen.term_ends_on,
        [(names.get(m, ""), reason) for m, reason in reasons],
    )


async def review_of(db: AsyncSession, proposal_id: uuid.UUID) -> Review:
    """The review that a proposal of kind "review" runs."""
    return (await db.scalars(select(Review).where(Review.proposal_id == proposal_id))).one()


NOT_FOUND = N_("No such proposal, or it is not visible to you.")


async def _locked(db: AsyncSession, proposal_id: uuid.UUID) -> Proposal | None:
    """The proposal row, locked until commit (PostgreSQL; SQLite's BEGIN IMMEDIATE already
    serialises writers), so concurrent actions on one proposal queue instead of racing."""
    return await db.scalar(select(Proposal).where(Proposal.id == proposal_id).with_for_update())


def may_see(
    organisation_id: uuid.UUID, private: bool, viewer_organisations: set[uuid.UUID], viewer_is_member: bool
) -> bool:
    """A proposal is seen across its circle's organisation; a private circle's only by its members."""
    return organisation_id in viewer_organisations and (viewer_is_member or not private)


async def sees_circle(db: AsyncSession, circle_id: uuid.UUID, account_id: uuid.UUID) -> bool:
    """Whether the account sees what belongs to the circle (its proposals, its meetings)."""
    circle = await db.get(Circle, circle_id)
    return circle is not None and may_see(
        circle.organisation_id,
        circle.private,
        await circles.organisations_of(db, account_id),
        circle.private and await circles.roles_in(db, circle.id, account_id) is not None,
    )


async def visible_proposal(db: AsyncSession, proposal_id: uuid.UUID, account_id: uuid.UUID) -> Proposal:
    proposal = await db.get(Proposal, proposal_id)
    if proposal is None or not await sees_circle(db, proposal.circle_id, account_id):
        raise Refusal("not_found", _(NOT_FOUND), 404)
    return proposal


async def _members(
    db: AsyncSession, circle_ids: set[uuid.UUID], today: date
) -> dict[uuid.UUID, tuple[frozenset[uuid.UUID], frozenset[uuid.UUID]]]:
    """Each circle's members and facilitators (whose term has not ended by `today`), in one
    query for all of them."""
    membership, role = Membership.__table__.c, Role.__table__.c  # Core: a thousand rows cost a third
    dialect = db.get_bind().dialect.name
    rows = await db.execute(
        select(raw_id(membership.circle_id, dialect), raw_id(membership.account_id, dialect), role.name)
        .add_columns(role.term_ends_on)
        .outerjoin_from(Membership.__table__, Role.__table__, role.membership_id == membership.id)
        .where(membership.circle_id.in_(circle_ids))
    )
    members: dict[uuid.UUID, set[uuid.UUID]] = {c: set() for c in circle_ids}
    facilitators: dict[uuid.UUID, set[uuid.UUID]] = {c: set() for c in circle_ids}
    for circle_id, account_id, role, term_ends_on in rows.all():
        circle, account = as_uuid(circle_id), as_uuid(account_id)
        members[circle].add(account)
        if role == FACILITATOR and not expired(term_ends_on, today):
            facilitators[circle].add(account)
    return {c: (frozenset(members[c]), frozenset(facilitators[c])) for c in circle_ids}


async def members_and_facilitators(
    db: AsyncSession, circle_id: uuid.UUID, today: date
) -> tuple[frozenset[uuid.UUID], frozenset[uuid.UUID]]:
    """The circle's members, and its facilitators in their term."""
    return (await _members(db, {circle_id}, today))[circle_id]


async def state_of(db: AsyncSession, proposal: Proposal, today: date) -> machine.Proposal:
    members, facilitators = await members_and_facilitators(db, proposal.circle_id, today)
    quorum = await db.scalar(select(Circle.quorum).where(Circle.id == proposal.circle_id))
    return machine.restore(proposal.machine, proposal.author_id, members, facilitators, quorum, proposal.kind)


def with_deadline(action: actions.Action, state: machine.Proposal, async_days: int, now: datetime) -> actions.Action:
    """An action that opens an async consent round carries its deadline: the one given, which
    must be in the future, or the circle's async period from now. The machine has no clock."""
    if not isinstance(action, actions.Amend | actions.ChangeMode | actions.ProposeCandidate):
        return action
    closes_at = action.closes_at
    if closes_at is not None:
        closes_at = closes_at if closes_at.tzinfo else closes_at.replace(tzinfo=UTC)
        if closes_at <= now:
            raise bad_field("closes_at", _("{Field} must be in the future."))
    elif (
        (isinstance(action, actions.ChangeMode) and action.mode == "async")
        or (isinstance(action, actions.Amend) and state.mode == "async" and state.phase == machine.INTEGRATING)
        or (isinstance(action, actions.ProposeCandidate) and state.mode == "async")
    ):
        closes_at = now + timedelta(days=async_days)
    return msgspec.structs.replace(action, closes_at=closes_at)


# A proposal as an action left it: its row (no longer in a session) and the machine's state.
After = tuple[Proposal, machine.Proposal]


@dataclass(slots=True)
class NewEvent:
    """An event as `_record` writes it: the values of its row. Not an ORM object: making one
    cost more than writing it, and events are only ever inserted."""

    id: uuid.UUID
    proposal_id: uuid.UUID
    seq: int
    type: str
    actor_id: uuid.UUID | None
    client_id: str | None
    action_events: int | None
    data: dict[str, Any]
    at: datetime


class Logged(Protocol):
    """An event read from a log (a proposal's or a meeting's), or one just written."""

    @property
    def seq(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def actor_id(self) -> uuid.UUID | None: ...
    @property
    def data(self) -> dict[str, Any]: ...
    @property
    def at(self) -> datetime: ...


@dataclass
class Outcome:
    """What an action did: its events (empty for one that changed nothing), the last seq, the
    events as API.md gives them (to answer and to publish), and whether it was a retry
    answered with the first time's events (published then)."""

    seq: int
    events: Sequence[Logged]
    json: list[dict[str, Any]] = field(default_factory=list)
    repeated: bool = False
    after: After | None = None  # the proposal after the action (not for a retry)


@dataclass(frozen=True)
class Attempt:
    """One member's action on one proposal, as it arrived (decoded where it arrived)."""

    account_id: uuid.UUID
    proposal_id: uuid.UUID
    action: actions.Action
    now: datetime
    # Its sender's, where it was made: the writer's task says a refusal in it (consent.base.i18n).
    language: str = field(default_factory=i18n.current)


async def act(
    db: AsyncSession, account_id: uuid.UUID, proposal_id: uuid.UUID, action: Mapping[str, Any], now: datetime
) -> Outcome:
    """One action as API.md writes it (for scripts: the demo, the benchmarks), in the caller's
    transaction; a refusal is raised and changes nothing."""
    [result] = await act_many(db, [Attempt(account_id, proposal_id, actions.decode(action), now)])
    if isinstance(result, Exception):
        raise result
    return result


async def act_many(db: AsyncSession, attempts: list[Attempt]) -> list[Outcome | Refusal]:
    """Applies the attempts in order, in the caller's transaction, with a handful of statements
    for all of them together (the live path's cost is round trips to the database, not work):
    each gets its outcome, or its refusal, which changes nothing. A retried client_id, also
    one repeated within the batch, is answered with its first outcome."""
    results: list[Outcome | Refusal | None] = [None] * len(attempts)
    proposal_ids = sorted({a.proposal_id for a in attempts})
    actors = {a.account_id for a in attempts}
    # Locked until commit on PostgreSQL (SQLite's BEGIN IMMEDIATE already serialises writers),
    # in id order so that two processes' batches cannot deadlock.
    proposals = {
        p.id: p
        for p in await db.scalars(
            select(Proposal).where(Proposal.id.in_(proposal_ids)).order_by(Proposal.id).with_for_update()
        )
    }
    circle_ids = {p.circle_id for p in proposals.values()}
    # The lookups below are Core selects of columns: the ORM's loading of rows cost more than the queries.
    circle, membership, event = Circle.__table__.c, Membership.__table__.c, Event.__table__.c
    organisation_of, private, quorum, async_days = {}, set(), {}, {}
    for circle_id, organisation_id, is_private, circle_quorum, circle_async_days in await db.execute(
        select(circle.id, circle.organisation_id, circle.private, circle.quorum, circle.default_async_days).where(
            circle.id.in_(circle_ids)
        )
    ):
        organisation_of[circle_id] = organisation_id
        quorum[circle_id], async_days[circle_id] = circle_quorum, circle_async_days
        if is_private:
            private.add(circle_id)
    organisations: dict[uuid.UUID, set[uuid.UUID]] = {a: set() for a in actors}
    for account_id, organisation_id in (
        await db.execute(
            select(membership.account_id, circle.organisation_id)
            .join_from(Membership.__table__, Circle.__table__, circle.id == membership.circle_id)
            .where(membership.account_id.in_(actors))
        )
    ).all():
        organisations[account_id].add(organisation_id)
    # A batch is written within moments: its first action's day is everyone's.
    members = await _members(db, circle_ids, attempts[0].now.date())
    firsts = {
        (proposal_id, client_id): (seq, count, actor_id)
        for proposal_id, client_id, seq, count, actor_id in await db.execute(
            select(event.proposal_id, event.client_id, event.seq, event.action_events, event.actor_id).where(
                event.proposal_id.in_(proposal_ids), event.client_id.in_({a.action.client_id for a in attempts})
            )
        )
    }
    states: dict[uuid.UUID, machine.Proposal] = {}
    done: dict[tuple[uuid.UUID, str], tuple[Outcome, uuid.UUID]] = {}  # and whose it is
    unwritten: list[dict[str, Any]] = []  # the batch's events, inserted together
    for i, attempt in enumerate(attempts):
        i18n.use(attempt.language)  # this attempt's refusal, in its sender's language
        proposal = proposals.get(attempt.proposal_id)
        if proposal is None or not may_see(
            organisation_of[proposal.circle_id],
            proposal.circle_id in private,
            organisations[attempt.account_id],
            attempt.account_id in members[proposal.circle_id][0],
        ):
            results[i] = Refusal("not_found", _(NOT_FOUND), 404)
            continue
        key = (proposal.id, attempt.action.client_id)
        sender = done[key][1] if key in done else firsts[key][2] if key in firsts else attempt.account_id
        if sender != attempt.account_id:  # a client_id is its sender's: never someone else's answer
            results[i] = bad_field(
                "client_id",
                _("{Field} is taken by someone else's action; send yours with a new one."),
                "client_id_taken",
                409,
            )
            continue
        if key in done:  # the same action twice in one batch
            results[i] = done[key][0]
            continue
        if key in firsts:  # a retry: answer as the first time, change nothing
            first, count = firsts[key][:2]
            assert count is not None, "an action's first event (the one with its client_id) counts its events"
            repeated = Outcome(
                first + count - 1,
                list(
                    await db.scalars(
                        select(Event)
                        .where(Event.proposal_id == proposal.id, Event.seq >= first, Event.seq < first + count)
                        .order_by(Event.seq)
                    )
                ),
                repeated=True,
            )
            results[i], done[key] = repeated, (repeated, sender)
            continue
        if proposal.id not in states:
            states[proposal.id] = machine.restore(
                proposal.machine,
                proposal.author_id,
                *members[proposal.circle_id],
                quorum[proposal.circle_id],
                proposal.kind,
            )
        try:
            action = with_deadline(attempt.action, states[proposal.id], async_days[proposal.circle_id], attempt.now)
            new_state, produced = machine.apply(states[proposal.id], attempt.account_id, action)
            await _check_amendment(db, proposal, action, attempt.now)
        except Refusal as refusal:
            results[i] = refusal
            continue
        states[proposal.id] = new_state
        recorded = await _record(
            db, proposal, new_state, produced, attempt.account_id, attempt.action.client_id, attempt.now, unwritten
        )
        results[i], done[key] = recorded, (recorded, sender)
    await _insert_events(db, unwritten)
    outcomes = [r for r in results if isinstance(r, Outcome)]
    names = await names_of(db, {e.actor_id for o in outcomes for e in o.events if e.actor_id})
    for outcome in outcomes:
        outcome.json = [event_json(e, names) for e in outcome.events]
    await db.flush()
    return results  # type: ignore[return-value]


async def _check_amendment(db: AsyncSession, proposal: Proposal, action: actions.Action, now: datetime) -> None:
    """What the machine, which knows no clock and no decision, cannot judge of an amendment: a
    review date must be in the future, a retirement has none, only an amendment of a decision
    changes its criteria, and an item is not due in the past."""
    if not isinstance(action, actions.Amend):
        return
    item_rules.check_due(action.action_items or (), now.date())
    if action.term_ends_on is not None:
        check_review_date(action.term_ends_on, now.date(), "term_ends_on")
    if action.review_by is None and action.criteria is None:
        return
    if action.review_by is not None:
        check_review_date(action.review_by, now.date())
    outcome = (await review_of(db, proposal.id)).outcome if proposal.kind == machine.REVIEW else "amend"
    if outcome == "retire" and action.review_by is not None:
        raise bad_field("review_by", _("{Field}: a retired decision has none."))
    if outcome != "amend" and action.criteria is not None:
        raise bad_field(
            "criteria",
            _("{{Field}}: a review that would {outcome} the decision does not change them.").format(outcome=outcome),
        )


async def _record(
    db: AsyncSession,
    proposal: Proposal,
    new_state: machine.Proposal,
    produced: list[machine.Event],
    actor_id: uuid.UUID | None,
    client_id: str | None,
    now: datetime,
    unwritten: list[dict[str, Any]] | None = None,
) -> Outcome:
    """The action's events and the proposal's new state, in the caller's transaction. The
    events are inserted at once, or, given `unwritten`, added to it for the caller to insert
    with others (`_insert_events`)."""
    review = await review_of(db, proposal.id) if proposal.kind == machine.REVIEW else None
    chosen = await selection_of(db, proposal.id) if proposal.kind == selection.SELECTION else None
    produced = list(produced)  # a consent round's opening gains its review date below
    for index, event in enumerate(produced):
        if chosen is not None and isinstance(event, machine_events.CandidateProposed | machine_events.Amended):
            # A selection's text is its candidate, role and term, with the reasons heard.
            if isinstance(event, machine_events.Amended) and event.term_ends_on:
                chosen.term_ends_on = proposal.review_by = date.fromisoformat(event.term_ends_on)
            event = produced[index] = msgspec.structs.replace(event, text=await _selection_text(db, chosen, new_state))
        if isinstance(event, machine_events.CandidateProposed):
            proposal.text = event.text
            db.add(Revision(proposal_id=proposal.id, number=event.revision, driver=proposal.driver, text=event.text))
        if (
            isinstance(event, machine_events.PhaseChanged)
            and event.to == selection.CHANGING
            and new_state.mode == "async"
        ):
            # The change round is open to everyone for the circle's usual period.
            proposal.closes_at = now + timedelta(days=await async_days_of(db, proposal.circle_id))
            produced[index] = msgspec.structs.replace(event, closes_at=proposal.closes_at.isoformat())
        if isinstance(event, machine_events.Amended):
            proposal.text = event.text
            proposal.driver = event.driver or proposal.driver
            if event.review_by:
                proposal.review_by = date.fromisoformat(event.review_by)
            if event.criteria is not msgspec.UNSET:
                proposal.criteria = event.criteria
            if event.action_items is not msgspec.UNSET:
                await item_services.store(db, proposal.id, event.action_items)
            db.add(Revision(proposal_id=proposal.id, number=event.revision, driver=proposal.driver, text=proposal.text))
        if (
            isinstance(event, machine_events.Amended | machine_events.ModeChanged | machine_events.CandidateProposed)
            and event.closes_at
        ):
            proposal.closes_at = datetime.fromisoformat(event.closes_at)
        if isinstance(event, machine_events.ModeChanged) and event.to == "live":
            proposal.closes_at = None  # a live meeting closes the round, not a clock
        if (
            isinstance(event, machine_events.PhaseChanged)
            and event.to == machine.CONSENTING
            and (review is None or review.outcome != "retire")  # a retired decision has no review date
        ):
            # The review date is consented to with the proposal: the author's, else the circle's
            # usual period from the day the consent round opens.
            if proposal.review_by is None:
                circle = await db.get_one(Circle, proposal.circle_id)
                proposal.review_by = add_months(now.date(), circle.default_review_months)
            produced[index] = msgspec.structs.replace(event, review_by=proposal.review_by.isoformat())
    events = []
    for offset, event in enumerate(produced):
        event_type, data = machine_events.row(event)
        first = offset == 0  # the action's first event stands for it: found again by a retry
        events.append(
            NewEvent(
                id=uuid.uuid4(),
                proposal_id=proposal.id,
                seq=proposal.seq + offset + 1,
                type=event_type,
                actor_id=actor_id,
                client_id=client_id if first else None,
                action_events=len(produced) if first else None,
                data=data,
                at=now,
            )
        )
    pending = unwritten if unwritten is not None else []
    pending += [{column: getattr(e, column) for column in EVENT_COLUMNS} for e in events]
    proposal.state, proposal.mode, proposal.revision = new_state.phase, new_state.mode, new_state.revision
    proposal.seq, proposal.machine = new_state.seq, machine.snapshot(new_state)
    if any(isinstance(event, machine_events.Decided) for event in produced):
        await _insert_events(db, pending)  # the record of consent reads this round's responses
        await _decide(db, proposal, new_state, now, review)
        if chosen is not None and new_state.candidate is not None:
            await circles.assign_selected(
                db, proposal.circle_id, new_state.candidate, chosen.role, chosen.term_ends_on, now.date()
            )
    elif review is not None and any(
        isinstance(e, machine_events.NotAdopted | machine_events.Withdrawn) for e in produced
    ):
        review.state, review.closed_at = new_state.phase, now  # the decision stays as it was
    if unwritten is None:
        await _insert_events(db, pending)
    return Outcome(seq=proposal.seq, events=events, after=(proposal, new_state))


# What an event row is given; the rest (created_at, updated_at) are the columns' defaults.
EVENT_COLUMNS = NewEvent.__slots__


async def _insert_events(db: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Inserts the rows with one statement and empties the list. Events are only ever inserted,
    and the ORM's unit of work was the larger part of an action's cost (docs/performance.md):
    an Outcome's events are NewEvents, not in the session."""
    if rows:
        await db.execute(insert(Event), rows)
        rows.clear()


async def _consent_record(db: AsyncSession, proposal: Proposal, state: machine.Proposal) -> dict[str, Any]:
    """How the circle consented: for each member of the circle (and each who took part and left
    meanwhile) what they did in the deciding round, who recorded it for them, or that they were
    present without a response, or absent; the concerns on record; and each objection with how
    it was dealt with."""
    said: dict[uuid.UUID, dict[str, Any]] = {}  # each member's response event in the deciding round
    for e in await db.scalars(
        select(Event).where(Event.proposal_id == proposal.id, Event.type == "responded").order_by(Event.seq)
    ):
        if e.data.get("round") == state.round and not e.data.get("early"):
            said[uuid.UUID(e.data["member"])] = e.data
    everyone = state.members | state.responses.keys()
    recorders = {uuid.UUID(d["recorded_by"]) for d in said.values() if d.get("recorded_by")}
    names = await names_of(db, set(everyone) | {o.author for o in state.objections} | recorders)
    ref = lambda m: {"id": str(m), "name": names.get(m, "")}  # noqa: E731

    def entry(member: uuid.UUID) -> dict[str, Any]:
        kind = state.responses.get(member) or (
            "present_no_response" if state.mode == "live" and member in state.participants else "absent"
        )
        data = said.get(member, {}) if member in state.responses else {}
        return (
            {"member": ref(member), "kind": kind}
            | ({"text": data["text"]} if data.get("text") else {})
            | ({"recorded_by": ref(uuid.UUID(data["recorded_by"]))} if data.get("recorded_by") else {})
            | ({"left": True} if member not in state.members else {})
        )

    return {
        "responses": [entry(m) for m in sorted(everyone, key=lambda m: (names.get(m, ""), str(m)))],
        # a concern says what it is; an objection its author made a concern keeps its words
        "concerns": [
            {"member": str(m), "name": names.get(m, ""), "text": said.get(m, {}).get("text", "")}
            for m in sorted(everyone, key=lambda m: names.get(m, ""))
            if state.responses.get(m) == "concern"
        ],
        "objections": [
            {
                "id": o.id,
                "member": str(o.author),
                "name": names.get(o.author, ""),
                "text": o.text,
                "revision": o.revision,
                "status": o.status,
                "integrated_by": o.integrated_by,
                "test": o.test,
            }
            for o in state.objections
        ],
    }


async def _decide(
    db: AsyncSession, proposal: Proposal, state: machine.Proposal, now: datetime, review: Review | None
) -> None:
    """The decision record, and a review's outcome, in the transaction of the deciding event.
    A review to reaffirm or retire changes the decision it reviews; an amendment, like any
    proposal, becomes a decision of its own, which supersedes the one it amends. A decision
    retired meanwhile stays retired."""
    circle = await db.get_one(Circle, proposal.circle_id)
    record = await _consent_record(db, proposal, state)
    # Consented to in the consent round (rounds opened before reviews went by consent have none).
    review_by = proposal.review_by or add_months(now.date(), circle.default_review_months)
    # The items are asked of whoever the decision names: a new decision's, or the reviewed one's.
    decision_id = uuid.uuid4() if review is None or review.outcome == "amend" else review.decision_id
    if review is None or review.outcome == "amend":
        db.add(
            Decision(
                id=decision_id,
                proposal_id=proposal.id,
                circle_id=proposal.circle_id,
                domain_id=proposal.domain_id,
                title=proposal.title,
                driver=proposal.driver,
                text=proposal.text,
                criteria=proposal.criteria,
                revision=proposal.revision,
                decided_at=now,
                review_by=review_by,
                supersedes_id=proposal.supersedes_id,
                record=record,
                agreement=proposal.agreement,
                kind=selection.SELECTION if proposal.kind == selection.SELECTION else "proposal",
            )
        )
    await db.flush()  # the decision, before its items point at it
    await item_services.carry(db, proposal.id, decision_id)
    in_force = update(Decision).where(Decision.status == "active")
    if proposal.supersedes_id is not None:
        await db.execute(in_force.where(Decision.id == proposal.supersedes_id).values(status="superseded"))
    if review is None:
        return
    review.state, review.closed_at, review.record = "consented", now, record
    if review.outcome != "retire":
        review.review_by = review_by
    if review.outcome == "reaffirm":
        await db.execute(in_force.where(Decision.id == review.decision_id).values(review_by=review_by))
    elif review.outcome == "retire":
        await db.execute(in_force.where(Decision.id == review.decision_id).values(status="retired"))


Committed = Callable[[uuid.UUID, list[dict[str, Any]]], None]


async def close_due(db: AsyncSession, now: datetime, committed: Committed | None = None) -> int:
    """Applies the deadline to every async proposal that is due, also those that fell due
    while the server was down; returns how many it closed. Each in its own transaction,
    after which `committed` is told its events (to publish them)."""
    due = list(
        await db.scalars(
            select(Proposal.id).where(
                Proposal.mode == "async", Proposal.closes_at <= now, Proposal.state.in_(machine.OPEN_PHASES)
            )
        )
    )
    closed = 0
    for proposal_id in due:
        if not await _claimed(db, proposal_id):
            await db.rollback()
            continue
        proposal = await _locked(db, proposal_id)
        # Still due once locked: another process may have decided it since the list was read.
        if (
            proposal is not None
            and proposal.mode == "async"
            and proposal.closes_at is not None
            and proposal.closes_at <= now
            and proposal.state in machine.OPEN_PHASES
        ):
            circle = await db.get_one(Circle, proposal.circle_id)
            new_state, produced = machine.deadline(await state_of(db, proposal, now.date()), circle.silence_is_consent)
            outcome = await _record(db, proposal, new_state, produced, None, None, now)
            if proposal.closes_at is not None and proposal.closes_at <= now:  # unless it opened a new period
                proposal.closes_at = None  # a deadline passes once; its event keeps when
            closed += 1
            events = await as_json(db, outcome.events)
            await db.commit()
            if committed is not None:
                committed(proposal_id, events)
        else:
            await db.commit()
    return closed


async def _claimed(db: AsyncSession, proposal_id: uuid.UUID) -> bool:
    """Whether this transaction decides the proposal's deadline. On PostgreSQL several server
    processes look for due proposals at once: one takes each under an advisory lock until it
    commits, the others pass over it rather than wait (it is no longer due when they come
    back to it). SQLite has one writer at a time already."""
    if db.get_bind().dialect.name != "postgresql":
        return True
    key = int.from_bytes(proposal_id.bytes[:8], "big", signed=True)  # pg locks are named by a bigint
    return bool(await db.scalar(select(func.pg_try_advisory_xact_lock(key))))


async def member_left(
    db: AsyncSession,
    circle_id: uuid.UUID,
    member_id: uuid.UUID,
    actor_id: uuid.UUID,
    now: datetime,
    *,
    committed: Committed,
) -> Callable[[], None]:
    """A member left the circle, or a steward removed them (circles.services.Departure): on
    each open proposal of the circle, one `member_left` event (rounds.machine.member_left), in
    the caller's transaction. Returns what tells `committed` the events, once that commits."""
    proposals = list(
        await db.scalars(
            select(Proposal)
            .where(Proposal.circle_id == circle_id, Proposal.state.in_(machine.OPEN_PHASES))
            .order_by(Proposal.id)
            .with_for_update()
        )
    )
    members, facilitators = await members_and_facilitators(db, circle_id, now.date())
    written: list[tuple[uuid.UUID, list[dict[str, Any]]]] = []
    for proposal in proposals:
        state = machine.restore(proposal.machine, proposal.author_id, members, facilitators)
        new_state, produced = machine.member_left(state, member_id, None if actor_id == member_id else actor_id)
        outcome = await _record(db, proposal, new_state, produced, actor_id, None, now)
        written.append((proposal.id, await as_json(db, outcome.events)))
    await db.flush()

    def publish() -> None:
        for proposal_id, events in written:
            committed(proposal_id, events)

    return publish


EVENTS_PAGE = 1000  # events read at once: a client asks again from the last one


async def events_since(db: AsyncSession, proposal: Proposal, since: int, limit: int = EVENTS_PAGE) -> list[Event]:
    return list(
        await db.scalars(
            select(Event).where(Event.proposal_id == proposal.id, Event.seq > since).order_by(Event.seq).limit(limit)
        )
    )


async def events_of(db: AsyncSession, proposal_id: uuid.UUID, types: Sequence[str]) -> list[dict[str, Any]]:
    """The proposal's events of these types, as API.md gives them, in order."""
    return (await events_of_many(db, [proposal_id], types))[proposal_id]


async def events_of_many(
    db: AsyncSession, proposal_ids: Sequence[uuid.UUID], types: Sequence[str]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """events_of for several proposals, in one query."""
    found: dict[uuid.UUID, list[Event]] = {p: [] for p in proposal_ids}
    if proposal_ids:
        for event in await db.scalars(
            select(Event).where(Event.proposal_id.in_(proposal_ids), Event.type.in_(types)).order_by(Event.seq)
        ):
            found[event.proposal_id].append(event)
    names = await names_of(db, {e.actor_id for events in found.values() for e in events if e.actor_id})
    return {p: [event_json(e, names) for e in events] for p, events in found.items()}


async def async_days_of(db: AsyncSession, circle_id: uuid.UUID) -> int:
    """The circle's default period for an async consent round, in days."""
    return (await db.execute(select(Circle.default_async_days).where(Circle.id == circle_id))).scalar_one()


async def revisions_of(db: AsyncSession, proposal: Proposal) -> list[Revision]:
    return list(await db.scalars(select(Revision).where(Revision.proposal_id == proposal.id).order_by(Revision.number)))


async def names_of(db: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    return dict((await db.execute(select(person.c.id, person.c.name).where(person.c.id.in_(list(ids))))).all())


async def open_proposals(db: AsyncSession, circle_id: uuid.UUID) -> list[Proposal]:
    return list(
        await db.scalars(
            select(Proposal)
            .where(Proposal.circle_id == circle_id, Proposal.state.in_(machine.OPEN_PHASES))
            .order_by(Proposal.created_at)
        )
    )


@dataclass(frozen=True)
class Waiting:
    """A proposal that waits for someone, and why (machine.expects)."""

    proposal_id: uuid.UUID
    title: str
    circle_id: uuid.UUID
    circle_name: str
    reason: str
    closes_at: datetime | None


async def waiting_for(db: AsyncSession, account_id: uuid.UUID) -> list[Waiting]:
    """The open proposals of the account's circles that wait for it, soonest deadline first, in
    one query: it is on every page (the header's count). Only their own circles' proposals, so
    a private circle shows only to its members."""
    rows = await db.execute(
        select(
            Proposal.id,
            Proposal.title,
            Proposal.circle_id,
            Circle.name,
            Proposal.author_id,
            Proposal.machine,
            Proposal.closes_at,
        )
        .join(Circle, Circle.id == Proposal.circle_id)
        .join(Membership, (Membership.circle_id == Proposal.circle_id) & (Membership.account_id == account_id))
        .where(Proposal.state.in_(machine.OPEN_PHASES - {machine.DRAFT}))
        .order_by(Proposal.closes_at.is_(None), Proposal.closes_at, Proposal.created_at)  # no deadline: last
    )
    found = []
    for proposal_id, title, circle_id, circle_name, author_id, snapshot, closes_at in rows.all():
        # Whether it waits for this member needs no one else: the join says they are a member.
        state = machine.restore(snapshot, author_id, frozenset({account_id}), frozenset())
        reason = machine.expects(state, account_id)
        if reason is not None:
            found.append(Waiting(proposal_id, title, circle_id, circle_name, reason, closes_at))
    return found


async def as_json(db: AsyncSession, events: Sequence[Logged]) -> list[dict[str, Any]]:
    names = await names_of(db, {e.actor_id for e in events if e.actor_id})
    return [event_json(e, names) for e in events]


def event_json(event: Logged, names: dict[uuid.UUID, str]) -> dict[str, Any]:
    """An event as API.md gives it; `seq` comes first (rounds.live reads it from the bytes)."""
    actor = {"id": str(event.actor_id), "name": names.get(event.actor_id, "")} if event.actor_id else None
    return {"seq": event.seq, "type": event.type, "at": event.at.isoformat(), "actor": actor, "data": event.data}


async def review_summary(db: AsyncSession, proposal: Proposal) -> dict[str, Any]:
    """What a review proposal reviews, and how."""
    review = await review_of(db, proposal.id)
    decision = await db.get_one(Decision, review.decision_id)
    return {
        "id": str(review.id),
        "decision": {"id": str(decision.id), "name": decision.title},
        "outcome": review.outcome,
        "state": review.state,
        "assessments": review.assessments,
    }


def process_json(proposal: Proposal, state: machine.Proposal, names: Mapping[uuid.UUID, str]) -> dict[str, Any]:
    """What API.md's proposal says that its row and the machine's state hold, named by `names`
    (who is missing there is named ""): all of the proposal but its review, decision, revisions
    and responses."""
    person_json = lambda m: {"id": str(m), "name": names.get(m, "")}  # noqa: E731
    present = set(state.present)  # not the tuple: asked of each of 2,000 participants
    return {
        "id": str(proposal.id),
        "circle_id": str(proposal.circle_id),
        "domain_id": str(proposal.domain_id),
        "author": person_json(proposal.author_id),
        "title": proposal.title,
        "driver": proposal.driver,
        "text": proposal.text,
        "kind": proposal.kind,
        "criteria": proposal.criteria,
        "evaluation": "\n".join(proposal.criteria),  # the criteria, as one text (the field before them)
        "mode": proposal.mode,
        "state": proposal.state,
        "revision": proposal.revision,
        "seq": proposal.seq,
        "review_by": proposal.review_by.isoformat() if proposal.review_by else None,
        "closes_at": proposal.closes_at.isoformat() if proposal.closes_at else None,
        "supersedes": str(proposal.supersedes_id) if proposal.supersedes_id else None,
        "agreement": proposal.agreement,
        "round": {
            "number": state.round,
            "phase": state.phase,
            "turn": person_json(state.whose_turn) if state.whose_turn else None,
            "responded": [str(m) for m in sorted(state.responded)],
            "complete": state.round_complete,
        },
        # live: in the order they speak; async: by name
        "participants": [
            {**person_json(m), "present": m in present, "response": state.responses.get(m)}
            for m in (
                state.present if state.mode == "live" else sorted(state.participants, key=lambda m: names.get(m, ""))
            )
        ],
        "facilitators": [str(m) for m in sorted(state.movers)],
        "objections": [
            {
                "id": o.id,
                "member": person_json(o.author),
                "text": o.text,
                "revision": o.revision,
                "status": o.status,
                "integrated_by": o.integrated_by,
                "test": o.test,
            }
            for o in state.objections
        ],
    }


async def summary(
    db: AsyncSession, proposal: Proposal, state: machine.Proposal, named: Iterable[uuid.UUID] = ()
) -> tuple[dict[str, Any], dict[uuid.UUID, str]]:
    """The proposal with its review and decision but not its revisions or responses, naming only
    its author, whose turn it is, the objectors and `named`: enough for a part of its page, and
    as cheap in a hall of 2,000 as in a circle of five. Also the names, for more of the page."""
    [result] = await summaries(db, [(proposal, state, named)])
    return result


async def summaries(
    db: AsyncSession, wanted: Sequence[tuple[Proposal, machine.Proposal, Iterable[uuid.UUID]]]
) -> list[tuple[dict[str, Any], dict[uuid.UUID, str]]]:
    """`summary` of several proposals, their names looked up in one query."""
    shown = [
        {
            proposal.author_id,
            *([state.whose_turn] if state.whose_turn else []),
            *(o.author for o in state.objections),
            *named,
        }
        for proposal, state, named in wanted
    ]
    everyone = await names_of(db, set().union(*shown))
    results = []
    for (proposal, state, _wanted), ids in zip(wanted, shown):
        names = {m: everyone[m] for m in ids if m in everyone}
        decision_id = (
            await db.scalar(select(Decision.id).where(Decision.proposal_id == proposal.id))
            if state.phase == machine.DECIDED
            else None
        )
        results.append(
            (
                process_json(proposal, state, names)
                | {
                    "review": await review_summary(db, proposal) if proposal.kind == machine.REVIEW else None,
                    "selection": await selection_summary(db, proposal, state)
                    if proposal.kind == selection.SELECTION
                    else None,
                    "decision_id": str(decision_id) if decision_id else None,
                },
                names,
            )
        )
    return results


def revisions_json(revisions: list[Revision]) -> list[dict[str, Any]]:
    return [{"number": r.number, "driver": r.driver, "text": r.text, "at": r.created_at.isoformat()} for r in revisions]


async def describe(
    db: AsyncSession,
    proposal: Proposal,
    today: date,
    responses: bool = True,
    state: machine.Proposal | None = None,
) -> dict[str, Any]:
    """The whole current state of a proposal, as API.md's GET /api/proposals/{id} gives it, on
    `today` (who facilitates); without `responses` (a meeting's welcome: they follow as
    events) the log is not read. `state` is the machine's, where the caller has it already."""
    state = state or await state_of(db, proposal, today)
    history = await events_since(db, proposal, 0, limit=100_000) if responses else []
    # Only the names shown: a live meeting of a 2,000-member circle names who is present, and
    # looking up everyone made each welcome take 0.15 s (docs/performance.md).
    names = await names_of(
        db,
        {proposal.author_id, *state.participants, *(o.author for o in state.objections)}
        | {e.actor_id for e in history if e.actor_id},
    )
    decision_id = await db.scalar(select(Decision.id).where(Decision.proposal_id == proposal.id))
    return (
        process_json(proposal, state, names)
        | {
            "review": await review_summary(db, proposal) if proposal.kind == machine.REVIEW else None,
            "selection": await selection_summary(db, proposal, state) if proposal.kind == selection.SELECTION else None,
            "decision_id": str(decision_id) if decision_id else None,
            "revisions": revisions_json(await revisions_of(db, proposal)),
            "action_items": await item_services.of_proposal(db, proposal.id, today),
        }
        | (
            {"responses": [event_json(e, names) for e in history if e.type in machine_events.RESPONSE_TYPES]}
            if responses
            else {}
        )
    )
