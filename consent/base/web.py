"""What every page uses: the layout's context (who is signed in, their circles), form bodies,
and values handed to handlers by dependency injection."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any, cast
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.middleware import AbstractMiddleware
from litestar.params import Body
from litestar.response import Template
from litestar.types import Message, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consent.base import i18n, times
from consent.base.clock import Clock, today

log = logging.getLogger("consent.web")

# The body of an HTML form (pages work without JavaScript).
Form = Body(media_type=RequestEncodingType.URL_ENCODED)


# A part of a page that another package adds: a template and its values. A circle's page gives
# it the circle and the viewer; an invitation's, the circle (the reader may have no account yet).
Section = Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[dict[str, Any]]]
InvitationSection = Callable[[AsyncSession, uuid.UUID], Awaitable[dict[str, Any]]]


TZ_COOKIE = "tz"  # the browser's time zone, set by templates/base.html's script


def viewer_zone(request: Request[Any, Any, Any], circle_zone: str | None = None) -> ZoneInfo:
    """The zone the viewer sees and types times in: the one their account chose, else their
    browser's (its cookie), else the circle's in question, else UTC."""
    chosen = getattr(request.scope.get("user"), "time_zone", None)
    return times.choose_zone(chosen, request.cookies.get(TZ_COOKIE), circle_zone)


class Page:
    """Renders a template inside the layout. The layout lists the viewer's circles; a circle's
    page shows sections that other packages add (its proposals, its decisions), and so does an
    invitation's (the circle's standing agreements): the shell says how to find them all, so
    this layer knows no domain. `clock` dates every page; `waiting_count` counts, for the header,
    what waits for the viewer. Times show in the viewer's zone (`viewer_zone`: the page's
    circle's, `circle_zone`, when neither the account nor the browser says one)."""

    def __init__(
        self,
        my_circles: Callable[[AsyncSession, uuid.UUID], Awaitable[Sequence[Any]]],
        clock: Clock,
        circle_sections: Sequence[Section] = (),
        invitation_sections: Sequence[InvitationSection] = (),
        waiting_count: Callable[[AsyncSession, uuid.UUID, date], Awaitable[int]] | None = None,
    ) -> None:
        self.my_circles, self.clock, self.circle_sections = my_circles, clock, circle_sections
        self.invitation_sections, self.waiting_count = invitation_sections, waiting_count

    async def __call__(
        self, request: Request[Any, Any, Any], db: AsyncSession, name: str, status_code: int = 200, **context: Any
    ) -> Template:
        viewer = request.user
        context.setdefault("viewer", viewer)
        circle_zone = context.pop("circle_zone", None)
        context.setdefault("zone", viewer_zone(request, circle_zone))
        context.setdefault("my_circles", await self.my_circles(db, viewer.id) if viewer else [])
        if "waiting_count" not in context:  # the header's count of what waits for the viewer
            count = self.waiting_count
            context["waiting_count"] = await count(db, viewer.id, today(self.clock)) if viewer and count else 0
        return Template(name, context=context, status_code=status_code)


def provide(value: Any) -> Provide:
    """A dependency that is always `value` (the writer, the clock, the page renderer…)."""
    return Provide(lambda: value, use_cache=True, sync_to_thread=False)


class RequestSessions:
    """Each HTTP request's own database session, `db_session` to its handler (and to whoever
    asks for it before, such as the authentication middleware): committed when the answer is a
    success or a redirect, rolled back otherwise, closed once the answer starts. What
    advanced-alchemy's Litestar plugin did, without importing its command line, its Alembic
    commands and its repositories at every start (docs/performance.md). A GET or HEAD changes
    nothing, so it reads through `readers` (consent.base.db.create_reader)."""

    KEY = "consent.db_session"  # in the request's scope
    READING = frozenset({"GET", "HEAD"})

    def __init__(self, sessions: async_sessionmaker[AsyncSession], readers: async_sessionmaker[AsyncSession]) -> None:
        self.sessions, self.readers = sessions, readers

    def __call__(self, scope: Scope) -> AsyncSession:
        held = cast(dict[str, Any], scope)
        if self.KEY not in held:
            held[self.KEY] = (self.readers if held.get("method") in self.READING else self.sessions)()
        return cast(AsyncSession, held[self.KEY])

    def provide(self) -> Provide:
        def db_session(scope: Scope) -> AsyncSession:
            return self(scope)

        return Provide(db_session, sync_to_thread=False)

    async def before_send(self, message: Message, scope: Scope) -> None:
        if message["type"] not in ("http.response.start", "http.disconnect"):
            return
        session = cast(AsyncSession | None, cast(dict[str, Any], scope).pop(self.KEY, None))
        if session is None:
            return
        try:
            if message["type"] == "http.response.start" and 200 <= message["status"] < 400:
                await session.commit()
            else:
                await session.rollback()
        except Exception:  # the answer is on its way; as advanced-alchemy did, it goes on
            log.exception("ending a request's database transaction failed")
        finally:
            await session.close()


# On every answer, pages, files and errors alike: no page may be framed by another site
# (clickjacking a consent), and a download is what its type says. What else a
# Content-Security-Policy could forbid is for later.
SECURITY_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}


async def security_headers(message: Message, scope: Scope) -> None:
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for name, value in SECURITY_HEADERS.items():
            headers[name] = value


class LanguageMiddleware(AbstractMiddleware):
    """Says each request in its language (consent.base.i18n): the account's choice, else the
    browser's. The page says which (`Content-Language`), and that it depends on the browser's
    (`Vary`), so a cache does not hand one person's Spanish page to another's English browser."""

    exclude = ["^/static/", "^/favicon.ico$"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        language = i18n.language_of(getattr(user, "language", None), Headers.from_scope(scope).get("accept-language"))
        i18n.use(language)  # this request's task only

        async def send_in_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                headers["Content-Language"] = language
                headers.extend_header_value("Vary", "Accept-Language")
            await send(message)

        await self.app(scope, receive, send_in_language)
