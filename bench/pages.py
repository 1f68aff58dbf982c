"""Scenario (e)'s pages without a browser: socket clients that follow a live meeting exactly as
its page script (consent/static/meeting.js) does, many to a load process, and the driver that
acts in the meeting. Each client notes, by `time.time()` (the clock Chromium's
`performance.timeOrigin + performance.now()` reads), when each event became visible on it.

Two behaviours, as the scenario measures them side by side:

- VIEWS, the page of today: an event whose `view` starts right after what the page shows is
  applied (visible at once), and a page the view names in `now` (null: everyone) then fetches
  its own GET /proposals/{id}/now, one fetch at a time and once more if asked meanwhile (visible
  when that is done). An event without a view is followed 150 ms later by a check, and a page
  that still does not show it loads the whole page (80 ms debounce), as does a view that does
  not fit.
- PAGES, the baseline (the script before views): every event loads the whole page, 80 ms after
  the last of a burst, one fetch at a time and once more if events came meanwhile.

A page load shows every event up to the page's `#meeting[data-seq]`."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.load import run_process

VIEWS, PAGES = "views", "pages"
REFRESH_DELAY = 0.08  # meeting.js: refresh() waits for the rest of a burst
CHECK_DELAY = 0.15  # meeting.js: an event without a view is checked this long after
HEARTBEAT = 20.0  # meeting.js: {"type": "ping"} every 20 s
# Sockets opening at once, per process: each welcome reads on one of the server's few reading
# connections (consent.base.db.READERS), so more at once only wait longer.
OPENING = 16
RETRIES = 5  # meeting.js reconnects after a failed connection, with a growing, jittered delay
SEQ = re.compile(rb'id="meeting"[^>]*data-seq="(\d+)"')
NOT_EVENTS = {"welcome", "presence", "ack", "error", "pong"}


@dataclass(frozen=True)
class Viewer:
    """One open page: the proposal's page path (/proposals/{id}), whose it is."""

    path: str
    token: str
    account_id: str


@dataclass
class Plan:
    host: str
    port: int
    viewers: list[Viewer]


