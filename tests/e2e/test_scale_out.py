"""Several `consent serve` processes on one database and one Redis, with real `websockets`
clients on the loopback: one meeting's sockets split across two processes, a process killed
mid-meeting, Redis restarted mid-meeting, a deadline with three processes, `consent tick`
from outside, and `consent serve --workers`.

.ci/test runs these in its PostgreSQL pass, with its Redis; in CI they fail rather than skip
without either. Elsewhere they run on the suite's database (several processes on one SQLite
file work too), with a redis-server of the run's own if CONSENT_TEST_REDIS_URL is not set.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from consent.base.settings import Settings
from tests.conftest import PG_URL, REDIS_URL, RedisServer, Server, start_server
from tests.e2e.meeting import Socket
from tests.e2e.org import Org, Servers, organisation
from tests.e2e.test_meeting_sockets import MEMBERS, assert_exactly_once_in_order, round_in_turn
from tests.helpers import PASSWORD, sign_up

HEARTBEAT = 2.0  # seconds: how soon a dead process's members leave the presence list


@pytest.fixture(autouse=True)
def scaled_out(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every server these tests start shares the test's database and this Redis."""
    if os.environ.get("CI") and not (PG_URL and REDIS_URL):
        pytest.fail("CI runs the scale-out tests on PostgreSQL and Redis: .ci/test sets both URLs")
    monkeypatch.setenv("CONSENT_REDIS_URL", redis_url)
    monkeypatch.setenv("CONSENT_HEARTBEAT_SECONDS", str(HEARTBEAT))
    return redis_url


def started(servers: Servers, count: int) -> list[Server]:
    """`count` server processes, started side by side."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: servers.start(), range(count)))


def on(org: Org, server: Server) -> Org:
    """The same organisation, reached through another server process."""
    return dataclasses.replace(org, url=server.url)


def present(socket: Socket) -> list[str]:
    """The names in the last presence list the socket was told."""
    lists = [m["present"] for m in socket.received if m["type"] == "presence"]
    return sorted(p["name"] for p in lists[-1]) if lists else []


async def split_meeting(org: Org, first: Server, second: Server) -> tuple[str, dict[str, Socket], list[str]]:
    """A live proposal; Ada, M02 and M04 on the first process, M01 and M03 on the second, all
    saying they are present at once (the log takes them one after the other, from both
    processes). Also returns the speaking order that made."""
    proposal_id = (await org.propose(mode="live", closes_at=None))["id"]
    sockets = {who: Socket(on(org, first if n % 2 == 0 else second), who, proposal_id) for n, who in enumerate(MEMBERS)}
    for socket in sockets.values():
        await socket.open()
    await asyncio.gather(*(socket.ok("present") for socket in sockets.values()))
    order = [p["name"].lower() for p in (await org.state(proposal_id))["participants"]]
    assert sorted(order) == sorted(MEMBERS)
    return proposal_id, sockets, order


async def test_one_meeting_on_two_processes(servers: Servers, http: httpx.AsyncClient) -> None:
    first, second = started(servers, 2)
    org = await organisation(http, first.url, members=4)
    proposal_id, sockets, order = await split_meeting(org, first, second)
    everyone = sorted(["Ada", "M01", "M02", "M03", "M04"])
    for socket in sockets.values():  # the same list on both processes
        await socket.wait_for(lambda s: present(s) == everyone)
    ada, askers = sockets["ada"], [who for who in order if who != "ada"]  # Ada, the author, answers

    await ada.ok("start")
    await round_in_turn(sockets, {"m03": ("question", {"text": "Who holds the key?"})}, askers)
    await ada.ok("answer", question_id="q1", text="Whoever opens on Friday.")
    await ada.ok("advance")
    reactions = {"m01": ("reaction", {"text": "Love it"}), "m04": ("reaction", {"text": "Hmm"})}
    await round_in_turn(sockets, reactions, order)
    await ada.ok("advance")
    await round_in_turn(sockets, {who: ("consent", {}) for who in MEMBERS}, order)
    final = await ada.ok("advance")

    log = await org.events(proposal_id)
    assert [e["seq"] for e in log] == list(range(1, final + 1)) and log[-1]["type"] == "decided"
    for socket in sockets.values():
        await socket.wait_for_seq(final)
        assert_exactly_once_in_order(socket, log)
    for socket in sockets.values():
        await socket.close()


async def test_a_process_killed_mid_meeting(servers: Servers, http: httpx.AsyncClient) -> None:
    first, second = started(servers, 2)
    org = await organisation(http, first.url, members=4)
    proposal_id, sockets, order = await split_meeting(org, first, second)
    ada, askers = sockets["ada"], [who for who in order if who != "ada"]
    await ada.ok("start")
    acked = [await sockets[who].ok("pass") for who in askers[:2]]

    second.process.kill()  # SIGKILL: no goodbye, its presence keys are left to expire
    second.process.wait()
    killed = time.monotonic()
    await ada.wait_for(lambda s: present(s) == ["Ada", "M02", "M04"], timeout=3 * HEARTBEAT)
    assert time.monotonic() - killed <= HEARTBEAT + 1  # within the heartbeat time, give or take a refresh
    for who in ("m01", "m03"):
        assert await sockets[who].wait_closed() != 1000
        sockets[who].org = on(org, first)
        welcome = await sockets[who].open()  # resume on the other process from the last seq seen
        assert welcome["seq"] >= max(acked)
    await ada.wait_for(lambda s: len(present(s)) == 5)

    acked += [await sockets[who].ok("pass") for who in askers[2:]]
    log = await org.events(proposal_id)
    assert set(acked) <= {e["seq"] for e in log}  # nothing acknowledged was lost
    for socket in sockets.values():
        await socket.wait_for_seq(log[-1]["seq"])
        assert_exactly_once_in_order(socket, log)
        await socket.close()


@pytest.fixture
def own_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    """A Redis of this test's own, to restart."""
    server = RedisServer(tmp_path)
    server.start()
    monkeypatch.setenv("CONSENT_REDIS_URL", server.url)
    yield server
    server.stop()


