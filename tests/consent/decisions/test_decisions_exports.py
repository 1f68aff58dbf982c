"""The exports: JSON and CSV that round-trip, Markdown minutes, and the calendar of review dates,
through the secret feed link (no cookie) that can be revoked."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlsplit

import icalendar
import pytest

from tests.consent.decisions.conftest import decide, reviewed
from tests.helpers import assert_refused
from tests.rounds.conftest import Circle, MovableClock

TRICKY = 'Bread, "rye" and café loaves;\nshared at the hall — every Sunday.'


@pytest.fixture
async def three(circle: Circle, clock: MovableClock) -> list[dict]:
    made = [
        await decide(
            circle,
            "Bread, the sequel",
            objection="The stall is closed in winter.",
            amended=TRICKY,
            concern="=SUM(A1:A9) is not a concern",
        )
    ]
    clock.move(minutes=1)
    made.append(await decide(circle, "Compost", review_by="2026-12-01", text="Two bins."))
    clock.move(minutes=1)
    made.append(await decide(circle, "Old rota", text="Cleaning by rota."))
    await reviewed(circle, made[2]["id"], outcome="retire")
    return made


async def test_json_and_csv_exports_round_trip(circle: Circle, three: list[dict]) -> None:
    bo = circle.people["bo"]
    listed = (await circle.client.get("/api/decisions", params={"limit": 100}, headers=bo)).json()["items"]
    exported = await circle.client.get("/decisions.json", headers=bo)
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    assert json.loads(exported.content.decode()) == {"items": listed}
    table = await circle.client.get("/decisions.csv", headers=bo)
    assert table.headers["content-type"] == "text/csv; charset=utf-8"  # once
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [r["id"] for r in rows] == [d["id"] for d in listed]
    for row, d in zip(rows, listed, strict=True):
        for name in ("title", "driver", "text", "status", "decided_at", "review_by", "proposal_id", "url"):
            assert row[name] == d[name], name
        assert (row["circle"], row["domain"]) == (d["circle"]["name"], d["domain"]["name"])
        assert row["consented"].split("; ") == [r["member"]["name"] for r in d["responses"]]
    bread = rows[-1]
    assert bread["text"] == TRICKY
    assert bread["objections"] == "Bo: The stall is closed in winter. (integrated by revision 2)"
    assert bread["concerns"] == "Cy: =SUM(A1:A9) is not a concern"  # not at the start of the cell: only text
    filtered = await circle.client.get("/decisions.csv", params={"status": "retired"}, headers=bo)
    assert [r["title"] for r in csv.DictReader(io.StringIO(filtered.text))] == ["Old rota"]
    assert_refused(await circle.client.get("/decisions.json", params={"status": "gone"}, headers=bo), 422, "invalid")


async def test_minutes_of_one_decision(circle: Circle, three: list[dict]) -> None:
    minutes = await circle.client.get(f"/decisions/{three[0]['id']}/minutes.md", headers=circle.people["cy"])
    assert minutes.status_code == 200 and minutes.headers["content-type"] == "text/markdown; charset=utf-8"
    assert minutes.text.startswith("# Bread, the sequel\n")
    assert "- Bo (on revision 1): The stall is closed in winter. **integrated by revision 2**" in minutes.text
    assert "- Cy: consented with a concern" in minutes.text and TRICKY in minutes.text


def events(body: bytes) -> dict[str, str]:
    """{summary: review date} of an iCalendar file, parsed by the icalendar package."""
    calendar = icalendar.Calendar.from_ical(body)
    return {str(e["SUMMARY"]): e.decoded("DTSTART").isoformat() for e in calendar.walk("VEVENT")}


async def test_the_calendar_feed_works_without_a_cookie_until_revoked(circle: Circle, three: list[dict]) -> None:
    ada = circle.people["ada"]
    signed_in = await circle.client.get("/decisions.ics", headers=ada)
    assert signed_in.headers["content-type"] == "text/calendar; charset=utf-8"
    # one event per review date of a decision in force; the retired one has none
    assert events(signed_in.content) == {
        "Review: Bread, the sequel (Riverside)": "2027-05-23",
        "Review: Compost (Riverside)": "2026-12-01",
    }
    made = await circle.client.post("/api/decisions/feed", headers=ada)
    assert made.status_code == 201
    link = urlsplit(made.json()["url"])
    assert link.path == "/decisions.ics" and made.json()["token"] in link.query
    feed = f"{link.path}?{link.query}"
    anonymous = await circle.client.get(feed)  # a calendar app: no cookie, no token
    assert anonymous.status_code == 200 and events(anonymous.content) == events(signed_in.content)
    narrowed = await circle.client.get(feed + "&q=compost")
    assert list(events(narrowed.content)) == ["Review: Compost (Riverside)"]
    again = await circle.client.post("/api/decisions/feed", headers=ada)  # a new link replaces the old
    assert (await circle.client.get(feed)).status_code == 404
    new_feed = urlsplit(again.json()["url"])
    assert (await circle.client.get(f"{new_feed.path}?{new_feed.query}")).status_code == 200
    assert (await circle.client.delete("/api/decisions/feed", headers=ada)).status_code == 204
    assert (await circle.client.get(f"{new_feed.path}?{new_feed.query}")).status_code == 404
    nobody = await circle.client.get("/decisions.ics", follow_redirects=False)
    assert nobody.status_code in (302, 303) and nobody.headers["location"].startswith("/sign-in")


async def test_a_feed_shows_only_what_its_owner_may_see(circle: Circle, three: list[dict]) -> None:
    made = await circle.client.post("/api/decisions/feed", headers=circle.people["zed"])
    link = urlsplit(made.json()["url"])
    assert events((await circle.client.get(f"{link.path}?{link.query}")).content) == {}


async def test_a_carriage_return_typed_into_a_decision_stays_inside_its_calendar_line(circle: Circle) -> None:
    d = await decide(circle, "Van\rX-INJECTED:yes", text="Line one\r\nLine two\rthree")
    assert (d["title"], d["text"]) == ("Van\nX-INJECTED:yes", "Line one\nLine two\nthree")  # as forms send them
    body = (await circle.client.get("/decisions.ics", headers=circle.people["ada"])).content
    assert b"\r" not in body.replace(b"\r\n", b"")  # no bare CR to end a line early
    assert not any(line.startswith(b"X-INJECTED") for line in body.split(b"\r\n"))
    assert list(events(body)) == ["Review: Van X-INJECTED:yes (Riverside)"]


async def test_links_start_with_the_base_url_whatever_host_the_request_names(circle: Circle, three: list[dict]) -> None:
    forged = {**circle.people["ada"], "Host": "evil.example"}
    made = await circle.client.post("/api/decisions/feed", headers=forged)
    assert made.json()["url"].startswith("http://127.0.0.1/decisions.ics?feed=")
    minutes = await circle.client.get(f"/decisions/{three[0]['id']}/minutes.md", headers=forged)
    assert "http://127.0.0.1/decisions/" in minutes.text and "evil" not in minutes.text
    calendar = await circle.client.get("/decisions.ics", headers=forged)
    assert b"evil" not in calendar.content and b"http://127.0.0.1/decisions/" in calendar.content


async def test_each_meeting_of_the_circle_is_in_its_calendar_and_a_cancelled_one_says_so(circle: Circle) -> None:
    zone = await circle.client.patch(
        f"/api/circles/{circle.id}", json={"time_zone": "America/Mexico_City"}, headers=circle.people["ada"]
    )
    assert zone.status_code == 200, zone.text
    ids = []
    for place in ("Community hall\nback room", "https://call.example/riverside"):
        body = {"starts_at": "2026-11-24T18:00:00+00:00", "place": place, "minutes_long": 60, "agenda": []}
        created = await circle.client.post(
            f"/api/circles/{circle.id}/meetings", json=body, headers=circle.people["ada"]
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    cancel = {"type": "cancel", "client_id": "cancel-1", "reason": "Snow"}
    acted = await circle.client.post(f"/api/meetings/{ids[1]}/actions", json=cancel, headers=circle.people["ada"])
    assert acted.status_code == 200, acted.text
    for who in ("bo", "zed"):
        body = (await circle.client.get("/decisions.ics", headers=circle.people[who])).content
        found = {
            str(e["uid"]): e
            for e in icalendar.Calendar.from_ical(body).walk("VEVENT")
            if str(e["uid"]).startswith("meeting-")
        }
        if who == "zed":  # not a member: none of the circle's meetings
            assert found == {}
            continue
        held, cancelled = (found[f"meeting-{i}@127.0.0.1"] for i in ids)
        assert str(held["summary"]) == "Riverside: meeting" and str(held["location"]) == "Community hall back room"
        start, end = held.decoded("dtstart"), held.decoded("dtend")
        assert str(start.tzinfo) == "America/Mexico_City" and start.hour == 12 and (end - start).seconds == 3600
        assert str(held["url"]) == f"http://127.0.0.1/meetings/{ids[0]}" and "status" not in held
        assert str(cancelled["status"]) == "CANCELLED"
        assert b"BEGIN:VTIMEZONE" in body and b"TZID:America/Mexico_City" in body
