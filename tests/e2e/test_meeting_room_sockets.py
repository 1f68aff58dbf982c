"""A circle's meeting over `/ws/meetings/{id}` against a real `consent serve` process, with real
`websockets` clients on the loopback: everyone says they are here, the opening round in turn,
each event to every socket once and in order, a client that drops and resumes, and those
who may not join kept out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.e2e.meeting import Socket
from tests.e2e.org import Org, Servers, organisation
from tests.helpers import token_of

MEMBERS = ["ada", "m01", "m02", "m03"]  # Ada facilitates


class RoomSocket(Socket):
    """The same client, on a circle's meeting."""

    def url(self) -> str:
        return self.org.url.replace("http://", "ws://") + f"/ws/meetings/{self.proposal_id}"


async def call_meeting(org: Org) -> dict[str, Any]:
    body = {"starts_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(), "agenda": [{"title": "Garden"}]}
    response = await org.request("POST", f"/api/circles/{org.circle_id}/meetings", "ada", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def log_of(org: Org, meeting_id: str) -> list[dict[str, Any]]:
    response = await org.request("GET", f"/api/meetings/{meeting_id}/events?since=0", "ada")
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_an_opening_round_over_the_meeting_sockets(servers: Servers, http: httpx.AsyncClient) -> None:
    org = await organisation(http, servers.start().url, members=3)
    meeting = await call_meeting(org)
    sockets = {who: RoomSocket(org, who, meeting["id"]) for who in MEMBERS}
    welcomes = {who: await socket.open() for who, socket in sockets.items()}
    # Opening the page is not being there: nobody is present until they say so.
    assert all(w["state"]["present"] == [] for w in welcomes.values())
    assert "start" in welcomes["ada"]["state"]["available"]
    assert welcomes["m01"]["state"]["available"] == ["present"]
    for socket in sockets.values():
        await socket.ok("present")
    await sockets["ada"].ok("start")
    assert (await sockets["m02"].act("check_in", text="Early"))["error"]["code"] == "not_your_turn"
    assert (await sockets["m01"].act("check_out", text="Bye"))["error"]["code"] == "wrong_phase"
    await sockets["ada"].ok("check_in", text="Ready")
    await sockets["m01"].ok("check_in", text="Tired but here")

    await sockets["m03"].close()  # drops; the round goes on without its socket
    await sockets["m02"].ok("pass")
    resumed = RoomSocket(org, "m03", meeting["id"])
    resumed.received = list(sockets["m03"].received)
    welcome = await resumed.open()  # since its last seq: the missed event comes from the database
    assert welcome["state"]["whose_turn"] == org.ids["m03"] and "check_in" in welcome["state"]["available"]
    sockets["m03"] = resumed
    last = await resumed.ok("check_in", text="Made it")

    log = await log_of(org, meeting["id"])
    assert log[-1]["seq"] == last and [e["type"] for e in log[-4:]] == [
        "checked_in",
        "checked_in",
        "passed",
        "checked_in",
    ]
    for socket in sockets.values():
        await socket.wait_for_seq(last)
        assert [e["seq"] for e in socket.events] == [e["seq"] for e in log], socket.who
        assert socket.events == log, socket.who  # each event once, in order, word for word as the log
        await socket.close()


async def test_each_action_brings_the_pages_their_update_and_names_whose_forms_changed(
    servers: Servers, http: httpx.AsyncClient
) -> None:
    """The part of the meeting page that is the same for everyone comes with the action's last
    event, rendered in each language; only those whose forms the action changed are named in
    `now`, to fetch theirs (GET /meetings/{id}?part=now)."""
    org = await organisation(http, servers.start().url, members=3)
    meeting = await call_meeting(org)
    sockets = {who: RoomSocket(org, who, meeting["id"]) for who in MEMBERS}
    for socket in sockets.values():
        await socket.open()
    for socket in sockets.values():
        await socket.ok("present")
    started = await sockets["ada"].ok("start")
    checked_in = await sockets["ada"].ok("check_in", text="Ready to begin")
    passed = await sockets["m01"].ok("pass")
    for socket in sockets.values():
        await socket.wait_for_seq(passed)
    said = next(m for m in sockets["m03"].received if m.get("seq") == checked_in)
    view, spanish = said["view"], said["views"]["es"]
    assert view["from"] == checked_in and spanish["from"] == checked_in
    assert "Ready to begin" in view["live"] and "Ready to begin" in spanish["live"]
    assert "Opening round" in view["live"] and "Ronda de apertura" in spanish["live"]
    assert "<form" not in view["live"]  # nobody's forms: those are each viewer's own
    # The round moved from Ada to m01: their forms changed (Ada's also as she sent one), m02's
    # and m03's did not.
    assert sorted(view["now"]) == sorted([org.ids["ada"], org.ids["m01"]])
    after_pass = next(m for m in sockets["m03"].received if m.get("seq") == passed)["view"]
    assert sorted(after_pass["now"]) == sorted([org.ids["m01"], org.ids["m02"]])
    # Ada's note changes nobody's forms but hers, drawn anew so that a second note is new.
    noted = await sockets["ada"].ok("note", text="Tea is in the kitchen")
    await sockets["m03"].wait_for_seq(noted)
    note = next(m for m in sockets["m03"].received if m.get("seq") == noted)["view"]
    assert note["now"] == [org.ids["ada"]] and "Tea is in the kitchen" in note["live"]
    # Starting moves the whole meeting on: everyone fetches their forms.
    first_of_start = next(m for m in sockets["m03"].received if m.get("view") and m["seq"] == started)
    assert first_of_start["view"]["now"] is None
    # What m02 then fetches are their own forms: it is their turn.
    part = await org.request("GET", f"/meetings/{meeting['id']}?part=now", "m02")
    assert part.status_code == 200 and "Check in" in part.text and "Opening round" not in part.text
    for socket in sockets.values():
        await socket.close()


@pytest.mark.parametrize("who", ["zed", None])
async def test_who_may_not_join_is_closed_out(servers: Servers, http: httpx.AsyncClient, who: str | None) -> None:
    org = await organisation(http, servers.start().url, members=1, outsiders=("zed",))
    meeting = await call_meeting(org)
    url = org.url.replace("http://", "ws://") + f"/ws/meetings/{meeting['id']}"
    hello = '{"type": "hello", "since": 0' + (f', "token": "{token_of(org.people[who])}"}}' if who else "}")
    async with connect(url, proxy=None, open_timeout=10) as socket:
        await socket.send(hello)
        await socket.wait_closed()
        assert socket.close_code == 4403


async def test_another_sites_page_is_closed_out(servers: Servers, http: httpx.AsyncClient) -> None:
    org = await organisation(http, servers.start().url, members=1)
    meeting = await call_meeting(org)
    url = org.url.replace("http://", "ws://") + f"/ws/meetings/{meeting['id']}"
    async with connect(url, proxy=None, open_timeout=10, origin="http://evil.example") as socket:  # type: ignore[arg-type]
        await socket.wait_closed()  # before it says hello
        assert socket.close_code == 4403
