"""The home page: what consent is, or, signed in, your circles, your invitations and what needs you."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from circles.services import invitations_for
from consent.base.clock import today
from consent.base.web import Page
from consent.decisions.services import due_for_review


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any], db_session: AsyncSession, page: Page) -> Template:
    if request.user is None:
        return await page(request, db_session, "consent/home.html")
    overdue, due = await due_for_review(db_session, request.user.id, today(page.clock))
    invitations = await invitations_for(db_session, request.user.id)
    return await page(request, db_session, "consent/home.html", overdue=overdue, due=due, invitations=invitations)
