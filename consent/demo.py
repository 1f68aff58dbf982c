"""The demo network a newcomer can click through; seeding twice changes nothing."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from circles import services as circles
from consent import db
from consent.accounts import services as accounts
from consent.accounts.models import Account

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
    # Built through the same services as the pages, so the demo obeys every circle rule.
    general = await circles.create_circle(
        session, ada, "Riverside Mutual Aid",
        "Neighbours meeting each other's needs in the Riverside district, with dignity and without charity.")
    food = await circles.create_circle(session, ada, "Food Share",
                                       "Fresh food reaches every household that asks for it, every week.", general.id)
    housing = await circles.create_circle(session, ada, "Housing Support",
                                          "Nobody in Riverside faces an eviction or a repair alone.", general.id)
    activities = await circles.add_domain(session, ada, general.id, "Mutual aid activities",
                                          "What the network does for neighbours.")
    await circles.add_domain(session, ada, general.id, "Shared finances", "The network's money and donations.")
    await circles.add_domain(session, ada, food.id, "Food distribution",
                             "Collection, storage and weekly distribution.", activities.id)
    await circles.add_domain(session, ada, housing.id, "Housing help",
                             "Tenant support, repairs and eviction defence.", activities.id)

    term_end = date.today() + timedelta(days=20)  # so the "terms ending soon" list has something in it
    await circles.add_member(session, ada, general.id, people["bo"].id, ["secretary"], term_end)
    # The parent circle chooses each sub-circle's leader; the leader then sets the sub-circle up.
    await circles.add_member(session, ada, food.id, chidi, ["leader"])
    await circles.add_member(session, chidi, food.id, people["dana"].id, ["delegate", "facilitator"])
    await circles.add_member(session, ada, housing.id, eli, ["leader"])
    await circles.add_member(session, eli, housing.id, people["fatima"].id, ["delegate", "facilitator"])
    await circles.add_member(session, eli, housing.id, people["bo"].id, [])
    return passwords
