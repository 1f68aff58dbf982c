"""Private circles: someone of the same organisation who is not a member of a private circle
sees neither its proposals nor its decisions anywhere. They walk every page and API that the
app's route table lists, with the private circle's ids where a route takes one, and the
private titles' unique word appears in no answer, nor do the counts change."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from litestar import Litestar
from litestar.routes import HTTPRoute

from tests.helpers import Headers, add_domain, add_member, create_circle, proposal_body, riverside, signed_in

WORD = "Zanzibarquill"  # in the private titles only
SKIPPED = ("/static/", "/schema", "/favicon.ico", "/unsubscribe/", "/invitations/{token")


async def act(client: httpx.AsyncClient, who: Headers, proposal_id: str, type_: str) -> None:
    body = {"type": type_, "client_id": uuid.uuid4().hex}
    response = await client.post(f"/api/proposals/{proposal_id}/actions", json=body, headers=who)
    assert response.status_code == 200, response.text


async def walk(client: httpx.AsyncClient, app: Litestar, who: Headers, values: dict[str, list[str]]) -> dict[str, str]:
    """Every GET route, with each of `values` for its path parameters: the answers by URL."""
    answers = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or "GET" not in route.methods or route.path.startswith(SKIPPED):
            continue
        names = re.findall(r"\{(\w+)(?::\w+)?\}", route.path)
        targets = [route.path]
        for name in names:
            targets = [re.sub(r"\{" + name + r"(?::\w+)?\}", v, t) for t in targets for v in values[name]]
        for target in targets:
            for query in ("", f"?q={WORD}", f"?circle_id={values['circle_id'][-1]}"):
                text = (await client.get(target + query, headers=who)).text
                # the search form and its export links say again what was searched for
                answers[target + query] = text.replace(f'value="{WORD}"', "").replace(f"q={WORD}", "")
    return answers


async def test_an_outsider_of_a_private_circle_sees_nothing_of_it(client: httpx.AsyncClient) -> None:
    app: Litestar = client.app  # type: ignore[attr-defined]
    people = {name: (await signed_in(client, name))[0] for name in ("ada", "bo", "cy")}
    ada = people["ada"]
    riverside_id, _ = await riverside(client, ada, ("bo", "cy"))
    kitchen = await create_circle(client, ada, "Kitchen", parent_id=riverside_id)
    for role in ("leader", "facilitator"):
        await add_member(client, ada, kitchen["id"], "ada", [role])
    await add_member(client, ada, kitchen["id"], "bo")
    pantry = await add_domain(client, ada, kitchen["id"], "Pantry")
    changed = await client.patch(f"/api/circles/{kitchen['id']}", json={"private": True}, headers=ada)
    assert changed.status_code == 200, changed.text
    feed = await client.post("/api/decisions/feed", headers=people["cy"])
    assert feed.status_code == 201, feed.text
    cy = people["cy"]
    counts = ["/", "/api/waiting", f"/circles/{riverside_id}/chart", f"/api/circles/{riverside_id}", "/decisions.csv"]
    before = {page: (await client.get(page, headers=cy)).text for page in counts}

    deadline = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    made = []
    for title in (f"{WORD} plan", f"{WORD} rota"):
        body = proposal_body(pantry["id"], deadline, title=title)
        response = await client.post(f"/api/circles/{kitchen['id']}/proposals", json=body, headers=ada)
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
    for step in ("start", "advance", "advance"):
        await act(client, ada, made[1], step)
    for who in ("ada", "bo"):
        await act(client, people[who], made[1], "consent")
    await act(client, ada, made[0], "start")
    # A meeting of the kitchen, with the word where it is and on its agenda: its minutes, its
    # API and the calendar are walked too.
    called = {"starts_at": deadline, "place": f"{WORD} room", "agenda": [{"title": f"{WORD} report"}]}
    meeting = await client.post(f"/api/circles/{kitchen['id']}/meetings", json=called, headers=ada)
    assert meeting.status_code == 201, meeting.text
    decided = await client.get(f"/api/decisions?circle_id={kitchen['id']}", headers=ada)
    decision_id = decided.json()["items"][0]["id"]
    for _ in range(100):  # the members' notifications are made
        if WORD in (await client.get("/api/notifications", headers=people["bo"])).text:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("Bo was not told of the private proposals")

    values = {
        "circle_id": [riverside_id, kitchen["id"]],
        "proposal_id": made,
        "decision_id": [decision_id],
        "meeting_id": [meeting.json()["id"]],
        "token": ["nothing"],
    }
    answers = await walk(client, app, cy, values)
    answers[f"/decisions.ics?feed={feed.json()['token']}"] = (
        await client.get("/decisions.ics", params={"feed": feed.json()["token"]})
    ).text
    assert [url for url, text in answers.items() if WORD.lower() in text.lower()] == []
    assert len(answers) > 40
    after = {page: (await client.get(page, headers=cy)).text for page in counts}
    assert after == before
    # A member sees them: the walk would find the word.
    assert WORD in (await client.get(f"/circles/{kitchen['id']}", headers=people["bo"])).text
