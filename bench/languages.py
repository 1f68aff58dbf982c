"""What speaking the reader's language and zone costs a page: the proposal page and the home
page, rendered in-process through the whole app (no network), in English in UTC (the
baseline, as before translations and zones), in Spanish, and in Spanish in Mexico City's
zone. The three are requested in turn, so that the machine's noise falls on all alike.
Reports p50 and p95 of each and their ratio to the baseline's.

    python -m bench.languages [--runs 300]"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from litestar.testing import AsyncTestClient

from consent.app import create_app
from consent.base import db
from consent.base.settings import Settings

PASSWORD = "a long enough benchmark password"


async def world(client: AsyncTestClient) -> tuple[dict[str, str], str]:  # type: ignore[type-arg]
    """Ada, her circle Riverside with the domain Food, and an async proposal in its clarifying
    round: her bearer headers and the proposal's page."""
    account = {"name": "Ada", "email": "ada@example.org", "password": PASSWORD}
    assert (await client.post("/api/accounts", json=account)).status_code == 201
    signed = await client.post("/api/sessions", json={"email": account["email"], "password": PASSWORD})
    client.cookies.clear()
    who = {"Authorization": f"Bearer {signed.json()['token']}"}
    circle = (await client.post("/api/circles", json={"name": "Riverside"}, headers=who)).json()
    domain = (await client.post(f"/api/circles/{circle['id']}/domains", json={"name": "Food"}, headers=who)).json()
    closes_at = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    body = {"title": "Weekly food runs", "driver": "Food goes to waste.", "text": "We share on Saturdays."}
    body |= {"domain_id": domain["id"], "mode": "async", "closes_at": closes_at}
    proposal = (await client.post(f"/api/circles/{circle['id']}/proposals", json=body, headers=who)).json()
    started = {"type": "start", "client_id": "start"}
    assert (await client.post(f"/api/proposals/{proposal['id']}/actions", json=started, headers=who)).is_success
    return who, f"/proposals/{proposal['id']}"


async def measure(runs: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        await asyncio.to_thread(db.upgrade, url)
        data_dir = Path(folder) / "data"
        data_dir.mkdir()
        settings = Settings(data_dir=data_dir, database_url=url, secret_key=uuid.uuid4().hex)
        async with AsyncTestClient(app=create_app(settings)) as client:
            who, page = await world(client)
            times: dict[str, list[float]] = {}
            ways = {
                "en, UTC (baseline)": ("en", None),
                "es, UTC": ("es", None),
                "es, America/Mexico_City": ("es", "America/Mexico_City"),
            }
            for _ in range(runs):
                for name, (language, zone) in ways.items():
                    headers = who | {"Accept-Language": language, "Cookie": f"tz={zone}" if zone else ""}
                    for path in (page, "/"):
                        started = time.perf_counter()
                        answer = await client.get(path, headers=headers)
                        times.setdefault(f"{path.split('/')[1] or 'home'}: {name}", []).append(
                            (time.perf_counter() - started) * 1000
                        )
                        assert answer.status_code == 200 and f'lang="{language}"' in answer.text
            return times


def quantiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=20)
    return statistics.median(values), cuts[18]


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.languages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    results = await measure(args.runs)
    print(f"{'':42} {'p50 ms':>8} {'p95 ms':>8} {'p50 ×':>7} {'p95 ×':>7}")
    for page in ("proposals", "home"):
        base50, base95 = quantiles(results[f"{page}: en, UTC (baseline)"])
        for name, times in results.items():
            if name.startswith(page):
                p50, p95 = quantiles(times)
                print(f"{name:42} {p50:8.2f} {p95:8.2f} {p50 / base50:7.2f} {p95 / base95:7.2f}")


if __name__ == "__main__":
    asyncio.run(main())
