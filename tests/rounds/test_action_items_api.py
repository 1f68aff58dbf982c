"""Action items through the API on a real database: asked in a proposal, changed by an
amendment, carried into the decision, then accepted, declined and done by the person asked
(or, once they left, a steward), each change on the record; every refusal in the envelope."""

from __future__ import annotations

from typing import Any

from tests.helpers import PASSWORD, assert_refused
from tests.rounds.conftest import Circle, MovableClock


def item(circle: Circle, who: str, what: str, due_on: str | None = "2026-12-10") -> dict[str, Any]:
    return {"what": what, "owner_id": circle.ids[who], "due_on": due_on}


async def decided(circle: Circle, **fields: Any) -> tuple[str, dict[str, Any]]:
    """A proposal with `fields`, consented by all four: its id and its decision."""
    proposal_id = (await circle.propose(**fields))["id"]
    for step in ("start", "advance", "advance"):
        await circle.ok(proposal_id, "ada", step)
    for name in ("ada", "bo", "cy", "di"):
        await circle.ok(proposal_id, name, "consent")
    decision_id = (await circle.get(proposal_id))["decision_id"]
    response = await circle.client.get(f"/api/decisions/{decision_id}", headers=circle.people["bo"])
    assert response.status_code == 200, response.text
    return proposal_id, response.json()


async def step(circle: Circle, who: str, item_id: str, name: str, **body: Any):  # type: ignore[no-untyped-def]
    return await circle.client.post(
        f"/api/action-items/{item_id}/{name}", json=body if name == "done" else None, headers=circle.people[who]
    )


async def test_a_proposal_asks_members_to_do_things(circle: Circle) -> None:
    proposal = await circle.propose(
        action_items=[item(circle, "bo", " Ask the baker "), item(circle, "cy", "Find crates", None)]
    )
    items = proposal["action_items"]
    assert [(i["what"], i["owner"]["name"], i["due_on"], i["state"]) for i in items] == [
        ("Ask the baker", "Bo", "2026-12-10", "proposed"),
        ("Find crates", "Cy", None, "proposed"),
    ]
    assert items[0]["decision"] is None and items[0]["history"] == [] and "note" not in items[0]
    assert (await circle.get(proposal["id"], "di"))["action_items"] == items


async def test_an_item_is_asked_of_a_member_and_not_due_in_the_past(circle: Circle) -> None:
    outsider = await circle.client.post(
        f"/api/circles/{circle.id}/proposals",
        json={**_body(circle), "action_items": [item(circle, "zed", "Ask the baker")]},
        headers=circle.people["ada"],
    )
    assert "member of the circle" in assert_refused(outsider, 400, "owner_not_member", "action_items")
    past = await circle.client.post(
        f"/api/circles/{circle.id}/proposals",
        json={**_body(circle), "action_items": [item(circle, "bo", "Ask", "2026-11-22")]},
        headers=circle.people["ada"],
    )
    assert "past" in assert_refused(past, 422, "invalid", "action_items")
    empty = await circle.client.post(
        f"/api/circles/{circle.id}/proposals",
        json={**_body(circle), "action_items": [item(circle, "bo", "  ")]},
        headers=circle.people["ada"],
    )
    assert_refused(empty, 422, "invalid", "action_items")
    unknown = await circle.client.post(
        f"/api/circles/{circle.id}/proposals",
        json={**_body(circle), "action_items": [{**item(circle, "bo", "Ask"), "extra": 1}]},
        headers=circle.people["ada"],
    )
    assert unknown.status_code == 400, unknown.text


def _body(circle: Circle) -> dict[str, Any]:
    return {
        "title": "Weekly food runs",
        "driver": "Food goes to waste.",
        "text": "We collect on Fridays.",
        "domain_id": circle.domain_id,
        "mode": "async",
        "closes_at": "2026-11-30T09:00:00Z",
    }


