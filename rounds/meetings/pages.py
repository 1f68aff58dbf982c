"""The meeting pages, which work without JavaScript: a circle's meetings and the "Call a
meeting" form on its page, and the live meeting page with the forms of what each member may do
now. With JavaScript (static/meeting_room.js) the page follows the meeting over its socket."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from circles import services as circles
from consent.base.clock import Clock, today
from consent.base.errors import Refusal, bad_field
from consent.base.forms import parse_field, parse_lines
from consent.base.i18n import N_
from consent.base.i18n import gettext as _
from consent.base.times import read_typed
from consent.base.web import Form, Page, viewer_zone
from rounds import services as proposals
from rounds.meetings import services, views
from rounds.meetings.writer import MeetingWriter
from rounds.pages import _listed, refused_on_circle_page

PARTS = {"main": "rounds/meeting_main.html", "now": "rounds/meeting_now.html"}


class CallForm(msgspec.Struct):
    starts_at: str = ""
    place: str = ""
    titles: str = ""  # free items, one a line
    proposal_id: list[str] | str = []  # the circle's proposals ticked


class ActForm(msgspec.Struct):
    type: str = ""
    client_id: str = ""
    text: str = ""
    reason: str = ""


def meetings_section(clock: Clock) -> Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[dict[str, Any]]]:
    """The circle page's meetings to come (and under way), and what a steward may put on a new one."""

    async def section(db: AsyncSession, circle_id: uuid.UUID, viewer_id: uuid.UUID) -> dict[str, Any]:
        return {
            "template": "rounds/circle_meetings.html",
            "meetings": await services.of_circle(db, circle_id, since=clock()),
            "proposals": await proposals.open_proposals(db, circle_id),
        }

    return section


async def _context(
    request: Request[Any, Any, Any], db: AsyncSession, clock: Clock, meeting_id: uuid.UUID
) -> dict[str, Any]:
    """What the meeting page shows, with the viewer's forms."""
    meeting = await services.visible_meeting(db, meeting_id, request.user.id)
    zone = viewer_zone(request, await circles.time_zone_of(db, meeting.circle_id))
    return await views.shown(db, meeting, request.user.id, today(clock)) | {
        "viewer_id": str(request.user.id),
        "client_id": uuid.uuid4().hex,
        "zone": zone,
    }


class MeetingPages(Controller):
    include_in_schema = False

    @get("/meetings/{meeting_id:uuid}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        meeting_id: uuid.UUID,
        part: str = "",
    ) -> Template:
        """The live meeting; for the page's script, `part=main`: its main section alone, and
        `part=now`: the viewer's forms alone (rounds/meetings/views.py)."""
        context = await _context(request, db_session, page.clock, meeting_id)
        if part in PARTS:
            return Template(PARTS[part], context=context)
        circle = await circles.get_visible(db_session, uuid.UUID(context["meeting"]["circle_id"]), request.user.id)
        return await page(request, db_session, "rounds/meeting.html", circle=circle, **context)

    @post("/meetings/{meeting_id:uuid}/actions")
    async def act(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        meetings: MeetingWriter,
        meeting_id: uuid.UUID,
        data: Annotated[ActForm, Form],
    ) -> Redirect:
        # A form sends every field; an empty one is one the action does not have.
        sent = {k: v for k, v in msgspec.structs.asdict(data).items() if v != "" or k in {"type", "client_id"}}
        try:
            await services.visible_meeting(db_session, meeting_id, request.user.id)
            await meetings.take(db_session, request.user.id, meeting_id, sent, page.clock())
        except Refusal as refusal:
            if refusal.status in (401, 403, 404):  # who is asking may not: not a moment's refusal
                raise
            flash(request, str(refusal), category="error")  # not now, or not so: said on the page
        return Redirect(f"/meetings/{meeting_id}#meeting-main")

    @post("/circles/{circle_id:uuid}/meetings")
    async def call(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        circle_id: uuid.UUID,
        data: Annotated[CallForm, Form],
    ) -> Template | Redirect:
        """The circle page's "Call a meeting", for its stewards."""
        try:
            zone = viewer_zone(request, await circles.time_zone_of(db_session, circle_id))
            starts_at = read_typed(data.starts_at, zone, "starts_at")
            if starts_at is None:
                raise bad_field("starts_at", _("{Field}: say when the meeting starts."))
            agenda = [
                services.AgendaIn(
                    proposal_id=parse_field(p, uuid.UUID, "proposal_id", N_("one of the circle's proposals"))
                )
                for p in _listed(data.proposal_id)
            ] + [services.AgendaIn(title=title) for title in parse_lines(data.titles)]
            meeting = await services.schedule(
                db_session,
                request.user.id,
                circle_id,
                starts_at=starts_at,
                place=data.place,
                minutes_long=90,
                agenda=agenda,
                now=page.clock(),
            )
        except Refusal as refusal:
            return await refused_on_circle_page(request, db_session, page, circle_id, refusal, "meeting", data)
        flash(request, _("The meeting is called; its agenda is below."), category="success")
        return Redirect(f"/meetings/{meeting.id}")