async def test_redis_restarted_mid_meeting(own_redis: RedisServer, servers: Servers, http: httpx.AsyncClient) -> None:
    first, second = started(servers, 2)
    org = await organisation(http, first.url, members=4)
    proposal_id, sockets, order = await split_meeting(org, first, second)
    ada, askers = sockets["ada"], [who for who in order if who != "ada"]
    await ada.ok("start")
    await sockets[askers[0]].ok("pass")

    own_redis.stop()  # everything it held is gone; the meeting goes on, written to the database
    during = [await sockets[who].ok("pass") for who in askers[1:3]]
    own_redis.start()
    for socket in sockets.values():  # each catches up from the database once Redis is back
        await socket.wait_for_seq(max(during), timeout=15)
    after = await sockets[askers[3]].ok("pass")  # and live events flow again
    log = await org.events(proposal_id)
    assert log[-1]["seq"] == after
    for socket in sockets.values():
        await socket.wait_for_seq(after)
        assert_exactly_once_in_order(socket, log)
        # Presence, lost with Redis, is written again by every process and told.
        await socket.wait_for(lambda s: len(present(s)) == 5, timeout=3 * HEARTBEAT)
    for socket in sockets.values():
        await socket.close()


async def deadline_soon(org: Org, seconds: float) -> tuple[str, datetime]:
    """An async proposal in its consent round whose deadline is `seconds` away; M01 objects,
    so the deadline takes it to integration."""
    closes_at = datetime.now(UTC) + timedelta(seconds=seconds)
    proposal_id = (await org.propose(closes_at=closes_at.isoformat()))["id"]
    await org.to_consenting(proposal_id)
    await org.ok(proposal_id, "m01", "object", text="Not safe yet.")
    return proposal_id, closes_at


async def test_a_deadline_with_three_processes_is_decided_once(
    servers: Servers, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSENT_TICK_SECONDS", "0.5")  # every process looks for due proposals twice a second
    processes = started(servers, 3)
    org = await organisation(http, processes[0].url, members=2)
    proposal_id, _ = await deadline_soon(org, seconds=3)
    sockets = [Socket(on(org, server), "ada", proposal_id) for server in processes]
    for socket in sockets:
        await socket.open()
    await sockets[0].wait_for(lambda s: any(e["type"] == "deadline_passed" for e in s.events), timeout=15)
    log = await org.events(proposal_id)
    assert [e["type"] for e in log].count("deadline_passed") == 1
    assert (await org.state(proposal_id))["state"] == "integrating"
    for socket in sockets:  # open sockets on every process see it, once
        await socket.wait_for_seq(log[-1]["seq"])
        assert_exactly_once_in_order(socket, log)
        await socket.close()


async def test_consent_tick_from_outside_tells_every_process(
    servers: Servers, http: httpx.AsyncClient, settings: Settings
) -> None:
    """Two workers of `consent serve --workers 2` and one more process, whose own schedulers
    look only at start: the deadline is passed by `consent tick`, run as cron would."""
    workers, single = start_server(settings, "--workers", "2"), servers.start()
    servers.started.append(workers)
    org = await organisation(http, workers.url, members=2)
    proposal_id, closes_at = await deadline_soon(org, seconds=2)
    sockets = [Socket(on(org, server), who, proposal_id) for server in (workers, single) for who in org.members]
    for socket in sockets:
        await socket.open()
    await asyncio.sleep((closes_at - datetime.now(UTC)).total_seconds() + 0.1)
    ticking = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "consent.cli", "tick", env=single.env, stdout=asyncio.subprocess.PIPE
    )
    said, _ = await ticking.communicate()
    assert ticking.returncode == 0 and b"Closed 1 proposal" in said
    log = await org.events(proposal_id)
    assert [e["type"] for e in log].count("deadline_passed") == 1
    for socket in sockets:
        await socket.wait_for_seq(log[-1]["seq"])
        assert_exactly_once_in_order(socket, log)
        await socket.close()


async def test_a_sign_in_holds_on_every_process(
    servers: Servers, http: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    """Browser sessions are in Redis: a process on another machine (here: another data
    directory) knows the cookie the first one set."""
    first = servers.start()
    elsewhere = dataclasses.replace(settings, data_dir=tmp_path / "elsewhere")
    elsewhere.data_dir.mkdir()
    other = start_server(elsewhere)
    servers.started.append(other)
    account = await sign_up(http, "ada", url=first.url)
    signed = await http.post(first.url + "/api/sessions", json={"email": account["email"], "password": PASSWORD})
    assert signed.status_code == 200 and http.cookies
    me = await http.get(other.url + "/api/accounts/me")
    assert me.status_code == 200 and me.json()["id"] == account["id"]


def test_workers_need_redis(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSENT_REDIS_URL")
    with pytest.raises(RuntimeError, match="--workers needs CONSENT_REDIS_URL"):
        start_server(settings, "--workers", "2")