async def test_an_amendment_changes_the_items_and_the_decision_carries_the_consented_ones(circle: Circle) -> None:
    proposal_id = (await circle.propose(action_items=[item(circle, "bo", "Ask the baker")]))["id"]
    await circle.ok(proposal_id, "ada", "start")
    amended = await circle.ok(
        proposal_id,
        "ada",
        "amend",
        text="We collect on Fridays, with crates.",
        action_items=[item(circle, "cy", "Find crates", "2026-12-01"), item(circle, "bo", "Ask the baker")],
    )
    assert amended["event"]["data"]["action_items"] == [
        {"what": "Find crates", "owner": circle.ids["cy"], "due_on": "2026-12-01"},
        {"what": "Ask the baker", "owner": circle.ids["bo"], "due_on": "2026-12-10"},
    ]
    kept = await circle.ok(proposal_id, "ada", "amend", text="We collect on Fridays, with two crates.")
    assert "action_items" not in kept["event"]["data"]  # an amendment without items leaves them as they are
    refused = await circle.act(
        proposal_id, "ada", "amend", text="Again", action_items=[item(circle, "zed", "Ask the baker")]
    )
    assert_refused(refused, 400, "owner_not_member", "action_items")
    refused = await circle.act(
        proposal_id, "ada", "amend", text="Again", action_items=[item(circle, "bo", "Ask", "2026-01-01")]
    )
    assert_refused(refused, 422, "invalid", "action_items")
    for step_ in ("advance", "advance"):
        await circle.ok(proposal_id, "ada", step_)
    for name in ("ada", "bo", "cy", "di"):
        await circle.ok(proposal_id, name, "consent")
    decision_id = (await circle.get(proposal_id))["decision_id"]
    decision = (await circle.client.get(f"/api/decisions/{decision_id}", headers=circle.people["di"])).json()
    items = decision["action_items"]
    assert [(i["what"], i["owner"]["name"], i["state"]) for i in items] == [
        ("Find crates", "Cy", "proposed"),
        ("Ask the baker", "Bo", "proposed"),
    ]
    assert items[0]["decision"] == {"id": decision_id, "name": "Weekly food runs"}
    listed = (await circle.client.get(f"/api/decisions?circle_id={circle.id}", headers=circle.people["di"])).json()
    assert listed["items"][0]["action_items"] == items


async def test_the_person_asked_accepts_declines_and_does(circle: Circle, clock: MovableClock) -> None:
    _, decision = await decided(
        circle,
        action_items=[
            item(circle, "bo", "Ask the baker"),
            item(circle, "cy", "Find crates"),
            item(circle, "bo", "Sweep"),
        ],
    )
    baker, crates, sweep = (i["id"] for i in decision["action_items"])
    assert_refused(await step(circle, "cy", baker, "accept"), 403, "not_owner")
    assert_refused(await step(circle, "ada", baker, "done", note="Done for him"), 403, "not_owner")
    accepted = await step(circle, "bo", baker, "accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "accepted"
    assert_refused(await step(circle, "bo", baker, "accept"), 409, "already_accepted")
    clock.move(days=1)
    done = await step(circle, "bo", baker, "done", note=" The baker gives Fridays' bread. ")
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["state"], body["note"]) == ("done", "The baker gives Fridays' bread.")
    assert [(h["state"], h["by"]["name"], h["at"][:10]) for h in body["history"]] == [
        ("accepted", "Bo", "2026-11-23"),
        ("done", "Bo", "2026-11-24"),
    ]
    assert body["history"][1]["note"] == "The baker gives Fridays' bread."
    assert_refused(await step(circle, "bo", baker, "decline"), 409, "already_done")
    declined = await step(circle, "cy", crates, "decline")
    assert declined.json()["state"] == "declined"
    assert_refused(await step(circle, "cy", crates, "done", note=""), 409, "already_declined")
    assert (await step(circle, "bo", sweep, "done", note="")).json()["state"] == "done"  # doing it is accepting it
    unknown = await step(circle, "bo", "00000000-0000-0000-0000-000000000000", "accept")
    assert_refused(unknown, 404, "not_found")
    assert_refused(await step(circle, "zed", baker, "accept"), 404, "not_found")  # another organisation


