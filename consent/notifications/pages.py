"""The notifications page (read and unread, and what I get by mail), and the unsubscribe link
every mail carries, which works without signing in (one click, RFC 8058)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from consent.base.errors import Refusal
from consent.base.i18n import gettext as _
from consent.base.labels import NOTIFICATION_KINDS
from consent.base.web import TZ_COOKIE, Page
from consent.notifications import rules, services
from consent.notifications.mails import Postman


class NotificationPages(Controller):
    include_in_schema = False

    @get("/notifications")
    async def notifications(self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page) -> Template:
        notes = await services.listed(db_session, request.user.id, browser_zone=request.cookies.get(TZ_COOKIE))
        choices = await services.choices_of(db_session, request.user.id)
        return await page(request, db_session, "notifications/index.html", notes=notes, choices=choices)

    @post("/notifications/{notification_id:uuid}/open")
    async def open_notification(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, notification_id: uuid.UUID
    ) -> Redirect:
        """Opening it marks it read (a form, not a link: reading the list changes nothing)."""
        await services.mark_read(db_session, request.user.id, notification_id, page.clock())
        (note,) = await services.listed(db_session, request.user.id, [notification_id])
        return Redirect(note.about.path)

    @post("/notifications/read")
    async def read_all(self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page) -> Redirect:
        await services.mark_read(db_session, request.user.id, None, page.clock())
        flash(request, _("All your notifications are marked read."), category="success")
        return Redirect("/notifications")

    @post("/notifications/choices")
    async def choose(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        await services.choose(db_session, request.user.id, {k: v for k, v in data.items() if k in NOTIFICATION_KINDS})
        flash(request, _("Your mail choices are saved."), category="success")
        return Redirect("/notifications#choices")


class UnsubscribePages(Controller):
    """A mail's unsubscribe link: the signed link says whose mails of which kind, so it needs
    no sign-in; GET asks (mail scanners follow links), POST does it."""

    path = "/unsubscribe/{token:str}"
    include_in_schema = False

    @get()
    async def confirm(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, postman: Postman, token: str
    ) -> Template:
        _account, kind = _unsubscribed(postman, token)
        return await page(request, db_session, "notifications/unsubscribe.html", kind=kind, token=token, done=False)

    @post()
    async def unsubscribe(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        postman: Postman,
        token: str,
    ) -> Template:
        account_id, kind = _unsubscribed(postman, token)
        await services.choose(db_session, account_id, {kind: rules.NEVER})
        return await page(request, db_session, "notifications/unsubscribe.html", kind=kind, token=token, done=True)


def _unsubscribed(postman: Postman, token: str) -> tuple[uuid.UUID, str]:
    found = postman.unsubscribed(token)
    if found is None:
        raise Refusal("not_found", _("This unsubscribe link is not valid: copy the whole link from the mail."), 404)
    return found
