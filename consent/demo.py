"""The demo network a newcomer can click through; seeding twice changes nothing."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from circles import services as circles
from circles.models import Circle
from consent.accounts import services as accounts
from consent.accounts.models import Account
from consent.base import db
from rounds import services as rounds
from rounds.meetings import services as meetings

MEMBERS = [
    ("Ada Okafor", "ada@demo.example"),
    ("Bo Lindqvist", "bo@demo.example"),
    ("Chidi Mensah", "chidi@demo.example"),
    ("Dana Kowalski", "dana@demo.example"),
    ("Eli Navarro", "eli@demo.example"),
    ("Fatima Haddad", "fatima@demo.example"),
]


async def seed(database_url: str) -> dict[str, str]:
    """Creates the demo network unless it exists; returns {email: password} when it created it."""
    engine = db.create_engine(database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            if await session.scalar(select(Account.id).where(Account.email == MEMBERS[0][1])):
                return {}
            passwords = await _seed(session)
            await session.commit()
            return passwords
    finally:
        await engine.dispose()


async def _seed(session: AsyncSession) -> dict[str, str]:
    passwords: dict[str, str] = {}
    people: dict[str, Account] = {}
    for name, email in MEMBERS:
        password = f"demo-{secrets.token_hex(4)}"
        people[name.split()[0].lower()] = await accounts.sign_up(session, name, email, password)
        passwords[email] = password

    ada, chidi, eli = people["ada"].id, people["chidi"].id, people["eli"].id
    now = datetime.now(UTC)
    today = now.date()  # the demo is seeded on the day it is first started
    # Built through the same services as the pages, so the demo obeys every circle rule.
    general = await circles.create_circle(
        session,
        ada,
        "Riverside Mutual Aid",
        "Neighbours meeting each other's needs in the Riverside district, with dignity and without charity.",
        today=today,
    )
    food = await circles.create_circle(
        session,
        ada,
        "Food Share",
        "Fresh food reaches every household that asks for it, every week.",
        general.id,
        today=today,
    )
    housing = await circles.create_circle(
        session,
        ada,
        "Housing Support",
        "Nobody in Riverside faces an eviction or a repair alone.",
        general.id,
        today=today,
    )
    activities = await circles.add_domain(
        session, ada, general.id, "Mutual aid activities", "What the network does for neighbours.", today=today
    )
    finances = await circles.add_domain(
        session, ada, general.id, "Shared finances", "The network's money and donations.", today=today
    )
    await circles.add_domain(
        session,
        ada,
        food.id,
        "Food distribution",
        "Collection, storage and weekly distribution.",
        activities.id,
        today=today,
    )
    await circles.add_domain(
        session,
        ada,
        housing.id,
        "Housing help",
        "Tenant support, repairs and eviction defence.",
        activities.id,
        today=today,
    )

    async def join(inviter: uuid.UUID, circle: Circle, name: str, roles: list[str], term: date | None = None) -> None:
        """`inviter` invites `name`, who accepts: nobody is in a circle without accepting."""
        added = await circles.add_member(session, inviter, circle.id, people[name].email, roles, term, today)
        if isinstance(added, circles.Invited):
            await circles.accept(session, added.invitation, people[name].id, now)

    term_end = today + timedelta(days=20)  # so the "terms ending soon" list has something in it
    await join(ada, general, "bo", ["secretary"], term_end)
    # The parent circle chooses each sub-circle's leader; the leader then sets the sub-circle up.
    await join(ada, food, "chidi", ["leader"])
    await join(chidi, food, "dana", ["delegate", "facilitator"])
    await join(ada, housing, "eli", ["leader"])
    await join(eli, housing, "fatima", ["delegate", "facilitator"])
    await join(eli, housing, "bo", [])
    await _seed_proposals(session, people, general, food, activities.id, finances.id)
    # An invitation Bo has not answered yet: signed in as Bo, the home page shows it, with the
    # Food Share's standing agreement to read before joining.
    await circles.add_member(session, chidi, food.id, people["bo"].email, [], None, today)
    return passwords


async def _seed_proposals(
    session: AsyncSession,
    people: dict[str, Account],
    general: Circle,
    food: Circle,
    activities_id: uuid.UUID,
    finances_id: uuid.UUID,
) -> None:
    """Decisions already in the log, a live proposal ready to present, an async one open."""
    now = datetime.now(UTC)
    ada, bo, chidi, dana = (people[n].id for n in ("ada", "bo", "chidi", "dana"))
    food_domain = (await circles.load_circle(session, food.id, chidi, now.date())).domains[0].id

    # Decided 170 days ago with the circle's six months to review: its review is due in about
    # ten days, so a newcomer finds it in the "due" lists, and by "winter" from its objection.
    then = now - timedelta(days=170)
    decided = await rounds.create_proposal(
        session,
        chidi,
        food.id,
        title="Collect on Fridays, share on Sundays",
        driver="Bread from the bakery goes to waste every Friday evening.",
        text="We collect surplus bread on Fridays and share it at the Saturday market stall.",
        domain_id=food_domain,
        mode="async",
        now=then,
        closes_at=then + timedelta(days=7),
        criteria=["Less than one crate thrown away a week by spring."],
        agreement=True,  # what newcomers to the Food Share read before joining
    )
    steps = [
        (dana, "start", {}),
        (dana, "advance", {}),
        (dana, "advance", {}),
        (ada, "object", {"text": "The market stall is closed in winter, so nobody would get the bread."}),
        (chidi, "consent", {}),
        (dana, "consent", {}),
        (dana, "advance", {}),
        (
            chidi,
            "amend",
            {"text": "We collect surplus bread on Fridays and share it on Sundays at the community hall."},
        ),
        (ada, "consent", {}),
        (chidi, "consent", {}),
        (dana, "concern", {"text": "The hall's freezer is small."}),
    ]
    for number, (who, action, data) in enumerate(steps):
        await rounds.act(session, who, decided.id, {"type": action, "client_id": f"demo-{number}", **data}, then)

    # Decided seven months ago: its review is overdue.
    then = now - timedelta(days=212)
    donations = await rounds.create_proposal(
        session,
        ada,
        general.id,
        title="Donations go through the shared account",
        driver="Cash donations in envelopes got lost twice this year.",
        text="Every donation goes through the network's shared bank account; the secretary reports monthly.",
        domain_id=finances_id,
        mode="async",
        now=then,
        closes_at=then + timedelta(days=7),
        agreement=True,
    )
    # Every member of the general circle consents (the sub-circles' leaders and delegates sit in it).
    moves = [
        (ada, "start"),
        (ada, "advance"),
        (ada, "advance"),
        *((person.id, "consent") for person in people.values()),
    ]
    for number, (who, action) in enumerate(moves):
        await rounds.act(session, who, donations.id, {"type": action, "client_id": f"demo-money-{number}"}, then)

    tools = await rounds.create_proposal(
        session,
        bo,
        general.id,
        title="A shared tool library",
        driver="Neighbours keep buying drills and ladders they use twice a year.",
        text="We start a tool library in the community hall's storeroom, open on Saturday mornings.",
        domain_id=activities_id,
        mode="live",
        now=now,
    )
    open_async = await rounds.create_proposal(
        session,
        ada,
        general.id,
        title="Monthly open meeting",
        driver="New neighbours do not know how to join in.",
        text="We hold an open meeting on the first Sunday of every month, with food.",
        domain_id=activities_id,
        mode="async",
        now=now,
        closes_at=now + timedelta(days=10),
    )
    for number, step in enumerate(("start", "advance", "advance")):  # open for consent responses
        await rounds.act(session, ada, open_async.id, {"type": step, "client_id": f"demo-open-{number}"}, now)

    # The general circle's next meeting, in a week: the tool library to present, a report, and
    # (joining of itself) the review of the donations decision, which is overdue.
    await meetings.schedule(
        session,
        ada,
        general.id,
        starts_at=(now + timedelta(days=7)).replace(hour=18, minute=30, second=0, microsecond=0),
        place="Community hall, Riverside library",
        minutes_long=90,
        agenda=[meetings.AgendaIn(proposal_id=tools.id), meetings.AgendaIn(title="Food Share: pantry stock report")],
        now=now,
    )
