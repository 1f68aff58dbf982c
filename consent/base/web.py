"""What every page uses: the layout's context (who is signed in, their circles), form bodies,
and values handed to handlers by dependency injection."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from litestar import Request
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from consent.base.clock import Clock

# The body of an HTML form (pages work without JavaScript).
Form = Body(media_type=RequestEncodingType.URL_ENCODED)


# A part of a page that another package adds: a template and its values. A circle's page gives
# it the circle and the viewer; an invitation's, the circle (the reader may have no account yet).
Section = Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[dict[str, Any]]]
InvitationSection = Callable[[AsyncSession, uuid.UUID], Awaitable[dict[str, Any]]]


class Page:
    """Renders a template inside the layout. The layout lists the viewer's circles; a circle's
    page shows sections that other packages add (its proposals, its decisions), and so does an
    invitation's (the circle's standing agreements): the shell says how to find them all, so
    this layer knows no domain. `clock` dates every page."""

    def __init__(
        self,
        my_circles: Callable[[AsyncSession, uuid.UUID], Awaitable[Sequence[Any]]],
        clock: Clock,
        circle_sections: Sequence[Section] = (),
        invitation_sections: Sequence[InvitationSection] = (),
    ) -> None:
        self.my_circles, self.clock, self.circle_sections = my_circles, clock, circle_sections
        self.invitation_sections = invitation_sections

    async def __call__(
        self, request: Request[Any, Any, Any], db: AsyncSession, name: str, status_code: int = 200, **context: Any
    ) -> Template:
        viewer = request.user
        context.setdefault("viewer", viewer)
        context.setdefault("my_circles", await self.my_circles(db, viewer.id) if viewer else [])
        return Template(name, context=context, status_code=status_code)


def provide(value: Any) -> Provide:
    """A dependency that is always `value` (the writer, the clock, the page renderer…)."""
    return Provide(lambda: value, use_cache=True, sync_to_thread=False)
