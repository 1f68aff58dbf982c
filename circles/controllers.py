"""The circle API of API.md: thin translations between HTTP and circles.services."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from circles import services
from circles.models import Circle, Domain
from circles.schemas import (
    CircleChange,
    CircleList,
    CircleOut,
    CircleRef,
    DomainOut,
    InvitationOut,
    MemberOut,
    MembershipOut,
    NewCircle,
    NewDomain,
    NewInvitation,
    NewMember,
    RoleOut,
)
from circles.services import CircleView
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
    return out


def domain_out(domain: Domain) -> DomainOut:
    return DomainOut(
        id=str(domain.id),
        name=domain.name,
        description=domain.description,
        parent_domain_id=str(domain.parent_domain_id) if domain.parent_domain_id else None,
    )


def member_out(membership: Any, name: str, email: str | None) -> MemberOut:
    roles = [RoleOut(id=str(r.id), name=r.name, term_ends_on=r.term_ends_on) for r in membership.roles]
    return MemberOut(id=str(membership.account_id), name=name, roles=roles, email=email)


def circle_out(view: CircleView) -> CircleOut:
    out = circle_summary(view.circle, details=view.details_visible)
    out.children = [CircleRef(id=str(c.id), name=c.name) for c in view.children]
    if view.details_visible:
        is_member = view.viewer_roles is not None  # emails only among the circle's own members
        out.members = [member_out(m, name, email if is_member else None) for m, name, email in view.members]
        out.domains = [domain_out(d) for d in view.domains]
    return out


class CircleApi(Controller):
    path = "/api/circles"
    tags = ["circles"]

    @post("/", status_code=HTTP_201_CREATED, responses=error_responses(400, 401, 403, 404, 422))
    async def create(self, request: Request[Any, Any, Any], db_session: AsyncSession, data: NewCircle) -> CircleOut:
        """Create a top-level circle (a new organisation) or a sub-circle; the creator becomes a member."""
        circle = await services.create_circle(db_session, request.user.id, data.name, data.aim, data.parent_id)
        return circle_out(await services.load_circle(db_session, circle.id, request.user.id))

    @get("/", responses=error_responses(401))
    async def list_visible(self, request: Request[Any, Any, Any], db_session: AsyncSession) -> CircleList:
        """Every circle of the caller's organisations; private ones without their details unless a member."""
        circles = await services.visible_circles(db_session, request.user.id)
        mine = {c.id for c in await services.circles_of(db_session, request.user.id)}
        return CircleList(items=[circle_summary(c, details=not c.private or c.id in mine) for c in circles])

    @get("/{circle_id:uuid}", responses=error_responses(400, 401, 404))
    async def read(self, request: Request[Any, Any, Any], db_session: AsyncSession, circle_id: uuid.UUID) -> CircleOut:
        return circle_out(await services.load_circle(db_session, circle_id, request.user.id))

    @patch("/{circle_id:uuid}", responses=error_responses(400, 401, 403, 404, 422))
    async def change(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, circle_id: uuid.UUID, data: CircleChange
    ) -> CircleOut:
        """Change a circle's name, aim, parent, privacy or consent policy: review period, silence at a
        deadline, quorum (0: a majority), async period (its facilitator, secretary or leader)."""
        fields = {k: v for k, v in ((f, getattr(data, f)) for f in data.__struct_fields__) if v is not None}
        await services.update_circle(db_session, request.user.id, circle_id, **fields)
        return circle_out(await services.load_circle(db_session, circle_id, request.user.id))

    @post(
        "/{circle_id:uuid}/members",
        status_code=HTTP_201_CREATED,
        responses=error_responses(400, 401, 403, 404, 409, 422),
    )
    async def add_member(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        circle_id: uuid.UUID,
        data: NewMember,
    ) -> MembershipOut:
        """Add a member with an account, or give a member roles; a leader or delegate joins the parent circle too."""
        await services.get_visible(db_session, circle_id, request.user.id)
        member = await services.member_by_email(db_session, data.email)
        membership = await services.add_member(
            db_session, request.user.id, circle_id, member.id, data.roles, data.term_ends_on, today(clock)
        )
        return MembershipOut(circle_id=str(circle_id), member=member_out(membership, member.name, member.email))

    @post("/{circle_id:uuid}/domains", status_code=HTTP_201_CREATED, responses=error_responses(400, 401, 403, 404, 422))
    async def add_domain(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, circle_id: uuid.UUID, data: NewDomain
    ) -> DomainOut:
        """Add a domain, or, with parent_domain_id, receive part of the parent circle's domain."""
        domain = await services.add_domain(
            db_session, request.user.id, circle_id, data.name, data.description, data.parent_domain_id
        )
        return domain_out(domain)

    @post(
        "/{circle_id:uuid}/invitations",
        status_code=HTTP_201_CREATED,
        responses=error_responses(400, 401, 403, 404, 422),
    )
    async def invite(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, circle_id: uuid.UUID, data: NewInvitation
    ) -> InvitationOut:
        """An invitation link for someone without an account; only a name and an email are kept."""
        token = await services.invite(db_session, request.user.id, circle_id, data.name, data.email)
        return InvitationOut(link=services.invitation_link(str(request.base_url), token))