@dataclass
class Seen:
    """What one load process's pages saw: for each seq, the latest moment it became visible
    on one of them and on how many; and what went wrong."""

    latest: dict[int, float] = field(default_factory=dict)
    pages: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class Http:
    """One keep-alive HTTP/1.1 connection, as a browser tab holds one to its server: the least
    client-side work, since the load processes share the cores with the server measured."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.headers = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\nAccept: text/html\r\n\r\n".encode()
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: once more, anew
            if self.streams is None:
                self.streams = await asyncio.open_connection(self.host, self.port)
            reader, writer = self.streams
            try:
                writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\n" + self.headers)
                head = await reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
                continue
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            if "content-length" in headers:
                body = await reader.readexactly(int(headers["content-length"]))
            else:  # chunked
                chunks = []
                while size := int((await reader.readuntil(b"\r\n"))[:-2], 16):
                    chunks.append((await reader.readexactly(size + 2))[:-2])
                await reader.readuntil(b"\r\n")
                body = b"".join(chunks)
            if headers.get("connection", "").lower() == "close":
                self.close()
            return status, body
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


class Page:
    """One page's script, as meeting.js runs it, with the DOM left out: applying a view is
    noting the time."""

    def __init__(self, plan: Plan, viewer: Viewer, errors: list[str]) -> None:
        self.plan, self.viewer, self.errors = plan, viewer, errors
        self.behaviour = VIEWS
        self.http = Http(plan.host, plan.port, viewer.token)
        self.ws: ClientConnection | None = None
        self.first = self.seq = self.shown = 0
        self.visible: dict[int, float] = {}
        self.waiting_now: list[int] = []  # applied, visible once this viewer's own part is fetched
        self.loading = self.again = self.now_loading = self.now_again = False
        self.refreshing: asyncio.TimerHandle | None = None
        self.checking: asyncio.TimerHandle | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def open(self, limit: asyncio.Semaphore) -> None:
        for attempt in range(1, RETRIES + 1):
            try:
                async with limit:
                    await self.greet()
                break
            except (ConnectionClosed, OSError) as failed:  # counted: a figure measured so is no figure
                self.errors.append(f"{self.viewer.account_id}: opening failed ({failed!r:.200})")
                if attempt == RETRIES:
                    raise
                await asyncio.sleep(0.5 * 2**attempt * (0.5 + random.random() / 2))
        self.spawn(self.read())
        self.spawn(self.heartbeat())

    async def greet(self) -> None:
        self.ws = await connect(
            f"ws://{self.plan.host}:{self.plan.port}/ws{self.viewer.path}",
            proxy=None,
            compression=None,
            open_timeout=300,
            ping_interval=None,
            max_size=2**24,
        )
        # As a page loaded just now: it shows everything so far (a `since` beyond the log is the
        # log's end), without 2,000 page loads at the start.
        await self.ws.send(json.dumps({"type": "hello", "since": 2**62, "token": self.viewer.token}))
        welcome = json.loads(await self.ws.recv())
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"no welcome: {welcome!r:.200}")
        self.first = self.seq = self.shown = welcome["seq"]

    def behave(self, behaviour: str) -> None:
        """From now on as `behaviour`'s script, freshly loaded: showing everything so far."""
        for timer in (self.refreshing, self.checking):
            if timer:
                timer.cancel()
        self.behaviour, self.first = behaviour, self.seq
        self.shown = self.seq
        self.visible.clear()
        self.waiting_now.clear()

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def read(self) -> None:
        assert self.ws is not None
        try:
            async for text in self.ws:
                message = json.loads(text)
                kind = message.get("type")
                if kind == "error":
                    self.errors.append(f"{self.viewer.account_id}: {message!r:.300}")
                elif kind not in NOT_EVENTS and isinstance(message.get("seq"), int) and message["seq"] > self.seq:
                    self.seq = message["seq"]
                    if self.behaviour == VIEWS:
                        self.follow(message)
                    else:
                        self.refresh()
        except ConnectionClosed:
            pass
        if self.ws.close_code not in (1000, None):
            self.errors.append(f"{self.viewer.account_id}: socket closed with {self.ws.close_code}")

    async def heartbeat(self) -> None:
        assert self.ws is not None
        await asyncio.sleep(random.random() * HEARTBEAT)
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self.ws.send('{"type":"ping"}')
                await asyncio.sleep(HEARTBEAT)

    def follow(self, event: dict[str, Any]) -> None:
        if event["seq"] <= self.shown:
            return
        view = event.get("view")
        if view and view["from"] == self.shown + 1:
            applied = range(view["from"], event["seq"] + 1)
            self.shown = event["seq"]
            if view["now"] is None or self.viewer.account_id in view["now"]:
                self.waiting_now += applied
                self.spawn(self.load_now())
            else:
                self.show(applied)
            return
        if view:
            self.refresh()
            return
        if self.checking:
            self.checking.cancel()
        self.checking = asyncio.get_running_loop().call_later(
            CHECK_DELAY, lambda: self.refresh() if self.shown < self.seq else None
        )

    def show(self, seqs: range | list[int]) -> None:
        at = time.time()
        for seq in seqs:
            if seq > self.first:  # not a fetch begun before `behave`
                self.visible.setdefault(seq, at)

    def refresh(self) -> None:
        if self.refreshing:
            self.refreshing.cancel()
        self.refreshing = asyncio.get_running_loop().call_later(REFRESH_DELAY, lambda: self.spawn(self.load()))

    async def load_now(self) -> None:
        if self.now_loading:
            self.now_again = True
            return
        self.now_loading = True
        taken, self.waiting_now = self.waiting_now, []
        try:
            status, _ = await self.http.get(self.viewer.path + "/now")
            if status == 200:
                self.show(taken)
            else:
                self.errors.append(f"{self.viewer.account_id}: /now answered {status}")
        except (OSError, asyncio.IncompleteReadError) as failed:
            self.errors.append(f"{self.viewer.account_id}: /now failed: {failed!r}")
        finally:
            self.now_loading = False
            if self.now_again:
                self.now_again = False
                self.spawn(self.load_now())

    async def load(self) -> None:
        if self.loading:
            self.again = True
            return
        self.loading = True
        try:
            status, body = await self.http.get(self.viewer.path)
            if status != 200 or not (match := SEQ.search(body)):
                self.errors.append(f"{self.viewer.account_id}: the page answered {status}")
                return
            self.shown = max(self.shown, int(match[1]))
            self.show(range(self.first + 1, self.shown + 1))
            self.waiting_now = [seq for seq in self.waiting_now if seq > self.shown]
        except (OSError, asyncio.IncompleteReadError) as failed:
            self.errors.append(f"{self.viewer.account_id}: the page failed: {failed!r}")
        finally:
            self.loading = False
            if self.again:
                self.again = False
                self.spawn(self.load())

    def shows_all(self, last: int) -> bool:
        return len(self.visible) >= last - self.first

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.ws is not None:
            await self.ws.close()
        self.http.close()


