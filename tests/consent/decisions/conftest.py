"""Decisions made through the proposal API, for the decision log's tests: the `circle` of the
proposal tests (Ada facilitating Bo, Cy and Di in Riverside, domain Food; Zed outside) and a
movable clock."""

from __future__ import annotations

from typing import Any

from tests.rounds.conftest import Circle, circle, clock  # noqa: F401  (fixtures)

MEMBERS = ("ada", "bo", "cy", "di")


async def decide(
    circle: Circle,  # noqa: F811  (the fixture's value, passed on)
    title: str = "Weekly food runs",
    *,
    objection: str | None = None,
    concern: str | None = None,
    members: tuple[str, ...] = MEMBERS,
    circle_id: str | None = None,
    amended: str = "We collect on Fridays and share on Sundays.",
    **fields: Any,
) -> dict[str, Any]:
    """Takes a proposal through the whole async process to a decision and returns the decision
    as GET /api/decisions/{id} gives it. With `objection`, Bo objects and Ada integrates the
    objection by amending; with `concern`, Cy consents with that concern."""
    home = Circle(
        client=circle.client,
        settings=circle.settings,
        id=circle_id or circle.id,
        domain_id=fields.pop("domain_id", circle.domain_id),
        people=circle.people,
        ids=circle.ids,
    )
    proposal = await home.propose(title=title, **fields)
    for step in ("start", "advance", "advance"):
        await home.ok(proposal["id"], "ada", step)
    if objection:
        await home.ok(proposal["id"], "bo", "object", text=objection)
        for who in members:
            if who != "bo":
                await home.ok(proposal["id"], who, "consent")
        await home.ok(proposal["id"], "ada", "advance")
        await home.ok(proposal["id"], "ada", "amend", text=amended)
    for who in members:
        if concern and who == "cy":
            await home.ok(proposal["id"], who, "concern", text=concern)
        else:
            await home.ok(proposal["id"], who, "consent")
    assert (await home.get(proposal["id"]))["state"] == "decided"
    found = await circle.client.get(
        "/api/decisions", params={"limit": 100, "circle_id": home.id}, headers=circle.people["ada"]
    )
    decision_id = next(d["id"] for d in found.json()["items"] if d["proposal_id"] == proposal["id"])
    read = await circle.client.get(f"/api/decisions/{decision_id}", headers=circle.people["ada"])
    assert read.status_code == 200, read.text
    return read.json()


DEADLINE = "2026-11-30T09:00:00Z"  # a week after the movable clock's start


async def open_review(
    circle: Circle,  # noqa: F811  (the fixture's value, passed on)
    decision_id: str,
    who: str = "ada",
    **body: Any,
) -> dict[str, Any]:
    """`who` opens a review of the decision, async until DEADLINE unless `body` says otherwise;
    returns the answer, {review_id, proposal_id}."""
    response = await circle.client.post(
        f"/api/decisions/{decision_id}/reviews",
        json={"mode": "async", "closes_at": DEADLINE, **body},
        headers=circle.people[who],
    )
    assert response.status_code == 201, response.text
    return response.json()


async def to_consent_round(circle: Circle, proposal_id: str) -> None:  # noqa: F811
    """Ada, the facilitator, starts the review and skips to the consent round."""
    await circle.ok(proposal_id, "ada", "start")
    await circle.ok(proposal_id, "ada", "advance", to="consenting")


async def reviewed(
    circle: Circle,  # noqa: F811
    decision_id: str,
    *,
    members: tuple[str, ...] = MEMBERS,
    **body: Any,
) -> dict[str, Any]:
    """A review opened by Ada and consented to by `members`; returns the decision as
    GET /api/decisions/{id} gives it afterwards."""
    opened = await open_review(circle, decision_id, **body)
    await to_consent_round(circle, opened["proposal_id"])
    for who in members:
        await circle.ok(opened["proposal_id"], who, "consent")
    assert (await circle.get(opened["proposal_id"]))["state"] == "decided"
    read = await circle.client.get(f"/api/decisions/{decision_id}", headers=circle.people["ada"])
    assert read.status_code == 200, read.text
    return read.json()
