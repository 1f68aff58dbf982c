"""The account API (API.md) and the sign-up, sign-in and sign-out pages."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.openapi import ResponseSpec
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from consent.accounts import services
from consent.accounts.auth import (
    InjectedSessionConfig,
    end_session,
    requires_account,
    sign_out_one,
    sign_out_others,
    start_session,
    this_session,
)
from consent.accounts.limits import SignInLimits, TooMany
from consent.accounts.mails import AccountMail
from consent.accounts.models import Account, BrowserSession
from consent.accounts.schemas import (
    AccountChange,
    AccountOut,
    Erasure,
    PasswordChange,
    PasswordResetAsked,
    ResetAsked,
    SessionOut,
    SignedIn,
    SignIn,
    SignUp,
)
from consent.base.clock import Clock
from consent.base.errors import Refusal, error_responses, msgspec_refusal
from consent.base.i18n import gettext as _
from consent.base.times import zone_named
from consent.base.web import Form, Page

# Erases the signed-in account, given its password, and signs it out; consent.privacy provides
# it (it reads and changes circles, proposals and decisions, layers above this one).
EraseAccount = Callable[[Request[Any, Any, Any], AsyncSession, str], Awaitable[None]]


def account_out(account: Account, pending_email: str | None = None) -> AccountOut:
    return AccountOut(
        id=str(account.id),
        name=account.name,
        email=account.email,
        language=account.language,
        time_zone=account.time_zone,
        pending_email=pending_email,
    )


def session_out(row: BrowserSession, mine: str | None) -> SessionOut:
    return SessionOut(
        id=str(row.id),
        label=row.label,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        current=row.session_hash == mine,
    )


def address_of(request: Request[Any, Any, Any]) -> str:
    """The client's address, as the limits count it (behind a proxy: the proxy's)."""
    return request.client.host if request.client else "unknown"


async def sign_in(
    request: Request[Any, Any, Any], db: AsyncSession, limits: SignInLimits, email: str, password: str
) -> Account | None:
    """The account, if the password is its own; refused (429) while the account is locked or
    the address is past its ceiling, before the password is hashed."""
    address = address_of(request)
    await limits.signing_in(address, email)
    account = await services.authenticate(db, email, password)
    if account is None:
        await limits.failed(address, email)
    else:
        await limits.succeeded(email)
    return account


RESET_ASKED = "If an account has this email, we mailed it a link to choose a new password; it works once, for an hour."


async def ask_reset(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    clock: Clock,
    limits: SignInLimits,
    account_mail: AccountMail,
    email: str,
) -> None:
    """Mails a password reset link to the email's account, if there is one and it was not
    mailed too often; the caller answers the same in every case."""
    if await limits.resetting(address_of(request), email):
        account = await services.account_for_reset(db, email)
        if account is not None:
            await account_mail.password_reset(db, clock(), account)


def require_json(request: Request[Any, Any, Any]) -> None:
    if request.content_type[0] != "application/json":
        raise Refusal("unsupported_media_type", _("Send the body as application/json."), 415)


class AccountApi(Controller):
    path = "/api"
    tags = ["accounts"]

    @post("/accounts", status_code=HTTP_201_CREATED, responses=error_responses(400, 409, 415, 422, 429))
    async def sign_up(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, limits: SignInLimits, data: SignUp
    ) -> AccountOut:
        """Create an account."""
        require_json(request)
        await limits.signing_up(address_of(request))
        account = await services.sign_up(db_session, data.name, data.email, data.password)
        return account_out(account)

    @post("/sessions", status_code=200, responses=error_responses(400, 401, 415, 429))
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        session_config: InjectedSessionConfig,
        limits: SignInLimits,
        data: SignIn,
    ) -> SignedIn:
        """Sign in: returns a bearer token for scripts and sets the browser session cookie."""
        require_json(request)
        account = await sign_in(request, db_session, limits, data.email, data.password)
        if account is None:
            raise Refusal("wrong_credentials", _("The email or the password is wrong."), 401)
        token = (await services.issue_token(db_session, account, label="API sign-in"))[1]
        await start_session(request, session_config, services.viewer_of(account), db_session, clock())
        return SignedIn(token=token, account=account_out(account))

    @delete(
        "/sessions", status_code=HTTP_204_NO_CONTENT, guards=[requires_account], responses=error_responses(401, 403)
    )
    async def sign_out(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, session_config: InjectedSessionConfig
    ) -> None:
        """Sign out: revokes the bearer token used, or ends the browser session."""
        viewer: services.Viewer = request.user
        if viewer.token_id is not None:
            await services.revoke_token(db_session, viewer, viewer.token_id)
        else:
            await end_session(request, session_config, db_session)

    @get("/sessions", guards=[requires_account], responses=error_responses(401))
    async def sessions(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, session_config: InjectedSessionConfig
    ) -> list[SessionOut]:
        """The browsers signed in to my account, the latest used first; `current`: this one."""
        mine = this_session(request, session_config)
        return [session_out(row, mine) for row in await services.sessions_of(db_session, request.user.id)]

    @delete(
        "/sessions/{session_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        guards=[requires_account],
        responses=error_responses(400, 401, 403, 404),
    )
    async def end_one_session(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        session_config: InjectedSessionConfig,
        session_id: uuid.UUID,
    ) -> None:
        """Sign one of my browsers out: its cookie no longer signs anyone in."""
        if not await sign_out_one(request, session_config, db_session, request.user.id, session_id):
            raise Refusal("not_found", _("There is no such session of yours; it may be signed out already."), 404)

    @get("/accounts/me", guards=[requires_account], responses=error_responses(401))
    async def me(self, request: Request[Any, Any, Any], db_session: AsyncSession) -> AccountOut:
        """The signed-in account."""
        return account_out(await services.account_of(db_session, request.user))

    @patch(
        "/accounts/me",
        guards=[requires_account],
        responses={
            HTTP_202_ACCEPTED: ResponseSpec(
                data_container=AccountOut,
                description="The email is to change: a link was mailed to the new one, which `pending_email` "
                "shows; `email` stays as it was until the link is opened. Anything else sent is changed.",
            ),
            **error_responses(400, 401, 403, 409, 422),
        },
    )
    async def change_me(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        account_mail: AccountMail,
        data: AccountChange,
    ) -> Response[AccountOut]:
        """Change my name, language or time zone (200), or my email (202: confirmed by a mailed
        link). All is checked before anything changes."""
        account = await services.account_of(db_session, request.user)
        language = account.language if data.language is msgspec.UNSET else data.language
        time_zone = account.time_zone if data.time_zone is msgspec.UNSET else data.time_zone
        services.choose(account, language=language, time_zone=time_zone)
        if data.name is not msgspec.UNSET:
            services.rename(account, data.name)
        if data.email is msgspec.UNSET:
            return Response(account_out(account))
        email = await services.new_email(db_session, account, data.email)
        await account_mail.email_change(db_session, clock(), account, email)
        return Response(account_out(account, pending_email=email), status_code=HTTP_202_ACCEPTED)

    @post(
        "/accounts/me/password",
        status_code=HTTP_204_NO_CONTENT,
        guards=[requires_account],
        responses=error_responses(400, 401, 403, 422),
    )
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        session_config: InjectedSessionConfig,
        data: PasswordChange,
    ) -> None:
        """Change my password; every other browser signed in to the account is signed out."""
        account = await services.account_of(db_session, request.user)
        await services.change_password(account, data.current, data.new)
        await sign_out_others(request, session_config, db_session, account.id)

    @post("/password-resets", status_code=HTTP_202_ACCEPTED, responses=error_responses(400, 415, 429))
    async def reset_password(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        clock: Clock,
        limits: SignInLimits,
        account_mail: AccountMail,
        data: PasswordResetAsked,
    ) -> ResetAsked:
        """Mail a link to choose a new password, if the email has an account. The answer is the
        same whether it has one or not."""
        require_json(request)
        await ask_reset(request, db_session, clock, limits, account_mail, data.email)
        return ResetAsked(RESET_ASKED)

    @delete(
        "/accounts/me",
        status_code=HTTP_204_NO_CONTENT,
        guards=[requires_account],
        responses=error_responses(400, 401, 403, 409, 415),
    )
    async def erase(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, erase_account: EraseAccount, data: Erasure
    ) -> None:
        """Erase the signed-in account, with its password in the body (docs/privacy.md): 409
        `last_steward` names the circles where someone must take over its role first."""
        require_json(request)
        await erase_account(request, db_session, data.password)


class AccountForm(msgspec.Struct):
    """The sign-up form; sign-in uses its email, password and next."""

    name: str = ""
    email: str = ""
    password: str = ""
    next: str = "/"
    time_zone: str = ""  # the browser's, filled in by templates/base.html's script


def safe_next(target: str) -> str:
    """Only same-site paths, so a sign-in link cannot send anyone elsewhere."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


