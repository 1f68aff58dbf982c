"""Selection by consent through the API, on a real database: opened by a steward, nominations
hidden until their period closes, the change round, a candidate proposed, consent, and the
role assigned with its term and recorded as a decision of kind "selection"."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from consent.base import db
from consent.base.settings import Settings
from rounds.scheduler import tick
from tests.helpers import assert_refused
from tests.rounds.conftest import Circle, MovableClock

TERM = "2027-06-30"


async def open_selection(circle: Circle, who: str = "ada", **fields: Any) -> Any:
    body = {"role": "treasurer", "description": "Keeps the accounts", "term_ends_on": TERM, "mode": "async"}
    body |= {"closes_at": "2026-11-30T09:00:00Z"} | fields
    return await circle.client.post(f"/api/circles/{circle.id}/selections", json=body, headers=circle.people[who])


async def roles_of(circle: Circle) -> dict[str, list[tuple[str, str | None, bool]]]:
    response = await circle.client.get(f"/api/circles/{circle.id}", headers=circle.people["ada"])
    assert response.status_code == 200, response.text
    return {
        m["name"]: [(r["name"], r["term_ends_on"], r["expired"]) for r in m["roles"]]
        for m in response.json()["members"]
    }


async def test_an_async_selection_from_nominations_to_the_role_assigned(circle: Circle, clock: MovableClock) -> None:
    # Di held the role before: her term ends when Cy's begins
    await circle.client.post(
        f"/api/circles/{circle.id}/members",
        json={"email": "di@example.org", "roles": ["treasurer"], "term_ends_on": "2026-12-31"},
        headers=circle.people["ada"],
    )
    response = await open_selection(circle)
    assert response.status_code == 201, response.text
    selection = response.json()
    assert (selection["kind"], selection["state"], selection["review_by"]) == ("selection", "draft", TERM)
    assert selection["selection"] == {
        "role": "treasurer",
        "description": "Keeps the accounts",
        "term_ends_on": TERM,
        "candidate": None,
        "nominations_hidden": False,
        "nominated": 0,
        "nominations": [],
        "tally": [],
    }
    sid, ids = selection["id"], circle.ids
    await circle.ok(sid, "ada", "start")
    acted = await circle.ok(sid, "bo", "nominate", candidate_id=ids["cy"], reason="Cy keeps good books")
    # nobody learns whom Bo nominated, nor why, until the period closes: not the answer, the
    # proposal, nor its events
    assert acted["events"][0]["data"] == {"member": ids["bo"], "round": 1}
    for who in ("bo", "cy"):
        seen = await circle.get(sid, who)
        assert seen["selection"]["nominations_hidden"] and seen["selection"]["nominations"] == []
        assert seen["selection"]["nominated"] == 1
        assert "good books" not in str(seen)
        events = await circle.client.get(f"/api/proposals/{sid}/events", headers=circle.people[who])
        assert "good books" not in events.text and ids["cy"] not in events.text
    await circle.ok(sid, "di", "nominate", candidate_id=ids["bo"], reason="Bo is careful")
    await circle.ok(sid, "cy", "pass")
    # the deadline closes the nomination round: every nomination is heard, the change round opens
    engine = db.create_engine(circle.settings.database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        clock.move(days=8)
        assert await tick(sessions, clock) == 1
    finally:
        await engine.dispose()
    seen = (await circle.get(sid, "cy"))["selection"]
    assert not seen["nominations_hidden"]
    assert {(n["member"]["name"], n["candidate"]["name"], n["reason"]) for n in seen["nominations"]} == {
        ("Bo", "Cy", "Cy keeps good books"),
        ("Di", "Bo", "Bo is careful"),
    }
    state = await circle.get(sid)
    assert state["state"] == "changing" and state["closes_at"] is not None  # the change round's period
    await circle.ok(sid, "di", "change_nomination", candidate_id=ids["cy"], reason="Cy, after hearing Bo")
    assert [(t["candidate"]["name"], t["count"]) for t in (await circle.get(sid))["selection"]["tally"]] == [("Cy", 2)]
    assert_refused(await circle.act(sid, "bo", "propose_candidate", candidate_id=ids["cy"]), 403, "not_facilitator")
    await circle.ok(sid, "ada", "propose_candidate", candidate_id=ids["cy"])
    proposed = await circle.get(sid)
    assert proposed["state"] == "consenting" and proposed["selection"]["candidate"]["name"] == "Cy"
    assert proposed["text"].startswith(f"Cy as treasurer until {TERM}.")
    assert "- Bo: Cy keeps good books" in proposed["text"] and "- Di: Cy, after hearing Bo" in proposed["text"]
    assert proposed["revision"] == 2 and proposed["review_by"] == TERM
    # the candidate objects to the term; the facilitator integrates it by amending the term
    await circle.ok(sid, "cy", "object", text="I can only until March")
    for who in ("ada", "bo", "di"):
        await circle.ok(sid, who, "consent")
    await circle.ok(sid, "ada", "advance")
    assert_refused(await circle.act(sid, "ada", "amend", term_ends_on="2026-01-01"), 422, "invalid", "term_ends_on")
    await circle.ok(sid, "ada", "amend", term_ends_on="2027-03-31")
    amended = await circle.get(sid)
    assert amended["text"].startswith("Cy as treasurer until 2027-03-31.") and amended["review_by"] == "2027-03-31"
    assert amended["selection"]["term_ends_on"] == "2027-03-31" and amended["objections"][0]["status"] == "integrated"
    for who in ("ada", "bo", "cy", "di"):
        await circle.ok(sid, who, "consent")
    decided = await circle.get(sid)
    assert decided["state"] == "decided"
    decision = (await circle.client.get(f"/api/decisions/{decided['decision_id']}", headers=circle.people["bo"])).json()
    assert (decision["kind"], decision["review_by"], decision["text"]) == ("selection", "2027-03-31", amended["text"])
    roles = await roles_of(circle)
    assert ("treasurer", "2027-03-31", False) in roles["Cy"]
    assert ("treasurer", "2026-11-30", True) in roles["Di"]  # ended the day before Cy's began: no powers


async def test_a_live_selection_hears_nominations_at_once_and_in_turn(circle: Circle) -> None:
    sid = (await open_selection(circle, role="Facilitator", mode="live", closes_at=None)).json()["id"]
    await circle.ok(sid, "ada", "start")
    for who in ("bo", "cy", "di"):
        await circle.ok(sid, who, "present")
    assert_refused(
        await circle.act(sid, "cy", "nominate", candidate_id=circle.ids["bo"], reason="r"), 409, "not_your_turn"
    )
    acted = await circle.ok(sid, "bo", "nominate", candidate_id=circle.ids["cy"], reason="calm")
    assert acted["events"][0]["data"]["candidate"] == circle.ids["cy"]
    await circle.ok(sid, "cy", "nominate", candidate_id=circle.ids["cy"], reason="I would like to")
    await circle.ok(sid, "di", "pass")
    await circle.ok(sid, "ada", "advance")
    for who in ("bo", "cy", "di"):
        await circle.ok(sid, who, "pass")
    await circle.ok(sid, "ada", "propose_candidate", candidate_id=circle.ids["cy"])
    for who in ("bo", "cy", "di"):
        await circle.ok(sid, who, "consent")
    await circle.ok(sid, "ada", "advance")
    assert (await circle.get(sid))["state"] == "decided"
    # Cy is the facilitator now, and Ada no more: Cy moves the circle's next process
    roles = await roles_of(circle)
    assert ("facilitator", TERM, False) in roles["Cy"] and roles["Ada"][0][2] is True
    assert_refused(await open_selection(circle, role="secretary"), 403, "not_allowed")
    other = (await open_selection(circle, who="cy", role="secretary")).json()
    assert (await circle.get(other["id"]))["facilitators"] == [circle.ids["cy"]]


async def test_only_a_steward_opens_a_selection_and_its_body_is_checked(circle: Circle, settings: Settings) -> None:
    assert_refused(await open_selection(circle, who="bo"), 403, "not_allowed")
    assert_refused(await open_selection(circle, who="zed"), 404, "not_found")
    assert_refused(await open_selection(circle, role="leader"), 422, "chosen_by_parent", "role")
    assert_refused(await open_selection(circle, role="delegate"), 422, "no_parent_circle", "roles")
    assert_refused(await open_selection(circle, term_ends_on="2026-11-01"), 422, "invalid", "term_ends_on")
    assert_refused(await open_selection(circle, closes_at=None), 422, "invalid", "closes_at")
    assert_refused(await open_selection(circle, extra=1), 400, "invalid")
    sid = (await open_selection(circle)).json()["id"]
    await circle.ok(sid, "ada", "start")
    nominate = {"candidate_id": circle.ids["zed"], "reason": "r"}
    assert_refused(await circle.act(sid, "bo", "nominate", **nominate), 409, "not_a_participant", "candidate_id")
    assert_refused(
        await circle.act(sid, "bo", "nominate", candidate_id=circle.ids["cy"]), 422, "nomination_needs_reason"
    )
    assert_refused(await circle.act(sid, "zed", "nominate", **nominate), 404, "not_found")
