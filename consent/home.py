"""The home page: what consent is, or, signed in, your circles, your invitations and what waits
for you; and the same "waiting for you" as JSON, with its count for the layout's header."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import msgspec
from litestar import Request, get
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from circles.services import invitations_count, invitations_for
from consent.base.clock import Clock, today
from consent.base.errors import error_responses
from consent.base.web import Page
from consent.decisions.services import due_count, due_for_review
from rounds import item_services
from rounds.services import waiting_for


class CircleRef(msgspec.Struct):
    id: str
    name: str


class WaitingItem(msgspec.Struct):
    """One thing that waits for me, and `url`, the page where I act on it. `kind`: respond (an
    async round I have not spoken in), consent_again (the consent round on an amendment),
    your_turn (in a live round), your_objection (its proposal is being amended to integrate
    it), review (a decision of my circle due or overdue), action_item (a decision asks me to do
    something: to accept, or due within a week), invitation (to join a circle)."""

    kind: str
    title: str
    circle: CircleRef
    url: str
    proposal_id: str | None = None
    decision_id: str | None = None
    invitation_id: str | None = None
    closes_at: datetime | None = None  # the async round's deadline
    review_by: date | None = None  # the decision's review date
    action_item_id: str | None = None
    due_on: date | None = None  # the action item's


class Waiting(msgspec.Struct):
    items: list[WaitingItem]


async def waiting(db: AsyncSession, account_id: uuid.UUID, day: date) -> tuple[list[WaitingItem], dict[str, Any]]:
    """What waits for the account: its proposals, then due reviews and invitations as the home
    page already lists them (also returned, for the page to show them as it did)."""
    proposals = await waiting_for(db, account_id)
    overdue, due = await due_for_review(db, account_id, day)
    items_asked = await item_services.waiting_for(db, account_id, day)
    invitations = await invitations_for(db, account_id)
    items = [
        WaitingItem(
            w.reason,
            w.title,
            CircleRef(str(w.circle_id), w.circle_name),
            f"/proposals/{w.proposal_id}",
            proposal_id=str(w.proposal_id),
            closes_at=w.closes_at,
        )
        for w in proposals
    ]
    items += [
        WaitingItem(
            "review",
            d["title"],
            CircleRef(**d["circle"]),
            d["url"],
            decision_id=d["id"],
            review_by=date.fromisoformat(d["review_by"]),
        )
        for d in overdue + due
    ]
    items += [
        WaitingItem(
            "action_item",
            asked["what"],
            CircleRef(str(circle.id), circle.name),
            f"/decisions/{asked['decision']['id']}#item-{asked['id']}",
            decision_id=asked["decision"]["id"],
            action_item_id=asked["id"],
            due_on=date.fromisoformat(asked["due_on"]) if asked["due_on"] else None,
        )
        for asked, circle in items_asked
    ]
    items += [
        WaitingItem(
            "invitation",
            view.circle.name,
            CircleRef(str(view.circle.id), view.circle.name),
            "/invitations",
            invitation_id=str(view.invitation.id),
        )
        for view in invitations
    ]
    return items, {"overdue": overdue, "due": due, "invitations": invitations, "items_asked": items_asked}


async def waiting_count(db: AsyncSession, account_id: uuid.UUID, day: date) -> int:
    """How many things `waiting` lists, in two queries: the layout shows it on every page."""
    counted = (
        await db.execute(
            select(
                due_count(account_id, day),
                item_services.waiting_count(account_id, day),
                invitations_count(account_id),
            )
        )
    ).one()
    return len(await waiting_for(db, account_id)) + sum(counted)


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any], db_session: AsyncSession, page: Page) -> Template:
    if request.user is None:
        return await page(request, db_session, "consent/home.html")
    items, listed = await waiting(db_session, request.user.id, today(page.clock))
    return await page(request, db_session, "consent/home.html", waiting=items, waiting_count=len(items), **listed)


@get("/api/waiting", summary="What waits for my response", tags=["accounts"], responses=error_responses(401))
async def waiting_api(request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock) -> Waiting:
    items, _ = await waiting(db_session, request.user.id, today(clock))
    return Waiting(items)
