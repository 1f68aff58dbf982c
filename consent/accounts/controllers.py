"""The account API (API.md) and the sign-up, sign-in, sign-out and account pages."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from consent.accounts import services
from consent.accounts.auth import InjectedSessionConfig, end_session, requires_account, start_session
from consent.accounts.limits import SignInLimits, TooMany
from consent.accounts.models import Account
from consent.accounts.schemas import AccountOut, SignedIn, SignIn, SignUp
from consent.base.errors import Refusal, error_responses, msgspec_refusal
from consent.base.i18n import gettext as _
from consent.base.web import Form, Page


def account_out(account: Any) -> AccountOut:
    return AccountOut(id=str(account.id), name=account.name, email=account.email)


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
        await start_session(request, session_config, services.viewer_of(account))
        return SignedIn(token=token, account=account_out(account))

    @delete(
        "/sessions", status_code=HTTP_204_NO_CONTENT, guards=[requires_account], responses=error_responses(401, 403)
    )
    async def sign_out(self, request: Request[Any, Any, Any], db_session: AsyncSession) -> None:
        """Sign out: revokes the bearer token used, or ends the browser session."""
        viewer: services.Viewer = request.user
        if viewer.token_id is not None:
            await services.revoke_token(db_session, viewer, viewer.token_id)
        else:
            end_session(request)

    @get("/accounts/me", guards=[requires_account], responses=error_responses(401))
    async def me(self, request: Request[Any, Any, Any]) -> AccountOut:
        """The signed-in account."""
        return account_out(request.user)


class AccountForm(msgspec.Struct):
    """The sign-up form; sign-in uses its email, password and next."""

    name: str = ""
    email: str = ""
    password: str = ""
    next: str = "/"


class TokenForm(msgspec.Struct):
    label: str = ""


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
        data: Annotated[AccountForm, Form],
    ) -> Template | Redirect:
        try:
            await limits.signing_up(address_of(request))
            msgspec.convert({"name": data.name, "email": data.email, "password": data.password}, SignUp)
            account = await services.sign_up(db_session, data.name, data.email, data.password)
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
        await start_session(request, session_config, services.viewer_of(account))
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
        await start_session(request, session_config, services.viewer_of(account))
        flash(request, _("Signed in as {name}.").format(name=account.name), category="success")
        return Redirect(safe_next(data.next))

    @post("/sign-out")
    async def sign_out(self, request: Request[Any, Any, Any]) -> Redirect:
        end_session(request)
        return Redirect("/")

    @get("/account", guards=[requires_account])
    async def account(self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page) -> Template:
        tokens = await services.tokens_of(db_session, request.user)
        return await page(request, db_session, "consent/account.html", tokens=tokens, new_token=None)

    @post("/account/tokens", guards=[requires_account])
    async def create_token(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page, data: Annotated[TokenForm, Form]
    ) -> Template:
        _, token = await services.issue_token(db_session, request.user, label=data.label.strip() or "script")
        tokens = await services.tokens_of(db_session, request.user)
        return await page(request, db_session, "consent/account.html", tokens=tokens, new_token=token)

    @post("/account/tokens/{token_id:uuid}/revoke", guards=[requires_account])
    async def revoke_token(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, token_id: uuid.UUID
    ) -> Redirect:
        if await services.revoke_token(db_session, request.user, token_id):
            flash(request, _("The token was revoked."), category="success")
        return Redirect("/account")
