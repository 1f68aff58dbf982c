"""The circle API of API.md: thin translations between HTTP and circles.services."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from circles import rules, services
from circles.models import Circle, Domain, Membership
from circles.schemas import (
    CircleChange,
    CircleList,
    CircleOut,
    CircleRef,
    DomainOut,
    InvitationList,
    InvitationOut,
    Invited,
    MemberOut,
    MembershipOut,
    NewCircle,
    NewDomain,
    NewMember,
    PersonRef,
    RoleOut,
)
from circles.services import CircleView, Departure, InvitationView, SendInvitation
from consent.base.clock import Clock, today
from consent.base.errors import error_responses


def circle_summary(circle: Circle, details: bool = True) -> CircleOut:
    out = CircleOut(
        id=str(circle.id),
        name=circle.name,
        parent_id=str(circle.parent_id) if circle.parent_id else None,
        organisation_id=str(circle.organisation_id),
        private=circle.private,
    )
    if details:
        out.aim = circle.aim
        out.default_review_months = circle.default_review_months
        out.silence_is_consent = circle.silence_is_consent
        out.quorum = circle.quorum
        out.default_async_days = circle.default_async_days
        out.reminder_hours = circle.reminder_hours
        out.time_zone = circle.time_zone
    return out


def domain_out(domain: Domain) -> DomainOut:
    return DomainOut(
        id=str(domain.id),
        name=domain.name,
        description=domain.description,
        parent_domain_id=str(domain.parent_domain_id) if domain.parent_domain_id else None,
    )


def member_out(membership: Membership, name: str, email: str | None, today: date) -> MemberOut:
    roles = [
        RoleOut(id=str(r.id), name=r.name, term_ends_on=r.term_ends_on, expired=rules.expired(r.term_ends_on, today))
        for r in membership.roles
    ]
    return MemberOut(id=str(membership.account_id), name=name, roles=roles, email=email)


def invitation_out(view: InvitationView, link: str | None = None) -> InvitationOut:
    invitation = view.invitation
    return InvitationOut(
        id=str(invitation.id),
        circle_id=str(view.circle.id),
        circle_name=view.circle.name,
        invited_by=PersonRef(id=str(invitation.invited_by_id), name=view.invited_by),
        roles=list(invitation.roles),
        term_ends_on=invitation.term_ends_on,
        email=invitation.email,
        open_link=invitation.open_link,
        link=link,
    )


def circle_out(view: CircleView, viewer_id: uuid.UUID) -> CircleOut:
    out = circle_summary(view.circle, details=view.details_visible)
    out.children = [CircleRef(id=str(c.id), name=c.name) for c in view.children]
    if view.details_visible:
        # Emails for the circle's stewards, who invite and reach its members; others see their own.
        out.members = [
            member_out(m, name, email if view.may_change or m.account_id == viewer_id else None, view.today)
            for m, name, email in view.members
        ]
        out.domains = [domain_out(d) for d in view.domains]
    if view.invitations is not None:
        out.invitations = [invitation_out(InvitationView(i, view.circle, by)) for i, by in view.invitations]
    return out


class CircleApi(Controller):
    path = "/api/circles"
    tags = ["circles"]

    @post("/", status_code=HTTP_201_CREATED, responses=error_responses(400, 401, 403, 404, 422))
    async def create(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock, data: NewCircle
    ) -> CircleOut:
        """Create a top-level circle (a new organisation) or a sub-circle; the creator becomes a member."""
        circle = await services.create_circle(
            db_session, request.user.id, data.name, data.aim, data.parent_id, today=today(clock)
        )
        return circle_out(
            await services.load_circle(db_session, circle.id, request.user.id, today(clock)), request.user.id
        )

    @get("/", responses=error_responses(401))
    async def list_visible(self, request: Request[Any, Any, Any], db_session: AsyncSession) -> CircleList:
        """Every circle of the caller's organisations; private ones without their details unless a member."""
        circles = await services.visible_circles(db_session, request.user.id)
        mine = {c.id for c in await services.circles_of(db_session, request.user.id)}
        return CircleList(items=[circle_summary(c, details=not c.private or c.id in mine) for c in circles])

    @get("/{circle_id:uuid}", responses=error_responses(400, 401, 404))
    async def read(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock, circle_id: uuid.UUID
    ) -> CircleOut:
        return circle_out(
            await services.load_circle(db_session, circle_id, request.user.id, today(clock)), request.user.id
        )

    @patch("/{circle_id:uuid}", responses=error_responses(400, 401, 403, 404, 422))
    async def change(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        circle_id: uuid.UUID,
        data: CircleChange,
    ) -> CircleOut:
        """Change a circle's name, aim, parent, privacy or consent policy: review period, silence at a
        deadline, quorum (0: a majority), async period, reminders before a deadline (its facilitator,
        secretary or leader)."""
        fields = {k: v for k, v in ((f, getattr(data, f)) for f in data.__struct_fields__) if v is not None}
        await services.update_circle(db_session, request.user.id, circle_id, **fields, today=today(clock))
        return circle_out(
            await services.load_circle(db_session, circle_id, request.user.id, today(clock)), request.user.id
        )

    @post(
        "/{circle_id:uuid}/members",
        status_code=HTTP_201_CREATED,
        responses={
            HTTP_201_CREATED: ResponseSpec(
                data_container=MembershipOut, description="Already a member: given the roles, if any."
            ),
            HTTP_202_ACCEPTED: ResponseSpec(
                data_container=Invited,
                description="Not a member (whether or not the email has an account): invited, with the roles.",
            ),
            **error_responses(400, 401, 403, 404, 409, 422),
        },
    )
    async def add_member(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        send_invitation: SendInvitation,
        circle_id: uuid.UUID,
        data: NewMember,
    ) -> Response[MembershipOut | Invited]:
        """Give a member roles (201), or invite anyone else (202): nobody joins without accepting.
        A leader or delegate sits in the parent circle too."""
        added = await services.add_member(
            db_session,
            request.user.id,
            circle_id,
            data.email,
            data.roles,
            data.term_ends_on,
            today(clock),
            data.name,
            data.open_link,
        )
        if isinstance(added, services.Invited):
            circle = await services.get_visible(db_session, circle_id, request.user.id)
            view = InvitationView(added.invitation, circle, request.user.name)
            link = await send_invitation(db_session, added, circle.name, request.user.name)
            return Response(Invited(invitation=invitation_out(view, link)), status_code=HTTP_202_ACCEPTED)
        return Response(await membership_out(db_session, added, today(clock)), status_code=HTTP_201_CREATED)

    @delete(
        "/{circle_id:uuid}/members/me", status_code=HTTP_204_NO_CONTENT, responses=error_responses(400, 401, 404, 409)
    )
    async def leave(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        member_left: Departure,
        circle_id: uuid.UUID,
    ) -> None:
        """Leave the circle: your open objections lapse, and async proposals stop waiting for you."""
        await self._remove(db_session, request.user.id, circle_id, request.user.id, clock, member_left)

    @delete(
        "/{circle_id:uuid}/members/{account_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        responses=error_responses(400, 401, 403, 404, 409),
    )
    async def remove_member(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        member_left: Departure,
        circle_id: uuid.UUID,
        account_id: uuid.UUID,
    ) -> None:
        """Remove a member (the circle's stewards; the leader, the parent circle's)."""
        await self._remove(db_session, request.user.id, circle_id, account_id, clock, member_left)

    @staticmethod
    async def _remove(
        db: AsyncSession,
        actor_id: uuid.UUID,
        circle_id: uuid.UUID,
        member_id: uuid.UUID,
        clock: Clock,
        member_left: Departure,
    ) -> None:
        publish = await services.remove_member(db, actor_id, circle_id, member_id, clock(), member_left)
        await db.commit()
        publish()  # the events on their proposals, once committed

    @post("/{circle_id:uuid}/domains", status_code=HTTP_201_CREATED, responses=error_responses(400, 401, 403, 404, 422))
    async def add_domain(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        circle_id: uuid.UUID,
        data: NewDomain,
    ) -> DomainOut:
        """Add a domain, or, with parent_domain_id, receive part of the parent circle's domain."""
        domain = await services.add_domain(
            db_session,
            request.user.id,
            circle_id,
            data.name,
            data.description,
            data.parent_domain_id,
            today=today(clock),
        )
        return domain_out(domain)


