"""What every page's layout shows: who is signed in and their circles."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from circles.services import circles_of


async def page(request: Request[Any, Any, Any], db: AsyncSession, name: str, status_code: int = 200, **context: Any) -> Template:
    viewer = request.user
    context.setdefault("viewer", viewer)
    context.setdefault("my_circles", await circles_of(db, viewer.id) if viewer else [])
    return Template(name, context=context, status_code=status_code)
