"""The meeting socket under a seeded barrage against a real server: binary frames, text that is
not JSON, JSON of every wrong type, unknown and half-made actions, hellos out of place, frames
over the size limit and bursts of hundreds, on a live and an async proposal at once. After it,
the server still answers pages and new sockets, nothing went wrong inside it (no traceback in
its log), and every proposal's event log is contiguous: seq 1..n without a gap."""

from __future__ import annotations

import asyncio
import json
import random
import string
from collections import Counter
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.conftest import Server
from tests.e2e.meeting import Socket
from tests.e2e.org import Org, organisation
from tests.helpers import token_of

SEED = 17  # the same barrage every run
MAX_MESSAGE_BYTES = 65_536  # the server's default CONSENT_MAX_MESSAGE_BYTES
ACTIONS = [
    "start", "advance", "question", "answer", "reaction", "pass", "consent", "concern", "object", "stand_aside",
    "withdraw_objection", "amend", "not_adopted", "withdraw", "present", "absent", "test_objection",
    "keep_objection", "objection_to_concern", "change_mode", "skip", "back",
]  # fmt: skip
FIELDS = ["client_id", "text", "reason", "question_id", "objection_id", "on_behalf_of", "member_id", "to",
          "review_by", "criteria", "closes_at", "mode", "author_agreed", "driver", "since", "token"]  # fmt: skip


def junk(rng: random.Random, depth: int = 0) -> Any:
    """Any JSON value, of any type, sometimes nested."""
    kinds = ["int", "big", "float", "bool", "null", "text", "unicode"] + (["list", "object"] if depth < 2 else [])
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.randint(-5, 5)
    if kind == "big":
        return rng.choice([2**63, -(2**63) - 1, 2**200, 10**30])
    if kind == "float":
        return rng.choice([0.5, -1e308, 1e308])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "text":
        return "".join(rng.choices(string.printable, k=rng.randint(0, 40)))
    if kind == "unicode":
        return "".join(chr(rng.choice([0, 0x85, 0x2028, 0xFEFF, 0x1F600, rng.randint(0x20, 0xD7FF)])) for _ in range(8))
    if kind == "list":
        return [junk(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(FIELDS): junk(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def frame(rng: random.Random, members: list[str]) -> str | bytes:
    """One frame of the barrage, under the size limit."""
    kind = rng.randrange(10)
    if kind == 0:
        return rng.randbytes(rng.randint(0, 200))  # binary
    if kind == 1:
        return rng.choice(["", "{", "[1,", "nul", '{"type":', "\x00", "}{", '"type"', "{'type': 'ping'}"])
    if kind == 2:
        return json.dumps(junk(rng))  # any JSON at all
    if kind == 3:
        return json.dumps({"type": junk(rng), "client_id": junk(rng)})  # a type that is not a string
    if kind == 4:
        return json.dumps({"type": rng.choice(["nope", "HELLO", "ack", "welcome", "error", ""]), "client_id": "x"})
    if kind == 5:
        return json.dumps({"type": rng.choice(ACTIONS)})  # no client_id
    if kind == 6:
        return json.dumps({"type": "hello", "since": junk(rng), "token": junk(rng)})  # a second hello
    # an action with fields of any type, or plausible ones
    message: dict[str, Any] = {"type": rng.choice(ACTIONS), "client_id": f"fuzz-{rng.randrange(10**6)}"}
    for name in rng.sample(FIELDS, rng.randint(0, 4)):
        message[name] = junk(rng) if kind < 9 else rng.choice([*members, "q1", "o1", "consenting", "async", "live"])
    return json.dumps(message)


async def barrage(socket: Socket, rng: random.Random, members: list[str], count: int) -> None:
    """`count` frames at once, then a ping: the pong says the socket read them all and lives."""
    assert socket.connection is not None
    for _ in range(count):
        await socket.connection.send(frame(rng, members))
    heard = len(socket.received)
    await socket.send({"type": "ping"})
    await socket.wait_for(lambda s: any(m.get("type") == "pong" for m in s.received[heard:]), timeout=60)


async def greet_badly(org: Org, proposal_id: str, first: str | bytes) -> None:
    """A socket whose first frame is not a valid hello: refused with an error, and still
    waiting for a hello, which then works."""
    url = org.url.replace("http://", "ws://") + f"/ws/proposals/{proposal_id}"
    async with connect(url, proxy=None, open_timeout=10) as socket:
        await socket.send(first)
        answer = await asyncio.wait_for(socket.recv(), 10)
        assert json.loads(answer)["type"] == "error", answer
        await socket.send(json.dumps({"type": "hello", "since": 0, "token": token_of(org.people["ada"])}))
        welcome = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert welcome["type"] == "welcome", welcome


async def contiguous_log(org: Org, proposal_id: str) -> list[int]:
    seqs: list[int] = []
    while True:
        page = await org.events(proposal_id, since=seqs[-1] if seqs else 0)
        seqs += [event["seq"] for event in page]
        if not page:
            return seqs


@pytest.mark.asyncio(loop_scope="module")
async def test_a_barrage_of_bad_frames_breaks_nothing(module_server: Server, module_http: httpx.AsyncClient) -> None:
    rng = random.Random(SEED)
    org = await organisation(module_http, module_server.url, members=3)
    live = (await org.propose(mode="live", closes_at=None))["id"]
    await org.ok(live, "ada", "start")
    unhurried = (await org.propose())["id"]  # async
    await org.ok(unhurried, "ada", "start")
    members = [org.ids[name] for name in org.members]

    for first in [b"\x00\xff", "not json", "[]", '{"type": 1}', '{"type": "present", "client_id": "x"}']:
        await greet_badly(org, live, first)
    for first in [
        '{"type": "hello", "since": -1}',
        '{"type": "hello", "since": "0"}',
        '{"type": "hello", "since": 1.5}',
    ]:
        await greet_badly(org, unhurried, first)

    sockets = [Socket(org, who, proposal) for who in org.members for proposal in (live, unhurried)]
    for socket in sockets:
        await socket.open()
        if socket.proposal_id == live:
            await socket.ok("present")
    for round_ in range(3):
        await asyncio.gather(*(barrage(socket, rng, members, 100 + 50 * round_) for socket in sockets))

    # Over the size limit: that socket is closed (1009), the others go on.
    oversized = sockets[0]
    assert oversized.connection is not None
    codes = Counter(m["error"]["code"] for socket in sockets for m in socket.received if m.get("type") == "error")
    assert {"invalid_message", "unknown_action", "already_greeted"} <= set(codes), codes  # it was all read
    await oversized.connection.send(json.dumps({"type": "present", "client_id": "x" * MAX_MESSAGE_BYTES}))
    assert await oversized.wait_closed() == 1009
    await barrage(sockets[1], rng, members, 10)

    for socket in sockets:
        await socket.close()
    assert (await module_http.get(module_server.url + "/")).status_code == 200
    again = Socket(org, "m01", live)
    assert (await again.open(since=0))["type"] == "welcome"
    await barrage(again, rng, members, 0)  # it answers (the barrage may well have withdrawn the proposal)
    await again.close()
    for proposal_id in (live, unhurried):
        seqs = await contiguous_log(org, proposal_id)
        assert seqs == list(range(1, len(seqs) + 1)), (proposal_id, seqs)
    assert "Traceback" not in module_server.log.read_text(), module_server.log.read_text()[-5000:]
