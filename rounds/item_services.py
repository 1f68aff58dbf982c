"""Loading and storing action items: a proposal's (replaced when an amendment changes them),
carried into its decision, then accepted, declined and done (rounds.item_rules), each change
kept with who made it and when; and the lists that show them: a circle's open and overdue
items, and what waits for the person asked."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from circles import rules as circle_rules
from circles import services as circles
from circles.models import Circle, Membership, person
from consent.base.errors import Refusal
from consent.base.i18n import N_
from consent.base.i18n import gettext as _
from consent.base.text import MAX_TEXT, clean_text
from rounds import item_rules
from rounds.models import ActionItem, ActionItemChange, Decision, Proposal

NOT_FOUND = N_("No such action item, or it is not visible to you.")


async def store(db: AsyncSession, proposal_id: uuid.UUID, items: Sequence[dict[str, Any]]) -> None:
    """The proposal's items become `items` (as `amended` events record them: what, owner, due_on):
    until the decision nobody has answered them, so they are replaced, not edited."""
    await db.execute(delete(ActionItem).where(ActionItem.proposal_id == proposal_id))
    if items:
        await db.execute(
            insert(ActionItem),
            [
                {
                    "id": uuid.uuid4(),
                    "proposal_id": proposal_id,
                    "position": position,
                    "what": item["what"],
                    "owner_id": uuid.UUID(item["owner"]),
                    "due_on": date.fromisoformat(item["due_on"]) if item["due_on"] else None,
                    "state": item_rules.PROPOSED,
                    "note": "",
                }
                for position, item in enumerate(items)
            ],
        )


async def carry(db: AsyncSession, proposal_id: uuid.UUID, decision_id: uuid.UUID) -> None:
    """The decided proposal's items are the decision's: the consented revision's."""
    await db.execute(update(ActionItem).where(ActionItem.proposal_id == proposal_id).values(decision_id=decision_id))


def item_json(
    item: ActionItem,
    names: dict[uuid.UUID, str],
    titles: dict[uuid.UUID, str],
    changes: Sequence[ActionItemChange],
    today: date,
) -> dict[str, Any]:
    ref = lambda m: {"id": str(m), "name": names.get(m, "")}  # noqa: E731
    return {
        "id": str(item.id),
        "what": item.what,
        "owner": ref(item.owner_id),
        "due_on": item.due_on.isoformat() if item.due_on else None,
        "state": item.state,
        **({"note": item.note} if item.note else {}),
        "overdue": item_rules.overdue(item.state, item.due_on, today),
        "proposal_id": str(item.proposal_id),
        "decision": {"id": str(item.decision_id), "name": titles.get(item.decision_id, "")}
        if item.decision_id
        else None,
        "history": [
            {"state": c.state, "by": ref(c.actor_id), "at": c.at.isoformat(), **({"note": c.note} if c.note else {})}
            for c in changes
        ],
    }


async def _described(db: AsyncSession, items: Sequence[ActionItem], today: date) -> list[dict[str, Any]]:
    """The items as the API gives them, with three queries for all of them."""
    if not items:
        return []
    changes: dict[uuid.UUID, list[ActionItemChange]] = {i.id: [] for i in items}
    for change in await db.scalars(
        select(ActionItemChange)
        .where(ActionItemChange.item_id.in_(list(changes)))
        .order_by(ActionItemChange.at, ActionItemChange.created_at)
    ):
        changes[change.item_id].append(change)
    people = {i.owner_id for i in items} | {c.actor_id for cs in changes.values() for c in cs}
    names = dict((await db.execute(select(person.c.id, person.c.name).where(person.c.id.in_(people)))).all())
    decision_ids = {i.decision_id for i in items if i.decision_id}
    titles = dict((await db.execute(select(Decision.id, Decision.title).where(Decision.id.in_(decision_ids)))).all())
    return [item_json(i, names, titles, changes[i.id], today) for i in items]


async def _items(db: AsyncSession, *where: ColumnElement[bool]) -> list[ActionItem]:
    return list(
        await db.scalars(select(ActionItem).where(*where).order_by(ActionItem.proposal_id, ActionItem.position))
    )


async def of_proposal(db: AsyncSession, proposal_id: uuid.UUID, today: date) -> list[dict[str, Any]]:
    return await _described(db, await _items(db, ActionItem.proposal_id == proposal_id), today)


