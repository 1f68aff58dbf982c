"""Meetings through the API on a real database: a steward calls one with its agenda, the
facilitator runs it (opening round, items, closing round), presence carries into the agenda's
proposals, and what is refused changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.helpers import assert_refused
from tests.rounds.conftest import Circle, MovableClock
from tests.rounds.test_faithful_record import deadline_passes
from tests.rounds.test_selection_api import open_selection


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


async def call(circle: Circle, who: str = "ada", **fields: Any) -> Any:
    body = {"starts_at": "2026-11-24T18:00:00+00:00", **fields}
    return await circle.client.post(f"/api/circles/{circle.id}/meetings", json=body, headers=circle.people[who])


async def test_an_async_proposal_taken_to_the_next_meeting_joins_its_agenda_and_a_review_due_too(
    circle: Circle, clock: MovableClock
) -> None:
    decided = (await circle.propose(title="Key box", review_by="2026-12-05"))["id"]
    for step in ("start", "advance", "advance"):
        await circle.ok(decided, "ada", step)
    for name in ("ada", "bo", "cy", "di"):
        await circle.ok(decided, name, "consent")
    decision_id = (await circle.get(decided))["decision_id"]
    carried = (await circle.propose(title="Compost rota"))["id"]
    for step in ("start", "advance", "advance"):
        await circle.ok(carried, "ada", step)
    await circle.ok(carried, "ada", "consent")
    await deadline_passes(circle, clock)  # silence is not consent: taken into the next meeting
    assert (await circle.get(carried))["mode"] == "live"

    first = await call(circle, starts_at="2026-12-10T18:00:00+00:00", agenda=[{"title": "Garden report"}])
    assert first.status_code == 201, first.text
    agenda = first.json()["agenda"]
    assert [(i["kind"], i["title"]) for i in agenda] == [
        ("free", "Garden report"),
        ("proposal", "Compost rota"),
        ("review", "Key box"),
    ]
    assert agenda[2]["decision_id"] == decision_id
    second = (await call(circle, starts_at="2026-12-17T18:00:00+00:00")).json()
    assert second["agenda"] == []  # on the first meeting's agenda already
    later = "2026-12-24T18:00:00+00:00"
    assert_refused(
        await call(circle, starts_at=later, agenda=[{"proposal_id": carried}]), 409, "already_on_agenda", "agenda"
    )


@pytest.mark.parametrize(
    ("fields", "status", "code", "field"),
    [
        ({"starts_at": "2026-11-24T18:00:00"}, 400, "invalid", "starts_at"),  # no offset: whose 18:00?
        ({"starts_at": "2031-01-01T18:00:00+00:00"}, 422, "invalid", "starts_at"),
        ({"agenda": [{"title": "  "}]}, 422, "invalid", "agenda"),
        (
            {"agenda": [{"title": "Both", "decision_id": "00000000-0000-0000-0000-000000000000"}]},
            422,
            "invalid",
            "agenda",
        ),
        ({"agenda": [{"proposal_id": "00000000-0000-0000-0000-000000000000"}]}, 422, "invalid", "agenda"),
        ({"minutes_long": 2}, 400, "invalid", "minutes_long"),
        ({"agenda": [{"title": "x", "colour": "red"}]}, 400, "invalid", None),
    ],
)
async def test_a_meeting_called_with_bad_input_is_refused_and_nothing_is_called(
    circle: Circle, fields: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    assert_refused(await call(circle, **fields), status, code, field=field)
    listed = await circle.client.get(f"/api/circles/{circle.id}/meetings", headers=circle.people["bo"])
    assert listed.status_code == 200 and listed.json()["items"] == []


async def test_only_a_steward_calls_a_meeting_and_only_the_facilitator_runs_it(circle: Circle) -> None:
    assert_refused(await call(circle, "bo"), 403, "not_allowed")
    meeting_id = (await call(circle)).json()["id"]
    assert_refused(await meeting_act(circle, meeting_id, "bo", "start"), 403, "not_facilitator")
    assert_refused(await meeting_act(circle, meeting_id, "bo", "check_in", text="Hi"), 409, "wrong_phase")
    assert_refused(await meeting_act(circle, meeting_id, "bo", "dance"), 422, "unknown_action", field="type")
    await ok(circle, meeting_id, "ada", "start")
    assert_refused(await meeting_act(circle, meeting_id, "ada", "check_in", text=""), 422, "invalid", field="text")
    state = (await circle.client.get(f"/api/meetings/{meeting_id}", headers=circle.people["ada"])).json()
    assert state["spoken"] == {} and state["seq"] == 3  # scheduled, present, started: the refusals wrote nothing


async def test_a_retried_action_is_answered_once_and_a_client_id_is_its_senders(circle: Circle) -> None:
    meeting_id = (await call(circle)).json()["id"]
    url = f"/api/meetings/{meeting_id}/actions"
    body = {"type": "present", "client_id": "bo-here"}
    first = await circle.client.post(url, json=body, headers=circle.people["bo"])
    again = await circle.client.post(url, json=body, headers=circle.people["bo"])
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert_refused(
        await circle.client.post(url, json=body, headers=circle.people["cy"]), 409, "client_id_taken", field="client_id"
    )
    state = (await circle.client.get(f"/api/meetings/{meeting_id}", headers=circle.people["ada"])).json()
    assert [p["id"] for p in state["present"]] == [circle.ids["bo"]]


async def test_members_arriving_at_once_are_all_present_in_the_order_the_writer_took_them(circle: Circle) -> None:
    meeting_id = (await call(circle)).json()["id"]
    answers = await asyncio.gather(*(meeting_act(circle, meeting_id, n, "present") for n in ("ada", "bo", "cy", "di")))
    assert all(a.status_code == 200 for a in answers)
    events = (await circle.client.get(f"/api/meetings/{meeting_id}/events", headers=circle.people["ada"])).json()
    arrived = [e["data"]["member"] for e in events["items"] if e["type"] == "present"]
    state = (await circle.client.get(f"/api/meetings/{meeting_id}", headers=circle.people["ada"])).json()
    assert sorted(arrived) == sorted(circle.ids[n] for n in ("ada", "bo", "cy", "di"))
    assert [p["id"] for p in state["present"]] == arrived  # the rounds go in the order they came


async def test_someone_who_leaves_the_circle_during_a_round_is_no_longer_waited_for(circle: Circle) -> None:
    meeting_id = (await call(circle)).json()["id"]
    for name in ("bo", "cy"):
        await ok(circle, meeting_id, name, "present")
    await ok(circle, meeting_id, "ada", "start")
    left = await circle.client.delete(f"/api/circles/{circle.id}/members/me", headers=circle.people["bo"])
    assert left.status_code == 204, left.text
    state = (await circle.client.get(f"/api/meetings/{meeting_id}", headers=circle.people["ada"])).json()
    assert state["whose_turn"] == circle.ids["cy"] and circle.ids["bo"] not in [p["id"] for p in state["present"]]
    await ok(circle, meeting_id, "cy", "check_in", text="Here")


async def test_whoever_started_a_meeting_runs_it_to_its_end_though_another_facilitator_is_selected(
    circle: Circle,
) -> None:
    body = {"starts_at": "2026-11-24T18:00:00+00:00", "agenda": [{"title": "Garden report"}]}
    created = await circle.client.post(f"/api/circles/{circle.id}/meetings", json=body, headers=circle.people["ada"])
    mid = created.json()["id"]
    await ok(circle, mid, "ada", "start")
    # in the meeting, Cy is selected facilitator: Ada's term ends
    sid = (await open_selection(circle, role="facilitator", mode="live", closes_at=None)).json()["id"]
    await circle.ok(sid, "ada", "start")
    for who in ("bo", "cy", "di"):
        await circle.ok(sid, who, "present")
    await circle.ok(sid, "bo", "nominate", candidate_id=circle.ids["cy"], reason="calm")
    for who in ("cy", "di"):
        await circle.ok(sid, who, "pass")
    await circle.ok(sid, "ada", "advance")
    for who in ("bo", "cy", "di"):
        await circle.ok(sid, who, "pass")
    await circle.ok(sid, "ada", "propose_candidate", candidate_id=circle.ids["cy"])
    for who in ("bo", "cy", "di"):
        await circle.ok(sid, who, "consent")
    await circle.ok(sid, "ada", "advance")
    assert (await circle.get(sid))["state"] == "decided"
    # Ada goes on running the meeting she started; Cy, the circle's facilitator now, may too
    await ok(circle, mid, "ada", "advance")
    assert_refused(await meeting_act(circle, mid, "bo", "advance"), 403, "not_facilitator")
    await ok(circle, mid, "cy", "advance")
    assert (await circle.client.get(f"/api/meetings/{mid}", headers=circle.people["bo"])).json()["state"] == "closing"
