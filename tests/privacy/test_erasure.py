"""Export, then erase: an account that did everything downloads its data, deletes itself, and
then its name and email are searched for everywhere (every table and column, the search index,
the feeds and exports, the mail files): nothing. What it said stays, as "a former member"."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from advanced_alchemy.base import orm_registry
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from circles.models import Membership
from consent.base import db
from consent.base.outbox import Mail
from consent.base.settings import Settings
from consent.notifications.models import Notification
from rounds.models import Decision
from tests.helpers import PASSWORD, Headers, assert_refused, bearer, proposal_body, riverside, signed_in

# Unique in the whole database: any trace of the account is a hit.
NAME = "Quintessa Vaxmore"
EMAIL = "qv.7731@example.net"


@contextlib.asynccontextmanager
async def session_of(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session of the test's own: the app's engine belongs to the app's event loop."""
    engine = db.create_engine(settings.database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            yield session
    finally:
        await engine.dispose()


class Org:
    """Ada (facilitator of Riverside and Garden), Bo, and Quintessa, the account to erase."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.people: dict[str, Headers] = {}
        self.ids: dict[str, str] = {}
        self.deadline = (datetime.now(UTC) + timedelta(days=7)).isoformat()

    async def ok(self, method: str, path: str, who: str, status: int = 200, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, headers=self.people[who], **kwargs)
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    async def join(self, circle_id: str, who: str, email: str, roles: list[str] | None = None) -> None:
        """`who` accepts Ada's invitation to the circle (by `email`), with `roles`."""
        body: dict[str, Any] = {"email": email, **({"roles": roles} if roles else {})}
        invited = await self.ok("POST", f"/api/circles/{circle_id}/members", "ada", 202, json=body)
        await self.ok("POST", f"/api/invitations/{invited['invitation']['id']}/accept", who)

    async def act(self, proposal_id: str, who: str, type_: str, **data: Any) -> dict[str, Any]:
        body = {"type": type_, "client_id": uuid.uuid4().hex, **data}
        result: dict[str, Any] = await self.ok("POST", f"/api/proposals/{proposal_id}/actions", who, json=body)
        return result

    async def propose(self, circle_id: str, domain_id: str, who: str, title: str) -> str:
        body = proposal_body(domain_id, self.deadline, title=title)
        proposal = await self.ok("POST", f"/api/circles/{circle_id}/proposals", who, 201, json=body)
        return str(proposal["id"])


async def build(client: httpx.AsyncClient) -> tuple[Org, dict[str, str]]:
    org = Org(client)
    org.people["ada"], _ = await signed_in(client, "ada")
    org.people["bo"], _ = await signed_in(client, "bo")
    signed_up = await client.post("/api/accounts", json={"name": NAME, "email": EMAIL, "password": PASSWORD})
    assert signed_up.status_code == 201, signed_up.text
    org.ids["q"] = signed_up.json()["id"]
    session = await client.post("/api/sessions", json={"email": EMAIL, "password": PASSWORD})
    client.cookies.clear()
    org.people["q"] = bearer(session.json()["token"])
    riverside_id, food = await riverside(client, org.people["ada"], ("bo",))
    await org.join(riverside_id, "q", EMAIL)
    garden = await org.ok("POST", "/api/circles", "ada", 201, json={"name": "Garden"})
    await org.join(garden["id"], "q", EMAIL, roles=["secretary"])  # a steward, beside Ada
    await org.ok("POST", f"/api/circles/{garden['id']}/members", "q", 202, json={"email": "newbie@example.org"})

    decided = await org.propose(riverside_id, food, "ada", "Compost rota")
    await org.act(decided, "ada", "start")
    asked = await org.act(decided, "q", "question", text="Who turns the heap?")
    await org.act(decided, "ada", "answer", question_id=asked["event"]["data"]["question_id"], text="We all do.")
    await org.act(decided, "ada", "advance")
    await org.act(decided, "q", "reaction", text="Smells fine")
    await org.act(decided, "ada", "advance")
    await org.act(decided, "q", "concern", text="Rats in winter")
    await org.act(decided, "ada", "consent")
    await org.act(decided, "bo", "consent")

    objected = await org.propose(riverside_id, food, "ada", "Bike shed")
    for step in ("start", "advance", "advance"):
        await org.act(objected, "ada", step)
    await org.act(objected, "q", "object", text="No room by the gate")
    await org.act(objected, "ada", "consent")
    await org.act(objected, "bo", "consent")
    await org.act(objected, "ada", "advance")  # integrating, with the open objection

    amended = await org.propose(riverside_id, food, "q", "Tool library")
    for step in ("start", "advance", "advance"):
        await org.act(amended, "ada", step)
    await org.act(amended, "bo", "object", text="Who repairs them?")
    await org.act(amended, "q", "stand_aside", text="Not my call")
    await org.act(amended, "ada", "consent")
    await org.act(amended, "ada", "advance")
    await org.act(amended, "q", "amend", text="A tool library; Bo repairs.")

    # A meeting: Quintessa checks in herself, and Ada records her check-out for her.
    called = {"starts_at": datetime.now(UTC).isoformat(), "place": "Hall", "agenda": [{"title": "Reports"}]}
    meeting = (await org.ok("POST", f"/api/circles/{riverside_id}/meetings", "ada", 201, json=called))["id"]
    for who, type_, data in (
        ("q", "present", {}),
        ("ada", "start", {}),
        ("q", "check_in", {"text": "Muddy boots today"}),
        ("ada", "pass", {}),
        ("ada", "advance", {}),
        ("ada", "advance", {}),
        ("ada", "check_out", {"text": "Thanks all", "on_behalf_of": org.ids["q"]}),
    ):
        body = {"type": type_, "client_id": uuid.uuid4().hex, **data}
        await org.ok("POST", f"/api/meetings/{meeting}/actions", who, json=body)
    ids = {"riverside": riverside_id, "garden": garden["id"], "decided": decided, "objected": objected}
    return org, ids | {"meeting": meeting}


async def mails_made(settings: Settings) -> None:
    """Until the notifier has made Quintessa's notifications, and the sender mailed some."""
    for _ in range(200):
        async with session_of(settings) as session:
            notes = await session.scalar(select(Notification.id).limit(1))
            sent = await session.scalar(select(Mail.id).where(Mail.recipient == EMAIL, Mail.status == "sent"))
        if notes and sent and any(settings.mail_dir.glob("*.eml")):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no notification mail was made for Quintessa")


async def traces(
    settings: Settings, client: httpx.AsyncClient, ada: Headers, riverside_id: str, meeting_id: str, q_id: str
) -> list[str]:
    """Where the name, the email or the account id of Quintessa is still found."""
    marks = (NAME.lower(), EMAIL.lower(), "vaxmore", "qv.7731", q_id, uuid.UUID(q_id).hex)
    found = []
    async with session_of(settings) as session:
        for table in orm_registry.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                if any(mark in str(tuple(row)).lower() for mark in marks):
                    found.append(f"table {table.name}: {row}")
        if session.get_bind().dialect.name == "sqlite":
            for row in (await session.execute(text("SELECT * FROM decision_fts"))).all():
                if any(mark in str(tuple(row)).lower() for mark in marks):
                    found.append(f"search index: {row}")
        decisions = list(await session.scalars(select(Decision.id)))
    pages = [
        "/decisions.csv",
        "/decisions.json",
        "/decisions.ics",
        "/decisions",
        "/api/decisions",
        "/api/decisions?q=Vaxmore",
        "/api/decisions?q=Quintessa",
        f"/api/circles/{riverside_id}",
        f"/circles/{riverside_id}",
        f"/circles/{riverside_id}/chart",
        f"/meetings/{meeting_id}/minutes",
        f"/meetings/{meeting_id}/minutes.md",
        f"/api/meetings/{meeting_id}",
        f"/api/meetings/{meeting_id}/events",
        *(f"/decisions/{d}/minutes.md" for d in decisions),
        *(f"/api/decisions/{d}" for d in decisions),
    ]
    for page in pages:
        response = await client.get(page, headers=ada)
        assert response.status_code == 200, (page, response.text)
        if any(mark in response.text.lower() for mark in marks):
            found.append(f"page {page}")
    for path in settings.mail_dir.glob("*.eml") if settings.mail_dir.is_dir() else []:
        if any(mark.encode() in path.read_bytes().lower() for mark in marks):
            found.append(f"mail file {path.name}")
    return found


async def test_export_then_erase_leaves_no_trace(client: httpx.AsyncClient, settings: Settings) -> None:
    org, ids = await build(client)
    await mails_made(settings)

    export = await client.get("/api/accounts/me/export", headers=org.people["q"])
    assert export.status_code == 200, export.text
    assert export.headers["content-disposition"].startswith("attachment")
    data = export.json()
    assert (data["account"]["name"], data["account"]["email"]) == (NAME, EMAIL)
    circles = {m["circle"]["name"]: [r["name"] for r in m["roles"]] for m in data["memberships"]}
    assert circles == {"Riverside": [], "Garden": ["secretary"]}
    did = {(a["proposal"]["title"], a["type"], a["data"].get("kind")) for a in data["activity"]}
    assert {
        ("Compost rota", "question_asked", None),
        ("Compost rota", "reaction_given", None),
        ("Compost rota", "responded", "concern"),
        ("Bike shed", "responded", "object"),
        ("Tool library", "responded", "stand_aside"),
        ("Tool library", "amended", None),
    } <= did
    assert [p["title"] for p in data["proposals"]] == ["Tool library"]
    in_meeting = [(a["type"], a["data"].get("text")) for a in data["meeting_activity"]]
    assert in_meeting == [("present", None), ("checked_in", "Muddy boots today"), ("checked_out", "Thanks all")]
    assert [i["email"] for i in data["invitations_sent"]] == ["newbie@example.org"]
    assert data["tokens"]

    before = " ".join(await traces(settings, client, org.people["ada"], ids["riverside"], ids["meeting"], org.ids["q"]))
    for where in (
        "table account",
        "table decision",
        "table mail",
        "page /decisions.csv",
        "page /circles/",
        "page /meetings/",
        "table meeting_event",
        "mail file",
    ):
        assert where in before  # the search sees them while the account is there

    refused = await client.request(
        "DELETE", "/api/accounts/me", json={"password": "not it at all"}, headers=org.people["q"]
    )
    assert_refused(refused, 403, "wrong_password", "password")
    erased = await client.request("DELETE", "/api/accounts/me", json={"password": PASSWORD}, headers=org.people["q"])
    assert erased.status_code == 204, erased.text
    assert (await client.get("/api/accounts/me", headers=org.people["q"])).status_code == 401

    ada = org.people["ada"]
    # The open objection lapsed on the record; everyone left had consented: decided.
    objected = await org.ok("GET", f"/api/proposals/{ids['objected']}", "ada")
    assert [o["status"] for o in objected["objections"]] == ["lapsed"]
    assert objected["state"] == "decided"
    async with session_of(settings) as session:
        records = {d.title: d.record for d in await session.scalars(select(Decision))}
        assert (
            await session.scalar(select(Membership.id).where(Membership.circle_id == uuid.UUID(ids["garden"])))
            is not None
        )
    said = {r["member"]["name"]: (r["kind"], r.get("text")) for r in records["Compost rota"]["responses"]}
    assert said == {"Ada": ("consent", None), "Bo": ("consent", None), "a former member": ("concern", "Rats in winter")}
    assert [(o["name"], o["status"]) for o in records["Bike shed"]["objections"]] == [("a former member", "lapsed")]

    assert await traces(settings, client, ada, ids["riverside"], ids["meeting"], org.ids["q"]) == []
    minutes = (await client.get(f"/meetings/{ids['meeting']}/minutes.md", headers=ada)).text
    assert "- a former member: Muddy boots today" in minutes
    assert "- a former member: Thanks all (recorded by Ada)" in minutes


async def test_the_last_steward_hands_over_first(client: httpx.AsyncClient, settings: Settings) -> None:
    ada, _ = await signed_in(client, "ada")
    await signed_in(client, "bo")
    await riverside(client, ada, ("bo",))
    alone = await client.post("/api/circles", json={"name": "Solo"}, headers=ada)
    refused = await client.request("DELETE", "/api/accounts/me", json={"password": PASSWORD}, headers=ada)
    message = assert_refused(refused, 409, "last_steward")
    assert "Riverside" in message and "Solo" not in message  # nobody else is in Solo
    assert (await client.get("/api/accounts/me", headers=ada)).status_code == 200  # nothing erased
    assert alone.status_code == 201


async def test_the_pages_download_and_delete(client: httpx.AsyncClient, settings: Settings, tmp_path: Path) -> None:
    await client.post("/api/accounts", json={"name": NAME, "email": EMAIL, "password": PASSWORD})
    form = await client.get("/sign-in")
    csrf = client.cookies.get("csrftoken") or ""
    assert form.status_code == 200
    signed = await client.post(
        "/sign-in", data={"email": EMAIL, "password": PASSWORD, "next": "/"}, headers={"X-CSRFToken": csrf}
    )
    assert signed.status_code in (200, 302), signed.text
    account = await client.get("/account")
    assert 'href="/api/accounts/me/export"' in account.text and 'href="/account/delete"' in account.text
    page = await client.get("/account/delete")
    assert "What is erased" in page.text and "What stays" in page.text
    wrong = await client.post("/account/delete", data={"password": "wrong one"}, headers={"X-CSRFToken": csrf})
    assert wrong.status_code == 403 and "nothing was erased" in wrong.text
    done = await client.post(
        "/account/delete", data={"password": PASSWORD}, headers={"X-CSRFToken": csrf}, follow_redirects=False
    )
    assert done.status_code == 302, done.text
    assert (await client.get("/account", follow_redirects=False)).headers["location"].startswith("/sign-in")
