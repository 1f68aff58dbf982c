"""Live meetings over `/ws/proposals/{id}` against a real `consent serve` process, with real
`websockets` clients on the loopback: a whole meeting, a client that drops and resumes, a
server killed mid-meeting, bad messages, outsiders, and a client that stops reading."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from rounds.sockets import TOKEN_CHECK_SECONDS
from tests.e2e.meeting import Socket
from tests.e2e.org import Org, Servers, organisation
from tests.helpers import token_of

MEMBERS = ["ada", "m01", "m02", "m03", "m04"]  # Ada facilitates and proposes
# The clarifying round's turns: the author (Ada) answers the questions and is skipped.
ASKERS = MEMBERS[1:]


async def live_meeting(org: Org) -> tuple[str, dict[str, Socket]]:
    """A live proposal and every member's socket, each joined (present) in MEMBERS' order."""
    proposal_id = (await org.propose(mode="live", closes_at=None))["id"]
    sockets = {who: Socket(org, who, proposal_id) for who in MEMBERS}
    for socket in sockets.values():
        await socket.open()
        await socket.ok("present")
    return proposal_id, sockets


async def round_in_turn(
    sockets: dict[str, Socket], responses: dict[str, tuple[str, dict[str, Any]]], speakers: list[str] = MEMBERS
) -> None:
    """Everyone taking turns, in the order they joined, gives their response (default: pass)."""
    for who in speakers:
        type_, data = responses.get(who, ("pass", {}))
        await sockets[who].ok(type_, **data)


def assert_exactly_once_in_order(socket: Socket, log: list[dict[str, Any]]) -> None:
    assert [e["seq"] for e in socket.events] == [e["seq"] for e in log], socket.who
    assert socket.events == log, socket.who  # the same events, word for word, as the log


async def test_a_five_member_meeting_from_start_to_decision(servers: Servers, http: httpx.AsyncClient) -> None:
    org = await organisation(http, servers.start().url, members=4)
    proposal_id, sockets = await live_meeting(org)
    ada = sockets["ada"]
    await ada.wait_for(lambda s: len([m for m in s.received if m["type"] == "presence"][-1]["present"]) == 5)

    await ada.ok("start")
    await round_in_turn(sockets, {"m02": ("question", {"text": "Who holds the key?"})}, ASKERS)
    await ada.ok("answer", question_id="q1", text="Whoever opens on Friday.")
    await ada.ok("advance")
    await round_in_turn(
        sockets, {"m01": ("reaction", {"text": "Love it"}), "m03": ("reaction", {"text": "Fridays are hard"})}
    )
    await ada.ok("advance")
    assert (await sockets["m01"].act("consent"))["error"]["code"] == "not_your_turn"
    await round_in_turn(
        sockets,
        {who: ("consent", {}) for who in MEMBERS}
        | {"m03": ("object", {"text": "Nobody checked the fridge temperature."})},
    )
    await ada.ok("advance")
    await ada.ok("amend", text="We collect on Fridays, check the fridge at 4 °C, and share on Saturdays.")
    await round_in_turn(
        sockets, {who: ("consent", {}) for who in MEMBERS} | {"m04": ("concern", {"text": "Volunteers"})}
    )
    final = await ada.ok("advance")

    log = await org.events(proposal_id)
    assert log[-1]["seq"] == final and log[-1]["type"] == "decided"
    for socket in sockets.values():
        await socket.wait_for_seq(final)
        assert_exactly_once_in_order(socket, log)
    state = await org.state(proposal_id)
    assert state["state"] == "decided" and state["objections"][0]["status"] == "integrated"
    for socket in sockets.values():
        await socket.close()


async def test_a_client_that_drops_catches_up_exactly(servers: Servers, http: httpx.AsyncClient) -> None:
    org = await organisation(http, servers.start().url, members=4)
    proposal_id, sockets = await live_meeting(org)
    ada, m03 = sockets["ada"], sockets["m03"]
    await m03.wait_for_seq(await ada.ok("start"))
    await m03.close()  # the phone drops off the network mid-round
    seen = m03.last_seq

    await sockets["m01"].ok("question", text="What about rain?")
    await sockets["m02"].ok("pass")
    await ada.ok("answer", question_id="q1", text="We meet indoors.")
    welcome = await m03.open()  # since = the last seq it saw
    missed = [e for e in await org.events(proposal_id, since=seen)]
    assert welcome["seq"] == missed[-1]["seq"]
    await m03.wait_for_seq(welcome["seq"])
    assert [e["seq"] for e in m03.events] == list(range(1, welcome["seq"] + 1))  # nothing twice, nothing missing
    assert m03.events[-len(missed) :] == missed

    after = await m03.ok("pass")  # its turn came while it was away, and it still can act
    await ada.wait_for_seq(after)
    assert_exactly_once_in_order(m03, await org.events(proposal_id))
    for socket in sockets.values():
        await socket.close()


async def test_the_server_is_killed_mid_meeting_and_nothing_acknowledged_is_lost(
    servers: Servers, http: httpx.AsyncClient
) -> None:
    first = servers.start()
    org = await organisation(http, first.url, members=4)
    proposal_id, sockets = await live_meeting(org)
    ada = sockets["ada"]
    await ada.ok("start")
    acked = [await sockets[who].ok("pass") for who in ASKERS[:3]]
    first.process.kill()  # SIGKILL: no goodbye to anyone
    first.process.wait()
    for socket in sockets.values():
        assert await socket.wait_closed() != 1000

    second = servers.start()
    org.url = second.url
    for socket in sockets.values():
        welcome = await socket.open()  # resume from the last seq each one saw
        assert welcome["seq"] >= max(acked)
    for who in ASKERS[3:]:
        acked.append(await sockets[who].ok("pass"))
    log = await org.events(proposal_id)
    assert set(acked) <= {e["seq"] for e in log}
    for socket in sockets.values():
        await socket.wait_for_seq(log[-1]["seq"])
        assert_exactly_once_in_order(socket, log)
        await socket.close()


async def test_bad_messages_get_an_error_and_the_socket_stays_usable(servers: Servers, http: httpx.AsyncClient) -> None:
    org = await organisation(http, servers.start().url, members=2)
    proposal_id = (await org.propose(mode="live", closes_at=None))["id"]
    m01 = Socket(org, "m01", proposal_id)
    await m01.open()
    before = await org.events(proposal_id)

    async def refused(message: Any, code: str) -> None:
        count = len(m01.received)
        await m01.send(message)
        await m01.wait_for(lambda s: len(s.received) > count)
        answer = m01.received[count]
        assert answer["type"] == "error" and answer["error"]["code"] == code, answer
        assert answer["error"]["message"]

    await refused("not json", "invalid_message")
    await refused("[1, 2]", "invalid_message")
    await refused({"client_id": "x"}, "invalid_message")  # no type
    await refused({"type": "dance", "client_id": "m01-1"}, "unknown_action")
    await refused({"type": "present"}, "invalid")  # no client_id
    await refused({"type": "hello", "since": 0}, "already_greeted")
    await refused({"type": "start", "client_id": "m01-2"}, "not_facilitator")
    await refused({"type": "consent", "client_id": "m01-3"}, "wrong_phase")
    await refused({"type": "object", "client_id": "m01-4", "text": " "}, "objection_needs_reason")
    assert await org.events(proposal_id) == before  # nothing changed

    await m01.ok("present")  # still usable
    await m01.send({"type": "reaction", "client_id": "big", "text": "x" * 70_000})  # over the 64 KiB limit
    assert await m01.wait_closed() == 1009
    await m01.close()


async def test_out_of_turn_is_refused_over_the_socket(servers: Servers, http: httpx.AsyncClient) -> None:
    org = await organisation(http, servers.start().url, members=2)
    # M02 proposes and is not there: Ada's turn comes first in the clarifying round, then M01's.
    proposal_id = (await org.propose("m02", mode="live", closes_at=None))["id"]
    ada, m01 = Socket(org, "ada", proposal_id), Socket(org, "m01", proposal_id)
    for socket in (ada, m01):
        await socket.open()
        await socket.ok("present")
    await ada.ok("start")
    answer = await m01.act("question", text="Me first?")
    assert answer["error"]["code"] == "not_your_turn"
    await ada.ok("skip")  # the facilitator moves on from herself
    await m01.ok("question", text="Now?")
    await ada.ok("back")
    assert (await org.state(proposal_id))["round"]["turn"]["id"] == org.ids["m01"]
    for socket in (ada, m01):
        await socket.close()


async def closed_before_welcome(url: str, hello: dict[str, Any] | None, **options: Any) -> tuple[int, str]:
    async with connect(url, proxy=None, open_timeout=10, **options) as connection:
        with pytest.raises(ConnectionClosed) as closed:
            if hello is not None:
                await connection.send(json.dumps(hello))
            while True:
                message = json.loads(await connection.recv())
                assert message["type"] != "welcome", "an outsider was welcomed"
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_outsiders_and_foreign_pages_are_refused_with_4403(servers: Servers, http: httpx.AsyncClient) -> None:
    org = await organisation(http, servers.start().url, members=1, outsiders=("eve",))
    proposal_id = (await org.propose(mode="live", closes_at=None))["id"]
    url = Socket(org, "ada", proposal_id).url()

    def token(who: str) -> str:
        return token_of(org.people[who])

    code, reason = await closed_before_welcome(url, {"type": "hello", "since": 0, "token": token("eve")})
    assert code == 4403 and reason  # signed in, but not a member
    assert (await closed_before_welcome(url, {"type": "hello", "since": 0, "token": "cst_forged"}))[0] == 4403
    assert (await closed_before_welcome(url, {"type": "hello", "since": 0}))[0] == 4403  # no credentials
    assert (
        await closed_before_welcome(
            url, {"type": "hello", "since": 0, "token": token("ada")}, origin="http://evil.example"
        )
    )[0] == 4403
    unknown = url.rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"
    assert (await closed_before_welcome(unknown, {"type": "hello", "since": 0, "token": token("ada")}))[0] == 4403
    # A browser page of this very site is welcome.
    async with connect(url, proxy=None, origin=org.url) as connection:
        await connection.send(json.dumps({"type": "hello", "since": 0, "token": token("ada")}))
        assert json.loads(await connection.recv())["type"] == "welcome"
    assert await org.events(proposal_id) == []


@pytest.fixture
def small_backlog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENT_SOCKET_BACKLOG", "20")


async def test_a_member_who_leaves_the_circle_leaves_its_meetings_in_every_socket(
    servers: Servers, http: httpx.AsyncClient
) -> None:
    org = await organisation(http, servers.start().url, members=2)
    proposal_id = (await org.propose(mode="live", closes_at=None))["id"]
    sockets = {who: Socket(org, who, proposal_id) for who in ("ada", "m01", "m02")}
    for socket in sockets.values():
        await socket.open()
    await sockets["m01"].ok("object", text="Not safe to try yet.")  # early, before the meeting
    for socket in sockets.values():
        await socket.ok("present")

    # m02 leaves through the API, not the socket: the event still reaches every open socket,
    # once committed, with no gap.
    left = await org.request("DELETE", f"/api/circles/{org.circle_id}/members/me", "m02")
    assert left.status_code == 204, left.text
    removed = await org.request("DELETE", f"/api/circles/{org.circle_id}/members/{org.ids['m01']}", "ada")
    assert removed.status_code == 204, removed.text
    log = await org.events(proposal_id)
    assert [e["type"] for e in log[-2:]] == ["member_left", "member_left"]
    assert log[-2]["data"] == {"member": org.ids["m02"], "lapsed": []}
    assert log[-1]["data"] == {"member": org.ids["m01"], "lapsed": ["o1"], "recorded_by": org.ids["ada"]}
    for socket in sockets.values():
        await socket.wait_for_seq(log[-1]["seq"])
        assert_exactly_once_in_order(socket, log)
    state = await org.state(proposal_id)
    assert [p["name"] for p in state["participants"]] == ["Ada"]  # live: those present
    assert [o["status"] for o in state["objections"]] == ["lapsed"]
    # m02 is in no circle of the organisation now: the proposal is not even visible to her.
    assert (await sockets["m02"].act("pass"))["error"]["code"] == "not_found"
    for socket in sockets.values():
        await socket.close()


async def test_a_client_that_stops_reading_is_dropped_and_nobody_waits(
    small_backlog: None, servers: Servers, http: httpx.AsyncClient
) -> None:
    org = await organisation(http, servers.start().url, members=2)
    proposal_id = (await org.propose(mode="live", closes_at=None))["id"]
    ada, m01, m02 = (Socket(org, who, proposal_id) for who in ("ada", "m01", "m02"))
    for socket in (ada, m01):
        await socket.open()
        await socket.ok("present")
    await m02.open(read=False, max_queue=1, receive_buffer=4096)  # says hello, then reads nothing more
    await ada.ok("start")
    await m01.ok("question", text="Long answers?")  # the first turn: Ada, the author, answers

    long_answer = "The answer, at length. " * 800  # ~18 KB an event: the socket buffers fill quickly
    last = 0
    for _ in range(400):
        last = await ada.ok("answer", question_id="q1", text=long_answer)
    # Everyone reading got everything while m02 was stuck, and m02 was dropped, not waited for.
    await m01.wait_for_seq(last)
    await m01.wait_for(
        lambda s: (
            [p["name"] for p in [m for m in s.received if m["type"] == "presence"][-1]["present"]] == ["Ada", "M01"]
        )
    )

    m02.start_reading()  # it wakes up: what was on the wire, then the close
    assert await m02.wait_closed() == 4008
    got = [e["seq"] for e in m02.events]
    assert got == list(range(1, len(got) + 1)) and len(got) < last
    await m02.open(since=got[-1] if got else 0)
    await m02.wait_for_seq(last)
    assert [e["seq"] for e in m02.events] == list(range(1, last + 1))  # resumed exactly
    assert Counter(e["seq"] for e in m02.events).most_common(1)[0][1] == 1
    for socket in (ada, m01, m02):
        await socket.close()


async def test_a_silent_dead_socket_is_noticed_by_the_heartbeat(
    monkeypatch: pytest.MonkeyPatch, servers: Servers, http: httpx.AsyncClient
) -> None:
    monkeypatch.setenv("CONSENT_HEARTBEAT_SECONDS", "1")
    org = await organisation(http, servers.start().url, members=1)
    proposal_id = (await org.propose(mode="live", closes_at=None))["id"]
    ada, m01 = Socket(org, "ada", proposal_id), Socket(org, "m01", proposal_id)
    await ada.open()
    await m01.open(read=False)
    await ada.wait_for(lambda s: any(len(m.get("present", [])) == 2 for m in s.received))
    assert m01.connection is not None
    m01.connection.transport.pause_reading()  # a phone gone dark: it answers no ping

    def last_presence(s: Socket) -> list[str]:
        return [p["name"] for p in [m for m in s.received if m["type"] == "presence"][-1]["present"]]

    await ada.wait_for(lambda s: last_presence(s) == ["Ada"], timeout=15)
    await ada.ok("present")  # the meeting goes on
    m01.connection.transport.abort()
    await ada.close()


async def test_a_batch_brings_its_page_update_the_same_for_everyone(servers: Servers, http: httpx.AsyncClient) -> None:
    """The live page follows the meeting from the events: each batch's last event carries what
    it changed on the page, rendered once (the same for every socket), and names whose own
    "what you can do now" changed; only they fetch it, and it is theirs alone."""
    org = await organisation(http, servers.start().url, members=4, outsiders=("zed",))
    proposal_id, sockets = await live_meeting(org)
    ada, m01, m02 = sockets["ada"], sockets["m01"], sockets["m02"]

    start = await ada.ok("start")
    for socket in sockets.values():
        await socket.wait_for_seq(start)
    starts = [next(m for m in s.received if m.get("seq") == start) for s in sockets.values()]
    assert all(m == starts[0] for m in starts)  # word for word the same on every socket
    view = starts[0]["view"]
    assert view["from"] == start and view["now"] is None  # a new phase: everyone's options changed
    ops = {(op[0], op[1]) for op in view["ops"]}
    assert ("prepend", "rounds-list") in ops and ("update", "live-participants") in ops
    assert "Clarifying questions" in dict((op[1], op[2]) for op in view["ops"])["live-badges"]

    asked = await m01.ok("question", text="Who <b>holds</b> the key?")
    await m02.wait_for_seq(asked)
    view = next(m for m in m02.received if m.get("seq") == asked)["view"]
    # the facilitator and author (Ada), the asker, and whose turn it is now: not everyone
    assert sorted(view["now"]) == sorted([org.ids["ada"], org.ids["m01"], org.ids["m02"]])
    updated = {op[1] for op in view["ops"] if op[0] == "update"}
    assert updated == {"live-turn"}  # the turn moved on; the badges, unchanged, are not sent again
    [item] = [op for op in view["ops"] if op[0] == "append"]
    assert item[1] == "round-1-items" and f'id="e{asked}"' in item[2]
    assert "Who &lt;b&gt;holds&lt;/b&gt; the key?" in item[2]  # escaped like the page

    # "What you can do now", alone: the asker's next turn is someone else's; Ada may answer.
    mine = await http.get(f"{org.url}/proposals/{proposal_id}/now", headers=org.people["ada"])
    assert mine.status_code == 200 and "Answer to" in mine.text and "<html" not in mine.text
    theirs = await http.get(f"{org.url}/proposals/{proposal_id}/now", headers=org.people["m02"])
    assert "Your clarifying question" in theirs.text and "Answer to" not in theirs.text
    outsider = await http.get(f"{org.url}/proposals/{proposal_id}/now", headers=org.people["zed"])
    assert outsider.status_code == 404
    anonymous = await http.get(f"{org.url}/proposals/{proposal_id}/now", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)

    # Ada answers: the turn stays with m02, whose options did not change, so only Ada fetches.
    answered = await ada.ok("answer", question_id="q1", text="Whoever opens on Friday.")
    await m02.wait_for_seq(answered)
    assert next(m for m in m02.received if m.get("seq") == answered)["view"]["now"] == [org.ids["ada"]]

    # Resuming from the log brings the events without views: the page loads itself again.
    late = Socket(org, "m03", proposal_id)
    await late.open(since=0)
    await late.wait_for_seq(asked)
    assert late.views == [] and late.events == m02.events[: len(late.events)]
    for socket in [*sockets.values(), late]:
        await socket.close()


async def test_a_hall_arriving_at_once_is_welcomed_with_one_description(
    servers: Servers, http: httpx.AsyncClient
) -> None:
    """Everyone arriving between two events gets the same welcome, described once; the next
    event makes the next welcome new."""
    org = await organisation(http, servers.start().url, members=4)
    proposal_id = (await org.propose(mode="live", closes_at=None))["id"]
    sockets = [Socket(org, who, proposal_id) for who in MEMBERS]
    welcomes = await asyncio.gather(*(socket.open() for socket in sockets))
    assert all(w == welcomes[0] for w in welcomes)
    described = (await http.get(f"{org.url}/api/proposals/{proposal_id}", headers=org.people["m01"])).json()
    assert welcomes[0]["state"] == {k: v for k, v in described.items() if k != "responses"}
    seq = await sockets[1].ok("present")
    late = Socket(org, "m02", proposal_id)
    welcome = await late.open()
    assert welcome["seq"] == seq and [p["name"] for p in welcome["state"]["participants"]] == ["M01"]
    for socket in [*sockets, late]:
        await socket.close()


async def test_actions_sent_without_waiting_are_written_in_order_and_each_answered(
    servers: Servers, http: httpx.AsyncClient
) -> None:
    """A socket's actions are taken as they come (not one per transaction): fifty answers sent
    at once, with a refused one among them, come back as fifty events in the order sent, each
    acknowledged after its event, and the refusal answered on its own."""
    org = await organisation(http, servers.start().url, members=4)
    proposal_id, sockets = await live_meeting(org)
    ada, m01 = sockets["ada"], sockets["m01"]
    await ada.ok("start")
    await m01.ok("question", text="Who holds the key?")
    sent = [f"answer-{n}" for n in range(50)]
    for n, client_id in enumerate(sent):
        await ada.send({"type": "answer", "client_id": client_id, "question_id": "q1", "text": f"Answer {n}"})
        if n == 25:  # out of turn: refused, and the others are not held up by it
            await ada.send({"type": "consent", "client_id": "too-early"})
    await ada.wait_for(lambda s: all(any(m.get("client_id") == c for m in s.received) for c in [*sent, "too-early"]))

    answers = {m["client_id"]: m for m in ada.received if m.get("client_id") in {*sent, "too-early"}}
    assert answers["too-early"]["type"] == "error"
    acks = [answers[c] for c in sent]
    assert all(a["type"] == "ack" for a in acks), acks
    seqs = [a["seq"] for a in acks]
    assert seqs == list(range(seqs[0], seqs[0] + 50))  # in the order sent, nothing between them
    log = {e["seq"]: e for e in await org.events(proposal_id)}
    assert [log[s]["data"]["text"] for s in seqs] == [f"Answer {n}" for n in range(50)]
    position = {id(m): i for i, m in enumerate(ada.received)}
    for ack in acks:  # each ack after its event on this socket
        event = next(m for m in ada.received if m.get("seq") == ack["seq"] and m.get("type") == "question_answered")
        assert position[id(event)] < position[id(ack)]
    for socket in sockets.values():
        await socket.close()


async def test_a_socket_opened_with_a_token_stops_acting_when_the_token_is_revoked(
    servers: Servers, http: httpx.AsyncClient
) -> None:
    org = await organisation(http, servers.start().url, members=4)
    proposal_id, sockets = await live_meeting(org)
    ada, m01 = sockets["ada"], sockets["m01"]
    await ada.ok("start")
    signed_out = await http.delete(f"{org.url}/api/sessions", headers=org.people["m01"])
    assert signed_out.status_code == 204
    await asyncio.sleep(TOKEN_CHECK_SECONDS)  # the socket looks its token up again at most this often
    before = (await org.state(proposal_id))["seq"]
    await m01.send({"type": "question", "client_id": "after-revoking", "text": "Still here?"})
    assert await m01.wait_closed() == 4403  # refused, as the HTTP API answers 401
    assert (await org.state(proposal_id))["seq"] == before  # the question was not asked
    for socket in sockets.values():
        await socket.close()
