"""Action items on the pages, without JavaScript: asked in the new proposal's form and the
amendment's (three rows, and "Add another item"), answered on the decision's page by the person
asked, listed on the circle's page (overdue first), on the home page and on a review's page."""

from __future__ import annotations

import re
from typing import Any

from tests.rounds.conftest import Circle, MovableClock
from tests.rounds.test_action_items_api import decided, item


def rows(html: str) -> int:
    return len(re.findall(r'name="item_what"', html))


def form(circle: Circle, **fields: Any) -> dict[str, Any]:
    return {
        "title": "Weekly food runs",
        "driver": "Food goes to waste.",
        "text": "We collect on Fridays.",
        "domain_id": circle.domain_id,
        "mode": "live",
        **fields,
    }


async def test_the_new_proposal_form_asks_items_row_by_row(circle: Circle) -> None:
    ada, path = circle.people["ada"], f"/circles/{circle.id}/proposals"
    page = await circle.client.get(f"{path}/new", headers=ada)
    assert rows(page.text) == 3 and f'<option value="{circle.ids["cy"]}">Cy</option>' in page.text
    more = await circle.client.post(
        path,
        data=form(circle, item_what=["Ask the baker", "", ""], item_owner=[circle.ids["bo"], "", ""], more="1"),
        headers=ada,
    )
    assert more.status_code == 200 and rows(more.text) == 4  # the three rows as they were, and one more
    again = await circle.client.post(
        path, data=form(circle, item_what=["Ask the baker", "Crates", "Sweep"], more="1"), headers=ada
    )
    assert rows(again.text) == 4 and 'value="Crates"' in again.text
    nobody = await circle.client.post(path, data=form(circle, item_what="Ask the baker"), headers=ada)
    assert nobody.status_code == 422 and "choose the member asked" in nobody.text
    assert 'value="Ask the baker"' in nobody.text  # kept as typed
    made = await circle.client.post(
        path,
        data=form(
            circle,
            item_what=["Ask the baker", "", ""],
            item_owner=[circle.ids["bo"], "", ""],
            item_due=["2026-12-10", "", ""],
        ),
        headers=ada,
        follow_redirects=False,
    )
    assert made.status_code == 302, made.text
    proposal = await circle.get(made.headers["location"].rsplit("/", 1)[1])
    assert [(i["what"], i["owner"]["name"], i["due_on"]) for i in proposal["action_items"]] == [
        ("Ask the baker", "Bo", "2026-12-10")
    ]
    shown = await circle.client.get(f"/proposals/{proposal['id']}", headers=circle.people["bo"])
    assert "Action items" in shown.text and "Ask the baker" in shown.text


async def test_the_amendment_form_changes_the_items(circle: Circle) -> None:
    proposal_id = (await circle.propose(action_items=[item(circle, "bo", "Ask the baker")]))["id"]
    page = await circle.client.get(f"/proposals/{proposal_id}", headers=circle.people["ada"])
    assert rows(page.text) == 3 and 'value="Ask the baker"' in page.text  # the item, then two empty rows
    amend = {"type": "amend", "client_id": "amend-1", "text": "We collect on Fridays, with crates.", "items": "1"}
    sent = await circle.client.post(
        f"/proposals/{proposal_id}/actions",
        data={**amend, "item_what": ["Find crates", ""], "item_owner": [circle.ids["cy"], ""], "item_due": ["", ""]},
        headers=circle.people["ada"],
        follow_redirects=False,
    )
    assert sent.status_code == 302, sent.text
    assert [i["what"] for i in (await circle.get(proposal_id))["action_items"]] == ["Find crates"]


async def test_the_person_asked_answers_on_the_decisions_page(circle: Circle) -> None:
    _, decision = await decided(circle, action_items=[item(circle, "bo", "Ask the baker")])
    item_id, path = decision["action_items"][0]["id"], f"/decisions/{decision['id']}"
    bo = circle.people["bo"]
    mine = await circle.client.get(path, headers=bo)
    assert f'action="/action-items/{item_id}/accept"' in mine.text
    others = await circle.client.get(path, headers=circle.people["cy"])
    assert "Ask the baker" in others.text and "/action-items/" not in others.text
    refused = await circle.client.post(f"/action-items/{item_id}/accept", headers=circle.people["cy"])
    assert refused.status_code == 403 and "Only the person asked" in refused.text
    accepted = await circle.client.post(f"/action-items/{item_id}/accept", headers=bo, follow_redirects=False)
    assert accepted.status_code == 302 and accepted.headers["location"] == f"{path}#item-{item_id}"
    done = await circle.client.post(
        f"/action-items/{item_id}/done", data={"note": "Fridays' bread is ours."}, headers=bo, follow_redirects=False
    )
    assert done.status_code == 302, done.text
    page = await circle.client.get(path, headers=bo)
    assert "Fridays&#39; bread is ours." in page.text and "Accepted by Bo" in page.text


async def test_the_circle_home_and_review_pages_list_items(circle: Circle, clock: MovableClock) -> None:
    _, decision = await decided(
        circle,
        action_items=[item(circle, "bo", "Sweep", "2026-12-20"), item(circle, "bo", "Ask the baker", "2026-12-01")],
    )
    clock.move(days=10)  # 2026-12-03: the baker is overdue
    circle_page = await circle.client.get(f"/circles/{circle.id}", headers=circle.people["cy"])
    section = circle_page.text[circle_page.text.index("<h2>Action items</h2>") :]
    assert "1 overdue" in section and section.index("Ask the baker") < section.index("Sweep")
    home = await circle.client.get("/", headers=circle.people["bo"])
    assert "2 action items</a> asked of you" in home.text and "Asked of you" in home.text
    opened = await circle.client.post(
        f"/api/decisions/{decision['id']}/reviews", json={"outcome": "reaffirm"}, headers=circle.people["cy"]
    )
    assert opened.status_code == 201, opened.text
    review = await circle.client.get(f"/proposals/{opened.json()['proposal_id']}", headers=circle.people["di"])
    assert "What the decision asked, and how it went" in review.text and "Ask the baker" in review.text
