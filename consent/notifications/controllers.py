"""The notifications API: my notifications, marking them read, and what I get by mail."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, patch, post
from sqlalchemy.ext.asyncio import AsyncSession

from consent.base.clock import Clock
from consent.base.errors import error_responses
from consent.notifications import services
from consent.notifications.schemas import NotificationOut, Notifications, Preferences
from consent.notifications.services import Listed


def notification_out(note: Listed) -> NotificationOut:
    return NotificationOut(
        id=str(note.id),
        kind=note.kind,
        at=note.at,
        read=note.read,
        title=note.about.title,
        circle=note.about.circle,
        text=note.about.sentence,
        url=note.about.path,
        proposal_id=str(note.proposal_id) if note.proposal_id else None,
        decision_id=str(note.decision_id) if note.decision_id else None,
        meeting_id=str(note.meeting_id) if note.meeting_id else None,
    )


class NotificationApi(Controller):
    path = "/api"
    tags = ["notifications"]

    @get("/notifications", responses=error_responses(401))
    async def list_notifications(self, request: Request[Any, Any, Any], db_session: AsyncSession) -> Notifications:
        """My latest 100 notifications, newest first, and how many are unread."""
        notes = await services.listed(db_session, request.user.id)
        unread = await services.unread_count(db_session, request.user.id)
        return Notifications(items=[notification_out(n) for n in notes], unread=unread)

    @post("/notifications/{notification_id:uuid}/read", status_code=200, responses=error_responses(401, 404))
    async def read(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock, notification_id: uuid.UUID
    ) -> NotificationOut:
        """Mark a notification read."""
        await services.mark_read(db_session, request.user.id, notification_id, clock())
        (note,) = await services.listed(db_session, request.user.id, [notification_id])
        return notification_out(note)

    @get("/accounts/me/preferences", responses=error_responses(401))
    async def preferences(self, request: Request[Any, Any, Any], db_session: AsyncSession) -> Preferences:
        """What I get by mail, for each kind of notification."""
        return Preferences(mail=await services.choices_of(db_session, request.user.id))

    @patch("/accounts/me/preferences", responses=error_responses(400, 401, 422))
    async def choose(self, request: Request[Any, Any, Any], db_session: AsyncSession, data: Preferences) -> Preferences:
        """Change what I get by mail, for the kinds named."""
        return Preferences(mail=await services.choose(db_session, request.user.id, data.mail))
