"""A circle with members and a domain, for the proposal tests; a clock the tests can move."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from consent.app import create_app
from consent.base.settings import Settings
from tests.helpers import Headers, proposal_body, riverside, signed_in


class MovableClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def move(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Circle:
    client: AsyncTestClient
    settings: Settings
    id: str
    domain_id: str
    people: dict[str, Headers] = field(default_factory=dict)  # name -> bearer headers
    ids: dict[str, str] = field(default_factory=dict)  # name -> account id

    async def propose(self, who: str = "ada", **fields: Any) -> dict[str, Any]:
        body = proposal_body(self.domain_id, "2026-11-30T09:00:00Z", **fields)
        response = await self.client.post(f"/api/circles/{self.id}/proposals", json=body, headers=self.people[who])
        assert response.status_code == 201, response.text
        return response.json()

    async def act(self, proposal_id: str, who: str, type_: str, client_id: str | None = None, **data: Any):  # type: ignore[no-untyped-def]
        client_id = client_id or f"{who}-{type_}-{datetime.now().timestamp()}"
        return await self.client.post(
            f"/api/proposals/{proposal_id}/actions",
            json={"type": type_, "client_id": client_id, **data},
            headers=self.people[who],
        )

    async def ok(self, proposal_id: str, who: str, type_: str, **data: Any) -> dict[str, Any]:
        response = await self.act(proposal_id, who, type_, **data)
        assert response.status_code == 200, response.text
        return response.json()

    async def get(self, proposal_id: str, who: str = "ada") -> dict[str, Any]:
        response = await self.client.get(f"/api/proposals/{proposal_id}", headers=self.people[who])
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def circle(settings: Settings, clock: MovableClock) -> AsyncIterator[Circle]:
    """Ada (facilitator) and Bo, Cy, Di (members) in the circle Riverside, holding the domain Food."""
    async with AsyncTestClient(app=create_app(settings, clock=clock), base_url="http://127.0.0.1") as client:
        people, ids = {}, {}
        for name in ("ada", "bo", "cy", "di", "zed"):
            people[name], ids[name] = await signed_in(client, name)
        circle_id, domain_id = await riverside(client, people["ada"], ("bo", "cy", "di"))
        yield Circle(client=client, settings=settings, id=circle_id, domain_id=domain_id, people=people, ids=ids)
