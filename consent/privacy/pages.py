"""The confirmation page of the erasure of one's account (docs/privacy.md): what is erased and
what stays, and the password to confirm. The account page links to it and to the export."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from consent.accounts.auth import requires_account
from consent.accounts.controllers import EraseAccount
from consent.base.errors import Refusal
from consent.base.i18n import gettext as _
from consent.base.web import Form, Page


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
        flash(request, _("Your account is erased."), category="success")
        return Redirect("/")
