"""The scenarios of issues 7 (a to d) and 14 (e), each measured against its baseline in the same run. Each returns
rows for the table: (figure, consent's value, the baseline's value, the baseline's name,
the goal as text, whether consent's value meets it, or None where the figure has no goal)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing
import shutil
import sqlite3
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Self

from bench import load, pages, servers
from bench.chromium import Chromium, ChromiumPage
from bench.seed import PASSWORD, Room, email_of

Row = tuple[str, float, float, str, str, bool | None]


@dataclass(frozen=True)
class Assembly:
    """(b): one proposal with this many sockets open, its author acting `rate` times a second;
    and the goal for the p99 of the time until an event has reached every socket."""

    sockets: int
    rate: float
    goal_ms: float


@dataclass(frozen=True)
class Meeting:
    """(e): a live meeting with this many pages open, `browsers` of them in Chromium, where the
    author acts `rate` times a second; and the goal for the p99 of action to visible everywhere."""

    pages: int
    browsers: int
    rate: float
    goal_ms: float


@dataclass(frozen=True)
class Scale:
    rooms: int  # (a): live proposals ...
    room_size: int  # ... of this many participants each
    assemblies: tuple[Assembly, ...]  # (b)
    seconds: float  # each measurement, after its warm-up
    warmup: float
    rate: float  # (a), (b): actions per second per proposal, steady
    window: int  # (a) flat out: actions in flight per proposal
    idle: int  # (d): idle sockets
    starts: int  # (d): server starts, the median counts
    processes: int  # load generator processes
    meetings: tuple[Meeting, ...]  # (e)
    meeting_seconds: float  # (e): each measurement, after its warm-up


FULL = Scale(
    rooms=100,
    room_size=10,
    # the hall of 2,000, and one busy meeting of 100 (10,000 deliveries a second: a)'s goal)
    assemblies=(Assembly(2000, 0.5, 250), Assembly(100, 100, 50)),
    seconds=10,
    warmup=2,
    rate=0.5,
    window=1,
    idle=1000,
    starts=3,
    processes=2,
    meetings=(Meeting(100, 5, 2, 100), Meeting(2000, 2, 0.5, 250)),
    meeting_seconds=20,
)
QUICK = Scale(
    rooms=10,
    room_size=5,
    assemblies=(Assembly(100, 2, 250), Assembly(20, 20, 50)),
    seconds=1.5,
    warmup=0.5,
    rate=2,
    window=1,
    idle=50,
    starts=1,
    processes=2,
    meetings=(Meeting(20, 2, 2, 100), Meeting(60, 0, 1, 250)),
    meeting_seconds=3,
)


DRAIN_SECONDS = 3.0  # after the senders stop, how long late events may still arrive and count


class Processes:
    """Load generator processes, one per plan, each running `target(plan, pipe)` and answering
    over its pipe: first when it is ready, then once per command."""

    def __init__(self, target: Callable[[Any, Connection], None], plans: list[Any]) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes, self.processes = [], []
        for plan in plans:
            ours, theirs = context.Pipe()
            process = context.Process(target=target, args=(plan, theirs), daemon=True)
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)
        self.receive_all()

    def receive_all(self) -> list[Any]:
        answers = [pipe.recv() for pipe in self.pipes]
        for answer in answers:
            if isinstance(answer, Exception):
                raise RuntimeError("a load process failed") from answer
        return answers

    def ask(self, command: str, argument: object = None) -> list[Any]:
        for pipe in self.pipes:
            pipe.send((command, argument))
        return self.receive_all()

    def join(self) -> None:
        for process in self.processes:
            process.join(30)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        for process in self.processes:
            if process.is_alive():
                process.kill()


class Fleet(Processes):
    """Load generator processes holding `sockets` (path, token, sends) between them, each
    greeted; `run` measures, `close` closes them."""

    def __init__(self, sockets: list[tuple[str, str, bool]], processes: int) -> None:
        super().__init__(load.main, [load.Plan(sockets[p::processes]) for p in range(processes)])

    def run(self, scale: Scale, rate: float | None, window: int = 1) -> list[load.Result]:
        begin = time.monotonic() + 0.3
        run = load.Run(begin, begin + scale.warmup, begin + scale.warmup + scale.seconds, rate, window)
        return self.ask("run", (run, DRAIN_SECONDS))

    def close(self) -> list[load.Result]:
        results = self.ask("close")
        self.join()
        return results


def sockets_of(
    running: list[servers.Server], rooms: list[Room], everyone: bool = True, sending: bool = True
) -> list[tuple[str, str, bool]]:
    """Each room's sockets, the author's first (the one that sends, if `sending`), dealt out to
    the running servers in turn, each room starting at the next server: with two servers, a
    room's sockets are split across both (its events cross between them) and so are the
    senders."""
    return [
        (running[(r + i) % len(running)].url + room.path, token, sending and i == 0)
        for r, room in enumerate(rooms)
        for i, token in enumerate(room.tokens if everyone else room.tokens[:1])
    ]


def ms(seconds: float) -> float:
    return seconds * 1000


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


PROBLEMS: list[str] = []  # printed under the table: a figure measured while the server failed is no figure


def check(results: list[load.Result], what: str) -> None:
    errors = sum(r.errors for r in results)
    closed = {int(code): n for r in results for code, n in r.closed.items() if code not in (1000, 0)}
    if errors or closed:
        PROBLEMS.append(f"{what}: {errors} actions refused; sockets closed by the server, by close code: {closed}")


def unheard(results: list[load.Result], sockets_per_room: int, what: str) -> None:
    """Each action sent in the window reaches every socket of its room before the drain ends;
    one that did not was lost, not slow (and a lost event holds its sender's window shut)."""
    expected = sum(r.sent for r in results) * sockets_per_room
    missing = expected - sum(len(r.latency) for r in results)
    stuck = sum(r.stuck for r in results)
    if missing > 0 or stuck:
        PROBLEMS.append(
            f"{what}: {missing} of {expected} deliveries of the actions sent never arrived;"
            f" {stuck} senders were left waiting for their own event"
        )


def fresh(template: Path, work: Path, name: str) -> Path:
    """A data directory holding a copy of the seeded database, for one server."""
    data_dir = work / f"{name}-{uuid.uuid4().hex[:6]}"
    data_dir.mkdir()
    shutil.copy(template, data_dir / "consent.db")
    return data_dir


StartServer = Callable[[Path], servers.Server]
# The servers one measurement runs against, started for it under a name (for their logs) and
# stopped after it: one process on its own copy of the seeded SQLite file, as people run it,
# or several on PostgreSQL + Redis (bench.scale_out).
Setup = Callable[[str], contextlib.AbstractContextManager[list[servers.Server]]]


def alone(start: StartServer, template: Path, work: Path) -> Setup:
    """One server of `start`'s on its own copy of the seeded database."""

    @contextlib.contextmanager
    def setup(name: str) -> Iterator[list[servers.Server]]:
        with start(fresh(template, work, name)) as server:
            yield [server]

    return setup


FanOut = tuple[float, float, float, float]  # (a): latency p50 and p99 in ms, delivered events/s steady and flat out


def fan_out_figures(scale: Scale, rooms: list[Room], setup: Setup, name: str) -> FanOut:
    """(a) Every room's author answers q1 at a steady rate, then as fast as the server echoes."""
    with setup(f"a-{name}") as running, Fleet(sockets_of(running, rooms), scale.processes) as fleet:
        steady = fleet.run(scale, scale.rate)
        flat_out = fleet.run(scale, None, scale.window)
        check(steady + flat_out + fleet.close(), f"(a) {name}")
    unheard(steady, scale.room_size, f"(a) {name}, steady")
    unheard(flat_out, scale.room_size, f"(a) {name}, flat out")
    latencies = [x for r in steady for x in r.latency]
    return (
        ms(quantile(latencies, 0.5)),
        ms(quantile(latencies, 0.99)),
        len(latencies) / scale.seconds,
        sum(len(r.latency) for r in flat_out) / scale.seconds,
    )


def fan_out(scale: Scale, rooms: list[Room], template: Path, work: Path) -> list[Row]:
    ours = fan_out_figures(scale, rooms, alone(servers.consent, template, work), "consent")
    bare = fan_out_figures(scale, rooms, alone(servers.relay, template, work), "bare")
    return fan_out_rows(scale, ours, bare)


def fan_out_rows(scale: Scale, ours: FanOut, bare: FanOut) -> list[Row]:
    n = scale.rooms * scale.room_size
    return [
        (
            f"a) {n} sockets, {scale.rooms} proposals: latency p50, ms",
            ours[0],
            bare[0],
            "websockets broadcast()",
            "",
            None,
        ),
        ("a) latency p99, ms", ours[1], bare[1], "websockets broadcast()", "≤ 50 ms", ours[1] <= 50),
        (
            f"a) delivered events/s at {scale.rate:g} actions/s per proposal",
            ours[2],
            bare[2],
            "websockets broadcast()",
            "",
            None,
        ),
        (
            f"a) delivered events/s flat out ({scale.window} in flight per proposal)",
            ours[3],
            bare[3],
            "websockets broadcast()",
            "≥ 50% of baseline",
            ours[3] >= 0.5 * bare[3],
        ),
    ]


def assembly(scale: Scale, large: list[Room], template: Path, work: Path) -> list[Row]:
    """(b) One proposal, everyone in it, for each of the scale's assemblies: how long until an
    event has reached every socket."""
    rows: list[Row] = []
    for size, room in zip(scale.assemblies, large):
        figures = {}
        for name, start in (("consent", servers.consent), ("bare", servers.relay)):
            with (
                start(fresh(template, work, f"b-{name}")) as server,
                Fleet(sockets_of([server], [room]), scale.processes) as fleet,
            ):
                results = fleet.run(scale, size.rate)
                check(results + fleet.close(), f"(b) {name}")
            reach = load.per_action(results)
            if any(count != len(room.tokens) for _, count in reach.values()):
                raise RuntimeError(f"(b) {name}: an event did not reach every socket")
            slowest = [slowest for slowest, _ in reach.values()]
            figures[name] = (ms(quantile(slowest, 0.5)), ms(quantile(slowest, 0.99)))
        ours, bare = figures["consent"], figures["bare"]
        n = len(room.tokens)
        rows += [
            (
                f"b) {n} sockets in one proposal, {size.rate:g} actions/s: time to reach all, p50, ms",
                ours[0],
                bare[0],
                "websockets broadcast()",
                "",
                None,
            ),
            (
                f"b) {n} sockets: time to reach all, p99, ms",
                ours[1],
                bare[1],
                "websockets broadcast()",
                f"≤ {size.goal_ms:g} ms",
                ours[1] <= size.goal_ms,
            ),
        ]
    return rows


def raw_inserts(path: Path, seconds: float) -> tuple[float, float]:
    """Single-row insert transactions with consent's own pragmas (consent.db): WAL,
    synchronous=NORMAL, BEGIN IMMEDIATE. How many a second, and the CPU seconds of each."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE event (id BLOB PRIMARY KEY, seq INTEGER, data TEXT)")
    done, began, cpu = 0, time.monotonic(), time.process_time()
    while time.monotonic() < began + seconds:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO event VALUES (?, ?, ?)", (uuid.uuid4().bytes, done, '{"text": "bench"}'))
        connection.execute("COMMIT")
        done += 1
    elapsed, cpu = time.monotonic() - began, time.process_time() - cpu
    connection.close()
    return done / elapsed, cpu / done


@dataclass(frozen=True)
class Durable:
    """(c)'s figures for one setup."""

    accepted: float  # actions/s
    cpu: float  # ms of the servers' CPU per accepted action
    others_cpu: float  # ms of the other processes' CPU (`others`) per accepted action


def durable_figures(
    scale: Scale, rooms: list[Room], setup: Setup, name: str, others: Callable[[], float] = lambda: 0.0
) -> Durable:
    """(c) Each room's author sends actions over its websocket, one in flight, as fast as they
    are accepted: an action counts when its event, committed and published, comes back. Also
    the servers' CPU time per accepted action over the same window (and that of `others`, the
    CPU seconds the processes they depend on have used so far): on a busy machine the
    throughput says how much CPU the server got as much as what it did with it."""
    with setup(f"c-{name}") as running, Fleet(sockets_of(running, rooms, everyone=False), scale.processes) as fleet:
        cpu: list[tuple[float, float]] = []
        # The run begins 0.3 s after it is asked for (Fleet.run); the window after the warm-up.
        timers = [
            threading.Timer(
                0.3 + scale.warmup + after, lambda: cpu.append((sum(s.cpu_seconds() for s in running), others()))
            )
            for after in (0, scale.seconds)
        ]
        for timer in timers:
            timer.start()
        results = fleet.run(scale, None, 1)
        for timer in timers:
            timer.join()
        check(results + fleet.close(), f"(c) {name}")
    unheard(results, 1, f"(c) {name}")
    accepted = max(sum(len(r.latency) for r in results), 1)
    return Durable(
        accepted / scale.seconds, ms((cpu[1][0] - cpu[0][0]) / accepted), ms((cpu[1][1] - cpu[0][1]) / accepted)
    )


def durable(scale: Scale, rooms: list[Room], template: Path, work: Path) -> list[Row]:
    ours = durable_figures(scale, rooms, alone(servers.consent, template, work), "consent")
    return durable_rows(rooms, ours, *raw_inserts(fresh(template, work, "c-sqlite") / "raw.db", scale.seconds))


def durable_rows(rooms: list[Room], ours: Durable, raw: float, raw_cpu: float) -> list[Row]:
    return [
        (
            f"c) accepted actions/s, {len(rooms)} websocket clients",
            ours.accepted,
            raw,
            "sqlite3 insert transactions",
            "≥ 2,000/s",
            ours.accepted >= 2000,
        ),
        (
            "c) server CPU per accepted action, ms",
            ours.cpu,
            ms(raw_cpu),
            "one sqlite3 insert transaction",
            "",
            None,
        ),
    ]


def idle_kib(start: StartServer, rooms: list[Room], scale: Scale, template: Path, work: Path, name: str) -> float:
    """Server memory per greeted idle socket: RSS after, less RSS before (after a warm-up
    that loads whatever the first sockets load), divided by the number of sockets."""
    with start(fresh(template, work, name)) as server:
        with Fleet(sockets_of([server], rooms[:1], sending=False), 1) as warm_up:
            warm_up.close()
        time.sleep(0.5)
        before = server.rss_kib()
        with Fleet(sockets_of([server], rooms, sending=False), scale.processes) as fleet:
            time.sleep(1.0)
            after = server.rss_kib()
            check(fleet.close(), f"(d) {name}")
    return (after - before) / sum(len(room.tokens) for room in rooms)


def footprint(scale: Scale, rooms: list[Room], template: Path, work: Path) -> list[Row]:
    """(d) Memory per idle socket, and how long a server takes from spawn to its first 200."""
    idle_rooms = rooms[: max(1, scale.idle // scale.room_size)]
    ours = idle_kib(servers.consent, idle_rooms, scale, template, work, "d-consent")
    bare = idle_kib(servers.relay, idle_rooms, scale, template, work, "d-bare")
    ready = {}
    for name, start in (("consent", servers.consent), ("litestar", servers.minimal_litestar)):
        times = []
        for _ in range(scale.starts):
            with start(fresh(template, work, f"d-{name}")) as server:
                times.append(server.ready_seconds)
        ready[name] = statistics.median(times)
    n = sum(len(room.tokens) for room in idle_rooms)
    return [
        (
            f"d) server memory per idle socket ({n} sockets), KiB",
            ours,
            bare,
            "websockets server",
            "≤ 30 KiB",
            ours <= 30,
        ),
        (
            f"d) start to ready (median of {scale.starts}), s",
            ready["consent"],
            ready["litestar"],
            "minimal Litestar app, uvicorn",
            "≤ 1.5 s",
            ready["consent"] <= 1.5,
        ),
    ]


CPU_GOAL_MS = 0.5  # (e): server CPU per event per open page
MEETING_DRAIN_SECONDS = 10.0  # (e): after the last action, how long the pages have to show everything


@dataclass
class Followed:
    """(e)'s figures for one behaviour of the pages."""

    p50: float  # ms from an action sent to its event visible on every page
    p99: float
    cpu: float  # ms of server CPU per event per open page


async def follow_meeting(scale: Scale, meeting: Meeting, room: Room, server: servers.Server) -> dict[str, Followed]:
    """The meeting's pages open once (in a 2,000-person meeting that takes minutes: each welcome
    describes the meeting), then follow it as today's script does, then as the baseline's."""
    loop = asyncio.get_running_loop()
    viewers = [pages.Viewer(room.path.removeprefix("/ws"), t, a) for t, a in zip(room.tokens, room.ids)]
    rest = viewers[meeting.browsers :]
    plans = [pages.Plan("127.0.0.1", server.port, rest[p :: scale.processes]) for p in range(scale.processes)]
    driver = pages.Driver(server.url, room.path, room.tokens[0])
    await driver.open()
    figures = {}
    async with contextlib.AsyncExitStack() as stack:
        fleet = stack.enter_context(await loop.run_in_executor(None, Processes, pages.main, plans))
        chromium = await stack.enter_async_context(Chromium()) if meeting.browsers else None
        base = f"http://127.0.0.1:{server.port}"
        for behaviour in (pages.VIEWS, pages.PAGES):
            await loop.run_in_executor(None, fleet.ask, "behave", behaviour)
            tabs = [  # member i of the seeded meeting
                await chromium.open(base, viewer, email_of(i), PASSWORD, behaviour)
                for i, viewer in enumerate(viewers[: meeting.browsers])
                if chromium
            ]
            figures[behaviour] = await follow(scale, meeting, server, driver, fleet, tabs, behaviour)
            for tab in tabs:
                await tab.context.close()
        await loop.run_in_executor(None, fleet.ask, "close")
        fleet.join()
    await driver.close()
    return figures


async def follow(
    scale: Scale,
    meeting: Meeting,
    server: servers.Server,
    driver: pages.Driver,
    fleet: Processes,
    tabs: list[ChromiumPage],
    behaviour: str,
) -> Followed:
    """The author acts at the meeting's rate while every page follows; each event's time to
    visible on the last page to show it, and the server's CPU time from the first action until
    every page shows the last (or the drain ends)."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(1 + 0.002 * meeting.pages)  # presence goes out after a quiet time (0.1 s + 2 ms a person)
    cpu = server.cpu_seconds()
    begin = time.time() + 0.2
    measure_from = begin + scale.warmup
    end = measure_from + scale.meeting_seconds
    await driver.act(begin, end, meeting.rate)
    with contextlib.suppress(TimeoutError):  # a server that cannot keep up: what was not acknowledged counts as unseen
        await asyncio.wait_for(driver.answered.wait(), MEETING_DRAIN_SECONDS)
    last = max(driver.sent_at)
    deadline = time.time() + MEETING_DRAIN_SECONDS
    sockets, browsers = await asyncio.gather(
        loop.run_in_executor(None, fleet.ask, "collect", (last, deadline)),
        Chromium.collect(tabs, behaviour, driver.concerns, last, deadline),
    )
    cpu = server.cpu_seconds() - cpu
    seen = pages.merge(sockets)
    for shown in browsers:
        for seq, at in shown.items():
            seen.latest[seq] = max(at, seen.latest.get(seq, 0.0))
            seen.pages[seq] = seen.pages.get(seq, 0) + 1
    what = f"(e) {meeting.pages} pages, {behaviour}"
    problems = driver.errors + seen.errors
    driver.errors.clear()
    if problems:
        PROBLEMS.append(f"{what}: {len(problems)} errors, the first: {problems[0]}")
    sent = {client_id: at for client_id, at in driver.sent.items() if at >= begin}
    measured = [driver.seq_of.get(client_id, 0) for client_id, at in sent.items() if measure_from <= at < end]
    everywhere = [
        seen.latest[seq] - driver.sent_at[seq] if seen.pages.get(seq) == meeting.pages else math.inf for seq in measured
    ]
    unreached = sum(math.isinf(x) for x in everywhere)
    if unreached:
        print(
            f"{what}: {unreached} of {len(measured)} events not on every page {MEETING_DRAIN_SECONDS:g} s after the"
            " last action (their time counts as infinite; the CPU per event is a lower bound: work was left undone)",
            flush=True,
        )
    return Followed(
        ms(quantile(everywhere, 0.5)), ms(quantile(everywhere, 0.99)), ms(cpu) / (len(sent) * meeting.pages)
    )


def meeting_pages(scale: Scale, meetings: list[Room], template: Path, work: Path) -> list[Row]:
    """(e) Live meetings through their pages, as they follow events today (views, and each
    concerned viewer's own part) and as they did before (a whole page per event)."""
    rows: list[Row] = []
    baseline = "a whole page per event"
    for meeting, room in zip(scale.meetings, meetings):
        with servers.consent(fresh(template, work, f"e-{meeting.pages}")) as server:
            figures = asyncio.run(follow_meeting(scale, meeting, room, server))
        ours, before = figures[pages.VIEWS], figures[pages.PAGES]
        n = meeting.pages
        rows += [
            (
                f"e) {n} pages ({meeting.browsers} Chromium), {meeting.rate:g} actions/s: to visible on all, p50, ms",
                ours.p50,
                before.p50,
                baseline,
                "",
                None,
            ),
            (
                f"e) {n} pages: to visible on all, p99, ms",
                ours.p99,
                before.p99,
                baseline,
                f"≤ {meeting.goal_ms:g} ms",
                ours.p99 <= meeting.goal_ms,
            ),
            (
                f"e) {n} pages: server CPU per event per open page, ms",
                ours.cpu,
                before.cpu,
                baseline,
                f"≤ {CPU_GOAL_MS:g} ms",
                ours.cpu <= CPU_GOAL_MS,
            ),
        ]
    return rows
