"""Time zones (issue 18): every time shown in the viewer's zone with its name (the account's,
else the browser's `tz` cookie, else the circle's), deadlines typed in local time, the circle's
zone as a setting, mails in the recipient's zone, and the calendar feed with zone data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker

from consent.accounts.models import Account
from consent.base import db
from consent.base.errors import Refusal
from consent.base.times import format_day, format_moment, read_typed
from tests.helpers import assert_refused
from tests.notifications.test_notifications import body, mails_to
from tests.rounds.conftest import Circle

DEADLINE = "2026-12-10T18:00:00+00:00"  # as stored and sent: 12:00 in Mexico City (CST, UTC-6)
NOON_IN_MEXICO_CITY = "Dec 10, 2026, 12:00\u202fPM CST"
SIX_PM_UTC = "Dec 10, 2026, 6:00\u202fPM UTC"


async def choose_zone(circle: Circle, who: str, zone: str | None) -> None:
    """What the account page will set (PATCH /api/accounts/me), set here in the database."""
    engine = db.create_engine(circle.settings.database_url)
    try:
        async with async_sessionmaker(engine)() as session:
            await session.execute(
                update(Account).where(Account.id == uuid.UUID(circle.ids[who])).values(time_zone=zone)
            )
            await session.commit()
    finally:
        await engine.dispose()


async def circle_zone(circle: Circle, zone: str) -> None:
    response = await circle.client.patch(
        f"/api/circles/{circle.id}", json={"time_zone": zone}, headers=circle.people["ada"]
    )
    assert response.status_code == 200, response.text
    assert response.json()["time_zone"] == zone


async def opened(circle: Circle) -> str:
    """An async proposal, open until DEADLINE, waiting for Bo, Cy and Di."""
    proposal_id: str = (await circle.propose(closes_at=DEADLINE))["id"]
    await circle.ok(proposal_id, "ada", "start")
    return proposal_id


async def page_of(circle: Circle, path: str, who: str, tz: str | None = None) -> str:
    cookie = {"Cookie": f"tz={tz}"} if tz else {}  # what templates/base.html's script sets
    response = await circle.client.get(path, headers={**circle.people[who], **cookie})
    assert response.status_code == 200, response.text
    return response.text


async def test_a_member_sees_a_deadline_in_her_own_zone_with_its_name(circle: Circle) -> None:
    await choose_zone(circle, "bo", "America/Mexico_City")
    proposal_id = await opened(circle)
    bo = await page_of(circle, f"/proposals/{proposal_id}", "bo", tz="Asia/Tokyo")  # the account's zone first
    assert f'<time datetime="{DEADLINE}">{NOON_IN_MEXICO_CITY}</time>' in bo  # the attribute stays UTC
    cy = await page_of(circle, f"/proposals/{proposal_id}", "cy")  # no zone: the circle's, UTC
    assert f'<time datetime="{DEADLINE}">{SIX_PM_UTC}</time>' in cy
    home = await page_of(circle, "/", "bo")
    assert NOON_IN_MEXICO_CITY in home and "UTC" not in home


async def test_the_browsers_zone_is_used_when_the_account_has_none_and_the_circles_otherwise(circle: Circle) -> None:
    proposal_id = await opened(circle)
    path = f"/proposals/{proposal_id}"
    assert "Dec 11, 2026, 3:00\u202fAM Japan Standard Time" in await page_of(circle, path, "cy", tz="Asia/Tokyo")
    await circle_zone(circle, "America/Mexico_City")
    assert NOON_IN_MEXICO_CITY in await page_of(circle, path, "cy")
    # a cookie can say anything: a zone the server does not know is no zone
    assert NOON_IN_MEXICO_CITY in await page_of(circle, path, "cy", tz="Mars/Olympus_Mons")


async def test_a_deadline_typed_in_local_time_is_stored_in_utc(circle: Circle) -> None:
    await choose_zone(circle, "bo", "America/Mexico_City")
    form = await page_of(circle, f"/circles/{circle.id}/proposals/new", "bo")
    assert "Deadline (Mexico (Mexico City) Time (CST), for an asynchronous proposal)" in form
    typed = {"title": "Lend the ladder", "driver": "It hangs idle", "text": "Lend it", "domain_id": circle.domain_id}
    sent = await circle.client.post(
        f"/circles/{circle.id}/proposals",
        data={**typed, "mode": "async", "closes_at": "2026-12-10T12:00"},
        headers=circle.people["bo"],
        follow_redirects=False,
    )
    assert sent.status_code in (302, 303), sent.text
    proposal_id = sent.headers["location"].rsplit("/", 1)[1]
    assert (await circle.get(proposal_id))["closes_at"] == DEADLINE


async def test_a_local_time_the_clocks_skip_is_refused_and_a_repeated_one_is_the_earlier(circle: Circle) -> None:
    await circle_zone(circle, "America/New_York")
    proposal_id = (await circle.propose(mode="live", closes_at=None))["id"]
    await circle.ok(proposal_id, "ada", "start")
    path, form = f"/proposals/{proposal_id}/actions", {"type": "change_mode", "mode": "async", "reason": "Away"}
    skipped = await circle.client.post(
        path, data={**form, "client_id": "skip", "closes_at": "2027-03-14T02:30"}, headers=circle.people["ada"]
    )
    assert skipped.status_code == 422
    assert "2027-03-14 02:30 does not exist in America/New_York" in skipped.text
    assert (await circle.get(proposal_id))["mode"] == "live"  # nothing changed
    repeated = await circle.client.post(
        path, data={**form, "client_id": "fold", "closes_at": "2027-11-07T01:30"}, headers=circle.people["ada"]
    )
    assert repeated.status_code == 200, repeated.text
    assert (await circle.get(proposal_id))["closes_at"] == "2027-11-07T05:30:00+00:00"  # 01:30 EDT, not EST


def test_reading_a_typed_time() -> None:
    mexico_city, new_york = ZoneInfo("America/Mexico_City"), ZoneInfo("America/New_York")
    assert read_typed("2026-12-10T12:00", mexico_city) == datetime(2026, 12, 10, 18, tzinfo=UTC)
    assert read_typed("2026-12-10T12:00:00+01:00", mexico_city) == datetime(2026, 12, 10, 11, tzinfo=UTC)
    assert read_typed(" ", mexico_city) is None
    with pytest.raises(Refusal, match="does not exist"):
        read_typed("2027-03-14T02:00", new_york)
    with pytest.raises(Refusal, match="must be a date and time"):
        read_typed("soon", new_york)
    assert format_moment(DEADLINE, ZoneInfo("Europe/Madrid"), "es") == "10 dic 2026, 19:00 CET"
    assert format_day("2027-06-30", new_york) == "Jun 30, 2027"


async def test_the_api_refuses_a_time_without_an_offset_and_a_zone_it_does_not_know(circle: Circle) -> None:
    refused = await circle.client.post(
        f"/api/circles/{circle.id}/proposals",
        json={
            "title": "T",
            "driver": "D",
            "text": "X",
            "domain_id": circle.domain_id,
            "closes_at": "2026-12-10T18:00:00",
        },
        headers=circle.people["ada"],
    )
    assert "time zone offset" in assert_refused(refused, 400, "invalid", "closes_at")
    wrong = await circle.client.patch(
        f"/api/circles/{circle.id}", json={"time_zone": "Mexico City"}, headers=circle.people["ada"]
    )
    assert "America/Mexico_City" in assert_refused(wrong, 422, "invalid", "time_zone")
    got = await circle.client.get(f"/api/circles/{circle.id}", headers=circle.people["bo"])
    assert got.json()["time_zone"] == "UTC"  # the default, unchanged


async def test_the_circles_zone_is_a_setting_of_its_page(circle: Circle) -> None:
    page = await page_of(circle, f"/circles/{circle.id}", "ada")
    assert 'name="time_zone" type="text" value="UTC"' in page
    fields = {"name": "Riverside", "default_review_months": "6", "default_async_days": "7", "reminder_hours": "24"}
    saved = await circle.client.post(
        f"/circles/{circle.id}/settings", data={**fields, "time_zone": "Europe/Madrid"}, headers=circle.people["ada"]
    )
    assert saved.status_code in (200, 302, 303), saved.text
    got = await circle.client.get(f"/api/circles/{circle.id}", headers=circle.people["ada"])
    assert got.json()["time_zone"] == "Europe/Madrid"
    sub = await circle.client.post(
        "/api/circles", json={"name": "Bread", "parent_id": circle.id}, headers=circle.people["ada"]
    )
    assert sub.status_code == 201, sub.text
    assert sub.json()["time_zone"] == "Europe/Madrid"  # a sub-circle meets where its parent does


async def test_the_calendar_feed_has_the_deadline_in_the_circles_zone_with_its_rules(circle: Circle) -> None:
    await circle_zone(circle, "America/Mexico_City")
    proposal_id = await opened(circle)
    feed = await circle.client.get("/decisions.ics", headers=circle.people["bo"])
    assert feed.status_code == 200, feed.text
    calendar = icalendar.Calendar.from_ical(feed.text)
    [zone] = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "America/Mexico_City"
    [event] = calendar.walk("VEVENT")
    assert f"/proposals/{proposal_id}" in event["URL"]
    assert event["DTSTART"].params["TZID"] == "America/Mexico_City"
    start = event.decoded("DTSTART")
    assert (start.hour, start.minute) == (12, 0) and start.astimezone(UTC) == datetime(2026, 12, 10, 18, tzinfo=UTC)
    assert "DTSTART;TZID=America/Mexico_City:20261210T120000" in feed.text
    # Ada waits for nothing: her feed has no deadline
    assert (
        icalendar.Calendar.from_ical(
            (await circle.client.get("/decisions.ics", headers=circle.people["ada"])).text
        ).walk("VEVENT")
        == []
    )


async def test_a_mail_says_the_deadline_in_its_recipients_zone(circle: Circle) -> None:
    await choose_zone(circle, "bo", "America/Mexico_City")
    await opened(circle)
    sent = {str(m["To"]).split("@")[0]: m for m in await mails_to(circle.settings, 3)}
    assert f"Respond by {NOON_IN_MEXICO_CITY}." in body(sent["bo"])
    assert f"Respond by {SIX_PM_UTC}." in body(sent["cy"])  # no zone: the circle's
    notes = (await circle.client.get("/api/notifications", headers=circle.people["bo"])).json()["items"]
    assert NOON_IN_MEXICO_CITY in notes[0]["text"]
