"""The scenarios of issue 7, each measured against its baseline in the same run. Each returns
rows for the table: (figure, consent's value, the baseline's value, the baseline's name,
the goal as text, whether consent's value meets it, or None where the figure has no goal)."""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import load, servers
from bench.seed import Room

Row = tuple[str, float, float, str, str, bool | None]


@dataclass(frozen=True)
class Scale:
    rooms: int  # (a): live proposals ...
    room_size: int  # ... of this many participants each
    assembly: int  # (b): participants in one proposal
    seconds: float  # each measurement, after its warm-up
    warmup: float
    rate: float  # (a), (b): actions per second per proposal, steady
    window: int  # (a) flat out: actions in flight per proposal
    idle: int  # (d): idle sockets
    starts: int  # (d): server starts, the median counts
    processes: int  # load generator processes


FULL = Scale(
    rooms=100, room_size=10, assembly=2000, seconds=10, warmup=2, rate=0.5, window=1, idle=1000, starts=3, processes=2
)
QUICK = Scale(
    rooms=10, room_size=5, assembly=100, seconds=1.5, warmup=0.5, rate=2, window=1, idle=50, starts=1, processes=2
)


DRAIN_SECONDS = 3.0  # after the senders stop, how long late events may still arrive and count


class Fleet:
    """Load generator processes holding `sockets` (path, token, sends) between them, each
    greeted; `run` measures, `close` closes them."""

    def __init__(self, url: str, sockets: list[tuple[str, str, bool]], processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes, self.processes = [], []
        for p in range(processes):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=load.main, args=(load.Plan(url, sockets[p::processes]), theirs), daemon=True
            )
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)
        self.receive_all()

    def receive_all(self) -> list[load.Result]:
        answers = [pipe.recv() for pipe in self.pipes]
        for answer in answers:
            if isinstance(answer, Exception):
                raise RuntimeError("a load process failed") from answer
        return answers

    def run(self, scale: Scale, rate: float | None, window: int = 1) -> list[load.Result]:
        begin = time.monotonic() + 0.3
        run = load.Run(begin, begin + scale.warmup, begin + scale.warmup + scale.seconds, rate, window)
        for pipe in self.pipes:
            pipe.send(("run", (run, DRAIN_SECONDS)))
        return self.receive_all()

    def close(self) -> list[load.Result]:
        for pipe in self.pipes:
            pipe.send(("close", None))
        results = self.receive_all()
        for process in self.processes:
            process.join(30)
        return results

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *_: object) -> None:
        for process in self.processes:
            if process.is_alive():
                process.kill()


def sockets_of(rooms: list[Room], everyone: bool = True, sending: bool = True) -> list[tuple[str, str, bool]]:
    """Each room's sockets, the author's first (the one that sends, if `sending`)."""
    return [
        (room.path, token, sending and i == 0)
        for room in rooms
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


def fresh(template: Path, work: Path, name: str) -> Path:
    """A data directory holding a copy of the seeded database, for one server."""
    data_dir = work / f"{name}-{uuid.uuid4().hex[:6]}"
    data_dir.mkdir()
    shutil.copy(template, data_dir / "consent.db")
    return data_dir


StartServer = Callable[[Path], servers.Server]


def fan_out(scale: Scale, rooms: list[Room], template: Path, work: Path) -> list[Row]:
    """(a) Every room's author answers q1 at a steady rate, then as fast as the server echoes."""
    figures = {}
    for name, start in (("consent", servers.consent), ("bare", servers.relay)):
        with (
            start(fresh(template, work, f"a-{name}")) as server,
            Fleet(server.url, sockets_of(rooms), scale.processes) as fleet,
        ):
            steady = fleet.run(scale, scale.rate)
            flat_out = fleet.run(scale, None, scale.window)
            check(steady + flat_out + fleet.close(), f"(a) {name}")
        latencies = [x for r in steady for x in r.latency]
        figures[name] = (
            ms(quantile(latencies, 0.5)),
            ms(quantile(latencies, 0.99)),
            len(latencies) / scale.seconds,
            sum(len(r.latency) for r in flat_out) / scale.seconds,
        )
    ours, bare = figures["consent"], figures["bare"]
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


def assembly(scale: Scale, large: Room, template: Path, work: Path) -> list[Row]:
    """(b) One proposal, everyone in it: how long until an event has reached every socket."""
    figures = {}
    for name, start in (("consent", servers.consent), ("bare", servers.relay)):
        with (
            start(fresh(template, work, f"b-{name}")) as server,
            Fleet(server.url, sockets_of([large]), scale.processes) as fleet,
        ):
            results = fleet.run(scale, scale.rate)
            check(results + fleet.close(), f"(b) {name}")
        reach = load.per_action(results)
        if any(count != len(large.tokens) for _, count in reach.values()):
            raise RuntimeError(f"(b) {name}: an event did not reach every socket")
        slowest = [slowest for slowest, _ in reach.values()]
        figures[name] = (ms(quantile(slowest, 0.5)), ms(quantile(slowest, 0.99)))
    ours, bare = figures["consent"], figures["bare"]
    n = len(large.tokens)
    return [
        (
            f"b) {n} sockets in one proposal: time to reach all, p50, ms",
            ours[0],
            bare[0],
            "websockets broadcast()",
            "",
            None,
        ),
        ("b) time to reach all, p99, ms", ours[1], bare[1], "websockets broadcast()", "≤ 250 ms", ours[1] <= 250),
    ]


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


def durable(scale: Scale, rooms: list[Room], template: Path, work: Path) -> list[Row]:
    """(c) Each room's author sends actions over its websocket, one in flight, as fast as they
    are accepted: an action counts when its event, committed and published, comes back. Also
    the server's CPU time per accepted action over the same window: on a busy machine the
    throughput says how much CPU the server got as much as what it did with it."""
    with (
        servers.consent(fresh(template, work, "c-consent")) as server,
        Fleet(server.url, sockets_of(rooms, everyone=False), scale.processes) as fleet,
    ):
        cpu: list[float] = []
        # The run begins 0.3 s after it is asked for (Fleet.run); the window after the warm-up.
        timers = [
            threading.Timer(0.3 + scale.warmup + after, lambda: cpu.append(server.cpu_seconds()))
            for after in (0, scale.seconds)
        ]
        for timer in timers:
            timer.start()
        results = fleet.run(scale, None, 1)
        for timer in timers:
            timer.join()
        check(results + fleet.close(), "(c)")
    accepted = sum(len(r.latency) for r in results)
    raw, raw_cpu = raw_inserts(fresh(template, work, "c-sqlite") / "raw.db", scale.seconds)
    return [
        (
            f"c) accepted actions/s, {len(rooms)} websocket clients",
            accepted / scale.seconds,
            raw,
            "sqlite3 insert transactions",
            "≥ 2,000/s",
            accepted / scale.seconds >= 2000,
        ),
        (
            "c) server CPU per accepted action, ms",
            ms((cpu[1] - cpu[0]) / max(accepted, 1)),
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
        with Fleet(server.url, sockets_of(rooms[:1], sending=False), 1) as warm_up:
            warm_up.close()
        time.sleep(0.5)
        before = server.rss_kib()
        with Fleet(server.url, sockets_of(rooms, sending=False), scale.processes) as fleet:
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
