"""Benchmark of the decision log: fills a database with 100,000 decisions, then times
- the baseline: a plain indexed query, the newest page of the viewer's circles;
- a filtered full-text search (services.search with words of several frequencies, in force);
- rendering the first page of /decisions, in-process through the whole app (no network).
Reports p50 and p95 of each, and their ratio to the baseline's.

    python bench/decision_log.py [--decisions 100000] [--runs 200] [--database-url URL]

Without --database-url it uses a new SQLite file in a temporary folder; with one, it migrates
the database and fills it unless it holds the benchmark's data already (to measure again)."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from litestar.testing import AsyncTestClient
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from circles.models import Circle, Domain, Membership
from consent.accounts.models import Account, ApiToken
from consent.app import create_app
from consent.base import db
from consent.base.settings import Settings
from consent.base.tokens import hash_token
from consent.decisions import rules, services
from rounds.models import Decision, Proposal

TODAY = date(2026, 11, 23)
CIRCLES, DOMAINS_PER_CIRCLE = 20, 3
TOKEN = "cst_benchmark-token"


def vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    """Made-up words, used with Zipf-like frequencies like the words of real texts."""
    syllables = ["ba", "ke", "lo", "mi", "nu", "ra", "si", "to", "vu", "ze", "dor", "fen", "gal", "hup", "jin"]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    ordered = sorted(words)  # a set's order changes from run to run
    rng.shuffle(ordered)
    return ordered


def sentence(rng: random.Random, words: list[str], weights: list[float], length: int) -> str:
    return " ".join(rng.choices(words, weights, k=length)).capitalize() + "."


async def fill(url: str, count: int) -> uuid.UUID:
    """The viewer (member of half the circles), the circles (two of them private), and `count`
    decisions with their proposals; returns the viewer's id."""
    rng = random.Random(6)
    words = vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    engine = db.create_engine(url)
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    try:
        async with async_sessionmaker(engine)() as session:
            filled = await session.scalar(select(Account.id).where(Account.email == "viewer@bench.example"))
            if filled is not None:
                return filled
            viewer, other = uuid.uuid4(), uuid.uuid4()
            for account_id, name in ((viewer, "Viewer"), (other, "Other")):
                session.add(Account(id=account_id, name=name, email=f"{name.lower()}@bench.example", password_hash="-"))
            session.add(ApiToken(account_id=viewer, token_hash=hash_token(TOKEN)))
            organisation = uuid.uuid4()
            circle_ids = [organisation] + [uuid.uuid4() for _ in range(CIRCLES - 1)]
            for number, circle_id in enumerate(circle_ids):
                parent = None if number == 0 else circle_ids[(number - 1) // 3]
                session.add(
                    Circle(
                        id=circle_id,
                        name=f"Circle {number}",
                        parent_id=parent,
                        organisation_id=organisation,
                        private=number in (5, 6),
                    )
                )
                await session.flush()
                member = viewer if number % 2 == 0 else other
                session.add(Membership(circle_id=circle_id, account_id=member, roles=[]))
            domains = [(circle_id, uuid.uuid4()) for circle_id in circle_ids for _ in range(DOMAINS_PER_CIRCLE)]
            session.add_all(Domain(id=d, circle_id=c, name=f"Domain {n}") for n, (c, d) in enumerate(domains))
            await session.commit()
            for start in range(0, count, 2000):
                proposals, decisions = [], []
                for _ in range(start, min(start + 2000, count)):
                    circle_id, domain_id = rng.choice(domains)
                    proposal_id = uuid.uuid4()
                    title = sentence(rng, words, weights, 5)[:200]
                    driver, text = sentence(rng, words, weights, 20), sentence(rng, words, weights, 40)
                    decided_at = now - timedelta(minutes=rng.randint(0, 10 * 365 * 24 * 60))
                    stamp = {"created_at": now, "updated_at": now}
                    proposals.append(
                        {
                            "id": proposal_id,
                            "circle_id": circle_id,
                            "domain_id": domain_id,
                            "author_id": viewer,
                            "title": title,
                            "driver": driver,
                            "text": text,
                            "criteria": [],
                            "mode": "async",
                            "state": "decided",
                            "revision": 1,
                            "seq": 0,
                            "machine": {},
                            **stamp,
                        }
                    )
                    objections = (
                        [
                            {
                                "id": "o1",
                                "member": str(other),
                                "name": "Other",
                                "revision": 1,
                                "text": sentence(rng, words, weights, 12),
                                "status": "integrated",
                                "integrated_by": 2,
                            }
                        ]
                        if rng.random() < 0.3
                        else []
                    )
                    concerns = (
                        [{"member": str(viewer), "name": "Viewer", "text": sentence(rng, words, weights, 8)}]
                        if rng.random() < 0.3
                        else []
                    )
                    decisions.append(
                        {
                            "id": uuid.uuid4(),
                            "proposal_id": proposal_id,
                            "circle_id": circle_id,
                            "domain_id": domain_id,
                            "title": title,
                            "driver": driver,
                            "text": text,
                            "criteria": [],
                            "revision": 1,
                            "decided_at": decided_at,
                            "review_by": TODAY + timedelta(days=rng.randint(-400, 800)),
                            "status": rng.choices(["active", "retired", "superseded"], [8, 1, 1])[0],
                            "record": {"responses": [], "concerns": concerns, "objections": objections},
                            **stamp,
                        }
                    )
                await session.execute(insert(Proposal), proposals)
                await session.execute(insert(Decision), decisions)
                await session.commit()
    finally:
        await engine.dispose()
    return viewer


async def timed(runs: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    for warm in range(10):
        await call(warm)
    times = []
    for run in range(runs):
        started = time.perf_counter()
        await call(run)
        times.append((time.perf_counter() - started) * 1000)
    return times


def quantiles(times: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(times, n=100)
    return cuts[49], cuts[94]


async def search_words(session: AsyncSession) -> list[str]:
    """Words of several frequencies in the decisions: common (rank 10), usual (100), rarer
    (1000), and two words together."""
    counts = Counter(
        word for text in await session.scalars(select(Decision.text).limit(3000)) for word in rules.search_terms(text)
    )
    words = [word for word, _ in counts.most_common()]
    return [words[10], words[100], words[1000], f"{words[30]} {words[300]}"]


async def measure(url: str, data_dir: Path, viewer: uuid.UUID, runs: int) -> dict[str, list[float]]:
    in_force = ("active", "due", "overdue")
    engine = db.create_engine(url)
    results: dict[str, list[float]] = {}
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            searches = await search_words(session)
            visible = list(await services.visible_circles(session, viewer))

            async def baseline(_: int) -> None:
                await session.scalars(
                    select(Decision)
                    .where(Decision.circle_id.in_(visible))
                    .order_by(Decision.decided_at.desc(), Decision.id.desc())
                    .limit(20)
                )
                await session.rollback()

            async def search(run: int) -> None:
                filters = rules.Filters(q=searches[run % len(searches)], statuses=in_force)
                found = await services.search(session, viewer, filters, TODAY)
                await services.describe_many(session, found.decisions, found.visible, TODAY)
                await session.rollback()

            results["baseline: plain indexed query"] = await timed(runs, baseline)
            results["filtered full-text search"] = await timed(runs, search)
            async with AsyncSession(engine) as probe:
                hits = [
                    len((await services.search(probe, viewer, rules.Filters(q=q, limit=100), TODAY)).decisions)
                    for q in searches
                ]
            print(f"searches {searches}: first-page hits {hits}", flush=True)
    finally:
        await engine.dispose()
    settings = Settings(data_dir=data_dir, database_url=url, secret_key="bench")
    async with AsyncTestClient(app=create_app(settings), base_url="http://127.0.0.1") as client:
        headers = {"Authorization": f"Bearer {TOKEN}"}

        async def render(_: int) -> None:
            response = await client.get("/decisions", headers=headers)
            assert response.status_code == 200 and "Older decisions" in response.text

        results["render the first log page"] = await timed(runs, render)
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        await asyncio.to_thread(db.upgrade, url)
        started = time.perf_counter()
        viewer = await fill(url, args.decisions)
        engine = db.create_engine(url)
        async with engine.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(Decision))
        await engine.dispose()
        print(f"{count} decisions on {url.split(':')[0]} (filled in {time.perf_counter() - started:.0f} s)", flush=True)
        results = await measure(url, Path(folder), viewer, args.runs)
    base50, base95 = quantiles(results["baseline: plain indexed query"])
    print(f"{'':32} {'p50 ms':>8} {'p95 ms':>8} {'p50 ×':>7} {'p95 ×':>7}")
    for name, times in results.items():
        p50, p95 = quantiles(times)
        print(f"{name:32} {p50:8.2f} {p95:8.2f} {p50 / base50:7.1f} {p95 / base95:7.1f}")


if __name__ == "__main__":
    asyncio.run(main())
