"""The proposal API against a real `consent serve` process: a circle of 21 answering at the same
instant and retrying, refusals mixed into the crowd, an async deadline that passes while the
server is down, a SIGKILL right after an acknowledgement (and in the middle of a burst), and
every refusal of the error envelope over the wire. Set up only through the API; all traffic
goes to 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.org import Org, Servers, organisation
from tests.helpers import add_member, assert_refused


def assert_contiguous(events: list[dict[str, Any]]) -> None:
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def assert_one_response_each(events: list[dict[str, Any]], org: Org, who: list[str]) -> None:
    responded = Counter(e["data"]["member"] for e in events if e["type"] == "responded")
    assert responded == Counter(org.ids[name] for name in who)


# --- 1. a whole circle at the same instant, and its retries ------------------------------------


async def test_twenty_one_responses_at_once_and_their_retries_are_recorded_once(
    servers: Servers, http: httpx.AsyncClient
) -> None:
    org = await organisation(http, servers.start().url, members=20)
    proposal_id = (await org.propose())["id"]
    await org.to_consenting(proposal_id)

    burst = [(name, {"type": "consent", "client_id": f"{name}-response"}) for name in org.members]
    burst[7] = ("m07", {"type": "concern", "client_id": "m07-response", "text": "Storage overnight"})
    first = await asyncio.gather(*(org.send(proposal_id, who, body) for who, body in burst))
    assert [r.status_code for r in first] == [200] * 21, [r.text for r in first if r.status_code != 200]
    retried = await asyncio.gather(*(org.send(proposal_id, who, body) for who, body in burst))
    assert [r.status_code for r in retried] == [200] * 21
    for original, again in zip(first, retried):
        assert again.json() == original.json()

    # Each acknowledgement names its own event: 21 different seqs, the actor and kind sent.
    acks = [r.json() for r in first]
    assert sorted(ack["event"]["seq"] for ack in acks) == list(range(4, 25))
    for (who, body), ack in zip(burst, acks):
        assert ack["event"]["type"] == "responded"
        assert ack["event"]["actor"]["id"] == org.ids[who] and ack["event"]["data"]["member"] == org.ids[who]
        assert ack["event"]["data"]["kind"] == body["type"]
    deciding = [ack for ack in acks if len(ack["events"]) == 2]  # the last one in decided it
    assert len(deciding) == 1 and deciding[0]["seq"] == 25 and deciding[0]["events"][1]["type"] == "decided"

    events = await org.events(proposal_id)
    assert_contiguous(events)
    assert [e["type"] for e in events] == ["phase_changed"] * 3 + ["responded"] * 21 + ["decided"]
    assert_one_response_each(events, org, org.members)
    assert [e["data"]["text"] for e in events if e["data"].get("kind") == "concern"] == ["Storage overnight"]
    state = await org.state(proposal_id)
    assert (state["state"], state["seq"]) == ("decided", 25)
    assert all(p["response"] in {"consent", "concern"} for p in state["participants"])

    # A retry long after the decision is still answered as the first time.
    late = await org.send(proposal_id, "m03", burst[3][1])
    assert late.status_code == 200 and late.json() == first[3].json()
    assert (await org.state(proposal_id))["seq"] == 25


async def test_refusals_and_duplicates_mixed_into_the_crowd_record_nothing_extra(
    servers: Servers, http: httpx.AsyncClient
) -> None:
    org = await organisation(http, servers.start().url, members=20, outsiders=("zed",))
    proposal_id = (await org.propose())["id"]
    await org.to_consenting(proposal_id)
    early = ["m01", "m02", "m03", "m04", "m05"]
    earlier = {
        name: await org.send(proposal_id, name, {"type": "consent", "client_id": f"{name}-early"}) for name in early
    }
    assert all(r.status_code == 200 for r in earlier.values())

    # Ada holds her own response back, so the round stays open through the whole burst and
    # every refusal below has exactly one right answer, whatever order the server takes them in.
    later = [f"m{i:02d}" for i in range(6, 21)]
    valid = [
        (
            name,
            {"type": "concern", "client_id": f"{name}-now", "text": "Mind the cost"}
            if name == "m10"
            else {"type": "consent", "client_id": f"{name}-now"},
        )
        for name in later
    ]
    retries = [(name, {"type": "consent", "client_id": f"{name}-early"}) for name in early]
    refused: list[tuple[str | None, Any, int, str]] = [
        *(
            (
                name,
                {"type": "concern", "client_id": f"{name}-again", "text": "Second thoughts"},
                409,
                "already_responded",
            )
            for name in early
        ),
        ("m01", {"type": "object", "client_id": "m01-object", "text": "Too late?"}, 409, "already_responded"),
        ("ada", {"type": "object", "client_id": "ada-object", "text": "   "}, 409, "objection_needs_reason"),
        ("ada", {"type": "advance", "client_id": "ada-advance"}, 409, "round_incomplete"),
        ("m06", {"type": "vote", "client_id": "m06-vote"}, 422, "unknown_action"),
        ("m07", {"type": "consent"}, 422, "invalid"),
        ("m08", {"type": "start", "client_id": "m08-start"}, 409, "wrong_phase"),
        ("m09", {"type": "advance", "client_id": "m09-advance"}, 403, "not_facilitator"),
        ("zed", {"type": "consent", "client_id": "zed-consent"}, 404, "not_found"),
        (None, {"type": "consent", "client_id": "anonymous"}, 401, "not_signed_in"),
    ]
    # Every valid action twice at the same instant (a client retrying while the first is in flight).
    sent = [*valid, *valid, *retries, *((who, body) for who, body, _, _ in refused)]
    answers = await asyncio.gather(*(org.send(proposal_id, who, body) for who, body in sent))
    n = len(valid)
    first, duplicate = answers[:n], answers[n : 2 * n]
    assert [r.status_code for r in first + duplicate] == [200] * (2 * n)
    for one, other in zip(first, duplicate):
        assert one.json() == other.json()
    for name, answer in zip(early, answers[2 * n : 2 * n + len(retries)]):
        assert answer.status_code == 200 and answer.json() == earlier[name].json()
    for (_, _, status, code), answer in zip(refused, answers[2 * n + len(retries) :]):
        assert_refused(answer, status, code)

    events = await org.events(proposal_id)
    assert_contiguous(events)
    assert len(events) == 3 + 20
    assert_one_response_each(events, org, org.members[1:])
    assert not any(e["data"].get("kind") == "object" for e in events)
    state = await org.state(proposal_id)
    assert (state["state"], state["seq"], state["objections"]) == ("consenting", 23, [])

    closing = await org.ok(proposal_id, "ada", "consent")
    assert [e["type"] for e in closing["events"]] == ["responded", "decided"] and closing["seq"] == 25
    events = await org.events(proposal_id)
    assert_contiguous(events)
    assert_one_response_each(events, org, org.members)
    assert (await org.state(proposal_id))["state"] == "decided"


# --- 2. the deadline passes while the server is down ---------------------------------------


async def test_a_deadline_that_passed_while_the_server_was_down_is_applied_at_start(
    servers: Servers, http: httpx.AsyncClient
) -> None:
    server = servers.start()
    org = await organisation(http, server.url, members=3)
    far = (await org.propose(title="Far off"))["id"]
    await org.to_consenting(far)
    await org.ok(far, "m01", "consent")
    silent = (await org.propose(title="Silent", closes_at=(datetime.now(UTC) + timedelta(seconds=3)).isoformat()))["id"]
    await org.to_consenting(silent)
    closes_at = datetime.now(UTC) + timedelta(seconds=3)
    objected = (await org.propose(title="Objected", closes_at=closes_at.isoformat()))["id"]
    await org.to_consenting(objected)
    await org.ok(objected, "m02", "consent")
    objection = await org.ok(objected, "m01", "object", text="Saturdays clash with the market")
    before = {pid: await org.events(pid) for pid in (far, silent, objected)}
    assert (await org.state(objected))["state"] == "consenting" and objection["seq"] == 5
    far_state = await org.state(far)

    server.stop()
    await asyncio.sleep(max(0.0, (closes_at - datetime.now(UTC)).total_seconds()) + 1)
    org.url = servers.start().url

    state = await org.state(objected)  # no action since the restart: the start-up pass did it
    assert (state["state"], state["mode"], state["seq"], state["closes_at"]) == ("integrating", "async", 7, None)
    assert [(o["id"], o["status"]) for o in state["objections"]] == [("o1", "open")]
    events = await org.events(objected)
    assert_contiguous(events)
    assert events[:5] == before[objected]  # nothing accepted before the stop was lost
    assert [(e["type"], e["actor"], e["data"]) for e in events[5:]] == [
        ("deadline_passed", None, {"outcome": "integrating"}),
        ("phase_changed", None, {"from": "consenting", "to": "integrating", "round": 3, "open_objections": ["o1"]}),
    ]

    # Silence is not consent (the circle's default): taken into the next live meeting.
    silent_events = await org.events(silent)
    assert silent_events[:3] == before[silent]
    assert [(e["type"], e["data"]) for e in silent_events[3:]] == [("deadline_passed", {"outcome": "next_meeting"})]
    assert ((await org.state(silent))["state"], (await org.state(silent))["mode"]) == ("consenting", "live")
    # A deadline still days away is left alone.
    assert await org.state(far) == far_state and await org.events(far) == before[far]

    # The process goes on after the restart: the objection is integrated, then everyone consents.
    await org.ok(objected, "ada", "amend", text="We collect on Fridays and share on Sundays.")
    for name in org.members:
        await org.ok(objected, name, "consent")
    final = await org.state(objected)
    assert (final["state"], final["revision"]) == ("decided", 2)
    assert_contiguous(await org.events(objected))


# --- 3. SIGKILL ------------------------------------------------------------------------------


async def test_an_acknowledged_action_survives_a_sigkill(servers: Servers, http: httpx.AsyncClient) -> None:
    server = servers.start()
    org = await organisation(http, server.url, members=3)
    proposal_id = (await org.propose())["id"]
    await org.to_consenting(proposal_id)
    body = {"type": "object", "client_id": "m01-objects", "text": "Saturdays clash with the market"}
    acknowledged = await org.send(proposal_id, "m01", body)
    assert acknowledged.status_code == 200, acknowledged.text
    server.process.kill()
    server.process.wait()

    org.url = servers.start().url
    events = await org.events(proposal_id)
    assert_contiguous(events)
    assert events[-1] == acknowledged.json()["event"] and events[-1]["seq"] == 4
    state = await org.state(proposal_id)
    assert (state["seq"], [o["status"] for o in state["objections"]]) == (4, ["open"])
    retried = await org.send(proposal_id, "m01", body)
    assert retried.status_code == 200 and retried.json() == acknowledged.json()
    assert (await org.state(proposal_id))["seq"] == 4


async def test_a_sigkill_in_the_middle_of_a_burst_loses_nothing_acknowledged(
    servers: Servers, http: httpx.AsyncClient
) -> None:
    server = servers.start()
    org = await organisation(http, server.url, members=12)
    proposal_id = (await org.propose())["id"]
    await org.to_consenting(proposal_id)
    burst = [(name, {"type": "consent", "client_id": f"{name}-burst"}) for name in org.members]

    tasks = [asyncio.create_task(org.send(proposal_id, who, body)) for who, body in burst]
    pending: set[asyncio.Task[httpx.Response]] = set(tasks)
    while pending:  # kill at the first acknowledgement, the others still in flight
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        if any(not t.exception() and t.result().status_code == 200 for t in done):
            break
    server.process.kill()
    server.process.wait()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    acknowledged = {
        i: r.json() for i, r in enumerate(outcomes) if isinstance(r, httpx.Response) and r.status_code == 200
    }
    assert acknowledged
    for r in outcomes:  # anything else the dying server got out is a dropped connection
        assert isinstance(r, httpx.TransportError) or (isinstance(r, httpx.Response) and r.status_code == 200), r

    org.url = servers.start().url
    events = await org.events(proposal_id)
    assert_contiguous(events)
    for ack in acknowledged.values():
        assert events[ack["event"]["seq"] - 1] == ack["event"]
    assert max(Counter(e["data"]["member"] for e in events if e["type"] == "responded").values()) == 1

    # The client retries everything, with the same client_ids: each is applied exactly once.
    retried = await asyncio.gather(*(org.send(proposal_id, who, body) for who, body in burst))
    assert [r.status_code for r in retried] == [200] * len(burst)
    for i, ack in acknowledged.items():
        assert retried[i].json() == ack
    events = await org.events(proposal_id)
    assert_contiguous(events)
    assert_one_response_each(events, org, org.members)
    assert events[-1]["type"] == "decided" and len(events) == 3 + len(burst) + 1
    assert (await org.state(proposal_id))["state"] == "decided"


# --- 4. every refusal of the envelope over the wire ------------------------------------------


async def test_every_refusal_over_the_wire_is_in_the_envelope_and_changes_nothing(
    servers: Servers, http: httpx.AsyncClient
) -> None:
    org = await organisation(http, servers.start().url, members=3, outsiders=("zed", "zoe"))
    # Zoe belongs to the organisation through a sub-circle, not to Riverside itself.
    sub = await org.request(
        "POST", "/api/circles", "ada", json={"name": "Kitchen", "aim": "Cook", "parent_id": org.circle_id}
    )
    assert sub.status_code == 201, sub.text
    for name, roles in (("ada", ["leader"]), ("zoe", [])):  # Zoe is invited, and accepts
        await add_member(http, org.people["ada"], sub.json()["id"], name, roles, url=org.url)

    async def refused(
        proposal_id: str,
        who: str | None,
        body: Any,
        status: int,
        code: str,
        raw: bytes | None = None,
        field: str | None = None,
    ) -> str:
        before = await org.state(proposal_id)
        if raw is None:
            response = await org.send(proposal_id, who, body)
        else:
            response = await org.request(
                "POST",
                f"/api/proposals/{proposal_id}/actions",
                who,
                content=raw,
                headers={"Content-Type": "application/json"},
            )
        message = assert_refused(response, status, code, field)
        assert await org.state(proposal_id) == before  # nothing changed, seq included
        assert_contiguous(await org.events(proposal_id))
        return message

    proposal_id = (await org.propose())["id"]
    # wrong_phase: a response before the consent round, a move the draft does not allow
    await refused(proposal_id, "m01", {"type": "consent", "client_id": "c1"}, 409, "wrong_phase")
    await refused(proposal_id, "ada", {"type": "advance", "client_id": "c2"}, 409, "wrong_phase")
    await org.to_consenting(proposal_id)
    await refused(proposal_id, "ada", {"type": "reaction", "client_id": "c3", "text": "Late"}, 409, "wrong_phase")
    # objection_needs_reason: blank, or no text at all
    await refused(
        proposal_id, "m01", {"type": "object", "client_id": "c4", "text": " \n "}, 409, "objection_needs_reason"
    )
    await refused(proposal_id, "m01", {"type": "object", "client_id": "c5"}, 409, "objection_needs_reason")
    # already_responded: a second response with a new client_id
    await org.ok(proposal_id, "m01", "consent")
    await refused(
        proposal_id,
        "m01",
        {"type": "concern", "client_id": "c6", "text": "On second thought"},
        409,
        "already_responded",
    )
    await refused(proposal_id, "m01", {"type": "object", "client_id": "c7", "text": "No"}, 409, "already_responded")
    # not_a_participant: in the organisation (she sees the proposal) but not in the circle
    assert (await org.state(proposal_id, "zoe"))["id"] == proposal_id
    await refused(proposal_id, "zoe", {"type": "consent", "client_id": "c8"}, 403, "not_a_participant")
    zoe_proposes = await org.request(
        "POST",
        f"/api/circles/{org.circle_id}/proposals",
        "zoe",
        json={"title": "Mine", "driver": "D", "text": "T", "domain_id": org.domain_id, "mode": "live"},
    )
    assert_refused(zoe_proposes, 403, "not_a_participant")
    # not in the organisation at all: nothing to see
    await refused(proposal_id, "zed", {"type": "consent", "client_id": "c9"}, 404, "not_found")
    assert_refused(await org.request("GET", f"/api/proposals/{proposal_id}", "zed"), 404, "not_found")
    assert_refused(await org.request("GET", f"/api/proposals/{proposal_id}/events", "zed"), 404, "not_found")
    await refused(proposal_id, None, {"type": "consent", "client_id": "c10"}, 401, "not_signed_in")
    # unknown_action, and malformed actions: 422 invalid with the field named, never a 500
    await refused(proposal_id, "m02", {"type": "vote", "client_id": "c11"}, 422, "unknown_action")
    await refused(proposal_id, "m02", {"type": "consent"}, 422, "invalid", field="client_id")
    for client_id in ("", "x" * 101, 7, None, ["c12"]):
        await refused(
            proposal_id, "m02", {"type": "consent", "client_id": client_id}, 422, "invalid", field="client_id"
        )
    await refused(proposal_id, "m02", {"client_id": "c13"}, 422, "invalid", field="type")
    await refused(proposal_id, "m02", {"type": ["consent"], "client_id": "c14"}, 422, "invalid", field="type")
    await refused(
        proposal_id, "m02", {"type": "concern", "client_id": "c15", "text": ["x"]}, 422, "invalid", field="text"
    )
    await refused(proposal_id, "m02", {"type": "concern", "client_id": "c16", "text": "x" * 20_001}, 422, "invalid")
    # PostgreSQL stores no NUL character: refused alike on every database, never a 500
    await refused(
        proposal_id, "m02", {"type": "concern", "client_id": "c27", "text": "a\u0000b"}, 422, "invalid", field="text"
    )
    await refused(proposal_id, "m02", {"type": "consent", "client_id": "c\u0000"}, 422, "invalid", field="client_id")
    for fields in ({"title": "Nul\u0000"}, {"criteria": ["\u0000"]}):
        nul = await org.request(
            "POST",
            f"/api/circles/{org.circle_id}/proposals",
            "ada",
            json={"title": "T", "driver": "D", "text": "X", "domain_id": org.domain_id, "mode": "live", **fields},
        )
        assert next(iter(fields)) in assert_refused(nul, 422, "invalid")
    await refused(proposal_id, "m02", ["consent"], 400, "invalid")
    await refused(proposal_id, "m02", None, 400, "bad_request", raw=b'{"type": "consent", "client_id": ')
    await refused(
        proposal_id,
        "ada",
        {"type": "answer", "client_id": "c17", "question_id": ["q1"], "text": "A"},
        422,
        "no_such_question",
    )
    await refused(
        proposal_id,
        "ada",
        {"type": "withdraw_objection", "client_id": "c18", "objection_id": {"id": 1}},
        422,
        "no_such_objection",
    )
    await refused(
        proposal_id, "ada", {"type": "consent", "client_id": "c19", "on_behalf_of": {"id": 1}}, 422, "invalid"
    )
    await refused(proposal_id, "ada", {"type": "present", "client_id": "c20", "member_id": [1]}, 422, "invalid")
    # a client_id already used for another action is that action's retry, whatever else is sent
    first = await org.send(proposal_id, "m02", {"type": "consent", "client_id": "m02-once"})
    assert first.status_code == 200
    again = await org.send(proposal_id, "m02", {"type": "object", "client_id": "m02-once", "text": "Changed"})
    assert again.status_code == 200 and again.json() == first.json()
    assert (await org.state(proposal_id))["seq"] == 5

    # not_your_turn: a live round goes round the room in order, the author (Ada) skipped in the
    # clarifying round: she answers, she does not ask (author_answers)
    live_id = (await org.propose(mode="live", closes_at=None))["id"]
    for name in ("ada", "m01", "m02"):
        await org.ok(live_id, name, "present")
    await org.ok(live_id, "ada", "start")
    assert (await org.state(live_id))["round"]["turn"]["name"] == "M01"
    await refused(
        live_id, "ada", {"type": "question", "client_id": "c28", "text": "Who drives?"}, 409, "author_answers"
    )
    await refused(live_id, "ada", {"type": "pass", "client_id": "c29"}, 409, "not_your_turn")
    await refused(live_id, "m02", {"type": "question", "client_id": "c21", "text": "Who drives?"}, 409, "not_your_turn")
    await refused(live_id, "m02", {"type": "pass", "client_id": "c22"}, 409, "not_your_turn")
    await refused(live_id, "m03", {"type": "pass", "client_id": "c23"}, 409, "not_present")
    await refused(live_id, "zoe", {"type": "present", "client_id": "c24"}, 403, "not_a_participant")
    await refused(
        live_id, "m01", {"type": "present", "client_id": "c25", "member_id": org.ids["m02"]}, 403, "not_facilitator"
    )
    await org.ok(live_id, "m01", "question", text="Who drives?")
    await refused(live_id, "m01", {"type": "pass", "client_id": "c26"}, 409, "not_your_turn")
    await org.ok(live_id, "m02", "pass")
    assert (await org.state(live_id))["round"]["turn"]["name"] == "M01"  # round the room again, Ada still skipped
