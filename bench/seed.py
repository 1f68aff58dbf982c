"""The benchmark's data, written straight into a SQLite file before its server starts: signing
up 2,000 people through the API would spend minutes in Argon2. Rows go through the project's
own models and services, so they are what the server would have made: accounts (one
precomputed password hash), bearer tokens (their SHA-256, as `consent.accounts` stores them),
circles with their members, and live proposals in their clarifying round, where a member has
asked question q1 and the author may answer it again and again (the steady stream of actions).
In the meetings of scenario (e) every member has said "I am here" (is taking part)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from circles.models import Circle, Domain, Membership
from consent.accounts.models import Account, ApiToken
from consent.base import db
from consent.base.tokens import hash_token
from rounds import actions, services


@dataclass(frozen=True)
class Room:
    """One live proposal: its socket path and its members' tokens and account ids, the author's
    first."""

    path: str
    tokens: list[str]
    ids: list[str] = field(default_factory=list)


PASSWORD = "bench password"  # everyone's: the Chromium pages of (e) sign in with it


def email_of(i: int) -> str:
    return f"m{i}@bench.example"


def token_of(i: int) -> str:
    return f"cst_bench{i:05d}"


async def _room(db_session: AsyncSession, members: list[uuid.UUID], name: str, everyone_present: bool = False) -> str:
    circle = Circle(id=uuid.uuid4(), name=name, organisation_id=uuid.uuid4())
    circle.organisation_id = circle.id  # a top-level circle is its own organisation
    domain = Domain(circle_id=circle.id, name="Meetings")
    db_session.add_all([circle, domain, *(Membership(circle_id=circle.id, account_id=m) for m in members)])
    await db_session.flush()
    now = datetime.now(UTC)
    author, asker = members[0], members[1]
    proposal = await services.create_proposal(
        db_session,
        author,
        circle.id,
        title=f"{name}'s proposal",
        driver="We meet a lot.",
        text="Meet less.",
        domain_id=domain.id,
        mode="live",
        now=now,
    )
    present = members if everyone_present else [author, asker]
    arrivals = await services.act_many(  # one batch: 2,000 arrivals one at a time would each load the state
        db_session,
        [
            services.Attempt(m, proposal.id, actions.decode({"type": "present", "client_id": f"seed-{m}-present"}), now)
            for m in present
        ],
    )
    for refused in (outcome for outcome in arrivals if isinstance(outcome, Exception)):
        raise refused
    # The author answers in the clarifying round and is skipped in its turns: another member asks.
    for who, step, data in (
        (author, "start", {}),
        (asker, "question", {"text": "Why?"}),
    ):
        await services.act(db_session, who, proposal.id, {"type": step, "client_id": f"seed-{who}-{step}", **data}, now)
    return f"/ws/proposals/{proposal.id}"


async def _seed(
    url: str, rooms: int, room_size: int, assemblies: Sequence[int], meetings: Sequence[int]
) -> tuple[list[Room], list[Room], list[Room]]:
    people = max([rooms * room_size, *assemblies, *meetings])  # a list: without (b) and (e), max() of one int fails
    password_hash = PasswordHasher().hash(PASSWORD)  # one hash for all
    ids = [uuid.uuid4() for _ in range(people)]
    engine = db.create_engine(url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            session.add_all(
                [
                    Account(id=ids[i], name=f"Member {i:04d}", email=email_of(i), password_hash=password_hash)
                    for i in range(people)
                ]
            )
            await session.flush()
            session.add_all([ApiToken(account_id=ids[i], token_hash=hash_token(token_of(i))) for i in range(people)])
            fan_out = []
            for r in range(rooms):
                members = range(r * room_size, (r + 1) * room_size)
                path = await _room(session, [ids[i] for i in members], f"Circle {r:03d}")
                fan_out.append(Room(path, [token_of(i) for i in members]))
            large = [
                Room(await _room(session, ids[:size], f"Assembly of {size}"), [token_of(i) for i in range(size)])
                for size in assemblies
            ]
            pages = [
                Room(
                    await _room(session, ids[:size], f"Meeting of {size}", everyone_present=True),
                    [token_of(i) for i in range(size)],
                    [str(ids[i]) for i in range(size)],
                )
                for size in meetings
            ]
            await session.commit()
    finally:
        await engine.dispose()
    return fan_out, large, pages


def seed(
    path: str, rooms: int, room_size: int, assemblies: Sequence[int] = (), meetings: Sequence[int] = ()
) -> tuple[list[Room], list[Room], list[Room]]:
    """Migrates a new SQLite file at `path` and fills it; returns the rooms of (a), the
    assemblies of (b), one of each size in `assemblies`, and the meetings of (e), one of each
    size in `meetings`, everyone present."""
    return seed_database(f"sqlite+aiosqlite:///{path}", rooms, room_size, assemblies, meetings)


def seed_database(
    url: str, rooms: int, room_size: int, assemblies: Sequence[int] = (), meetings: Sequence[int] = ()
) -> tuple[list[Room], list[Room], list[Room]]:
    """The same into the empty database at `url` (SQLite or PostgreSQL)."""
    db.upgrade(url)
    return asyncio.run(_seed(url, rooms, room_size, assemblies, meetings))
