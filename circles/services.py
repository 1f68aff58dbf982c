"""Loading and storing circles, domains, memberships, roles and invitations; every change
checks the rules of circles.rules and who is asking."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from circles import rules
from circles.models import Circle, Domain, Invitation, Membership, Role, person
from consent.base.errors import Refusal
from consent.base.text import MAX_DESCRIPTION, clean_email, clean_name, clean_text
from consent.base.tokens import hash_token


def not_found(what: str = "circle") -> Refusal:
    return Refusal("not_found", f"No such {what}, or it is not visible to you.", status=404)


@dataclass
class CircleView:
    """A circle as one viewer may see it."""

    circle: Circle
    viewer_roles: set[str] | None  # None: not a member of this circle
    details_visible: bool
    members: list[tuple[Membership, str, str]] = field(default_factory=list)  # (membership, name, email)
    domains: list[Domain] = field(default_factory=list)
    children: list[Circle] = field(default_factory=list)
    parent: Circle | None = None

    @property
    def may_change(self) -> bool:
        return self.viewer_roles is not None and rules.may_change(self.viewer_roles)


async def circles_of(db: AsyncSession, account_id: uuid.UUID) -> list[Circle]:
    """The circles an account is a member of, by name."""
    query = (
        select(Circle)
        .join(Membership, Membership.circle_id == Circle.id)
        .where(Membership.account_id == account_id)
        .order_by(Circle.name)
    )
    return list(await db.scalars(query))


async def organisations_of(db: AsyncSession, account_id: uuid.UUID) -> set[uuid.UUID]:
    return {circle.organisation_id for circle in await circles_of(db, account_id)}


async def roles_in(db: AsyncSession, circle_id: uuid.UUID, account_id: uuid.UUID) -> set[str] | None:
    membership = await db.scalar(
        select(Membership).where(Membership.circle_id == circle_id, Membership.account_id == account_id)
    )
    return None if membership is None else {role.name for role in membership.roles}


async def visible_circles(db: AsyncSession, account_id: uuid.UUID) -> list[Circle]:
    """Every circle of the organisations the account belongs to."""
    organisations = await organisations_of(db, account_id)
    if not organisations:
        return []
    return list(await db.scalars(select(Circle).where(Circle.organisation_id.in_(organisations)).order_by(Circle.name)))


async def get_visible(db: AsyncSession, circle_id: uuid.UUID, account_id: uuid.UUID) -> Circle:
    circle = await db.get(Circle, circle_id)
    if circle is None or circle.organisation_id not in await organisations_of(db, account_id):
        raise not_found()
    return circle


async def load_circle(db: AsyncSession, circle_id: uuid.UUID, account_id: uuid.UUID) -> CircleView:
    circle = await get_visible(db, circle_id, account_id)
    roles = await roles_in(db, circle.id, account_id)
    view = CircleView(circle=circle, viewer_roles=roles, details_visible=not circle.private or roles is not None)
    view.children = list(await db.scalars(select(Circle).where(Circle.parent_id == circle.id).order_by(Circle.name)))
    view.parent = await db.get(Circle, circle.parent_id) if circle.parent_id else None
    if view.details_visible:
        rows = await db.execute(
            select(Membership, person.c.name, person.c.email)
            .join(person, person.c.id == Membership.account_id)
            .where(Membership.circle_id == circle.id)
            .order_by(person.c.name)
        )
        view.members = [(m, name, email) for m, name, email in rows.all()]
        view.domains = list(await db.scalars(select(Domain).where(Domain.circle_id == circle.id).order_by(Domain.name)))
    return view


async def _require_steward(db: AsyncSession, circle: Circle, account_id: uuid.UUID) -> None:
    rules.require_may_change(await roles_in(db, circle.id, account_id) or set(), circle.name)


async def create_circle(
    db: AsyncSession, account_id: uuid.UUID, name: str, aim: str, parent_id: uuid.UUID | None = None
) -> Circle:
    name = clean_name(name)
    circle_id = uuid.uuid4()
    if parent_id is None:
        circle = Circle(id=circle_id, name=name, aim=clean_text(aim, "aim", MAX_DESCRIPTION), organisation_id=circle_id)
        roles = [Role(name=rules.FACILITATOR)]  # someone must be able to move the new organisation on
    else:
        parent = await get_visible(db, parent_id, account_id)
        await _require_steward(db, parent, account_id)
        circle = Circle(
            id=circle_id,
            name=name,
            aim=clean_text(aim, "aim", MAX_DESCRIPTION),
            parent_id=parent.id,
            organisation_id=parent.organisation_id,
        )
        roles = []
    db.add(circle)
    await db.flush()
    db.add(Membership(circle_id=circle.id, account_id=account_id, roles=roles))
    await db.flush()
    return circle


async def update_circle(
    db: AsyncSession,
    account_id: uuid.UUID,
    circle_id: uuid.UUID,
    *,
    name: str | None = None,
    aim: str | None = None,
    parent_id: uuid.UUID | None = None,
    private: bool | None = None,
    default_review_months: int | None = None,
    silence_is_consent: bool | None = None,
    quorum: int | None = None,
    default_async_days: int | None = None,
) -> Circle:
    circle = await get_visible(db, circle_id, account_id)
    await _require_steward(db, circle, account_id)
    if parent_id is not None and parent_id != circle.parent_id:
        if circle.parent_id is None:
            raise Refusal("top_level", "parent_id: a top-level circle is its organisation and cannot be moved")
        tree = list(await db.execute(select(Circle.id, Circle.parent_id, Circle.organisation_id)))
        rules.check_parent(
            circle.id, parent_id, {c: p for c, p, _ in tree}, {c: o for c, _, o in tree}, circle.organisation_id
        )
        await _require_steward(db, await get_visible(db, parent_id, account_id), account_id)
        circle.parent_id = parent_id
    if name is not None:
        circle.name = clean_name(name)
    if aim is not None:
        circle.aim = clean_text(aim, "aim", MAX_DESCRIPTION)
    if private is not None:
        circle.private = private
    if default_review_months is not None:
        if not 1 <= default_review_months <= 60:
            raise Refusal("invalid", "default_review_months: between 1 and 60")
        circle.default_review_months = default_review_months
    if silence_is_consent is not None:
        circle.silence_is_consent = silence_is_consent
    if quorum is not None:
        members = await db.scalar(select(func.count()).where(Membership.circle_id == circle.id)) or 0
        rules.check_quorum(quorum, members)
        circle.quorum = quorum or None
    if default_async_days is not None:
        if not 1 <= default_async_days <= 90:
            raise Refusal("invalid", "default_async_days: between 1 and 90 days")
        circle.default_async_days = default_async_days
    await db.flush()
    return circle


async def add_domain(
    db: AsyncSession,
    account_id: uuid.UUID,
    circle_id: uuid.UUID,
    name: str,
    description: str = "",
    parent_domain_id: uuid.UUID | None = None,
) -> Domain:
    circle = await get_visible(db, circle_id, account_id)
    name = clean_name(name)
    if parent_domain_id is None:
        await _require_steward(db, circle, account_id)
    else:
        parent_domain = await db.get(Domain, parent_domain_id)
        holder = await db.get_one(Circle, parent_domain.circle_id) if parent_domain is not None else None
        if parent_domain is None or holder is None or holder.organisation_id != circle.organisation_id:
            raise Refusal("no_such_domain", "parent_domain_id: no such domain in this organisation")
        rules.check_delegation(parent_domain.circle_id, circle.parent_id)
        # Delegating is the holder's act: the parent circle's stewards decide it.
        await _require_steward(db, holder, account_id)
    domain = Domain(
        circle_id=circle.id,
        name=name,
        description=clean_text(description, "description", MAX_DESCRIPTION),
        parent_domain_id=parent_domain_id,
    )
    db.add(domain)
    await db.flush()
    return domain


async def _membership(db: AsyncSession, circle_id: uuid.UUID, account_id: uuid.UUID) -> Membership:
    membership = await db.scalar(
        select(Membership).where(Membership.circle_id == circle_id, Membership.account_id == account_id)
    )
    if membership is None:
        membership = Membership(circle_id=circle_id, account_id=account_id, roles=[])
        db.add(membership)
        await db.flush()
    return membership


async def add_member(
    db: AsyncSession,
    account_id: uuid.UUID,
    circle_id: uuid.UUID,
    member_id: uuid.UUID,
    roles: list[str],
    term_ends_on: date | None,
    today: date,
) -> Membership:
    """Adds a member (or gives an existing member more roles); double-links leaders and delegates."""
    circle = await get_visible(db, circle_id, account_id)
    roles = [rules.clean_role(role) for role in roles]
    rules.check_term_end(term_ends_on, today)
    actor_roles = await roles_in(db, circle.id, account_id) or set()
    parent_roles = (await roles_in(db, circle.parent_id, account_id) or set()) if circle.parent_id else set()
    for role in roles:
        rules.check_link_role(role, circle.parent_id)
        if rules.who_assigns(role) == "parent":
            rules.require_may_change(parent_roles, "the parent circle")
    if not roles or any(rules.who_assigns(role) == "circle" for role in roles):
        rules.require_may_change(actor_roles, circle.name)
    membership = await _membership(db, circle.id, member_id)
    held = {role.name for role in membership.roles}
    for role in roles:
        if role in held:
            raise Refusal("role_held", f"roles: this member already holds the role {role}", status=409)
        membership.roles.append(Role(name=role, term_ends_on=term_ends_on))
        held.add(role)  # the same role twice in one request is held by then, too
    if circle.parent_id and any(role in rules.LINK_ROLES for role in roles):
        await _membership(db, circle.parent_id, member_id)  # the link sits in both circles
    await db.flush()
    return membership


class Person(NamedTuple):
    id: uuid.UUID
    name: str
    email: str


async def member_by_email(db: AsyncSession, email: str) -> Person:
    row = (
        await db.execute(select(person.c.id, person.c.name, person.c.email).where(person.c.email == clean_email(email)))
    ).one_or_none()
    if row is None:
        raise Refusal(
            "no_such_account", f"email: nobody has an account with {email}; send them an invitation link instead"
        )
    return Person(*row)


async def remove_role(db: AsyncSession, account_id: uuid.UUID, circle_id: uuid.UUID, role_id: uuid.UUID) -> None:
    circle = await get_visible(db, circle_id, account_id)
    role = await db.get(Role, role_id)
    membership = await db.get(Membership, role.membership_id) if role else None
    if role is None or membership is None or membership.circle_id != circle.id:
        raise not_found("role")
    if rules.who_assigns(role.name) == "parent" and circle.parent_id:
        rules.require_may_change(await roles_in(db, circle.parent_id, account_id) or set(), "the parent circle")
    else:
        await _require_steward(db, circle, account_id)
    await db.delete(role)
    await db.flush()


async def invite(db: AsyncSession, account_id: uuid.UUID, circle_id: uuid.UUID, name: str, email: str) -> str:
    """Returns the secret part of the invitation link; only its hash is stored."""
    circle = await get_visible(db, circle_id, account_id)
    await _require_steward(db, circle, account_id)
    token = secrets.token_urlsafe(24)
    db.add(
        Invitation(
            circle_id=circle.id,
            name=clean_name(name),
            email=clean_email(email),
            token_hash=hash_token(token),
            invited_by_id=account_id,
        )
    )
    await db.flush()
    return token


def invitation_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/invitations/{token}"


async def open_invitation(db: AsyncSession, token: str) -> tuple[Invitation, Circle]:
    invitation = await db.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))
    if invitation is None or invitation.accepted_at is not None:
        raise Refusal("not_found", "This invitation link is not valid or was used already.", status=404)
    return invitation, await db.get_one(Circle, invitation.circle_id)


async def accept_invitation(db: AsyncSession, token: str, account_id: uuid.UUID, now: datetime) -> Circle:
    invitation, circle = await open_invitation(db, token)
    invitation.accepted_at = now
    try:
        await _membership(db, circle.id, account_id)
    except IntegrityError:  # already a member: the invitation is simply used up
        await db.rollback()
    await db.flush()
    return circle


async def organisation_tree(
    db: AsyncSession, organisation_id: uuid.UUID
) -> tuple[list[Circle], dict[uuid.UUID, list[tuple[str, str]]]]:
    """All circles of an organisation, and for each its link roles as (role, member name)."""
    circles = list(
        await db.scalars(select(Circle).where(Circle.organisation_id == organisation_id).order_by(Circle.name))
    )
    rows = await db.execute(
        select(Membership.circle_id, Role.name, person.c.name)
        .join(Role, Role.membership_id == Membership.id)
        .join(person, person.c.id == Membership.account_id)
        .join(Circle, Circle.id == Membership.circle_id)
        .where(Circle.organisation_id == organisation_id, Role.name.in_(rules.LINK_ROLES))
    )
    links: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for circle_id, role, who in rows.all():
        links.setdefault(circle_id, []).append((role, who))
    return circles, links


async def terms_ending_soon(
    db: AsyncSession, account_id: uuid.UUID, today: date, days: int = 30
) -> list[tuple[Circle, str, str, date]]:
    """(circle, role, member name, term end) for the viewer's organisations, soonest first."""
    organisations = await organisations_of(db, account_id)
    if not organisations:
        return []
    rows = await db.execute(
        select(Circle, Role.name, person.c.name, Role.term_ends_on)
        .join(Membership, Membership.circle_id == Circle.id)
        .join(Role, Role.membership_id == Membership.id)
        .join(person, person.c.id == Membership.account_id)
        .where(Circle.organisation_id.in_(organisations), Role.term_ends_on.is_not(None))
    )
    found = [(c, role, who, ends) for c, role, who, ends in rows.all() if rules.term_ends_soon(ends, today, days)]
    return sorted(found, key=lambda row: row[3])
