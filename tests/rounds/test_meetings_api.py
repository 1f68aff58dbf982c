"""Meetings through the API on a real database: a steward calls one with its agenda, the
facilitator runs it (opening round, items, closing round), presence carries into the agenda's
proposals, and what is refused changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.helpers import assert_refused
from tests.rounds.conftest import Circle


async def meeting_act(circle: Circle, meeting_id: str, who: str, type_: str, **data: Any) -> Any:
    body = {"type": type_, "client_id": f"{who}-{type_}-{asyncio.get_running_loop().time()}", **data}
    return await circle.client.post(f"/api/meetings/{meeting_id}/actions", json=body, headers=circle.people[who])


async def ok(circle: Circle, meeting_id: str, who: str, type_: str, **data: Any) -> dict[str, Any]:
    response = await meeting_act(circle, meeting_id, who, type_, **data)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_meeting_with_a_check_in_round_a_proposal_and_a_closing_round(circle: Circle) -> None:
    proposal = await circle.propose(title="Ladder safety", mode="live")
    body = {
        "starts_at": "2026-11-24T18:00:00+00:00",
        "place": "Community hall",
        "agenda": [{"proposal_id": proposal["id"]}, {"title": "Garden report"}],
    }
    created = await circle.client.post(f"/api/circles/{circle.id}/meetings", json=body, headers=circle.people["ada"])
    assert created.status_code == 201, created.text
    meeting = created.json()
    assert meeting["state"] == "scheduled" and [i["title"] for i in meeting["agenda"]] == [
        "Ladder safety",
        "Garden report",
    ]
    mid = meeting["id"]
    for name in ("bo", "cy"):
        await ok(circle, mid, name, "present")
    await ok(circle, mid, "ada", "start")
    read = (await circle.client.get(f"/api/meetings/{mid}", headers=circle.people["bo"])).json()
    assert read["state"] == "opening" and read["whose_turn"] == circle.ids["bo"]
    assert_refused(await meeting_act(circle, mid, "cy", "check_in", text="Tired"), 409, "not_your_turn")
    await ok(circle, mid, "bo", "check_in", text="Glad to be here")
    await ok(circle, mid, "cy", "pass")
    await ok(circle, mid, "ada", "check_in", text="Ready")
    await ok(circle, mid, "ada", "advance")  # the proposal, live, with everyone present
    for _ in range(50):
        state = await circle.get(proposal["id"])
        if len(state["participants"]) == 3:
            break
        await asyncio.sleep(0.05)
    assert state["state"] == "clarifying" and state["mode"] == "live"
    assert [p["id"] for p in state["participants"]] == [circle.ids[n] for n in ("bo", "cy", "ada")]
    await ok(circle, mid, "ada", "advance")
    await ok(circle, mid, "ada", "note", text="The garden needs two more hands")
    await ok(circle, mid, "ada", "advance")
    closing = (await circle.client.get(f"/api/meetings/{mid}", headers=circle.people["ada"])).json()
    assert closing["state"] == "closing" and closing["whose_turn"] == circle.ids["bo"]
    events = (await circle.client.get(f"/api/meetings/{mid}/events?since=0", headers=circle.people["di"])).json()
    assert [e["seq"] for e in events["items"]] == list(range(1, len(events["items"]) + 1))
    assert_refused(await meeting_act(circle, mid, "zed", "present"), 404, "not_found")
