"""What people see of a circle's meeting (issue 19): the meeting page /meetings/{id}, whose
script (consent/static/meeting_room.js) puts each action's view in place (the part of the
page that is the same for everyone) and fetches the viewer's forms (GET
/meetings/{id}?part=now) when the view names them, against the baseline of a proposal's live
page /proposals/{id} (consent/static/meeting.js, which applies each event's view in place).

A real server (`consent serve`, SQLite) on loopback; a circle of N members, everyone present;
K of them on phones in headless Chromium (390x844, signed in through the sign-in form), the
others socket clients that do what the page's script does on each event, with their token.
In the meeting's opening round each member checks in in turn through the API; in a proposal's
reaction round, in the same circle with the same pages, each reacts in turn. For each, the
time from the POST being sent to its words being visible on every page: in Chromium by a
MutationObserver reading `performance.timeOrigin + performance.now()` (the clock
`time.time()` reads), on a socket client when a fetched part or an applied view holds them.
One action at a time, each once seen everywhere (and a short pause), as people take turns.

    python -m bench.meeting_room [--members 4 30] [--chromium 3] [--repeats 3]"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from playwright.async_api import BrowserContext
from playwright.async_api import Page as Tab
from sqlalchemy.ext.asyncio import async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench import servers
from bench.chromium import Chromium
from bench.pages import NOT_EVENTS, Http, Page, Plan, Viewer
from bench.seed import PASSWORD, email_of, token_of
from circles.models import Circle, Domain, Membership, Role
from circles.rules import FACILITATOR
from consent.accounts.models import Account, ApiToken
from consent.base import db
from consent.base.tokens import hash_token

WORD = re.compile(rb"benchw[0-9a-f]{8}x")  # each action's words: unique, found in any page's text
WATCH = """(() => {
  const clock = () => performance.timeOrigin + performance.now();
  const seen = (window.benchWords = {});
  new MutationObserver(() => {
    const at = clock();
    for (const word of document.body?.textContent.match(/benchw[0-9a-f]{8}x/g) || []) if (!(word in seen)) seen[word] = at;
  }).observe(document, { childList: true, subtree: true, characterData: true });
})();"""
CONNECTED = """() => {
  const status = document.querySelector('#meeting-room .connection');
  return status && status.textContent === JSON.parse(document.getElementById('meeting-room-words').textContent).connected;
}"""
PAUSE = 0.3  # between turns: the next speaker starts once the last one's words are everywhere
DEADLINE = 60.0
QUIET_LOADS = 10


def words() -> str:
    return f"benchw{uuid.uuid4().hex[:8]}x"


def note(seen: dict[str, float], text: bytes) -> None:
    at = time.time()
    for word in WORD.findall(text):
        seen.setdefault(word.decode(), at)


class WordsHttp(Http):
    """A page's keep-alive connection that notes when the words of each answer arrived."""

    def __init__(self, host: str, port: int, token: str, seen: dict[str, float]) -> None:
        super().__init__(host, port, token)
        self.seen = seen

    async def get(self, path: str) -> tuple[int, bytes]:
        status, body = await super().get(path)
        note(self.seen, body)
        return status, body


