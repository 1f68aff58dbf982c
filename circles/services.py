"""Loading and storing circles, domains, memberships, roles and invitations; every change
checks the rules of circles.rules and who is asking. A role gives its powers until its term
ends: every check of who may change a circle is made on a day, from the injected clock."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ColumnElement, ScalarSelect, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from circles import rules
from circles.models import ACCEPTED, DECLINED, OPEN, Circle, Domain, Invitation, Membership, Role, person
from consent.base.errors import Refusal, bad_field
from consent.base.i18n import N_
from consent.base.i18n import gettext as _
from consent.base.text import MAX_DESCRIPTION, clean_email, clean_name, clean_text
from consent.base.times import check_zone
from consent.base.tokens import hash_token

NOT_FOUND = {
    "circle": N_("No such circle, or it is not visible to you."),
    "invitation": N_("No such invitation, or it is not visible to you."),
    "member": N_("No such member, or it is not visible to you."),
    "role": N_("No such role, or it is not visible to you."),
}


def not_found(what: str = "circle") -> Refusal:
    return Refusal("not_found", _(NOT_FOUND[what]), status=404)


@dataclass
class CircleView:
    """A circle as one viewer may see it, on one day."""

    circle: Circle
    viewer_roles: set[str] | None  # their roles in force; None: not a member of this circle
    details_visible: bool
    today: date
    members: list[tuple[Membership, str, str]] = field(default_factory=list)  # (membership, name, email)
    domains: list[Domain] = field(default_factory=list)
    children: list[Circle] = field(default_factory=list)
    parent: Circle | None = None
    parent_steward: bool = False  # may choose the leader and delegate the parent's domains
    # The open ones, with who invited: for those who invite (its stewards, and the parent's).
    invitations: list[tuple[Invitation, str]] | None = None

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


async def membership_in(db: AsyncSession, circle_id: uuid.UUID, account_id: uuid.UUID) -> Membership | None:
    return await db.scalar(
        select(Membership).where(Membership.circle_id == circle_id, Membership.account_id == account_id)
    )


async def roles_in(db: AsyncSession, circle_id: uuid.UUID, account_id: uuid.UUID) -> set[str] | None:
    """Every role the account holds in the circle, also those whose term ended; None: not a member."""
    membership = await membership_in(db, circle_id, account_id)
    return None if membership is None else {role.name for role in membership.roles}


async def powers_in(db: AsyncSession, circle_id: uuid.UUID, account_id: uuid.UUID, today: date) -> set[str] | None:
    """The roles that give the account powers in the circle today (their term has not ended);
    None: not a member."""
    membership = await membership_in(db, circle_id, account_id)
    return None if membership is None else rules.in_force(((r.name, r.term_ends_on) for r in membership.roles), today)


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


async def load_circle(db: AsyncSession, circle_id: uuid.UUID, account_id: uuid.UUID, today: date) -> CircleView:
    circle = await get_visible(db, circle_id, account_id)
    roles = await powers_in(db, circle.id, account_id, today)
    view = CircleView(
        circle=circle, viewer_roles=roles, details_visible=not circle.private or roles is not None, today=today
    )
    view.children = list(await db.scalars(select(Circle).where(Circle.parent_id == circle.id).order_by(Circle.name)))
    view.parent = await db.get(Circle, circle.parent_id) if circle.parent_id else None
    if view.parent is not None:
        view.parent_steward = rules.may_change(await powers_in(db, view.parent.id, account_id, today) or set())
    if view.may_change or view.parent_steward:
        rows = await db.execute(
            select(Invitation, person.c.name)
            .join(person, person.c.id == Invitation.invited_by_id)
            .where(Invitation.circle_id == circle.id, Invitation.status == OPEN)
            .order_by(Invitation.email)
        )
        view.invitations = [(invitation, name) for invitation, name in rows.all()]
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


async def require_steward(db: AsyncSession, circle: Circle, account_id: uuid.UUID, today: date) -> None:
    """Only a facilitator, secretary or leader of the circle, in their term, may change it."""
    rules.require_may_change(await powers_in(db, circle.id, account_id, today) or set(), circle.name)


async def _stewards(db: AsyncSession, circle_id: uuid.UUID, today: date) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(account, role) for each steward role of the circle whose term has not ended."""
    rows = await db.execute(
        select(Membership.account_id, Role.id, Role.term_ends_on)
        .join(Role, Role.membership_id == Membership.id)
        .where(Membership.circle_id == circle_id, Role.name.in_(rules.STEWARD_ROLES))
    )
    return [(account, role) for account, role, ends in rows.all() if not rules.expired(ends, today)]


