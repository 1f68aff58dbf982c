"""The load generator: a process of its own holding many `websockets` clients, driven over a
pipe by the bench. The same code drives consent and the bare baseline server.

Each socket says hello with its token and waits for its welcome; then, on `run`, the senders
(one socket per room) send `answer` actions whose text carries `time.monotonic()` at sending
(system-wide on Linux, so comparable between processes), and every socket that receives the
event notes how long it took. Acks, presence and replayed events carry no stamp and are only
read."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import resource
import time
from array import array
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

MARK = "bench@"  # precedes the send time in an action's text
OPENING = 20  # sockets opening at once, per process


@dataclass
class Plan:
    sockets: list[tuple[str, str, bool]]  # (ws://host:port/path, token, whether it sends the room's actions)


@dataclass
class Run:
    """One measurement: senders act from `begin` to `end` (monotonic); what was sent before
    `measure_from` warms up and is not counted. `rate` actions/s per sender, or, when None,
    as fast as the server echoes them with `window` actions in flight per sender."""

    begin: float
    measure_from: float
    end: float
    rate: float | None = None
    window: int = 1


@dataclass
class Result:
    sent_at: array = field(default_factory=lambda: array("d"))  # per delivery, in the window
    latency: array = field(default_factory=lambda: array("d"))
    errors: int = 0
    sent: int = 0  # actions sent in the window
    stuck: int = 0  # senders still waiting, after the drain, for their own events to come back
    closed: dict[int, int] = field(default_factory=dict)  # close code -> sockets closed so


def raise_file_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def stamp(text: str) -> float | None:
    at = text.find(MARK)
    if at < 0:
        return None
    at += len(MARK)
    return float(text[at : text.index(";", at)])


class Client:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.sockets: list[tuple[ClientConnection, bool]] = []
        self.result = Result()
        self.run: Run | None = None
        self.slots: dict[ClientConnection, asyncio.Semaphore] = {}
        self.ids = itertools.count()
        self.readers: list[asyncio.Task[None]] = []

    async def open_one(self, url: str, token: str, limit: asyncio.Semaphore) -> ClientConnection:
        async with limit:
            ws = await connect(url, proxy=None, compression=None, open_timeout=120, ping_interval=None, max_size=2**24)
            await ws.send(json.dumps({"type": "hello", "since": 0, "token": token}))
            welcome = await ws.recv()
            if '"welcome"' not in welcome:
                raise RuntimeError(f"no welcome: {welcome[:200]!r}")
            # Read at once: a socket left unread stops reading after a few messages (presence
            # while the others open), so answers no ping, and the server rightly closes it.
            self.readers.append(asyncio.create_task(self.read(ws)))
            return ws

    async def open(self) -> None:
        limit = asyncio.Semaphore(OPENING)
        opened = await asyncio.gather(*(self.open_one(url, token, limit) for url, token, _ in self.plan.sockets))
        self.sockets = [(ws, sends) for ws, (_, _, sends) in zip(opened, self.plan.sockets)]

    async def read(self, ws: ClientConnection) -> None:
        try:
            async for text in ws:
                sent = stamp(text)
                if sent is None:
                    if '"type": "error"' in text:  # consent's error messages, as rounds.sockets writes them
                        self.result.errors += 1
                    continue
                now = time.monotonic()
                run = self.run
                if run is not None and run.measure_from <= sent < run.end:
                    self.result.sent_at.append(sent)
                    self.result.latency.append(now - sent)
                if ws in self.slots:  # a sender's own event is back: one more may go
                    self.slots[ws].release()
        except ConnectionClosed:
            pass
        code = ws.close_code or 0
        self.result.closed[code] = self.result.closed.get(code, 0) + 1

    def action(self) -> str:
        now = time.monotonic()
        if self.run is not None and self.run.measure_from <= now < self.run.end:
            self.result.sent += 1
        text = f"{MARK}{now:.6f};"
        return json.dumps(
            {"type": "answer", "client_id": f"b{id(self)}-{next(self.ids)}", "question_id": "q1", "text": text}
        )

    async def send_steadily(self, ws: ClientConnection, run: Run) -> None:
        assert run.rate
        period = 1 / run.rate
        at = run.begin + random.random() * period  # senders spread over the period, not in step
        while at < run.end:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            await ws.send(self.action())
            at += period

    async def send_flat_out(self, ws: ClientConnection, run: Run) -> None:
        slots = self.slots[ws] = asyncio.Semaphore(run.window)
        await asyncio.sleep(max(0.0, run.begin - time.monotonic()))
        while time.monotonic() < run.end:
            try:
                await asyncio.wait_for(slots.acquire(), run.end - time.monotonic())
            except TimeoutError:
                return
            await ws.send(self.action())

    async def measure(self, run: Run, drain: float) -> Result:
        self.result, self.run = Result(), run
        send = self.send_steadily if run.rate else self.send_flat_out
        with contextlib.suppress(ConnectionClosed):  # counted by its reader
            await asyncio.gather(*(send(ws, run) for ws, sends in self.sockets if sends))
        await asyncio.sleep(max(0.0, run.end + drain - time.monotonic()))
        self.result.stuck = sum(slots.locked() for slots in self.slots.values())
        self.run = None
        self.slots.clear()
        return self.result

    async def close(self) -> Result:
        await asyncio.gather(*(ws.close() for ws, _ in self.sockets), return_exceptions=True)
        await asyncio.gather(*self.readers, return_exceptions=True)
        return self.result


async def serve(plan: Plan, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    client = Client(plan)
    await client.open()
    pipe.send("ready")
    while True:
        command, argument = await loop.run_in_executor(None, pipe.recv)
        if command == "run":
            run, drain = argument
            pipe.send(await client.measure(run, drain))
        else:
            pipe.send(await client.close())
            return


def run_process(serve: Callable[[Any, Connection], Awaitable[None]], plan: Any, pipe: Connection) -> None:
    """Runs a load process's `serve`; a failure is sent over its pipe, so the bench reports it
    instead of waiting for a process that is gone."""
    raise_file_limit()
    try:
        uvloop.run(serve(plan, pipe))
    except Exception as exc:
        pipe.send(exc)
        raise


def main(plan: Plan, pipe: Connection) -> None:
    """A load process's entry point (multiprocessing target)."""
    run_process(serve, plan, pipe)


def per_action(results: list[Result]) -> dict[float, tuple[float, int]]:
    """For each action (its send time), the latest arrival and how many sockets it reached."""
    reach: dict[float, list[Any]] = defaultdict(lambda: [0.0, 0])
    for result in results:
        for sent, latency in zip(result.sent_at, result.latency):
            entry = reach[sent]
            entry[0] = max(entry[0], latency)
            entry[1] += 1
    return {sent: (slowest, count) for sent, (slowest, count) in reach.items()}
