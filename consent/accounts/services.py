"""Loading and storing accounts and tokens; password hashing off the event loop."""

from __future__ import annotations

import functools
import os
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, cast

import anyio.to_thread
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from consent.accounts.models import Account, ApiToken
from consent.accounts.passwords import check_password
from consent.base.errors import Refusal
from consent.base.i18n import gettext as _
from consent.base.text import MAX_NAME, clean_email, clean_text
from consent.base.tokens import hash_token

# Argon2id with argon2-cffi's defaults (RFC 9106, low memory). The test suite alone sets
# CONSENT_FAST_PASSWORD_HASHES=1 for the cheapest parameters: each of its hundreds of sign-ups
# and sign-ins would otherwise cost a quarter of a second of CPU. Never set it for a server:
# hashes made with it are cheap to crack (the server warns at start, see consent.cli).
FAST_HASHES = os.environ.get("CONSENT_FAST_PASSWORD_HASHES") == "1"
_hasher = PasswordHasher.from_parameters(profiles.CHEAPEST) if FAST_HASHES else PasswordHasher()


@functools.cache
def _unknown_account_hash() -> str:
    """Verified against when the email is unknown, so a wrong email costs as long as a wrong
    password. Made at the first sign-in, not at start-up, which it would slow by one hash."""
    return _hasher.hash(secrets.token_urlsafe(16))


TOKEN_PREFIX = "cst_"


@dataclass(frozen=True)
class Viewer:
    """Who is asking: the signed-in account, as every controller and socket sees it."""

    id: uuid.UUID
    name: str
    email: str
    token_id: uuid.UUID | None = None  # set when signed in with a bearer token
    language: str | None = None  # their choice; None: the browser's (consent.base.i18n)


def viewer_of(account: Account, token_id: uuid.UUID | None = None) -> Viewer:
    return Viewer(id=account.id, name=account.name, email=account.email, token_id=token_id, language=account.language)


async def sign_up(db: AsyncSession, name: str, email: str, password: str) -> Account:
    name, email = clean_text(name, "name", MAX_NAME, required=True), clean_email(email)
    check_password(password, name, email)
    if await db.scalar(select(Account.id).where(Account.email == email)):
        raise Refusal(
            "email_taken",
            _("An account with the email {email} already exists; sign in instead.").format(email=email),
            409,
        )
    password_hash = await anyio.to_thread.run_sync(_hasher.hash, password)
    account = Account(name=name, email=email, password_hash=password_hash)
    db.add(account)
    try:
        await db.flush()
    except IntegrityError as exc:  # the same email signed up at the same instant
        await db.rollback()
        raise Refusal(
            "email_taken", _("An account with the email {email} already exists.").format(email=email), 409
        ) from exc
    return account


async def authenticate(db: AsyncSession, email: str, password: str) -> Account | None:
    try:
        email = clean_email(email)
    except Refusal:  # no account has it (and PostgreSQL refuses to compare a NUL character)
        account = None
    else:
        account = await db.scalar(select(Account).where(Account.email == email))

    def verify() -> bool:
        try:
            return _hasher.verify(account.password_hash if account else _unknown_account_hash(), password)
        except (VerifyMismatchError, InvalidHashError):
            return False

    ok = await anyio.to_thread.run_sync(verify)
    return account if ok and account is not None else None


async def issue_token(db: AsyncSession, account: Account | Viewer, label: str = "") -> tuple[ApiToken, str]:
    """Returns the stored token row and the token itself, which is shown once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(account_id=account.id, token_hash=hash_token(token), label=label[:100])
    db.add(row)
    await db.flush()
    return row, token


async def viewer_for_token(db: AsyncSession, token: str) -> Viewer | None:
    row = await db.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None:
        return None
    account = await db.get(Account, row.account_id)
    return viewer_of(account, token_id=row.id) if account else None


async def viewer_for_account_id(db: AsyncSession, account_id: str) -> Viewer | None:
    try:
        account = await db.get(Account, uuid.UUID(account_id))
    except ValueError:
        return None
    return viewer_of(account) if account else None


async def tokens_of(db: AsyncSession, viewer: Viewer) -> list[ApiToken]:
    return list(
        await db.scalars(select(ApiToken).where(ApiToken.account_id == viewer.id).order_by(ApiToken.created_at))
    )


async def revoke_token(db: AsyncSession, viewer: Viewer, token_id: uuid.UUID) -> bool:
    result = cast(
        "CursorResult[Any]",
        await db.execute(delete(ApiToken).where(ApiToken.id == token_id, ApiToken.account_id == viewer.id)),
    )
    return result.rowcount > 0