async def create_circle(
    db: AsyncSession,
    account_id: uuid.UUID,
    name: str,
    aim: str,
    parent_id: uuid.UUID | None = None,
    *,
    today: date,
) -> Circle:
    name = clean_name(name)
    circle_id = uuid.uuid4()
    if parent_id is None:
        circle = Circle(id=circle_id, name=name, aim=clean_text(aim, "aim", MAX_DESCRIPTION), organisation_id=circle_id)
        roles = [Role(name=rules.FACILITATOR)]  # someone must be able to move the new organisation on
    else:
        parent = await get_visible(db, parent_id, account_id)
        await require_steward(db, parent, account_id, today)
        circle = Circle(
            id=circle_id,
            name=name,
            aim=clean_text(aim, "aim", MAX_DESCRIPTION),
            parent_id=parent.id,
            organisation_id=parent.organisation_id,
            time_zone=parent.time_zone,  # a sub-circle meets where its parent does, until it says otherwise
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
    reminder_hours: list[int] | None = None,
    time_zone: str | None = None,
    today: date,
) -> Circle:
    circle = await get_visible(db, circle_id, account_id)
    await require_steward(db, circle, account_id, today)
    if parent_id is not None and parent_id != circle.parent_id:
        if circle.parent_id is None:
            raise bad_field(
                "parent_id", _("{Field}: a top-level circle is its organisation and cannot be moved."), "top_level"
            )
        tree = list(await db.execute(select(Circle.id, Circle.parent_id, Circle.organisation_id)))
        rules.check_parent(
            circle.id, parent_id, {c: p for c, p, _ in tree}, {c: o for c, _, o in tree}, circle.organisation_id
        )
        await require_steward(db, await get_visible(db, parent_id, account_id), account_id, today)
        circle.parent_id = parent_id
    if name is not None:
        circle.name = clean_name(name)
    if aim is not None:
        circle.aim = clean_text(aim, "aim", MAX_DESCRIPTION)
    if private is not None:
        circle.private = private
    if default_review_months is not None:
        if not 1 <= default_review_months <= 60:
            raise bad_field("default_review_months", _("{Field} must be between 1 and 60 months."))
        circle.default_review_months = default_review_months
    if silence_is_consent is not None:
        circle.silence_is_consent = silence_is_consent
    if quorum is not None:
        members = await db.scalar(select(func.count()).where(Membership.circle_id == circle.id)) or 0
        rules.check_quorum(quorum, members)
        circle.quorum = quorum or None
    if default_async_days is not None:
        if not 1 <= default_async_days <= 90:
            raise bad_field("default_async_days", _("{Field} must be between 1 and 90 days."))
        circle.default_async_days = default_async_days
    if reminder_hours is not None:
        circle.reminder_hours = rules.check_reminder_hours(reminder_hours)
    if time_zone is not None:
        circle.time_zone = check_zone(time_zone)
    await db.flush()
    return circle


async def time_zone_of(db: AsyncSession, circle_id: uuid.UUID) -> str:
    """The circle's time zone: its times for those who chose none (consent.base.times)."""
    return await db.scalar(select(Circle.time_zone).where(Circle.id == circle_id)) or "UTC"


