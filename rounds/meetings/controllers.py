"""The meeting API of API.md: call a meeting of a circle, read it, act in it, and its event
log since a seq. Actions go through the process's meeting writer (rounds.meetings.writer)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from consent.base.clock import Clock, today
from consent.base.errors import error_responses
from rounds import services as proposals
from rounds.meetings import services
from rounds.meetings.schemas import MEETING_ACTION_SCHEMAS, MeetingOut, MeetingsOut, NewMeeting
from rounds.meetings.writer import MeetingWriter
from rounds.schemas import ActedOut, EventsOut


class MeetingApi(Controller):
    path = "/api"
    tags = ["meetings"]

    @post(
        "/circles/{circle_id:uuid}/meetings",
        status_code=HTTP_201_CREATED,
        responses=error_responses(400, 401, 403, 404, 409, 422),
    )
    async def schedule(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        circle_id: uuid.UUID,
        data: NewMeeting,
    ) -> MeetingOut:
        """Call a meeting of the circle (a steward): when, where, and its agenda; proposals whose
        deadline passed undecided and decisions due for review join it of themselves."""
        meeting = await services.schedule(
            db_session,
            request.user.id,
            circle_id,
            starts_at=data.starts_at,
            place=data.place,
            minutes_long=data.minutes_long,
            agenda=data.items(),
            now=clock(),
        )
        return msgspec.convert(await services.describe(db_session, meeting, request.user.id, today(clock)), MeetingOut)

    @get("/circles/{circle_id:uuid}/meetings", responses=error_responses(400, 401, 404))
    async def of_circle(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock, circle_id: uuid.UUID
    ) -> MeetingsOut:
        """The circle's meetings, soonest first."""
        await proposals.member_of(db_session, circle_id, request.user.id)
        found = await services.of_circle(db_session, circle_id)
        described = [await services.describe(db_session, m, request.user.id, today(clock)) for m in found]
        return msgspec.convert({"items": described}, MeetingsOut)

    @get("/meetings/{meeting_id:uuid}", responses=error_responses(400, 401, 404))
    async def read(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock, meeting_id: uuid.UUID
    ) -> MeetingOut:
        meeting = await services.visible_meeting(db_session, meeting_id, request.user.id)
        return msgspec.convert(await services.describe(db_session, meeting, request.user.id, today(clock)), MeetingOut)

    @post(
        "/meetings/{meeting_id:uuid}/actions",
        status_code=HTTP_200_OK,
        responses=error_responses(400, 401, 403, 404, 409, 422),
    )
    async def act(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        meetings: MeetingWriter,
        clock: Clock,
        meeting_id: uuid.UUID,
        data: Annotated[dict[str, Any], Body(title="Meeting action", schema_extra={"one_of": MEETING_ACTION_SCHEMAS})],
    ) -> ActedOut:
        """Take one step of the meeting; retrying with the same client_id changes nothing."""
        outcome = await meetings.take(db_session, request.user.id, meeting_id, data, clock())
        return msgspec.convert(
            {"seq": outcome.seq, "event": outcome.json[0] if outcome.json else None, "events": outcome.json}, ActedOut
        )

    @get("/meetings/{meeting_id:uuid}/events", responses=error_responses(400, 401, 404))
    async def events(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        meeting_id: uuid.UUID,
        since: int = Parameter(default=0, ge=0, le=2**63 - 1),
    ) -> EventsOut:
        """Every event with seq > since, in order (at most 1000; ask again from the last one)."""
        meeting = await services.visible_meeting(db_session, meeting_id, request.user.id)
        items = await proposals.as_json(db_session, await services.events_since(db_session, meeting, since))
        return msgspec.convert({"items": items}, EventsOut)