async def of_decisions(
    db: AsyncSession, decision_ids: Sequence[uuid.UUID], today: date
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Each decision's items: its own proposal's, then those of reviews that reaffirmed or
    retired it."""
    found: dict[uuid.UUID, list[dict[str, Any]]] = {d: [] for d in decision_ids}
    if decision_ids:
        for item in await _described(db, await _items(db, ActionItem.decision_id.in_(decision_ids)), today):
            found[uuid.UUID(item["decision"]["id"])].append(item)
    return found


async def of_circle(
    db: AsyncSession, circle_id: uuid.UUID, today: date, overdue_only: bool = False
) -> list[dict[str, Any]]:
    """The open items of the circle's decisions, overdue first, then by due date (undated last);
    `overdue_only`: those past their due date, which a meeting's review goes through."""
    conditions: list[ColumnElement[bool]] = [
        ActionItem.decision_id.in_(select(Decision.id).where(Decision.circle_id == circle_id)),
        ActionItem.state.in_(item_rules.OPEN),
    ]
    if overdue_only:
        conditions.append(ActionItem.due_on < today)
    items = sorted(await _items(db, *conditions), key=lambda i: item_rules.circle_order(i.state, i.due_on, today))
    return await _described(db, items, today)


async def overdue_in(db: AsyncSession, circle_id: uuid.UUID, today: date) -> list[dict[str, Any]]:
    """The circle's overdue items, oldest due date first: what the next meeting reviews."""
    return await of_circle(db, circle_id, today, overdue_only=True)


def _waiting(account_id: uuid.UUID, today: date) -> list[ColumnElement[bool]]:
    """The items that wait for the account, in the circles it is still a member of: to accept,
    or accepted and due within DUE_SOON_DAYS days or overdue."""
    mine = select(Membership.circle_id).where(Membership.account_id == account_id)
    return [
        ActionItem.owner_id == account_id,
        ActionItem.decision_id.in_(select(Decision.id).where(Decision.circle_id.in_(mine))),
        or_(
            ActionItem.state == item_rules.PROPOSED,
            and_(
                ActionItem.state == item_rules.ACCEPTED,
                ActionItem.due_on <= today + timedelta(days=item_rules.DUE_SOON_DAYS),
            ),
        ),
    ]


async def waiting_for(db: AsyncSession, account_id: uuid.UUID, today: date) -> list[tuple[dict[str, Any], Circle]]:
    """The items that wait for the account (`_waiting`), soonest due first, each with its circle."""
    rows = (
        await db.execute(
            select(ActionItem, Circle)
            .join(Decision, Decision.id == ActionItem.decision_id)
            .join(Circle, Circle.id == Decision.circle_id)
            .where(*_waiting(account_id, today))
            .order_by(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.created_at)
        )
    ).all()
    described = await _described(db, [item for item, _ in rows], today)
    return [(d, circle) for d, (_, circle) in zip(described, rows, strict=True)]


def waiting_count(account_id: uuid.UUID, today: date) -> ScalarSelect[int]:
    """How many items `waiting_for` lists, as a subquery: the header counts them with the rest."""
    return select(func.count()).select_from(ActionItem).where(*_waiting(account_id, today)).scalar_subquery()


async def decision_of(db: AsyncSession, item_id: uuid.UUID) -> uuid.UUID | None:
    return await db.scalar(select(ActionItem.decision_id).where(ActionItem.id == item_id))


async def take_step(
    db: AsyncSession, account_id: uuid.UUID, item_id: uuid.UUID, name: str, note: str, now: datetime
) -> dict[str, Any]:
    """Accept, decline or mark done (with a note) an item, by the rules of rounds.item_rules;
    the change is kept with who made it and when. An item is seen by whoever sees its proposal."""
    item = await db.scalar(select(ActionItem).where(ActionItem.id == item_id).with_for_update())
    proposal = None if item is None else await db.get(Proposal, item.proposal_id)
    if item is None or proposal is None:
        raise Refusal("not_found", _(NOT_FOUND), 404)
    today = now.date()
    try:
        circle = await circles.get_visible(db, proposal.circle_id, account_id)
    except Refusal:
        raise Refusal("not_found", _(NOT_FOUND), 404) from None
    powers = await circles.powers_in(db, circle.id, account_id, today)
    if circle.private and powers is None:
        raise Refusal("not_found", _(NOT_FOUND), 404)
    owner_is_member = await circles.roles_in(db, circle.id, item.owner_id) is not None
    asker = item_rules.Asker(
        is_owner=item.owner_id == account_id,
        owner_is_member=owner_is_member,
        steward=circle_rules.may_change(powers or set()),
    )
    item.state = item_rules.step(item.state, name, item.decision_id is not None, asker)
    said = clean_text(note, "note", MAX_TEXT) if name == "done" else ""
    if said:
        item.note = said
    db.add(ActionItemChange(item_id=item.id, state=item.state, actor_id=account_id, note=said, at=now))
    await db.flush()
    return (await _described(db, [item], today))[0]