async def add_domain(
    db: AsyncSession,
    account_id: uuid.UUID,
    circle_id: uuid.UUID,
    name: str,
    description: str = "",
    parent_domain_id: uuid.UUID | None = None,
    *,
    today: date,
) -> Domain:
    circle = await get_visible(db, circle_id, account_id)
    name = clean_name(name)
    if parent_domain_id is None:
        await require_steward(db, circle, account_id, today)
    else:
        parent_domain = await db.get(Domain, parent_domain_id)
        holder = await db.get_one(Circle, parent_domain.circle_id) if parent_domain is not None else None
        if parent_domain is None or holder is None or holder.organisation_id != circle.organisation_id:
            raise bad_field("parent_domain_id", _("{Field}: no such domain in this organisation."), "no_such_domain")
        rules.check_delegation(parent_domain.circle_id, circle.parent_id)
        # Delegating is the holder's act: the parent circle's stewards decide it.
        await require_steward(db, holder, account_id, today)
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
    membership = await membership_in(db, circle_id, account_id)
    if membership is None:
        membership = Membership(circle_id=circle_id, account_id=account_id, roles=[])
        db.add(membership)
        await db.flush()
    return membership


class Invited(NamedTuple):
    """An invitation just made or renewed, and the secret of its link: shown this once."""

    invitation: Invitation
    token: str


async def add_member(
    db: AsyncSession,
    account_id: uuid.UUID,
    circle_id: uuid.UUID,
    email: str,
    roles: list[str],
    term_ends_on: date | None,
    today: date,
    name: str = "",
    open_link: bool = False,
) -> Membership | Invited:
    """Gives a member of the circle more roles; anyone else is invited, with the roles they
    will hold, whether or not the email has an account (the answer does not tell). The leader
    is chosen by the parent circle's stewards, every other role by the circle's."""
    circle = await get_visible(db, circle_id, account_id)
    roles = rules.check_roles(roles)
    rules.check_term_end(term_ends_on, today)
    actor_roles = await powers_in(db, circle.id, account_id, today) or set()
    parent_roles = (await powers_in(db, circle.parent_id, account_id, today) or set()) if circle.parent_id else set()
    for role in roles:
        rules.check_link_role(role, circle.parent_id)
        if rules.who_assigns(role) == "parent":
            rules.require_may_change(parent_roles, _("the parent circle"))
    if not roles or any(rules.who_assigns(role) == "circle" for role in roles):
        rules.require_may_change(actor_roles, circle.name)
    email = clean_email(email)
    name = clean_name(name) if name.strip() else ""
    member_id = await db.scalar(select(person.c.id).where(person.c.email == email))
    membership = None if member_id is None else await membership_in(db, circle.id, member_id)
    if membership is None:
        return await _invite(db, circle, account_id, email, name, roles, term_ends_on, open_link)
    await _give_roles(db, circle, membership, roles, term_ends_on, today)
    return membership


async def _give_roles(
    db: AsyncSession, circle: Circle, membership: Membership, roles: list[str], term_ends_on: date | None, today: date
) -> None:
    """A role held already is refused, unless its term has ended: giving it again renews it.
    Leaders and delegates sit in the parent circle too."""
    held = {role.name: role for role in membership.roles}
    for name in roles:
        role = held.get(name)
        if role is None:
            membership.roles.append(Role(name=name, term_ends_on=term_ends_on))
        elif rules.expired(role.term_ends_on, today):
            role.term_ends_on = term_ends_on
        else:
            raise bad_field(
                "roles", _("{{Field}}: this member already holds the role {name}.").format(name=name), "role_held", 409
            )
    if circle.parent_id and any(name in rules.LINK_ROLES for name in roles):
        await _membership(db, circle.parent_id, membership.account_id)  # the link sits in both circles
    await db.flush()


async def assign_selected(
    db: AsyncSession, circle_id: uuid.UUID, account_id: uuid.UUID, role: str, term_ends_on: date, today: date
) -> None:
    """A selection was consented to: the member holds the role until `term_ends_on`, and whoever
    held it in their term holds it no more (their term ended yesterday, on the record)."""
    holders = await db.scalars(
        select(Role)
        .join(Membership, Membership.id == Role.membership_id)
        .where(Membership.circle_id == circle_id, Membership.account_id != account_id, Role.name == role)
    )
    for held in holders:
        if not rules.expired(held.term_ends_on, today):
            held.term_ends_on = today - timedelta(days=1)
    membership = await _membership(db, circle_id, account_id)
    mine = next((r for r in membership.roles if r.name == role), None)
    if mine is None:
        membership.roles.append(Role(name=role, term_ends_on=term_ends_on))
    else:
        mine.term_ends_on = term_ends_on
    circle = await db.get_one(Circle, circle_id)
    if circle.parent_id and role in rules.LINK_ROLES:
        await _membership(db, circle.parent_id, account_id)  # the link sits in both circles
    await db.flush()


