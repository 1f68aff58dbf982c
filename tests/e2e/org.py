"""A circle set up through the API of a running server, for the tests that drive one."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from consent.base.settings import Settings
from tests.conftest import Server, start_server
from tests.helpers import Headers, proposal_body, riverside, signed_in


class Servers:
    """Every server a test starts, on the same database; all stopped at the end."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self.started = settings, []

    def start(self) -> Server:
        running = start_server(self.settings)
        self.started.append(running)
        return running


@dataclass
class Org:
    """A circle on a running server: Ada (its facilitator) and members m01, m02, …, holding
    the domain Food; `outsiders` have accounts but are in no circle of this organisation."""

    http: httpx.AsyncClient
    url: str
    circle_id: str
    domain_id: str
    people: dict[str, Headers] = field(default_factory=dict)  # name -> bearer headers
    ids: dict[str, str] = field(default_factory=dict)  # name -> account id
    members: list[str] = field(default_factory=list)  # of the circle, Ada first

    async def request(
        self, method: str, path: str, who: str | None = None, headers: Headers | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {**(self.people[who] if who else {}), **(headers or {})}
        return await self.http.request(method, self.url + path, headers=headers, **kwargs)

    async def propose(self, who: str = "ada", **fields: Any) -> dict[str, Any]:
        body = proposal_body(self.domain_id, (datetime.now(UTC) + timedelta(days=3)).isoformat(), **fields)
        response = await self.request("POST", f"/api/circles/{self.circle_id}/proposals", who, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def send(self, proposal_id: str, who: str | None, body: Any) -> httpx.Response:
        return await self.request("POST", f"/api/proposals/{proposal_id}/actions", who, json=body)

    async def act(
        self, proposal_id: str, who: str, type_: str, client_id: str | None = None, **data: Any
    ) -> httpx.Response:
        body = {"type": type_, "client_id": client_id or f"{who}-{type_}-{time.monotonic_ns()}", **data}
        return await self.send(proposal_id, who, body)

    async def ok(self, proposal_id: str, who: str, type_: str, **data: Any) -> dict[str, Any]:
        response = await self.act(proposal_id, who, type_, **data)
        assert response.status_code == 200, response.text
        return response.json()

    async def state(self, proposal_id: str, who: str = "ada") -> dict[str, Any]:
        response = await self.request("GET", f"/api/proposals/{proposal_id}", who)
        assert response.status_code == 200, response.text
        return response.json()

    async def events(self, proposal_id: str, since: int = 0, who: str = "ada") -> list[dict[str, Any]]:
        response = await self.request("GET", f"/api/proposals/{proposal_id}/events?since={since}", who)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    async def to_consenting(self, proposal_id: str) -> None:
        for step in ("start", "advance", "advance"):
            await self.ok(proposal_id, "ada", step)
        assert (await self.state(proposal_id))["state"] == "consenting"


async def organisation(http: httpx.AsyncClient, url: str, members: int, outsiders: tuple[str, ...] = ()) -> Org:
    names = ["ada", *(f"m{i:02d}" for i in range(1, members + 1))]
    limit = asyncio.Semaphore(4)  # Argon2 takes its time; a few at once is plenty

    async def one(name: str) -> tuple[Headers, str]:
        async with limit:
            return await signed_in(http, name, url=url)

    accounts = await asyncio.gather(*(one(name) for name in [*names, *outsiders]))
    people = {name: headers for name, (headers, _) in zip([*names, *outsiders], accounts)}
    ids = {name: account_id for name, (_, account_id) in zip([*names, *outsiders], accounts)}
    circle_id, domain_id = await riverside(http, people["ada"], names[1:], url=url)
    return Org(http=http, url=url, circle_id=circle_id, domain_id=domain_id, people=people, ids=ids, members=names)
