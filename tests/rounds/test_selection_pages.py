"""The selection's pages, in-process, by form as a browser without JavaScript sends them: opened
from the circle's page (also for a term ending soon), nominations hidden from others until they
are heard, the change round, the candidate proposed, and the decision."""

from __future__ import annotations

from typing import Any

import httpx

from tests.rounds.conftest import Circle


async def form(circle: Circle, who: str, path: str, **fields: str) -> httpx.Response:
    return await circle.client.post(path, data=fields, headers=circle.people[who], follow_redirects=False)


async def page(circle: Circle, who: str, path: str) -> str:
    response = await circle.client.get(path, headers=circle.people[who])
    assert response.status_code == 200, response.text
    return response.text


async def act(circle: Circle, who: str, sid: str, type_: str, **fields: Any) -> None:
    response = await form(circle, who, f"/proposals/{sid}/actions", type=type_, client_id=f"{who}-{type_}", **fields)
    assert response.status_code in (302, 303), response.text


async def test_a_selection_opened_and_followed_by_its_pages(circle: Circle) -> None:
    ids = circle.ids
    # Di's term as treasurer ends within 30 days: the stewards are offered a selection for it
    given = await circle.client.post(
        f"/api/circles/{circle.id}/members",
        json={"email": "di@example.org", "roles": ["treasurer"], "term_ends_on": "2026-12-10"},
        headers=circle.people["ada"],
    )
    assert given.status_code == 201, given.text
    ada_sees = await page(circle, "ada", f"/circles/{circle.id}")
    assert "Terms ending soon" in ada_sees and "Open a selection for treasurer" in ada_sees
    assert "Select someone for a role" in ada_sees
    bo_sees = await page(circle, "bo", f"/circles/{circle.id}")
    assert "Select someone for a role" not in bo_sees and "Open a selection" not in bo_sees

    path = f"/circles/{circle.id}/selections"
    refused = await form(circle, "ada", path, role="treasurer", term_ends_on="2026-01-01", mode="live")
    assert refused.status_code == 422 and "The end of the term must be in the future." in refused.text
    assert 'value="treasurer"' in refused.text  # what was typed is kept
    assert (await form(circle, "bo", path, role="treasurer", term_ends_on="2027-06-30", mode="live")).status_code == 403
    opened = await form(
        circle,
        "ada",
        path,
        role="treasurer",
        description="Keeps the accounts",
        term_ends_on="2027-06-30",
        mode="async",
        closes_at="2026-11-30T09:00",
    )
    assert opened.status_code in (302, 303), opened.text
    sid = opened.headers["location"].removeprefix("/proposals/")
    assert "Start: nominations" in await page(circle, "ada", f"/proposals/{sid}")
    await act(circle, "ada", sid, "start")

    bo_sees = await page(circle, "bo", f"/proposals/{sid}")
    assert "Selecting someone as treasurer" in bo_sees and 'name="candidate_id"' in bo_sees
    await act(circle, "bo", sid, "nominate", candidate_id=ids["cy"], reason="Cy keeps good books")
    bo_sees = await page(circle, "bo", f"/proposals/{sid}")
    assert "You nominated <strong>Cy</strong>" in bo_sees and "Cy keeps good books" in bo_sees
    cy_sees = await page(circle, "cy", f"/proposals/{sid}")
    assert "1 nomination(s) so far" in cy_sees and "good books" not in cy_sees
    assert "whom and why are heard when the nominations close" in cy_sees

    await act(circle, "ada", sid, "advance")  # the facilitator closes the nominations early
    cy_sees = await page(circle, "cy", f"/proposals/{sid}")
    assert "<strong>Bo</strong> nominates <strong>Cy</strong>: Cy keeps good books" in cy_sees
    assert "Change your nomination" in cy_sees
    await act(circle, "cy", sid, "change_nomination", candidate_id=ids["cy"], reason="I would like to")
    ada_sees = await page(circle, "ada", f"/proposals/{sid}")
    assert "Propose this candidate for consent" in ada_sees
    assert f'<option value="{ids["cy"]}" selected>Cy</option>' in ada_sees  # the most nominated, offered first
    await act(circle, "ada", sid, "propose_candidate", candidate_id=ids["cy"])
    for who in ("ada", "bo", "cy", "di"):
        await act(circle, who, sid, "consent")
    decided = await page(circle, "bo", f"/proposals/{sid}")
    assert "Cy as treasurer until 2027-06-30." in decided and "Read the decision" in decided


async def test_the_facilitator_records_a_nomination_for_someone_without_a_device(circle: Circle) -> None:
    opened = await form(
        circle, "ada", f"/circles/{circle.id}/selections", role="secretary", term_ends_on="2027-06-30", mode="live"
    )
    sid = opened.headers["location"].removeprefix("/proposals/")
    await act(circle, "ada", sid, "start")
    await act(circle, "ada", sid, "present", member_id=circle.ids["cy"])  # Cy is in the room, without a phone
    ada_sees = await page(circle, "ada", f"/proposals/{sid}")
    assert "Record Cy’s response" in ada_sees and "Nominates" in ada_sees
    await act(
        circle,
        "ada",
        sid,
        "nominate",
        on_behalf_of=circle.ids["cy"],
        candidate_id=circle.ids["bo"],
        reason="Bo writes well",
    )
    [nominated] = [e for e in (await circle.get(sid))["responses"] if e["type"] == "nominated"]
    assert nominated["data"] == {
        "member": circle.ids["cy"],
        "round": 1,
        "candidate": circle.ids["bo"],
        "reason": "Bo writes well",
        "recorded_by": circle.ids["ada"],
    }
    bo_sees = await page(circle, "bo", f"/proposals/{sid}")
    assert "nominated <strong>Bo</strong>: Bo writes well" in bo_sees and "(recorded by the facilitator)" in bo_sees