async def serve(plan: Plan, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    errors: list[str] = []
    pages = [Page(plan, viewer, errors) for viewer in plan.viewers]
    limit = asyncio.Semaphore(OPENING)
    await asyncio.gather(*(page.open(limit) for page in pages))
    pipe.send("ready")
    while True:
        command, argument = await loop.run_in_executor(None, pipe.recv)
        if command == "behave":
            for page in pages:
                page.behave(argument)
            pipe.send(None)
        elif command == "collect":  # once every page shows every event up to `last`, or at `deadline`
            last, deadline = argument
            # polled: every page checked each 20 ms costs less than checking them at each page's change
            while time.time() < deadline and not all(page.shows_all(last) for page in pages):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            seen = Seen(errors=list(errors))
            errors.clear()
            for page in pages:
                for seq, at in page.visible.items():
                    seen.latest[seq] = max(at, seen.latest.get(seq, 0.0))
                    seen.pages[seq] = seen.pages.get(seq, 0) + 1
            pipe.send(seen)
        else:
            await asyncio.gather(*(page.close() for page in pages), return_exceptions=True)
            pipe.send(None)
            return


def main(plan: Plan, pipe: Connection) -> None:
    """A load process's entry point (multiprocessing target)."""
    run_process(serve, plan, pipe)


class Driver:
    """The author, acting from a socket of their own at a steady rate: answering the question
    asked (allowed at any time, whoever's turn it is). Notes, by the seq each action's ack
    gives, when it was sent, and, from the events' views, whom each event concerns."""

    def __init__(self, url: str, path: str, token: str) -> None:
        self.url, self.path, self.token = url, path, token
        self.sent: dict[str, float] = {}  # client_id -> time.time() at sending
        self.seq_of: dict[str, int] = {}  # client_id -> its event's seq, from the ack
        self.sent_at: dict[int, float] = {}  # seq -> the time it was sent
        self.concerns: dict[int, list[str] | None] = {}  # seq -> the view's `now` (None: everyone)
        self.errors: list[str] = []
        self.ids = itertools.count()
        self.answered = asyncio.Event()  # every action sent is acknowledged or refused

    async def open(self) -> int:
        """Greets; returns the seq of the log's end."""
        self.ws = await connect(self.url + self.path, proxy=None, compression=None, max_size=2**24)
        await self.ws.send(json.dumps({"type": "hello", "since": 2**62, "token": self.token}))
        welcome = json.loads(await self.ws.recv())
        self.reader = asyncio.ensure_future(self.read())
        return int(welcome["seq"])

    async def read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in self.ws:
                message = json.loads(text)
                kind = message.get("type")
                if kind == "ack":
                    self.seq_of[message["client_id"]] = message["seq"]
                    self.sent_at[message["seq"]] = self.sent[message["client_id"]]
                elif kind == "error":
                    self.errors.append(f"the driver's action refused: {message!r:.300}")
                    self.sent.pop(message.get("client_id", ""), None)
                elif kind not in NOT_EVENTS and (view := message.get("view")):
                    for seq in range(view["from"], message["seq"] + 1):
                        self.concerns[seq] = view["now"]
                if len(self.sent_at) == len(self.sent):
                    self.answered.set()

    async def act(self, begin: float, end: float, rate: float) -> None:
        """Answers at `rate` a second from `begin` to `end` (time.time())."""
        at = begin
        while at < end:
            await asyncio.sleep(max(0.0, at - time.time()))
            client_id = f"driver-{next(self.ids)}"
            self.answered.clear()
            self.sent[client_id] = time.time()
            text = f"Answer {client_id}: because we meet a lot."
            await self.ws.send(
                json.dumps({"type": "answer", "client_id": client_id, "question_id": "q1", "text": text})
            )
            at += 1 / rate

    async def close(self) -> None:
        await self.ws.close()
        await self.reader


def merge(seen: list[Seen]) -> Seen:
    """The load processes' notes as one."""
    merged = Seen()
    counts: dict[int, int] = defaultdict(int)
    for part in seen:
        merged.errors += part.errors
        for seq, at in part.latest.items():
            merged.latest[seq] = max(at, merged.latest.get(seq, 0.0))
            counts[seq] += part.pages[seq]
    merged.pages = dict(counts)
    return merged
