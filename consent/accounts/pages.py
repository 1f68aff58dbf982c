"""The account page (name, email, password, language and time zone, signed-in browsers, tokens),
the page a new email's link opens, and the forgotten password pages."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from consent.accounts import rules, services
from consent.accounts.auth import (
    InjectedSessionConfig,
    end_sessions,
    requires_account,
    sign_out_one,
    sign_out_others,
    start_session,
    this_session,
)
from consent.accounts.controllers import ask_reset
from consent.accounts.limits import SignInLimits, TooMany
from consent.accounts.mails import AccountMail
from consent.accounts.schemas import PasswordChange, SignUp
from consent.base.clock import Clock
from consent.base.errors import Refusal, msgspec_refusal
from consent.base.i18n import gettext as _
from consent.base.times import known_zones
from consent.base.web import Form, Page


class TokenForm(msgspec.Struct):
    label: str = ""


class NameForm(msgspec.Struct):
    name: str = ""


class EmailForm(msgspec.Struct):
    email: str = ""


class PasswordForm(msgspec.Struct):
    current: str = ""
    new: str = ""


class ChoicesForm(msgspec.Struct):
    language: str = ""  # blank: the browser's
    time_zone: str = ""


class NewPasswordForm(msgspec.Struct):
    password: str = ""


def refusal_of(exc: Exception) -> Refusal:
    return msgspec_refusal(exc) if isinstance(exc, msgspec.ValidationError) else exc  # type: ignore[return-value]


def checked_password(password: str) -> None:
    """Held to the sign-up body's length rule (`schemas.Password`), said with the field named."""
    msgspec.convert({"name": "-", "email": "a@b.org", "password": password}, SignUp)


async def account_page(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    page: Page,
    session_config: InjectedSessionConfig,
    *,
    status_code: int = 200,
    new_token: str | None = None,
    refused: Refusal | None = None,
    form: dict[str, str] | None = None,
    default_field: str = "",
) -> Template:
    """The account page; a refused form comes back with its values and the error under its
    field (`default_field` when the refusal names none)."""
    account = await services.account_of(db, request.user)
    mine = this_session(request, session_config)
    errors = {(refused.field or default_field): refused.message} if refused else {}
    return await page(
        request,
        db,
        "consent/account.html",
        status_code=refused.status if refused else status_code,
        account=account,
        tokens=await services.tokens_of(db, request.user),
        new_token=new_token,
        sessions=[(row, row.session_hash == mine) for row in await services.sessions_of(db, account.id)],
        languages=rules.LANGUAGES,
        time_zones=sorted(known_zones()),
        field_errors=errors,
        form=form or {},
    )


class AccountSettingsPages(Controller):
    """What the signed-in person changes about their own account."""

    include_in_schema = False
    path = "/account"
    guards = [requires_account]

    @get("/")
    async def account(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        session_config: InjectedSessionConfig,
    ) -> Template:
        return await account_page(request, db_session, page, session_config)

    @post("/name")
    async def rename(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        session_config: InjectedSessionConfig,
        data: Annotated[NameForm, Form],
    ) -> Template | Redirect:
        account = await services.account_of(db_session, request.user)
        try:
            services.rename(account, data.name)
        except Refusal as refused:
            form = {"name": data.name}
            return await account_page(request, db_session, page, session_config, refused=refused, form=form)
        flash(request, _("Your name was changed."), category="success")
        return Redirect("/account")

    @post("/email")
    async def change_email(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        session_config: InjectedSessionConfig,
        clock: Clock,
        account_mail: AccountMail,
        data: Annotated[EmailForm, Form],
    ) -> Template | Redirect:
        account = await services.account_of(db_session, request.user)
        try:
            email = await services.new_email(db_session, account, data.email)
        except Refusal as refused:
            form = {"email": data.email}
            return await account_page(request, db_session, page, session_config, refused=refused, form=form)
        await account_mail.email_change(db_session, clock(), account, email)
        flash(
            request,
            _(
                "We mailed a link to {email}: open it within 24 hours to make it your email. Until then it stays {old}."
            ).format(email=email, old=account.email),
            category="success",
        )
        return Redirect("/account")

    @post("/password")
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        session_config: InjectedSessionConfig,
        data: Annotated[PasswordForm, Form],
    ) -> Template | Redirect:
        account = await services.account_of(db_session, request.user)
        try:
            msgspec.convert({"current": data.current, "new": data.new}, PasswordChange)
            await services.change_password(account, data.current, data.new)
        except (msgspec.ValidationError, Refusal) as exc:
            refused = refusal_of(exc)
            return await account_page(request, db_session, page, session_config, refused=refused, default_field="new")
        await sign_out_others(request, session_config, db_session, account.id)
        flash(request, _("Your password was changed, and your other browsers were signed out."), category="success")
        return Redirect("/account")

    @post("/choices")
    async def choose(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        session_config: InjectedSessionConfig,
        data: Annotated[ChoicesForm, Form],
    ) -> Template | Redirect:
        account = await services.account_of(db_session, request.user)
        try:
            services.choose(account, language=data.language or None, time_zone=data.time_zone or None)
        except Refusal as refused:
            form = {"language": data.language, "time_zone": data.time_zone}
            return await account_page(request, db_session, page, session_config, refused=refused, form=form)
        flash(request, _("Your language and time zone were saved."), category="success")
        return Redirect("/account")

    @post("/sessions/{session_id:uuid}/sign-out")
    async def sign_out_session(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        session_config: InjectedSessionConfig,
        session_id: uuid.UUID,
    ) -> Redirect:
        ended = await sign_out_one(request, session_config, db_session, request.user.id, session_id)
        if this_session(request, session_config) in ended:
            return Redirect("/")  # this browser: signed out
        if ended:
            flash(request, _("That browser was signed out."), category="success")
        return Redirect("/account")

    @post("/tokens")
    async def create_token(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        session_config: InjectedSessionConfig,
        data: Annotated[TokenForm, Form],
    ) -> Template:
        token = (await services.issue_token(db_session, request.user, label=data.label.strip() or "script"))[1]
        return await account_page(request, db_session, page, session_config, new_token=token)

    @post("/tokens/{token_id:uuid}/revoke")
    async def revoke_token(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, token_id: uuid.UUID
    ) -> Redirect:
        if await services.revoke_token(db_session, request.user, token_id):
            flash(request, _("The token was revoked."), category="success")
        return Redirect("/account")


