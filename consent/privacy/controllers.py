"""The export of one's data (API), and the erasure of one's account that DELETE /api/accounts/me
and the confirmation page call: docs/privacy.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Controller, Request, Response, get
from sqlalchemy.ext.asyncio import AsyncSession

from circles.services import Departure
from consent.accounts.auth import SessionConfig, end_sessions, requires_account
from consent.accounts.services import forget_sessions
from consent.base.clock import Clock
from consent.base.errors import error_responses
from consent.privacy import services


async def erase_account(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    password: str,
    *,
    clock: Clock,
    session_config: SessionConfig,
    member_left: Departure,
    mail_files: Path | None,
) -> None:
    """consent.accounts.controllers.EraseAccount: erases the signed-in account, commits, signs
    its browsers out and tells the live pages of the proposals it left."""
    # Every browser of the account is signed out with it: their rows go with the account, and
    # their stored sessions after the commit.
    signed_in = await forget_sessions(db, request.user.id)
    after = await services.erase(db, request.user.id, password, clock(), member_left, mail_files)
    await db.commit()
    await end_sessions(request, session_config, signed_in)
    request.clear_session()
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
