"""A role's term ending within 30 days tells the circle, once per role and term, so that a
steward opens a selection (docs/selection.md)."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from consent.notifications.models import Notification
from tests.notifications.test_notifications import notifications
from tests.rounds.conftest import Circle
from tests.rounds.test_proposals_api import db_session


async def give(circle: Circle, who: str, role: str, term: str) -> None:
    response = await circle.client.post(
        f"/api/circles/{circle.id}/members",
        json={"email": f"{who}@example.org", "roles": [role], "term_ends_on": term},
        headers=circle.people["ada"],
    )
    assert response.status_code == 201, response.text


async def test_a_term_ending_soon_tells_every_member_once(circle: Circle) -> None:
    await give(circle, "di", "treasurer", "2026-12-10")  # in 17 days
    await give(circle, "cy", "secretary", "2027-03-01")  # not soon
    for who in ("ada", "bo", "cy", "di"):
        told = await notifications(circle, who, 1)
        [note] = [n for n in told["items"] if n["kind"] == "term_ending"]
        assert note["text"] == (
            "In Riverside, Di's term as treasurer ends on Dec 10, 2026: "
            "a steward may open a selection for the role on the circle's page."
        )
        assert note["url"].endswith(f"/circles/{circle.id}")
    await asyncio.sleep(0.5)  # a few more passes of the notifier make none again
    async with db_session(circle) as session:
        count = select(func.count()).select_from(Notification).where(Notification.kind == "term_ending")
        assert await session.scalar(count) == 4
