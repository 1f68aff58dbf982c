"""The export of one's data (API), the erasure of one's account (what DELETE /api/accounts/me
calls, and its confirmation page): docs/privacy.md. The account page links to both."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from circles.services import Departure
from consent.accounts.auth import end_session, requires_account
from consent.accounts.controllers import EraseAccount
from consent.base.clock import Clock
from consent.base.errors import Refusal, error_responses
from consent.base.web import Form, Page
from consent.privacy import services


async def erase_account(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    password: str,
    *,
    clock: Clock,
    member_left: Departure,
    mail_files: Path | None,
) -> None:
    """consent.accounts.controllers.EraseAccount: erases the signed-in account, commits, signs
    this browser out and tells the live pages of the proposals it left."""
    after = await services.erase(db, request.user.id, password, clock(), member_left, mail_files)
    await db.commit()
    end_session(request)
    for done in after:
        done()


class PrivacyApi(Controller):
    path = "/api/accounts/me"
    tags = ["accounts"]
    guards = [requires_account]

    @get("/export", responses=error_responses(401))
    async def export(self, request: Request[Any, Any, Any], db_session: AsyncSession) -> Response[dict[str, Any]]:
        """Everything kept about the signed-in account and all it did, as one JSON file."""
        data = await services.export(db_session, request.user.id)
        return Response(
            data,
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="my-consent-data.json"'},
        )


class ErasureForm(msgspec.Struct):
    password: str = ""


class PrivacyPages(Controller):
    include_in_schema = False
    guards = [requires_account]

    @get("/account/delete")
    async def confirm(self, request: Request[Any, Any, Any], db_session: AsyncSession, page: Page) -> Template:
        return await page(request, db_session, "consent/delete_account.html", error=None)

    @post("/account/delete")
    async def erase(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        page: Page,
        erase_account: EraseAccount,
        data: Annotated[ErasureForm, Form],
    ) -> Template | Redirect:
        try:
            await erase_account(request, db_session, data.password)
        except Refusal as refusal:
            return await page(
                request, db_session, "consent/delete_account.html", status_code=refusal.status, error=refusal.message
            )
        request.set_session({})  # signed out: a session of its own carries the message
        flash(request, "Your account is erased.", category="success")
        return Redirect("/")