async def _invite(
    db: AsyncSession,
    circle: Circle,
    account_id: uuid.UUID,
    email: str,
    name: str,
    roles: list[str],
    term_ends_on: date | None,
    open_link: bool,
) -> Invited:
    """The open invitation of this email, made or renewed: the latest roles, inviter and
    `open_link`, and a new link (the previous link stops working)."""
    invitation = await db.scalar(
        select(Invitation)
        .where(Invitation.circle_id == circle.id, Invitation.email == email, Invitation.status == OPEN)
        .with_for_update()
    )
    if invitation is None:
        invitation = Invitation(circle_id=circle.id, email=email)
        db.add(invitation)
    token = secrets.token_urlsafe(24)
    invitation.token_hash, invitation.invited_by_id = hash_token(token), account_id
    invitation.roles, invitation.term_ends_on, invitation.open_link = roles, term_ends_on, open_link
    invitation.name = name or invitation.name or ""
    await db.flush()
    return Invited(invitation, token)


def invitation_link(site: str, token: str) -> str:
    return f"{site}/invitations/{token}"


# Mails the invitation, in the transaction that made it, and gives its link (from the configured
# base URL): (db, invited, circle's name, inviter's name). The shell provides it.
SendInvitation = Callable[[AsyncSession, Invited, str, str], Awaitable[str]]


class InvitationView(NamedTuple):
    invitation: Invitation
    circle: Circle
    invited_by: str  # their name


async def invitations_for(db: AsyncSession, account_id: uuid.UUID) -> list[InvitationView]:
    """The open invitations for the account's email, oldest first."""
    rows = await db.execute(
        select(Invitation, Circle, person.c.name)
        .join(Circle, Circle.id == Invitation.circle_id)
        .join(person, person.c.id == Invitation.invited_by_id)
        .where(_open_for(account_id))
        .order_by(Invitation.created_at)
    )
    return [InvitationView(*row) for row in rows.all()]


def _open_for(account_id: uuid.UUID) -> ColumnElement[bool]:
    return and_(
        Invitation.status == OPEN,
        Invitation.email == select(person.c.email).where(person.c.id == account_id).scalar_subquery(),
    )


def invitations_count(account_id: uuid.UUID) -> ScalarSelect[int]:
    """How many invitations `invitations_for` lists, as a subquery (the header's count)."""
    return select(func.count()).select_from(Invitation).where(_open_for(account_id)).scalar_subquery()


async def invitation_for(db: AsyncSession, invitation_id: uuid.UUID, account_id: uuid.UUID) -> InvitationView:
    """One open invitation for the account's email; any other is not found, as if it did not exist."""
    found = next((view for view in await invitations_for(db, account_id) if view.invitation.id == invitation_id), None)
    if found is None:
        raise not_found("invitation")
    return found


async def invitation_by_link(db: AsyncSession, token: str) -> InvitationView:
    row = (
        await db.execute(
            select(Invitation, Circle, person.c.name)
            .join(Circle, Circle.id == Invitation.circle_id)
            .join(person, person.c.id == Invitation.invited_by_id)
            .where(Invitation.token_hash == hash_token(token), Invitation.status == OPEN)
        )
    ).one_or_none()
    if row is None:
        raise Refusal("not_found", _("This invitation link is not valid or was used already."), status=404)
    return InvitationView(*row)