async def membership_out(db: AsyncSession, membership: Membership, today: date) -> MembershipOut:
    member = await services.person_of(db, membership.account_id)
    return MembershipOut(
        circle_id=str(membership.circle_id), member=member_out(membership, member.name, member.email, today)
    )


class InvitationApi(Controller):
    """The caller's own invitations: those for their account's email."""

    path = "/api/invitations"
    tags = ["circles"]

    @get("/", responses=error_responses(401))
    async def mine(self, request: Request[Any, Any, Any], db_session: AsyncSession) -> InvitationList:
        """My open invitations, oldest first."""
        return InvitationList(
            items=[invitation_out(v) for v in await services.invitations_for(db_session, request.user.id)]
        )

    @post("/{invitation_id:uuid}/accept", status_code=HTTP_200_OK, responses=error_responses(400, 401, 404))
    async def accept(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock, invitation_id: uuid.UUID
    ) -> MembershipOut:
        """Join the circle, with the roles of the invitation."""
        view = await services.invitation_for(db_session, invitation_id, request.user.id)
        membership = await services.accept(db_session, view.invitation, request.user.id, clock())
        return await membership_out(db_session, membership, today(clock))

    @post("/{invitation_id:uuid}/decline", status_code=HTTP_204_NO_CONTENT, responses=error_responses(400, 401, 404))
    async def decline(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock, invitation_id: uuid.UUID
    ) -> None:
        view = await services.invitation_for(db_session, invitation_id, request.user.id)
        await services.decline(db_session, view.invitation, clock())
