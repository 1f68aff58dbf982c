"""The meeting pages, in-process, by form as a browser without JavaScript sends them: a meeting
called from the circle's page, the forms each member is offered as it goes, a round taken by
posts that move the meeting, a refusal said as a flash, and an outsider kept out."""

from __future__ import annotations

import itertools
import re

from tests.rounds.conftest import Circle
from tests.rounds.test_selection_pages import form, page

SENT = itertools.count()


async def act(circle: Circle, who: str, mid: str, type_: str, **fields: str) -> str:
    """Posts the form and follows the redirect back: the page as it then shows."""
    client_id = f"{who}-{type_}-{next(SENT)}"  # a form of its own, as each page shown has
    response = await form(circle, who, f"/meetings/{mid}/actions", type=type_, client_id=client_id, **fields)
    assert response.status_code in (302, 303), response.text
    assert response.headers["location"].startswith(f"/meetings/{mid}")
    return await page(circle, who, f"/meetings/{mid}")


def buttons(html: str) -> list[str]:
    return re.findall(r"<button type=\"submit\"[^>]*>([^<]*)</button>", html.split('id="now-heading"')[-1])


async def call(circle: Circle, **fields: str | list[str]) -> str:
    called = await form(circle, "ada", f"/circles/{circle.id}/meetings", **fields)
    assert called.status_code in (302, 303), called.text
    return str(called.headers["location"]).rsplit("/", 1)[1]


async def test_a_meeting_called_and_run_by_forms(circle: Circle) -> None:
    proposal = await circle.propose(title="Ladder safety", mode="live")
    ada_sees = await page(circle, "ada", f"/circles/{circle.id}")
    assert "Call a meeting" in ada_sees and "Ladder safety" in ada_sees
    assert "Call a meeting" not in await page(circle, "bo", f"/circles/{circle.id}")  # stewards only
    refused = await form(circle, "ada", f"/circles/{circle.id}/meetings", starts_at="", place="Hall")
    assert refused.status_code == 422 and 'value="Hall"' in refused.text  # what was typed is kept
    assert (await form(circle, "bo", f"/circles/{circle.id}/meetings", starts_at="2026-12-01T18:00")).status_code == 403

    mid = await call(
        circle, starts_at="2026-12-01T18:00", place="Community hall", titles="Garden report", proposal_id=proposal["id"]
    )
    listed = await page(circle, "bo", f"/circles/{circle.id}")
    assert f"/meetings/{mid}" in listed and "Community hall" in listed
    shown = await page(circle, "bo", f"/meetings/{mid}")
    assert "Community hall" in shown and "Garden report" in shown
    assert f'href="/proposals/{proposal["id"]}">Open this item' in shown
    assert buttons(shown) == ["I'm here"]
    assert buttons(await page(circle, "ada", f"/meetings/{mid}")) == [
        "I'm here",
        "Start the meeting",
        "Cancel the meeting",
    ]

    await act(circle, "bo", mid, "present")
    await act(circle, "cy", mid, "present")
    started = await act(circle, "ada", mid, "start")
    assert "Opening round" in started and "It is Bo's turn." in started
    assert "Check in" not in buttons(started) and "Skip this turn" in buttons(started)
    bo_turn = await act(circle, "bo", mid, "check_in", text="Glad to be here")
    assert "Glad to be here" in bo_turn and "Check in" not in buttons(bo_turn)
    too_early = await act(circle, "di", mid, "pass")  # not present: refused, said, nothing changed
    assert "Join the meeting first" in too_early
    assert "Pass" in buttons(await page(circle, "cy", f"/meetings/{mid}"))
    passed = await act(circle, "cy", mid, "pass")
    assert "passed" in passed and "It is Ada's turn." in passed
    await act(circle, "ada", mid, "check_in", text="Ready")
    back = f'href="/meetings/{mid}">Back to the meeting</a>'
    take_part = f'href="/proposals/{proposal["id"]}">Take part in “Ladder safety”</a>'
    assert back not in await page(circle, "bo", f"/proposals/{proposal['id']}") and take_part not in passed
    first = await act(circle, "ada", mid, "advance")
    assert 'aria-current="step"' in first and "Next item" in buttons(first)
    # the item under way runs on its proposal's page: one tap there from the meeting, and back
    assert take_part in await page(circle, "bo", f"/meetings/{mid}")
    assert back in await page(circle, "bo", f"/proposals/{proposal['id']}")
    assert back in await page(circle, "bo", f"/proposals/{proposal['id']}/now")  # the live page's part
    garden = await act(circle, "ada", mid, "advance")
    assert take_part not in garden and back not in await page(circle, "bo", f"/proposals/{proposal['id']}")
    noted = await act(circle, "ada", mid, "note", text="Two more hands for the garden")
    assert "Two more hands for the garden" in noted and "Closing round" in buttons(noted)
    closing = await act(circle, "ada", mid, "advance")
    assert "It is Bo's turn." in closing
    for who in ("bo", "cy", "ada"):
        await act(circle, who, mid, "check_out", text=f"Thanks from {who}")
    assert "End the meeting" in buttons(await page(circle, "ada", f"/meetings/{mid}"))
    ended = await act(circle, "ada", mid, "advance")
    assert "The meeting has ended." in ended and "now-heading" not in ended

    main = await page(circle, "bo", f"/meetings/{mid}?part=main")  # the script's part alone
    assert "The meeting has ended." in main and "<html" not in main


async def test_an_outsider_sees_no_meeting_and_moves_none(circle: Circle) -> None:
    mid = await call(circle, starts_at="2026-12-01T18:00")
    assert (await circle.client.get(f"/meetings/{mid}", headers=circle.people["zed"])).status_code == 404
    posted = await form(circle, "zed", f"/meetings/{mid}/actions", type="present", client_id="zed-present")
    assert posted.status_code == 404
    assert (
        await form(circle, "zed", f"/circles/{circle.id}/meetings", starts_at="2026-12-01T18:00")
    ).status_code == 404