async def accept_by_link(db: AsyncSession, view: InvitationView, account_id: uuid.UUID, now: datetime) -> Membership:
    """The account accepts by the invitation's link: the invited person's own account, or any
    if the steward allowed it."""
    email = (await person_of(db, account_id)).email
    invitation = view.invitation
    if not rules.may_accept(invitation.email, invitation.open_link, email):
        raise Refusal(
            "not_invited",
            _("This invitation is for {masked}; sign in with that email to accept it.").format(
                masked=rules.masked(invitation.email)
            ),
            status=403,
        )
    return await accept(db, invitation, account_id, now)


async def accept(db: AsyncSession, invitation: Invitation, account_id: uuid.UUID, now: datetime) -> Membership:
    """The account joins the circle with the invitation's roles (those it holds already stay as
    they are); a link role makes it a member of the parent circle too."""
    invitation.status, invitation.answered_at = ACCEPTED, now
    circle = await db.get_one(Circle, invitation.circle_id)
    membership = await _membership(db, circle.id, account_id)
    held = rules.in_force(((role.name, role.term_ends_on) for role in membership.roles), now.date())
    roles = [role for role in invitation.roles if role not in held]
    await _give_roles(db, circle, membership, roles, invitation.term_ends_on, now.date())
    return membership


async def decline(db: AsyncSession, invitation: Invitation, now: datetime) -> None:
    invitation.status, invitation.answered_at = DECLINED, now
    await db.flush()


class Person(NamedTuple):
    id: uuid.UUID
    name: str
    email: str


async def person_of(db: AsyncSession, account_id: uuid.UUID) -> Person:
    query = select(person.c.id, person.c.name, person.c.email).where(person.c.id == account_id)
    row = (await db.execute(query)).one_or_none()
    if row is None:
        raise not_found("member")
    return Person(*row)


async def remove_role(
    db: AsyncSession, account_id: uuid.UUID, circle_id: uuid.UUID, role_id: uuid.UUID, today: date
) -> None:
    circle = await get_visible(db, circle_id, account_id)
    role = await db.get(Role, role_id)
    membership = await db.get(Membership, role.membership_id) if role else None
    if role is None or membership is None or membership.circle_id != circle.id:
        raise not_found("role")
    if rules.who_assigns(role.name) == "parent" and circle.parent_id:
        rules.require_may_change(
            await powers_in(db, circle.parent_id, account_id, today) or set(), _("the parent circle")
        )
    else:
        await require_steward(db, circle, account_id, today)
    stewards = await _stewards(db, circle.id, today)
    rules.check_keeps_steward({a for a, _ in stewards}, {a for a, r in stewards if r != role.id})
    await db.delete(role)
    await db.flush()


# What else happens when a member leaves a circle or is removed from it, in the same
# transaction: the shell gives rounds' part (their open objections lapse, async proposals stop
# waiting for them), as circles sits below rounds. Called with (db, circle_id, member_id,
# actor_id, now), it answers what to do once the transaction is committed: publish the events
# it wrote.
Departure = Callable[[AsyncSession, uuid.UUID, uuid.UUID, uuid.UUID, datetime], Awaitable[Callable[[], None]]]


async def remove_member(
    db: AsyncSession,
    account_id: uuid.UUID,
    circle_id: uuid.UUID,
    member_id: uuid.UUID,
    now: datetime,
    departure: Departure,
) -> Callable[[], None]:
    """A member leaves (`member_id` is the one asking), or a steward removes them: the leader
    only by a steward of the parent circle, who chose them. Never the circle's last steward.
    Returns what to do once committed (see Departure)."""
    circle = await get_visible(db, circle_id, account_id)
    membership = await membership_in(db, circle.id, member_id)
    if membership is None:
        raise not_found("member")
    today = now.date()
    if member_id != account_id:
        if circle.parent_id and any(rules.who_assigns(role.name) == "parent" for role in membership.roles):
            rules.require_may_change(
                await powers_in(db, circle.parent_id, account_id, today) or set(), _("the parent circle")
            )
        else:
            await require_steward(db, circle, account_id, today)
    stewards = {a for a, _ in await _stewards(db, circle.id, today)}
    rules.check_keeps_steward(stewards, stewards - {member_id})
    await db.delete(membership)
    await db.flush()
    return await departure(db, circle.id, member_id, account_id, now)


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
