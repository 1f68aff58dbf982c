"""`GET /api/waiting`: what waits for my response, through the real app on a real database, and
the header's count that says how many, on every page, in two queries."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from consent.base import db
from consent.base.clock import today
from consent.home import waiting_count
from tests.helpers import add_domain, add_member, assert_refused, create_circle, proposal_body
from tests.rounds.conftest import Circle, MovableClock


async def waiting(circle: Circle, who: str) -> list[dict[str, Any]]:
    response = await circle.client.get("/api/waiting", headers=circle.people[who])
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def kinds(circle: Circle, proposal_id: str) -> dict[str, str]:
    """Who the proposal waits for, and why."""
    found = {}
    for name in ("ada", "bo", "cy", "di", "zed"):
        for item in await waiting(circle, name):
            if item["proposal_id"] == proposal_id:
                found[name] = item["kind"]
    return found


async def test_an_async_proposal_waits_for_who_has_not_responded_then_for_the_objector(circle: Circle) -> None:
    proposal_id = (await circle.propose(title="Share on Saturdays"))["id"]
    assert await kinds(circle, proposal_id) == {}  # a draft waits for no one

    await circle.ok(proposal_id, "ada", "start")  # the author answers clarifying questions, asks none
    assert await kinds(circle, proposal_id) == {"bo": "respond", "cy": "respond", "di": "respond"}
    [item] = await waiting(circle, "bo")
    assert item == {
        "kind": "respond",
        "title": "Share on Saturdays",
        "circle": {"id": circle.id, "name": "Riverside"},
        "url": f"/proposals/{proposal_id}",
        "proposal_id": proposal_id,
        "decision_id": None,
        "invitation_id": None,
        "closes_at": "2026-11-30T09:00:00Z",
        "review_by": None,
        "action_item_id": None,
        "due_on": None,
    }
    await circle.ok(proposal_id, "bo", "question", text="Who has a car?")
    await circle.ok(proposal_id, "cy", "pass")
    assert await kinds(circle, proposal_id) == {"di": "respond"}

    await circle.ok(proposal_id, "ada", "advance")
    await circle.ok(proposal_id, "ada", "advance")
    assert await kinds(circle, proposal_id) == dict.fromkeys(("ada", "bo", "cy", "di"), "respond")
    await circle.ok(proposal_id, "bo", "object", text="Saturdays clash with the market")
    for name in ("ada", "cy", "di"):
        await circle.ok(proposal_id, name, "consent")
    assert await kinds(circle, proposal_id) == {}
    await circle.ok(proposal_id, "ada", "advance")
    assert await kinds(circle, proposal_id) == {"bo": "your_objection"}  # only the objector's, while integrated

    await circle.ok(proposal_id, "ada", "amend", text="We share on Sundays.", closes_at="2026-12-04T09:00:00Z")
    again = await kinds(circle, proposal_id)
    assert again == dict.fromkeys(("ada", "bo", "cy", "di"), "consent_again")
    assert [i["closes_at"] for i in await waiting(circle, "cy")] == ["2026-12-04T09:00:00Z"]


async def test_a_live_round_waits_for_whose_turn_it_is(circle: Circle) -> None:
    proposal_id = (await circle.propose(mode="live", closes_at=None))["id"]
    for name in ("ada", "bo", "cy"):
        await circle.ok(proposal_id, name, "present")
    await circle.ok(proposal_id, "ada", "start")
    assert await kinds(circle, proposal_id) == {"bo": "your_turn"}
    await circle.ok(proposal_id, "bo", "pass")
    assert await kinds(circle, proposal_id) == {"cy": "your_turn"}
    [item] = await waiting(circle, "cy")
    assert item["closes_at"] is None


async def test_reviews_due_and_invitations_wait_too(circle: Circle) -> None:
    proposal_id = (await circle.propose(title="Tool library", review_by="2026-12-10"))["id"]
    for step in ("start", "advance", "advance"):
        await circle.ok(proposal_id, "ada", step)
    for name in ("ada", "bo", "cy", "di"):  # the last consent decides it
        await circle.ok(proposal_id, name, "consent")
    decision_id = (await circle.get(proposal_id))["decision_id"]
    [review] = await waiting(circle, "di")
    assert (review["kind"], review["title"], review["url"]) == ("review", "Tool library", f"/decisions/{decision_id}")
    assert (review["decision_id"], review["review_by"], review["proposal_id"]) == (decision_id, "2026-12-10", None)

    invited = await circle.client.post(
        f"/api/circles/{circle.id}/members", json={"email": "zed@example.org"}, headers=circle.people["ada"]
    )
    assert invited.status_code == 202, invited.text
    [invitation] = await waiting(circle, "zed")  # not a member: the circle's review is not theirs
    assert (invitation["kind"], invitation["title"], invitation["url"]) == ("invitation", "Riverside", "/invitations")
    assert invitation["invitation_id"] == invited.json()["invitation"]["id"]


async def test_a_private_circles_proposals_wait_only_for_its_members(circle: Circle) -> None:
    ada = circle.people["ada"]
    care = await create_circle(circle.client, ada, "Care team", parent_id=circle.id)
    await add_member(circle.client, ada, care["id"], "ada", ["leader"])  # Riverside's facilitator chooses it
    patched = await circle.client.patch(f"/api/circles/{care['id']}", json={"private": True}, headers=ada)
    assert patched.status_code == 200, patched.text
    await add_member(circle.client, ada, care["id"], "bo")
    domain = await add_domain(circle.client, ada, care["id"], "Visits")
    body = proposal_body(domain["id"], "2026-11-30T09:00:00Z", title="Visit rota")
    created = await circle.client.post(f"/api/circles/{care['id']}/proposals", json=body, headers=ada)
    assert created.status_code == 201, created.text
    proposal_id = created.json()["id"]
    for step in ("start", "advance"):
        await circle.ok(proposal_id, "ada", step)
    # Cy and Di are in Riverside, its organisation, but not in the private circle.
    assert await kinds(circle, proposal_id) == {"ada": "respond", "bo": "respond"}


async def test_nothing_waits_for_an_outsider_and_the_call_needs_an_account(circle: Circle) -> None:
    await circle.ok((await circle.propose())["id"], "ada", "start")
    assert await waiting(circle, "zed") == []
    assert_refused(await circle.client.get("/api/waiting"), 401, "not_signed_in")


async def test_the_header_count_is_two_queries_however_many_proposals(circle: Circle, clock: MovableClock) -> None:
    for _ in range(3):
        await circle.ok((await circle.propose())["id"], "ada", "start")
    engine = db.create_engine(circle.settings.database_url)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):  # not the transaction's BEGIN
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    async with AsyncSession(engine) as session:
        assert await waiting_count(session, uuid.UUID(circle.ids["bo"]), today(clock)) == 3
    await engine.dispose()
    assert len(statements) == 2, statements
