"""A meeting's minutes: as a page, and as Markdown to download (as a decision's are)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from circles import services as circles
from consent.base.clock import Clock, today
from consent.base.times import choose_zone
from consent.base.web import Page
from rounds.meetings import minutes, services


class MinutesPages(Controller):
    include_in_schema = False

    @get("/meetings/{meeting_id:uuid}/minutes")
    async def page(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, meeting_id: uuid.UUID
    ) -> Template:
        meeting = await services.visible_meeting(db_session, meeting_id, request.user.id)
        m = await minutes.minutes(db_session, meeting, today(page.clock))
        zone = await circles.time_zone_of(db_session, meeting.circle_id)
        return await page(request, db_session, "rounds/minutes.html", circle_zone=zone, m=m)

    @get("/meetings/{meeting_id:uuid}/minutes.md")
    async def markdown(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        site: str,
        meeting_id: uuid.UUID,
    ) -> Response[str]:
        meeting = await services.visible_meeting(db_session, meeting_id, request.user.id)
        m = await minutes.minutes(db_session, meeting, today(clock))
        return Response(
            minutes.render_markdown(m, site, choose_zone(m["time_zone"])),
            media_type="text/markdown",
            headers={"Content-Disposition": f'attachment; filename="meeting-{meeting_id}.md"'},
        )
