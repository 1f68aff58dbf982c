"""The circle pages: a circle, its forms, the org chart, role terms, leaving, and invitations."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from circles import chart, rules, services
from circles.models import Domain
from circles.services import Departure, InvitationView, SendInvitation
from consent.base.clock import Clock, today
from consent.base.errors import Refusal
from consent.base.forms import parse_date, parse_field, parse_uuid
from consent.base.i18n import N_
from consent.base.i18n import gettext as _
from consent.base.web import Form, Page


class CircleForm(msgspec.Struct):
    name: str = ""
    aim: str = ""


class DomainForm(msgspec.Struct):
    name: str = ""
    description: str = ""
    parent_domain_id: str = ""


class MemberForm(msgspec.Struct):
    email: str = ""
    role: str = ""
    term_ends_on: str = ""
    name: str = ""
    open_link: str = ""  # a checkbox: anyone with the link may accept


class SettingsForm(msgspec.Struct):
    name: str = ""
    aim: str = ""
    private: str = ""
    silence_is_consent: str = ""
    default_review_months: str = "6"
    quorum: str = ""  # empty: a majority
    default_async_days: str = "7"
    reminder_hours: str = "24, 2"
    time_zone: str = "UTC"


async def circle_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    page: Page,
    circle_id: uuid.UUID,
    status_code: int = 200,
    **context: Any,
) -> Template:
    view = await services.load_circle(db, circle_id, request.user.id, today(page.clock))
    parent_domains: list[Domain] = []
    if view.parent is not None and view.details_visible and view.parent_steward:
        parent_domains = (await services.load_circle(db, view.parent.id, request.user.id, today(page.clock))).domains
    context.setdefault("form", {})
    # Other packages add sections (its proposals, its decisions) without circles knowing them;
    # a private circle's are for its members only, like its aim and domains.
    sections = (
        [await section(db, circle_id, request.user.id) for section in page.circle_sections]
        if view.details_visible
        else []
    )
    return await page(
        request,
        db,
        "circles/circle.html",
        status_code=status_code,
        circle_zone=view.circle.time_zone,
        view=view,
        sections=sections,
        parent_domains=parent_domains,
        today=today(page.clock),
        term_ends_soon=rules.term_ends_soon,
        expired=rules.expired,
        standard_roles=rules.STANDARD_ROLES,
        **context,
    )


class CirclePages(Controller):
    include_in_schema = False

    async def _act(
        self,
        request: Request[Any, Any, Any],
        db: AsyncSession,
        page: Page,
        circle_id: uuid.UUID,
        action: Any,
        success: str | Callable[[], str],
        form: dict[str, str],
        **done: Any,
    ) -> Template | Redirect:
        """Runs one form's change; on a broken rule shows the circle page again with the error
        and what was typed, having changed nothing. `success` may depend on what the change did."""
        try:
            extra = await action()
        except Refusal as exc:
            await db.rollback()
            return await circle_page(request, db, page, circle_id, status_code=exc.status, error=str(exc), form=form)
        flash(request, success if isinstance(success, str) else success(), category="success")
        if extra:
            return await circle_page(request, db, page, circle_id, **{**done, **extra})
        return Redirect(f"/circles/{circle_id}")

    @get("/circles")
    async def index(self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page) -> Template:
        circles = await services.visible_circles(db_session, request.user.id)
        return await page(request, db_session, "circles/index.html", circles=circles, form={})

    @post("/circles")
    async def create_organisation(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, data: Annotated[CircleForm, Form]
    ) -> Template | Redirect:
        try:
            circle = await services.create_circle(
                db_session, request.user.id, data.name, data.aim, today=today(page.clock)
            )
        except Refusal as exc:
            circles = await services.visible_circles(db_session, request.user.id)
            return await page(
                request,
                db_session,
                "circles/index.html",
                status_code=exc.status,
                circles=circles,
                error=str(exc),
                form={"name": data.name, "aim": data.aim},
            )
        flash(request, _("{name} was created; you are its facilitator.").format(name=circle.name), category="success")
        return Redirect(f"/circles/{circle.id}")

    @get("/circles/{circle_id:uuid}")
    async def show(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, circle_id: uuid.UUID
    ) -> Template:
        return await circle_page(request, db_session, page, circle_id)

    @post("/circles/{circle_id:uuid}/sub-circles")
    async def create_sub_circle(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        circle_id: uuid.UUID,
        data: Annotated[CircleForm, Form],
    ) -> Template | Redirect:
        async def action() -> None:
            await services.create_circle(
                db_session, request.user.id, data.name, data.aim, circle_id, today=today(page.clock)
            )

        return await self._act(
            request,
            db_session,
            page,
            circle_id,
            action,
            _("The sub-circle {name} was created.").format(name=data.name.strip()),
            {"sub_name": data.name, "sub_aim": data.aim},
        )

    @post("/circles/{circle_id:uuid}/domains")
    async def add_domain(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        circle_id: uuid.UUID,
        data: Annotated[DomainForm, Form],
    ) -> Template | Redirect:
        async def action() -> None:
            await services.add_domain(
                db_session,
                request.user.id,
                circle_id,
                data.name,
                data.description,
                parse_uuid(data.parent_domain_id, "parent_domain_id", N_("one of the choices offered")),
                today=today(page.clock),
            )

        return await self._act(
            request,
            db_session,
            page,
            circle_id,
            action,
            _("The domain {name} was added.").format(name=data.name.strip()),
            {"domain_name": data.name, "domain_description": data.description, "domain_parent": data.parent_domain_id},
        )

    @post("/circles/{circle_id:uuid}/members")
    async def add_member(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        clock: Clock,
        send_invitation: SendInvitation,
        circle_id: uuid.UUID,
        data: Annotated[MemberForm, Form],
    ) -> Template | Redirect:
        email, role = data.email.strip(), data.role.strip()
        # The same words whether or not the email has an account: the page does not tell.
        if role:
            done = _("{email} is invited as {role}: they join once they accept.").format(email=email, role=role)
        else:
            done = _("{email} is invited: they join once they accept.").format(email=email)
        if data.open_link and role:
            done = _("{email} is invited as {role}; anyone with the link may join by it.").format(
                email=email, role=role
            )
        elif data.open_link:
            done = _("{email} is invited; anyone with the link may join by it.").format(email=email)

        async def action() -> dict[str, str] | None:
            added = await services.add_member(
                db_session,
                request.user.id,
                circle_id,
                data.email,
                [role] if role else [],
                parse_date(data.term_ends_on, "term_ends_on", N_("a date like 2027-05-31")),
                today(clock),
                data.name,
                bool(data.open_link),
            )
            if isinstance(added, services.Invited):
                circle = await services.get_visible(db_session, circle_id, request.user.id)
                return {"invitation_link": await send_invitation(db_session, added, circle.name, request.user.name)}
            nonlocal done
            done = (
                _("{email} was given the role {role}.").format(email=email, role=role)
                if role
                else _("{email} is a member already.").format(email=email)
            )
            return None

        return await self._act(
            request,
            db_session,
            page,
            circle_id,
            action,
            lambda: done,
            {
                "member_email": data.email,
                "member_role": data.role,
                "term_ends_on": data.term_ends_on,
                "member_name": data.name,
                "member_open_link": data.open_link,
            },
        )

    @post("/circles/{circle_id:uuid}/roles/{role_id:uuid}/remove")
    async def remove_role(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        circle_id: uuid.UUID,
        role_id: uuid.UUID,
    ) -> Template | Redirect:
        async def action() -> None:
            await services.remove_role(db_session, request.user.id, circle_id, role_id, today(page.clock))

        return await self._act(request, db_session, page, circle_id, action, _("The role was removed."), {})

    @post("/circles/{circle_id:uuid}/leave")
    async def leave(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        member_left: Departure,
        circle_id: uuid.UUID,
    ) -> Template | Redirect:
        circle = await services.get_visible(db_session, circle_id, request.user.id)

        async def action() -> None:
            await _remove(db_session, page, request.user.id, circle_id, request.user.id, member_left)

        done = await self._act(
            request,
            db_session,
            page,
            circle_id,
            action,
            _("You left {circle}.").format(circle=circle.name),
            {"leaving": "1"},
        )
        return Redirect("/") if isinstance(done, Redirect) else done

    @post("/circles/{circle_id:uuid}/members/{account_id:uuid}/remove")
    async def remove_member(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        member_left: Departure,
        circle_id: uuid.UUID,
        account_id: uuid.UUID,
    ) -> Template | Redirect:
        member = await services.person_of(db_session, account_id)

        async def action() -> None:
            await _remove(db_session, page, request.user.id, circle_id, account_id, member_left)

        return await self._act(
            request,
            db_session,
            page,
            circle_id,
            action,
            _("{name} was removed from the circle.").format(name=member.name),
            {"removing": str(account_id)},
        )

    @post("/circles/{circle_id:uuid}/settings")
    async def change_settings(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        circle_id: uuid.UUID,
        data: Annotated[SettingsForm, Form],
    ) -> Template | Redirect:
        async def action() -> None:
            months = parse_field(
                data.default_review_months, int, "default_review_months", N_("a whole number of months")
            )
            days = parse_field(data.default_async_days, int, "default_async_days", N_("a whole number of days"))
            quorum = parse_field(data.quorum, int, "quorum", N_("a whole number of members, or empty for a majority"))
            typed = data.reminder_hours.replace(",", " ").split()
            reminders = [
                parse_field(h, int, "reminder_hours", N_("whole numbers of hours, such as 24, 2")) or 0 for h in typed
            ]
            await services.update_circle(
                db_session,
                request.user.id,
                circle_id,
                name=data.name,
                aim=data.aim,
                private=bool(data.private),
                silence_is_consent=bool(data.silence_is_consent),
                default_review_months=months,
                default_async_days=days,
                quorum=quorum or 0,
                reminder_hours=reminders,
                time_zone=data.time_zone,
                today=today(page.clock),
            )

        return await self._act(
            request,
            db_session,
            page,
            circle_id,
            action,
            _("The circle's settings were saved."),
            {
                "settings_name": data.name,
                "settings_aim": data.aim,
                "settings_private": data.private,
                "settings_silence": data.silence_is_consent,
                "settings_months": data.default_review_months,
                "settings_quorum": data.quorum,
                "settings_async_days": data.default_async_days,
                "settings_reminders": data.reminder_hours,
                "settings_time_zone": data.time_zone,
            },
        )

    @get("/circles/{circle_id:uuid}/chart")
    async def org_chart(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, circle_id: uuid.UUID
    ) -> Template:
        circle = await services.get_visible(db_session, circle_id, request.user.id)
        circles, links = await services.organisation_tree(db_session, circle.organisation_id)
        drawing = chart.layout([(c.id, c.parent_id, c.name, c.private) for c in circles], links)
        organisation = next(c for c in circles if c.id == circle.organisation_id)
        return await page(
            request,
            db_session,
            "circles/chart.html",
            chart=drawing,
            organisation=organisation,
            box_w=chart.BOX_W,
            box_h=chart.BOX_H,
        )

    @get("/terms")
    async def terms(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, clock: Clock
    ) -> Template:
        ending = await services.terms_ending_soon(db_session, request.user.id, today(clock))
        return await page(request, db_session, "circles/terms.html", ending=ending, today=today(clock))


async def _remove(
    db: AsyncSession,
    page: Page,
    actor_id: uuid.UUID,
    circle_id: uuid.UUID,
    member_id: uuid.UUID,
    member_left: Departure,
) -> None:
    publish = await services.remove_member(db, actor_id, circle_id, member_id, page.clock(), member_left)
    await db.commit()
    publish()  # the events on the circle's proposals, once committed


async def _with_sections(db: AsyncSession, page: Page, view: InvitationView) -> dict[str, Any]:
    """An invitation as its pages show it: with what other packages add (the circle's standing
    agreements), which the invited person reads before accepting."""
    return {"view": view, "sections": [await section(db, view.circle.id) for section in page.invitation_sections]}


class InvitationPages(Controller):
    """Invitation links work for people without an account: they sign up, then join."""

    include_in_schema = False

    @get("/invitations/{token:str}")
    async def open(self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, token: str) -> Template:
        view = await services.invitation_by_link(db_session, token)
        context = await _with_sections(db_session, page, view)
        invitation, viewer = view.invitation, request.user
        may_join = viewer is None or rules.may_accept(invitation.email, invitation.open_link, viewer.email)
        return await page(
            request,
            db_session,
            "circles/invitation.html",
            token=token,
            may_join=may_join,
            invited=rules.masked(invitation.email),
            **context,
        )

    @post("/invitations/{token:str}")
    async def accept(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock, token: str
    ) -> Redirect:
        if request.user is None:
            raise NotAuthorizedException(_("Sign in or sign up first, then follow the link again."))
        view = await services.invitation_by_link(db_session, token)
        await services.accept_by_link(db_session, view, request.user.id, clock())
        flash(request, _("You joined {name}.").format(name=view.circle.name), category="success")
        return Redirect(f"/circles/{view.circle.id}")


class MyInvitationPages(Controller):
    """The signed-in person's invitations (for their email): read, then join or decline."""

    include_in_schema = False

    @get("/invitations")
    async def index(self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page) -> Template:
        views = await services.invitations_for(db_session, request.user.id)
        invitations = [await _with_sections(db_session, page, view) for view in views]
        return await page(request, db_session, "circles/invitations.html", invitations=invitations)

    @post("/invitations/{invitation_id:uuid}/accept")
    async def accept(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock, invitation_id: uuid.UUID
    ) -> Redirect:
        view = await services.invitation_for(db_session, invitation_id, request.user.id)
        await services.accept(db_session, view.invitation, request.user.id, clock())
        flash(request, _("You joined {name}.").format(name=view.circle.name), category="success")
        return Redirect(f"/circles/{view.circle.id}")

    @post("/invitations/{invitation_id:uuid}/decline")
    async def decline(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, clock: Clock, invitation_id: uuid.UUID
    ) -> Redirect:
        view = await services.invitation_for(db_session, invitation_id, request.user.id)
        await services.decline(db_session, view.invitation, clock())
        flash(request, _("You declined the invitation to {name}.").format(name=view.circle.name), category="success")
        return Redirect("/invitations")
