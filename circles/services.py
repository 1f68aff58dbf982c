"""Loading and storing circles, domains and memberships."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from circles.models import Circle, Membership


async def circles_of(db: AsyncSession, account_id: uuid.UUID) -> list[Circle]:
    """The circles an account is a member of, by name."""
    query = (
        select(Circle)
        .join(Membership, Membership.circle_id == Circle.id)
        .where(Membership.account_id == account_id)
        .order_by(Circle.name)
    )
    return list(await db.scalars(query))
