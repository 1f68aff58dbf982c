"""The export of one's data (API), and the erasure of one's account that DELETE /api/accounts/me
and the confirmation page call: docs/privacy.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Controller, Request, Response, get
from sqlalchemy.ext.asyncio import AsyncSession

from circles.services import Departure
from consent.accounts.auth import end_session, requires_account
from consent.base.clock import Clock
from consent.base.errors import error_responses
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