class AccountPages(Controller):
    include_in_schema = False

    @get("/sign-up")
    async def sign_up_page(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        name: str = "",
        email: str = "",
        next: str = "/",
    ) -> Template:
        form = {"name": name, "email": email, "next": safe_next(next)}  # prefilled from an invitation link
        return await page(request, db_session, "consent/sign_up.html", form=form)

    @post("/sign-up")
    async def sign_up(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        session_config: InjectedSessionConfig,
        limits: SignInLimits,
        clock: Clock,
        data: Annotated[AccountForm, Form],
    ) -> Template | Redirect:
        try:
            await limits.signing_up(address_of(request))
            msgspec.convert({"name": data.name, "email": data.email, "password": data.password}, SignUp)
            account = await services.sign_up(
                db_session, data.name, data.email, data.password, time_zone=zone_named(data.time_zone)
            )
        except (msgspec.ValidationError, Refusal) as exc:
            refusal = msgspec_refusal(exc) if isinstance(exc, msgspec.ValidationError) else exc
            form = {"name": data.name, "email": data.email, "next": safe_next(data.next)}
            answer = await page(
                request,
                db_session,
                "consent/sign_up.html",
                status_code=refusal.status,
                form=form,
                error=refusal.message,
            )
            answer.headers.update(getattr(refusal, "headers", {}))  # a 429's Retry-After
            return answer
        await start_session(request, session_config, services.viewer_of(account), db_session, clock())
        flash(request, _("Welcome, {name}. Your account is ready.").format(name=account.name), category="success")
        return Redirect(safe_next(data.next))

    @get("/sign-in")
    async def sign_in_page(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, next: str = "/"
    ) -> Template:
        return await page(request, db_session, "consent/sign_in.html", form={"next": safe_next(next)})

    @post("/sign-in")
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        session_config: InjectedSessionConfig,
        limits: SignInLimits,
        clock: Clock,
        data: Annotated[AccountForm, Form],
    ) -> Template | Redirect:
        form = {"email": data.email, "next": safe_next(data.next)}
        try:
            account = await sign_in(request, db_session, limits, data.email, data.password)
        except TooMany as exc:
            answer = await page(
                request, db_session, "consent/sign_in.html", status_code=429, form=form, error=exc.message
            )
            answer.headers.update(exc.headers)
            return answer
        if account is None:
            error = "The email or the password is wrong."
            return await page(request, db_session, "consent/sign_in.html", status_code=401, form=form, error=error)
        await start_session(request, session_config, services.viewer_of(account), db_session, clock())
        flash(request, _("Signed in as {name}.").format(name=account.name), category="success")
        return Redirect(safe_next(data.next))

    @post("/sign-out")
    async def sign_out(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, session_config: InjectedSessionConfig
    ) -> Redirect:
        await end_session(request, session_config, db_session)
        return Redirect("/")