class EmailChangePages(Controller):
    """The page a new email's link opens: whoever holds the link confirms, signed in or not
    (the link itself proves the address, and was asked for by the account)."""

    include_in_schema = False

    @get("/account/email/{token:str}")
    async def confirm_page(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        clock: Clock,
        account_mail: AccountMail,
        token: str,
    ) -> Template:
        """Asks before it changes anything: a mail scanner that opens links changes nothing."""
        claim = rules.email_change_claim(account_mail.secret, token, clock())
        new_email = claim.text if claim else None
        return await page(request, db_session, "consent/email_confirm.html", token=token, new_email=new_email)

    @post("/account/email/{token:str}")
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        clock: Clock,
        account_mail: AccountMail,
        token: str,
    ) -> Template | Redirect:
        try:
            account, old = await services.confirm_email(db_session, account_mail.secret, token, clock())
        except Refusal as refused:
            return await page(
                request,
                db_session,
                "consent/email_confirm.html",
                status_code=refused.status,
                token=token,
                new_email=None,
                error=refused.message,
            )
        await account_mail.email_changed(db_session, clock(), account, old)
        flash(request, _("Your email is now {email}.").format(email=account.email), category="success")
        return Redirect("/account" if request.user and request.user.id == account.id else "/sign-in")


class PasswordResetPages(Controller):
    """A forgotten password: a link mailed to the account's email, which works once, for an
    hour. Nothing said here tells whether an email has an account."""

    include_in_schema = False
    path = "/password-reset"

    @get("/")
    async def ask_page(self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page) -> Template:
        return await page(request, db_session, "consent/password_reset.html", form={}, sent=False)

    @post("/")
    async def ask(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        clock: Clock,
        limits: SignInLimits,
        account_mail: AccountMail,
        data: Annotated[EmailForm, Form],
    ) -> Template:
        form = {"email": data.email}
        try:
            await ask_reset(request, db_session, clock, limits, account_mail, data.email)
        except TooMany as exc:
            answer = await page(
                request, db_session, "consent/password_reset.html", status_code=429, form=form, error=exc.message
            )
            answer.headers.update(exc.headers)
            return answer
        return await page(request, db_session, "consent/password_reset.html", form=form, sent=True)

    @get("/{token:str}")
    async def new_password_page(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        clock: Clock,
        account_mail: AccountMail,
        token: str,
    ) -> Template:
        try:
            await services.reset_account(db_session, account_mail.secret, token, clock())
        except Refusal as refused:
            return await page(
                request, db_session, "consent/new_password.html", status_code=refused.status, error=refused.message
            )
        return await page(request, db_session, "consent/new_password.html", token=token, field_errors={})

    @post("/{token:str}")
    async def set_new_password(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        clock: Clock,
        session_config: InjectedSessionConfig,
        account_mail: AccountMail,
        token: str,
        data: Annotated[NewPasswordForm, Form],
    ) -> Template | Redirect:
        """Sets the new password, signs every browser of the account out and this one in."""
        try:
            account = await services.reset_account(db_session, account_mail.secret, token, clock())
        except Refusal as used:
            return await page(
                request, db_session, "consent/new_password.html", status_code=used.status, error=used.message
            )
        try:
            checked_password(data.password)
            await services.set_password(account, data.password)
        except (msgspec.ValidationError, Refusal) as exc:
            weak = refusal_of(exc)
            return await page(
                request,
                db_session,
                "consent/new_password.html",
                status_code=weak.status,
                token=token,
                field_errors={"password": weak.message},
            )
        await end_sessions(request, session_config, await services.forget_sessions(db_session, account.id))
        await start_session(request, session_config, services.viewer_of(account), db_session, clock())
        flash(
            request,
            _("Your new password is set, {name}; you are signed in.").format(name=account.name),
            category="success",
        )
        return Redirect("/")
