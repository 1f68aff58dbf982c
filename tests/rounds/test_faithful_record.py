"""What the record holds, through the API on a real database: one entry per member of the
circle in the decision, the quorum, the objection test, a new deadline after integration, and
taking a proposal into a live meeting and back."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker

from consent.base import db
from rounds.scheduler import tick
from tests.helpers import assert_refused
from tests.rounds.conftest import Circle, MovableClock
from tests.rounds.test_proposals_api import events, to_consenting


async def decision_of(circle: Circle, proposal_id: str) -> dict:
    state = await circle.get(proposal_id)
    assert state["state"] == "decided", state["state"]
    response = await circle.client.get(f"/api/decisions/{state['decision_id']}", headers=circle.people["bo"])
    assert response.status_code == 200, response.text
    return response.json()


async def deadline_passes(circle: Circle, clock: MovableClock, days: int = 8) -> None:
    clock.move(days=days)
    engine = db.create_engine(circle.settings.database_url)
    try:
        await tick(async_sessionmaker(engine, expire_on_commit=False), clock)
    finally:
        await engine.dispose()


async def test_a_live_decision_lists_every_member_with_what_they_did(circle: Circle) -> None:
    proposal_id = (await circle.propose(mode="live", closes_at=None))["id"]
    for name in ("ada", "bo", "cy"):
        await circle.ok(proposal_id, name, "present")
    await to_consenting(circle, proposal_id)
    await circle.ok(proposal_id, "ada", "consent", text="Glad")
    await circle.ok(proposal_id, "ada", "stand_aside", on_behalf_of=circle.ids["bo"], text="Not my area")
    await circle.ok(proposal_id, "cy", "concern", text="The keys")
    await circle.ok(proposal_id, "ada", "advance")
    decision = await decision_of(circle, proposal_id)
    ada = {"id": circle.ids["ada"], "name": "Ada"}
    assert decision["responses"] == [
        {"member": ada, "kind": "consent", "text": "Glad"},
        {
            "member": {"id": circle.ids["bo"], "name": "Bo"},
            "kind": "stand_aside",
            "text": "Not my area",
            "recorded_by": ada,
        },
        {"member": {"id": circle.ids["cy"], "name": "Cy"}, "kind": "concern", "text": "The keys"},
        {"member": {"id": circle.ids["di"], "name": "Di"}, "kind": "absent"},  # not in the meeting
    ]
    page = await circle.client.get(f"/decisions/{decision['id']}", headers=circle.people["bo"])
    assert 'Bo: stood aside: Not my area <small class="muted">(recorded by Ada, in the meeting)' in page.text
    assert "Di: was not there" in page.text


async def test_below_the_quorum_a_live_round_cannot_close_and_an_async_one_goes_to_the_next_meeting(
    circle: Circle, clock: MovableClock
) -> None:
    live = (await circle.propose(mode="live", closes_at=None))["id"]
    for name in ("ada", "bo"):  # two of four: a majority is three
        await circle.ok(live, name, "present")
    await to_consenting(circle, live)
    for name in ("ada", "bo"):
        await circle.ok(live, name, "consent")
    before = await circle.get(live)
    message = assert_refused(await circle.act(live, "ada", "advance"), 409, "no_quorum")
    assert "2 of the 3" in message and await circle.get(live) == before
    await circle.ok(live, "cy", "present")  # a third arrives, and it is her turn
    await circle.ok(live, "cy", "consent")
    assert (await circle.ok(live, "ada", "advance"))["event"]["type"] == "decided"

    # async, silence passing at the deadline: one response is below the quorum
    changed = await circle.client.patch(
        f"/api/circles/{circle.id}", json={"silence_is_consent": True}, headers=circle.people["ada"]
    )
    assert changed.status_code == 200 and "quorum" not in changed.json()  # a majority
    slow = (await circle.propose())["id"]
    await to_consenting(circle, slow)
    await circle.ok(slow, "bo", "consent")
    await deadline_passes(circle, clock)
    assert (await events(circle, slow))[-1]["data"] == {"outcome": "next_meeting"}
    assert (await circle.get(slow))["mode"] == "live"


async def test_a_quorum_is_set_by_a_steward_within_the_circles_size(circle: Circle) -> None:
    url = f"/api/circles/{circle.id}"
    assert_refused(await circle.client.patch(url, json={"quorum": 5}, headers=circle.people["ada"]), 422, "invalid")
    assert_refused(await circle.client.patch(url, json={"quorum": -1}, headers=circle.people["ada"]), 422, "invalid")
    assert_refused(await circle.client.patch(url, json={"quorum": 2}, headers=circle.people["bo"]), 403, "not_allowed")
    assert (await circle.client.patch(url, json={"quorum": 4}, headers=circle.people["ada"])).json()["quorum"] == 4
    majority = await circle.client.patch(url, json={"quorum": 0}, headers=circle.people["ada"])
    assert "quorum" not in majority.json()


async def test_the_objection_test_is_on_the_record(circle: Circle) -> None:
    proposal_id = (await circle.propose())["id"]
    await to_consenting(circle, proposal_id)
    await circle.ok(proposal_id, "bo", "object", text="I would rather we met on Mondays")
    assert_refused(await circle.act(proposal_id, "cy", "test_objection", objection_id="o1"), 403, "not_facilitator")
    asked = await circle.client.get(f"/proposals/{proposal_id}", headers=circle.people["ada"])
    assert "Ask Bo to test the objection" in asked.text
    await circle.ok(proposal_id, "ada", "test_objection", objection_id="o1")
    for name, shown in (("bo", True), ("cy", False)):  # only the objector is offered the answers
        page = await circle.client.get(f"/proposals/{proposal_id}", headers=circle.people[name])
        assert ("It is an objection: keep it" in page.text and "Make it a concern" in page.text) is shown
        assert "being tested against the aim and domain" in page.text
    assert_refused(
        await circle.act(proposal_id, "ada", "objection_to_concern", objection_id="o1"), 403, "not_objection_author"
    )
    became = await circle.ok(proposal_id, "bo", "objection_to_concern", objection_id="o1")
    assert became["event"]["type"] == "objection_became_concern"
    for name in ("ada", "cy"):
        await circle.ok(proposal_id, name, "consent")
    await circle.ok(proposal_id, "di", "consent")
    decision = await decision_of(circle, proposal_id)
    [objection] = decision["objections"]
    assert (objection["status"], objection["test"]) == ("concern", "concern")
    bo = next(r for r in decision["responses"] if r["member"]["name"] == "Bo")
    assert (bo["kind"], bo["text"]) == ("concern", "I would rather we met on Mondays")
    assert [c["name"] for c in decision["concerns"]] == ["Bo"]
    assert {"objection_tested", "objection_became_concern"} <= {e["type"] for e in decision["timeline"]}


async def test_an_amendment_of_an_async_proposal_opens_a_consent_round_with_a_deadline(
    circle: Circle, clock: MovableClock
) -> None:
    proposal_id = (await circle.propose())["id"]
    await to_consenting(circle, proposal_id)
    await circle.ok(proposal_id, "bo", "object", text="Saturdays clash with the market")
    await deadline_passes(circle, clock)  # into integration; the deadline has passed
    assert (await circle.get(proposal_id))["closes_at"] is None
    assert_refused(
        await circle.act(proposal_id, "ada", "amend", text="Sundays", closes_at="2026-11-01T09:00:00Z"), 422, "invalid"
    )
    amended = await circle.ok(proposal_id, "ada", "amend", text="Sundays")
    # the circle's async period (a week by default) from now
    assert amended["events"][0]["data"]["closes_at"] == "2026-12-08T09:00:00+00:00"
    state = await circle.get(proposal_id)
    assert (state["state"], state["closes_at"]) == ("consenting", "2026-12-08T09:00:00+00:00")
    await circle.ok(proposal_id, "bo", "consent")
    await deadline_passes(circle, clock)  # silence is not consent here: into the next meeting
    assert (await circle.get(proposal_id))["mode"] == "live"


async def test_the_facilitator_takes_a_proposal_into_a_meeting_and_back_and_the_page_says_why(circle: Circle) -> None:
    proposal_id = (await circle.propose())["id"]
    await circle.ok(proposal_id, "ada", "start")
    assert_refused(await circle.act(proposal_id, "bo", "change_mode", mode="live"), 403, "not_facilitator")
    await circle.ok(proposal_id, "ada", "change_mode", mode="live", reason="We meet on Thursday")
    state = await circle.get(proposal_id)
    assert (state["mode"], state["closes_at"]) == ("live", None)
    back = await circle.ok(proposal_id, "ada", "change_mode", mode="async", reason="Di cannot come")
    assert back["event"]["data"]["closes_at"] == "2026-11-30T09:00:00+00:00"  # the circle's week
    assert (await circle.get(proposal_id))["closes_at"] == "2026-11-30T09:00:00+00:00"
    page = await circle.client.get(f"/proposals/{proposal_id}", headers=circle.people["bo"])
    assert "taken into a live meeting: We meet on Thursday" in page.text
    assert "taken to asynchronous participation, with a deadline: Di cannot come" in page.text


async def test_the_pages_form_takes_a_proposal_to_async_with_a_deadline_read_as_utc(circle: Circle) -> None:
    proposal_id = (await circle.propose(mode="live", closes_at=None))["id"]
    await circle.ok(proposal_id, "ada", "start")
    form = {"type": "change_mode", "client_id": "page-mode", "mode": "async", "reason": "Cy is away"}
    # a datetime-local field sends no seconds, and is read in the viewer's zone: the circle's, UTC
    sent = await circle.client.post(
        f"/proposals/{proposal_id}/actions",
        data={**form, "closes_at": "2026-12-01T18:30"},
        headers=circle.people["ada"],
    )
    assert sent.status_code == 200 and "Cy is away" in sent.text  # redirected to the proposal page
    assert (await circle.get(proposal_id))["closes_at"] == "2026-12-01T18:30:00+00:00"
    bad = await circle.client.post(
        f"/proposals/{proposal_id}/actions",
        data={**form, "client_id": "page-bad", "mode": "live", "closes_at": "next week"},
        headers=circle.people["ada"],
    )
    assert bad.status_code == 422 and "The deadline must be a date and time." in bad.text
    assert (await circle.get(proposal_id))["mode"] == "async"  # nothing changed


async def test_the_facilitator_integrates_by_amending_with_the_authors_agreement(circle: Circle) -> None:
    proposal_id = (await circle.propose("bo", mode="live", closes_at=None))["id"]
    for name in ("ada", "bo", "cy"):
        await circle.ok(proposal_id, name, "present")
    await to_consenting(circle, proposal_id)
    await circle.ok(proposal_id, "ada", "consent")
    await circle.ok(proposal_id, "bo", "consent")
    await circle.ok(proposal_id, "cy", "object", text="Not on Sundays")
    await circle.ok(proposal_id, "ada", "advance")
    amendment = {"text": "Weekdays only", "author_agreed": True}
    assert_refused(await circle.act(proposal_id, "ada", "amend", text="Weekdays only"), 409, "author_agreement_needed")
    assert_refused(await circle.act(proposal_id, "cy", "amend", **amendment), 403, "not_author")
    # without JavaScript: the facilitator's amendment form has the author's agreement as a box to tick
    page = await circle.client.get(f"/proposals/{proposal_id}", headers=circle.people["ada"])
    assert "Bo, the author, agrees to this amendment" in page.text
    form = {"type": "amend", "client_id": "ada-amend-page", "text": "Weekdays only", "author_agreed": "true"}
    posted = await circle.client.post(f"/proposals/{proposal_id}/actions", data=form, headers=circle.people["ada"])
    assert posted.status_code == 200 and "Weekdays only" in posted.text
    amended = [e for e in await events(circle, proposal_id) if e["type"] == "amended"][-1]
    assert amended["actor"]["name"] == "Ada" and amended["data"]["author_agreed"] is True
    assert (await circle.get(proposal_id))["state"] == "consenting"
    for name in ("ada", "bo", "cy"):
        await circle.ok(proposal_id, name, "consent")
    await circle.ok(proposal_id, "ada", "advance")
    decision = await decision_of(circle, proposal_id)
    page = await circle.client.get(f"/decisions/{decision['id']}", headers=circle.people["cy"])
    assert "amended the proposal, with its author&#39;s agreement: revision 2" in page.text
