"""The demo network a newcomer can click through; seeding twice changes nothing."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from circles.models import Circle, Domain, Membership, Role
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

    general_id = uuid.uuid4()
    general = Circle(
        id=general_id,
        name="Riverside Mutual Aid",
        aim="Neighbours meeting each other's needs in the Riverside district, with dignity and without charity.",
        organisation_id=general_id,
    )
    food = Circle(name="Food Share", aim="Fresh food reaches every household that asks for it, every week.",
                  parent_id=general_id, organisation_id=general_id)
    housing = Circle(name="Housing Support", aim="Nobody in Riverside faces an eviction or a repair alone.",
                     parent_id=general_id, organisation_id=general_id)
    session.add_all([general, food, housing])
    await session.flush()

    activities = Domain(circle_id=general.id, name="Mutual aid activities", description="What the network does for neighbours.")
    finances = Domain(circle_id=general.id, name="Shared finances", description="The network's money and donations.")
    session.add_all([activities, finances])
    await session.flush()
    session.add_all([
        Domain(circle_id=food.id, name="Food distribution", description="Collection, storage and weekly distribution.",
               parent_domain_id=activities.id),
        Domain(circle_id=housing.id, name="Housing help", description="Tenant support, repairs and eviction defence.",
               parent_domain_id=activities.id),
    ])

    def member(circle: Circle, who: str, *roles: str) -> None:
        session.add(Membership(circle_id=circle.id, account_id=people[who].id, roles=[Role(name=r) for r in roles]))

    member(general, "ada", "facilitator")
    member(general, "bo", "secretary")
    member(general, "chidi")  # leader of Food Share: sits in both circles
    member(general, "dana")  # delegate of Food Share
    member(general, "eli")  # leader of Housing Support
    member(general, "fatima")  # delegate of Housing Support
    member(food, "chidi", "leader")
    member(food, "dana", "delegate", "facilitator")
    member(food, "ada")
    member(housing, "eli", "leader")
    member(housing, "fatima", "delegate", "facilitator")
    member(housing, "bo", "secretary")
    await session.flush()
    return passwords
