"""A circle's meeting tells its members: that it is called (when, in each one's zone, where,
its agenda, a link), to all but whoever called it; that it is starting, to all but the
facilitator who starts it. Once each, also with two processes' notifiers at work."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from litestar.testing import AsyncTestClient

from consent.app import create_app
from tests.consent.time_zones.test_time_zones import choose_zone
from tests.helpers import shown
from tests.notifications.test_notifications import addressed, body, mails_to, notifications
from tests.rounds.conftest import Circle, MovableClock

CALLED = "[Riverside] Meeting of Riverside: a meeting is called"
STARTING = "[Riverside] Meeting of Riverside: a live meeting is starting"


async def test_a_meeting_called_then_started_is_told_once_each_with_two_notifiers(
    circle: Circle, clock: MovableClock
) -> None:
    await choose_zone(circle, "bo", "America/Mexico_City")
    async with AsyncTestClient(app=create_app(circle.settings, clock=clock), base_url="http://127.0.0.1"):
        body_ = {
            "starts_at": "2026-11-24T18:00:00+00:00",
            "place": "Community hall",
            "agenda": [{"title": "Garden report"}, {"title": "Budget"}],
        }
        created = await circle.client.post(
            f"/api/circles/{circle.id}/meetings", json=body_, headers=circle.people["ada"]
        )
        assert created.status_code == 201, created.text
        mid = created.json()["id"]
        sent = await mails_to(circle.settings, 3)
        start = {"type": "start", "client_id": "start-1"}
        started = await circle.client.post(f"/api/meetings/{mid}/actions", json=start, headers=circle.people["ada"])
        assert started.status_code == 200, started.text
        sent = await mails_to(circle.settings, 6)
        await asyncio.sleep(0.5)  # passes of both notifiers
    called = [m for m in sent if str(m["Subject"]) == CALLED]
    assert addressed(called) == {"bo": 1, "cy": 1, "di": 1}  # not Ada, who called it
    to_bo = next(body(m) for m in called if str(m["To"]).startswith("bo"))
    when = shown(datetime(2026, 11, 24, 18, tzinfo=UTC), "America/Mexico_City")
    assert f"Riverside meets on {when}." in to_bo and "12:00" in when  # in Bo's zone
    assert "Where: Community hall. Agenda: Garden report; Budget." in to_bo
    assert f"http://127.0.0.1/meetings/{mid}" in to_bo
    assert addressed([m for m in sent if str(m["Subject"]) == STARTING]) == {"bo": 1, "cy": 1, "di": 1}
    assert len(sent) == 6 == len(await mails_to(circle.settings, 6))
    for who in ("bo", "cy", "di"):
        items = (await notifications(circle, who))["items"]
        assert sorted(n["kind"] for n in items) == ["meeting", "meeting_called"]
        assert {(n["url"], n["meeting_id"]) for n in items} == {(f"/meetings/{mid}", mid)}
    assert (await notifications(circle, "ada"))["items"] == []
