"""A meeting's minutes, as a page and as Markdown: who was there and who was not, the rounds
as they were said (and who recorded a turn for someone), each item's outcome with its decision
and action items, the notes; nothing said that nobody said; and nothing for someone who may
not see the circle."""

from __future__ import annotations

import asyncio

from tests.consent.decisions.conftest import decide, reviewed
from tests.rounds.conftest import Circle
from tests.rounds.test_meetings_api import ok


async def test_the_minutes_say_what_happened_and_only_that(circle: Circle) -> None:
    item = {"what": "Buy a ladder", "owner_id": circle.ids["bo"], "due_on": "2026-12-10"}
    proposal = await circle.propose(title="Ladder safety", mode="live", action_items=[item])
    body = {
        "starts_at": "2026-11-24T18:00:00+00:00",
        "place": "Community hall",
        "agenda": [{"proposal_id": proposal["id"]}, {"title": "Garden report"}, {"title": "Never reached"}],
    }
    created = await circle.client.post(f"/api/circles/{circle.id}/meetings", json=body, headers=circle.people["ada"])
    mid = created.json()["id"]
    for name in ("bo", "cy"):
        await ok(circle, mid, name, "present")
    await ok(circle, mid, "ada", "start")
    await ok(circle, mid, "bo", "check_in", text="Glad to be here")
    await ok(circle, mid, "cy", "pass")
    await ok(circle, mid, "ada", "check_in", text="Ready")
    await ok(circle, mid, "ada", "advance")
    for _ in range(50):
        state = await circle.get(proposal["id"])
        if len(state["participants"]) == 3:
            break
        await asyncio.sleep(0.05)
    await circle.ok(proposal["id"], "ada", "advance")
    await circle.ok(proposal["id"], "ada", "advance")
    for name in ("bo", "cy", "ada"):
        await circle.ok(proposal["id"], name, "consent")
    await circle.ok(proposal["id"], "ada", "advance")  # the facilitator closes the round
    decision_id = (await circle.get(proposal["id"]))["decision_id"]
    await ok(circle, mid, "ada", "advance")
    await ok(circle, mid, "ada", "note", text="The garden needs two more hands")
    await ok(circle, mid, "ada", "advance")
    await ok(circle, mid, "ada", "advance")  # the third item is passed over without a word
    await ok(circle, mid, "bo", "check_out", text="Good meeting")
    await ok(circle, mid, "ada", "check_out", text="Tired but happy", on_behalf_of=circle.ids["cy"])
    await ok(circle, mid, "ada", "pass")
    await ok(circle, mid, "ada", "advance")

    response = await circle.client.get(f"/meetings/{mid}/minutes.md", headers=circle.people["di"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    md = response.text
    assert "# Meeting of Riverside" in md and "Community hall" in md
    present = md.split("## Present")[1].split("## Absent")[0]
    assert [line for line in present.splitlines() if line.startswith("- ")] == ["- Bo", "- Cy", "- Ada"]
    assert "- Di" in md.split("## Absent")[1].split("##")[0]
    opening = md.split("## Opening round")[1].split("## Agenda")[0]
    assert "- Bo: Glad to be here" in opening and "- Cy: passed" in opening and "- Ada: Ready" in opening
    assert f"/decisions/{decision_id}" in md and "(3 of 4 responded)" in md
    assert "- Buy a ladder (Bo, by Dec 10, 2026)" in md
    assert "> The garden needs two more hands" in md.split("### 2. Garden report")[1].split("### 3.")[0]
    assert "Not taken up." not in md.split("### 3. Never reached")[0]
    closing = md.split("## Closing round")[1]
    assert "- Bo: Good meeting" in closing and "- Ada: passed" in closing
    assert "- Cy: Tired but happy (recorded by Ada)" in closing
    # Nobody is written as having said something they did not: Di said nothing, Cy only passed at the opening.
    assert "Di:" not in md and opening.count("Cy:") == 1

    page = await circle.client.get(f"/meetings/{mid}/minutes", headers=circle.people["cy"])
    assert page.status_code == 200, page.text
    assert "Tired but happy" in page.text and f'href="/decisions/{decision_id}"' in page.text

    for path in (f"/meetings/{mid}/minutes", f"/meetings/{mid}/minutes.md"):
        assert (await circle.client.get(path, headers=circle.people["zed"])).status_code == 404


async def test_an_item_not_taken_up_says_so(circle: Circle) -> None:
    body = {"starts_at": "2026-11-24T18:00:00+00:00", "agenda": [{"title": "Budget"}]}
    created = await circle.client.post(f"/api/circles/{circle.id}/meetings", json=body, headers=circle.people["ada"])
    mid = created.json()["id"]
    await ok(circle, mid, "ada", "cancel", reason="Snow")
    md = (await circle.client.get(f"/meetings/{mid}/minutes.md", headers=circle.people["bo"])).text
    assert "Cancelled. Snow" in md and "Not taken up." in md and "Nobody took a turn." in md


async def test_a_review_item_gives_the_decision_and_the_review_opened_at_the_meeting(circle: Circle) -> None:
    decision = await decide(circle, "Compost rota")
    body = {"starts_at": "2026-11-24T18:00:00+00:00", "agenda": [{"decision_id": decision["id"]}]}
    created = await circle.client.post(f"/api/circles/{circle.id}/meetings", json=body, headers=circle.people["ada"])
    mid = created.json()["id"]
    await ok(circle, mid, "ada", "start")
    await ok(circle, mid, "ada", "advance")
    await reviewed(circle, decision["id"], outcome="reaffirm")
    md = (await circle.client.get(f"/meetings/{mid}/minutes.md", headers=circle.people["bo"])).text
    item = md.split("### 1. Compost rota")[1].split("## Closing round")[0]
    assert f"Review of: [Compost rota](http://127.0.0.1/decisions/{decision['id']})" in item
    assert "A review to reaffirm it: consented." in item and "Not decided" not in item