class MeetingClient:
    """meeting_room.js without the DOM: an event's view put in place if the client shows every
    event before it (its words are visible then), and its forms fetched again when the view
    names it; else, after a gap, the main section loaded, one load at a time and once more if
    events came meanwhile (its words are visible once loaded)."""

    def __init__(self, host: str, port: int, meeting_id: str, token: str, viewer: str, errors: list[str]) -> None:
        self.url = f"ws://{host}:{port}/ws/meetings/{meeting_id}"
        self.part = f"/meetings/{meeting_id}?part=main"
        self.now = f"/meetings/{meeting_id}?part=now"
        self.token, self.viewer, self.errors = token, viewer, errors
        self.seen: dict[str, float] = {}
        self.http = WordsHttp(host, port, token, self.seen)
        self.seq = self.shown = 0
        self.loading: dict[str, bool] = {}  # by part: a load under way, and whether another is due after it
        self.tasks: set[asyncio.Task[None]] = set()
        self.ws: ClientConnection | None = None

    async def open(self) -> None:
        self.ws = await connect(self.url, proxy=None, compression=None, ping_interval=None, max_size=2**24)
        # As a page loaded just now: it shows everything so far (a `since` beyond the log is its end).
        await self.ws.send(json.dumps({"type": "hello", "since": 2**62, "token": self.token}))
        welcome = json.loads(await self.ws.recv())
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"no welcome: {welcome!r:.200}")
        self.seq = self.shown = welcome["seq"]
        self.spawn(self.read())

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def read(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            async for text in self.ws:
                event = json.loads(text)
                if event.get("type") == "error":
                    self.errors.append(f"meeting socket: {event!r:.300}")
                elif (
                    event.get("type") not in NOT_EVENTS
                    and isinstance(event.get("seq"), int)
                    and event["seq"] > self.seq
                ):
                    self.follow(event)

    def follow(self, event: dict[str, Any]) -> None:
        self.seq = event["seq"]
        view = event.get("view")
        if view and view["from"] == self.shown + 1:
            note(self.seen, view["live"].encode())  # put in the page as it comes
            self.shown = event["seq"]
            if view["now"] is None or self.viewer in view["now"]:
                self.load(self.now)
        elif view:  # a gap; an event without its view is followed by the one that brings it
            self.load(self.part)

    def load(self, part: str) -> None:
        if part in self.loading:
            self.loading[part] = True
            return
        self.loading[part] = False
        self.spawn(self.fetch(part))

    async def fetch(self, part: str) -> None:
        try:
            while True:
                self.loading[part] = False
                upto = self.seq
                status, _body = await self.http.get(part)
                if status != 200:
                    self.errors.append(f"{part} answered {status}")
                if part == self.part:
                    self.shown = max(self.shown, upto)
                if not self.loading[part]:
                    return
        finally:
            del self.loading[part]

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.ws is not None:
            await self.ws.close()
        self.http.close()


class ProposalClient(Page):
    """bench.pages' meeting.js without the DOM (VIEWS, today's), noting when each action's words
    became visible: in a view applied, or in a part or page fetched."""

    def __init__(self, plan: Plan, viewer: Viewer, errors: list[str]) -> None:
        super().__init__(plan, viewer, errors)
        self.seen: dict[str, float] = {}
        self.http = WordsHttp(plan.host, plan.port, viewer.token, self.seen)

    def follow(self, event: dict[str, Any]) -> None:
        view = event.get("view")
        if view and event["seq"] > self.shown and view["from"] == self.shown + 1:
            note(self.seen, json.dumps(view["ops"]).encode())  # put in the page as it comes
        super().follow(event)


async def seed(url: str, sizes: list[int]) -> tuple[list[tuple[str, str]], list[str]]:
    """Accounts m0… with tokens (bench.seed's), and a circle of each size of the first members,
    m0 its facilitator, with a domain: (circle id, domain id) of each, and the members' ids."""
    password_hash = PasswordHasher().hash(PASSWORD)
    people = [uuid.uuid4() for _ in range(max(sizes))]
    engine = db.create_engine(url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            session.add_all(
                Account(id=a, name=f"Member {i:02d}", email=email_of(i), password_hash=password_hash)
                for i, a in enumerate(people)
            )
            await session.flush()
            session.add_all(ApiToken(account_id=a, token_hash=hash_token(token_of(i))) for i, a in enumerate(people))
            circles = []
            for size in sizes:
                circle = Circle(id=uuid.uuid4(), name=f"Circle of {size}", organisation_id=uuid.uuid4())
                circle.organisation_id = circle.id
                domain = Domain(id=uuid.uuid4(), circle_id=circle.id, name="Meetings")
                members = [
                    Membership(circle_id=circle.id, account_id=a, roles=[Role(name=FACILITATOR)] if i == 0 else [])
                    for i, a in enumerate(people[:size])
                ]
                session.add_all([circle, domain, *members])
                circles.append((str(circle.id), str(domain.id)))
            await session.commit()
    finally:
        await engine.dispose()
    return circles, [str(a) for a in people]


class Api:
    def __init__(self, base: str) -> None:
        self.client = httpx.AsyncClient(base_url=base, timeout=60)

    async def post(self, member: int, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self.client.post(path, json=body, headers={"Authorization": f"Bearer {token_of(member)}"})
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"POST {path} by m{member}: {answer.status_code} {answer.text[:300]}")
        result: dict[str, Any] = answer.json()
        return result

    async def act(self, member: int, path: str, kind: str, **data: str) -> None:
        await self.post(member, path, {"type": kind, "client_id": uuid.uuid4().hex, **data})


@dataclass(frozen=True)
class Room:
    """Where a round is taken: the server, the circle, its size, the Chromium pages of its first members."""

    api: Api
    base: str
    port: int
    circle: str
    domain: str
    ids: list[str]  # the members'
    tabs: list[Tab]
    errors: list[str]
    alone: list[float]  # seconds of one GET ?part=main on a quiet server, once the round is over


async def turns(
    room: Room, clients: list[dict[str, float]], take: Callable[[int, str], Awaitable[None]]
) -> tuple[list[float], list[float]]:
    """Each member's turn in order: seconds from sending it to its words on every page, and on
    the Chromium pages alone."""
    everywhere, on_phones = [], []
    for member in range(len(room.ids)):
        said = words()
        sent = time.time()
        await take(member, said)
        while True:
            phones = [await tab.evaluate("w => window.benchWords[w]", said) for tab in room.tabs]
            sockets = [seen.get(said) for seen in clients]
            if all(at is not None for at in phones + sockets) or time.time() > sent + DEADLINE:
                break
            await asyncio.sleep(0.05)
        if any(at is None for at in phones + sockets):
            room.errors.append(f"m{member}'s words not everywhere within {DEADLINE} s")
            continue
        chromium = [at / 1000 - sent for at in phones]
        on_phones.append(max(chromium, default=0.0))
        everywhere.append(max([*chromium, *(at - sent for at in sockets if at is not None)]))
        await asyncio.sleep(PAUSE)
    return everywhere, on_phones


async def meeting_round(room: Room) -> tuple[list[float], list[float]]:
    starts_at = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    meeting = await room.api.post(0, f"/api/circles/{room.circle}/meetings", {"starts_at": starts_at, "place": "Hall"})
    acts = f"/api/meetings/{meeting['id']}/actions"
    for member in range(len(room.ids)):  # the round's order: the order they joined
        await room.api.act(member, acts, "present")
    await room.api.act(0, acts, "start")
    for tab in room.tabs:
        await tab.goto(f"{room.base}/meetings/{meeting['id']}")
        await tab.wait_for_function(CONNECTED, timeout=60_000)
    clients = [
        MeetingClient("127.0.0.1", room.port, meeting["id"], token_of(m), room.ids[m], room.errors)
        for m in range(len(room.tabs), len(room.ids))
    ]
    await asyncio.gather(*(client.open() for client in clients))
    try:
        taken = await turns(
            room,
            [c.seen for c in clients],
            lambda member, said: room.api.act(member, acts, "check_in", text=f"Arriving: {said}"),
        )
        for _ in range(QUIET_LOADS if clients else 0):  # what one of the N loads of each event costs
            began = time.perf_counter()
            await clients[0].http.get(clients[0].part)
            room.alone.append(time.perf_counter() - began)
        return taken
    finally:
        await asyncio.gather(*(client.close() for client in clients))


async def proposal_round(room: Room) -> tuple[list[float], list[float]]:
    body = {"title": "Meet less", "driver": "We meet a lot.", "text": "Meet less.", "domain_id": room.domain}
    proposal = await room.api.post(0, f"/api/circles/{room.circle}/proposals", body | {"mode": "live"})
    acts = f"/api/proposals/{proposal['id']}/actions"
    for member in range(len(room.ids)):
        await room.api.act(member, acts, "present")
    await room.api.act(0, acts, "start")
    await room.api.act(0, acts, "advance")  # to the reaction round
    for tab in room.tabs:
        await tab.goto(f"{room.base}/proposals/{proposal['id']}")
        await tab.wait_for_selector('#meeting[data-state="connected"]', state="attached", timeout=60_000)
    plan = Plan("127.0.0.1", room.port, [])
    clients = [
        ProposalClient(plan, Viewer(f"/proposals/{proposal['id']}", token_of(m), room.ids[m]), room.errors)
        for m in range(len(room.tabs), len(room.ids))
    ]
    await asyncio.gather(*(client.open(asyncio.Semaphore(16)) for client in clients))
    try:
        return await turns(
            room,
            [c.seen for c in clients],
            lambda member, said: room.api.act(member, acts, "reaction", text=f"I like it: {said}"),
        )
    finally:
        await asyncio.gather(*(client.close() for client in clients))


async def signed_in(chromium: Chromium, base: str, member: int) -> tuple[BrowserContext, Tab]:
    assert chromium.browser is not None
    context = await chromium.browser.new_context(viewport={"width": 390, "height": 844})
    tab = await context.new_page()
    await tab.goto(base + "/sign-in")
    await tab.get_by_label("Email").fill(email_of(member))
    await tab.get_by_label("Password").fill(PASSWORD)
    await tab.get_by_role("button", name="Sign in").click()
    await tab.get_by_role("status").filter(has_text="Signed in as").wait_for(timeout=60_000)
    await context.add_init_script(WATCH)
    return context, tab


async def measure(
    sizes: list[int], phones: int, repeats: int
) -> dict[tuple[int, str], tuple[list[float], list[float]]]:
    results: dict[tuple[int, str], tuple[list[float], list[float]]] = {}
    errors: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        url = f"sqlite+aiosqlite:///{data_dir / 'consent.db'}"
        await asyncio.to_thread(db.upgrade, url)
        circles, ids = await seed(url, sizes)
        with servers.consent(data_dir) as server:
            base = f"http://127.0.0.1:{server.port}"
            api = Api(base)
            async with Chromium() as chromium:
                tabs = [(await signed_in(chromium, base, m))[1] for m in range(phones)]
                for _ in range(repeats):  # the two in turn, so that the machine's noise falls on both
                    for size, (circle, domain) in zip(sizes, circles):
                        alone = results.setdefault((size, "alone"), ([], []))[0]
                        room = Room(api, base, server.port, circle, domain, ids[:size], tabs[:size], errors, alone)
                        for kind, round_in in (("meeting", meeting_round), ("proposal", proposal_round)):
                            everywhere, on_phones = await round_in(room)
                            results.setdefault((size, kind), ([], []))
                            results[(size, kind)][0].extend(everywhere)
                            results[(size, kind)][1].extend(on_phones)
            await api.client.aclose()
    if errors:
        raise RuntimeError("PROBLEM: " + "; ".join(errors[:10]))
    return results


def summary(times: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max, in ms."""
    ms = sorted(t * 1000 for t in times)
    p99 = statistics.quantiles(ms, n=100, method="inclusive")[98] if len(ms) > 1 else ms[0]
    return statistics.median(ms), p99, ms[-1]


def report(results: dict[tuple[int, str], tuple[list[float], list[float]]], phones: int) -> None:
    print(
        f"| N  | pages            | turns | {'meeting p50/p99/max ms':>24} | {'proposal p50/p99/max ms':>24} | ratio p50/p99/max |"
    )
    print(f"| -- | ---------------- | ----- | {'-' * 24} | {'-' * 24} | ----------------- |")
    for size in sorted({s for s, _ in results}):
        for which in (0, 1):  # every page, the Chromium pages alone
            meeting = summary(results[(size, "meeting")][which])
            proposal = summary(results[(size, "proposal")][which])
            cells = " / ".join(f"{m / p:.1f}" for m, p in zip(meeting, proposal))
            pages = (
                f"{min(phones, size)} Chromium" if which else f"{min(phones, size)} Chromium + {max(size - phones, 0)}"
            )
            print(
                f"| {size:<2} | {pages:16} | {len(results[(size, 'meeting')][which]):5} "
                f"| {' / '.join(f'{v:.0f}' for v in meeting):>24} "
                f"| {' / '.join(f'{v:.0f}' for v in proposal):>24} | {cells:>17} |"
            )
    for size in sorted({s for s, _ in results if results[(s, "alone")][0]}):
        p50, p99, _max = summary(results[(size, "alone")][0])
        print(
            f"N={size}: one GET /meetings/{{id}}?part=main alone, after the round: p50 {p50:.0f} ms, p99 {p99:.0f} ms"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.meeting_room", description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, nargs="+", default=[4, 30])
    parser.add_argument("--chromium", type=int, default=3, help="members on phones in Chromium (the first)")
    parser.add_argument("--repeats", type=int, default=3, help="meetings and proposals per size, in turn")
    args = parser.parse_args()
    started = time.monotonic()
    results = await measure(args.members, args.chromium, args.repeats)
    report(results, args.chromium)
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    asyncio.run(main())
