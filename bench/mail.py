"""Benchmark of notifications and mail, against a real `consent serve` process that sends to an
SMTP server in this process (aiosmtpd on loopback):
- opening a proposal (its `start` action, from the API call to its answer) in a circle of 10
  and in a circle of 2,000: the latency the author sees, p50 and p95, and their ratio;
- an action in the circle of 10 taken right after it, while the server makes and sends those
  mails: what the other circles of the server see;
- from that answer to the last of the 1,999 mails it causes arriving at the SMTP server, and
  the sender's throughput, against smtplib sending the same number of mails, one connection
  each as the sender does, from this process (the baseline: what the SMTP exchange costs).

    python -m bench.mail [--members 2000] [--runs 10] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import smtplib
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from bench import servers
from circles.models import Circle, Domain, Membership
from consent.accounts.models import Account, ApiToken
from consent.base import db
from consent.base.tokens import hash_token

TOKEN = "cst_mail-bench"
SMALL = 10


class Sink:
    """Counts the mails an SMTP server accepts, and when the last came."""

    def __init__(self) -> None:
        self.count, self.last = 0, 0.0
        self.changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.changed:
            self.count += 1
            self.last = time.perf_counter()
            self.changed.notify_all()
        return "250 OK"

    def wait_for(self, count: int, seconds: float = 300) -> float:
        with self.changed:
            if not self.changed.wait_for(lambda: self.count >= count, seconds):
                raise RuntimeError(f"{self.count} mails arrived, not {count}")
            return self.last


async def fill(url: str, members: int) -> dict[str, tuple[str, str]]:
    """An author with a token, in two circles: one of `SMALL` members, one of `members`.
    Returns each circle's id and domain's id."""
    engine = db.create_engine(url)
    now = datetime.now(UTC)
    stamp = {"created_at": now, "updated_at": now}
    author = uuid.uuid4()
    people = [author, *(uuid.uuid4() for _ in range(members - 1))]
    circles = {"small": (uuid.uuid4(), uuid.uuid4()), "large": (uuid.uuid4(), uuid.uuid4())}
    try:
        async with async_sessionmaker(engine)() as session:
            accounts = [
                {"id": a, "name": f"Member {n}", "email": f"m{n}@bench.example", "password_hash": "-", **stamp}
                for n, a in enumerate(people)
            ]
            await session.execute(insert(Account), accounts)
            session.add(ApiToken(account_id=author, token_hash=hash_token(TOKEN)))
            for name, (circle_id, domain_id) in circles.items():
                session.add(Circle(id=circle_id, name=name, organisation_id=circle_id, reminder_hours=[]))
                await session.flush()
                session.add(Domain(id=domain_id, circle_id=circle_id, name="Everything"))
                size = SMALL if name == "small" else members
                rows = [{"id": uuid.uuid4(), "circle_id": circle_id, "account_id": a, **stamp} for a in people[:size]]
                await session.execute(insert(Membership), rows)
            await session.commit()
    finally:
        await engine.dispose()
    return {name: (str(c), str(d)) for name, (c, d) in circles.items()}


def quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def baseline(port: int, count: int) -> float:
    """Seconds smtplib takes to send `count` mails of a notification's size, one connection each."""
    began = time.perf_counter()
    for n in range(count):
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "consent@localhost", f"m{n}@bench.example", "x" * 60
        mail.set_content("y" * 900)
        mail.add_alternative("<p>" + "y" * 1400 + "</p>", subtype="html")
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.send_message(mail)
    return time.perf_counter() - began


async def measure(url: str, folder: Path, members: int, runs: int) -> None:
    circles = await fill(url, members)
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=servers.free_port())
    smtp.start()
    env = {"CONSENT_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"}
    server = servers.consent(folder, database_url=url, **env)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    latency: dict[str, list[float]] = {"small": [], "large": [], "meanwhile": []}
    delivered: list[float] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", headers=headers) as client:

            async def open_one(name: str, measured: str = "") -> float:
                circle_id, domain_id = circles[name]
                body = {
                    "title": f"Run in {name}",
                    "driver": "Measured.",
                    "text": "Opened, then each member is told.",
                    "domain_id": domain_id,
                    "mode": "async",
                    "closes_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
                }
                created = await client.post(f"/api/circles/{circle_id}/proposals", json=body)
                assert created.status_code == 201, created.text
                action = {"type": "start", "client_id": uuid.uuid4().hex}
                began = time.perf_counter()
                started = await client.post(f"/api/proposals/{created.json()['id']}/actions", json=action)
                answered = time.perf_counter()
                assert started.status_code == 200, started.text
                latency[measured or name].append((answered - began) * 1000)
                return answered

            expected = 0
            for run in range(runs + 1):  # the first of each is a warm-up, not counted
                for name in ("small", "large") if run % 2 else ("large", "small"):
                    answered = await open_one(name)
                    expected += (SMALL if name == "small" else members) - 1
                    if name == "large":
                        await open_one("small", "meanwhile")
                        expected += SMALL - 1
                    last = await asyncio.to_thread(sink.wait_for, expected)  # quiet before the next
                    if run and name == "large":
                        delivered.append(last - answered)
                if run == 0:
                    latency = {"small": [], "large": [], "meanwhile": []}
    finally:
        server.stop()
    raw = await asyncio.to_thread(baseline, smtp.port, members - 1)
    smtp.stop()
    small50, small95 = quantiles(latency["small"])
    large50, large95 = quantiles(latency["large"])
    print(f"opening a proposal ({runs} runs each), ms:  p50    p95")
    print(f"  circle of {SMALL:>5}                     {small50:6.1f} {small95:6.1f}")
    print(f"  circle of {members:>5}                     {large50:6.1f} {large95:6.1f}")
    print(f"  ratio                                {large50 / small50:6.2f} {large95 / small95:6.2f}  (goal ≤ 2)")
    during50, during95 = quantiles(latency["meanwhile"])
    print(
        f"  circle of {SMALL:>5}, just after     {during50:6.1f} {during95:6.1f}  ratio {during50 / small50:.2f} {during95 / small95:.2f}"
    )
    mails = members - 1
    median = statistics.median(delivered)
    print(f"answer → last of {mails:,} mails at the SMTP server: p50 {median:.2f} s, {mails / median:,.0f} mails/s")
    print(f"baseline, smtplib from this process:  {raw:.2f} s, {mails / raw:,.0f} mails/s; ratio {median / raw:.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mail", description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--database-url", default="", help="default: a new SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/consent.db"
        await asyncio.to_thread(db.upgrade, url)
        await measure(url, Path(folder), args.members, args.runs)


if __name__ == "__main__":
    asyncio.run(main())