async def test_nothing_is_answered_before_the_decision(circle: Circle) -> None:
    proposal = await circle.propose(action_items=[item(circle, "bo", "Ask the baker")])
    item_id = proposal["action_items"][0]["id"]
    assert "not decided" in assert_refused(await step(circle, "bo", item_id, "accept"), 409, "not_decided")
    assert_refused(await step(circle, "cy", item_id, "accept"), 403, "not_owner")


async def test_a_steward_closes_the_item_of_someone_who_left(circle: Circle) -> None:
    _, decision = await decided(circle, action_items=[item(circle, "bo", "Ask the baker")])
    item_id = decision["action_items"][0]["id"]
    assert_refused(await step(circle, "ada", item_id, "done", note=""), 403, "not_owner")
    left = await circle.client.delete(f"/api/circles/{circle.id}/members/me", headers=circle.people["bo"])
    assert left.status_code == 204, left.text
    assert_refused(await step(circle, "bo", item_id, "accept"), 404, "not_found")  # outside the organisation now
    assert_refused(await step(circle, "cy", item_id, "done", note=""), 403, "not_owner")  # not a steward
    closed = await step(circle, "ada", item_id, "done", note="Cy asked the baker instead.")
    assert closed.status_code == 200, closed.text
    assert closed.json()["history"][0]["by"]["name"] == "Ada"


async def test_items_wait_for_their_owner(circle: Circle, clock: MovableClock) -> None:
    _, decision = await decided(
        circle, action_items=[item(circle, "bo", "Ask the baker", "2026-12-20"), item(circle, "bo", "Sweep", None)]
    )
    baker, sweep = (i["id"] for i in decision["action_items"])

    async def waiting() -> list[tuple[str, str]]:
        response = await circle.client.get("/api/waiting", headers=circle.people["bo"])
        assert response.status_code == 200, response.text
        return [(w["title"], w["action_item_id"]) for w in response.json()["items"] if w["kind"] == "action_item"]

    assert await waiting() == [("Ask the baker", baker), ("Sweep", sweep)]  # to accept
    await step(circle, "bo", baker, "accept")
    await step(circle, "bo", sweep, "accept")
    assert await waiting() == []  # accepted, and not due within a week
    clock.move(days=20)
    assert await waiting() == [("Ask the baker", baker)]  # due within a week
    clock.move(days=8)
    assert await waiting() == [("Ask the baker", baker)]  # overdue
    overdue = (await circle.client.get(f"/api/decisions/{decision['id']}", headers=circle.people["cy"])).json()
    assert [i["overdue"] for i in overdue["action_items"]] == [True, False]


async def test_an_item_asked_of_a_deleted_account_stays_on_the_decision(circle: Circle) -> None:
    """The record stays true when the person asked deletes their account: the item, its state
    and who accepted it stay, as asked of "a former member" (docs/privacy.md)."""
    _, decision = await decided(circle, action_items=[item(circle, "bo", "Ask the baker")])
    item_id = decision["action_items"][0]["id"]
    assert (await step(circle, "bo", item_id, "accept")).status_code == 200
    erased = await circle.client.request(
        "DELETE", "/api/accounts/me", json={"password": PASSWORD}, headers=circle.people["bo"]
    )
    assert erased.status_code == 204, erased.text
    response = await circle.client.get(f"/api/decisions/{decision['id']}", headers=circle.people["ada"])
    [kept] = response.json()["action_items"]
    assert (kept["what"], kept["state"], kept["owner"]["name"]) == ("Ask the baker", "accepted", "a former member")
    assert kept["history"][0]["by"]["name"] == "a former member"
