"""`/ws/meetings/{id}`: one member's live connection to a circle's meeting, with the protocol of
a proposal's (rounds.sockets, API.md): its welcome's state is the meeting as `describe` gives
it to this member, its events the meeting's, its actions the meeting's writer's. Opening the
page is not being there: a member says so with the `present` action ("I'm here")."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from sqlalchemy.ext.asyncio import AsyncSession

from consent.base.clock import Clock
from rounds import live
from rounds import services as proposals
from rounds.meetings import rules, services
from rounds.meetings.writer import Attempt, MeetingWriter, channel
from rounds.sockets import Connection, Identify, serve


class Room(Connection):
    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        meeting_id: uuid.UUID,
        channels: ChannelsPlugin,
        sessions: Callable[[], AsyncSession],
        writer: MeetingWriter,
        clock: Clock,
        identify: Identify,
    ) -> None:
        super().__init__(socket, channels, sessions, writer, clock, identify)
        self.meeting_id = meeting_id
        self.channel = channel(meeting_id)

    async def opened(self, db: AsyncSession, joining: bool) -> Any:
        meeting = await services.visible_meeting(db, self.meeting_id, self.member_id)
        if joining:
            await proposals.member_of(db, meeting.circle_id, self.member_id)
        return meeting

    async def welcomed(self, db: AsyncSession, log: Any) -> bytes:
        # Each member's own: what they may do now is in it.
        state = await services.describe(db, log, self.member_id, self.clock().date())
        return live.encode({"type": "welcome", "seq": log.seq, "state": state})

    async def events(self, db: AsyncSession, log: Any, since: int, limit: int) -> list[dict[str, Any]]:
        return await proposals.as_json(db, await services.events_since(db, log, since, limit=limit))

    def attempt(self, message: dict[str, Any]) -> Attempt:
        return Attempt(self.member_id, self.meeting_id, rules.decode(message), self.clock())


@websocket("/ws/meetings/{meeting_id:uuid}")
async def meeting_room_socket(
    socket: WebSocket[Any, Any, Any],
    meeting_id: uuid.UUID,
    channels: ChannelsPlugin,
    identify: Identify,
    sessions: Callable[[], AsyncSession],
    meetings: MeetingWriter,
    clock: Clock,
) -> None:
    await serve(Room(socket, meeting_id, channels, sessions, meetings, clock, identify))
