"""Loading and storing accounts and tokens; password hashing off the event loop."""

from __future__ import annotations

import functools
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import anyio.to_thread
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from consent.accounts import rules
from consent.accounts.models import Account, ApiToken, BrowserSession
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
    time_zone: str | None = None  # the one they chose (consent.base.times)
    language: str | None = None  # their choice; None: the browser's (consent.base.i18n)


def viewer_of(account: Account, token_id: uuid.UUID | None = None) -> Viewer:
    return Viewer(
        id=account.id,
        name=account.name,
        email=account.email,
        token_id=token_id,
        time_zone=account.time_zone,
        language=account.language,
    )


async def sign_up(db: AsyncSession, name: str, email: str, password: str, time_zone: ZoneInfo | None = None) -> Account:
    """A new account; `time_zone`, the browser's at sign-up, is its zone until they choose
    another, so that mails show their times too."""
    name, email = clean_text(name, "name", MAX_NAME, required=True), clean_email(email)
    check_password(password, name, email)
    if await db.scalar(select(Account.id).where(Account.email == email)):
        raise Refusal(
            "email_taken",
            _("An account with the email {email} already exists; sign in instead.").format(email=email),
            409,
        )
    account = Account(
        name=name, email=email, password_hash=await hash_password(password), time_zone=time_zone and time_zone.key
    )
    db.add(account)
    try:
        await db.flush()
    except IntegrityError as exc:  # the same email signed up at the same instant
        await db.rollback()
        raise Refusal(
            "email_taken", _("An account with the email {email} already exists.").format(email=email), 409
        ) from exc
    return account


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def authenticate(db: AsyncSession, email: str, password: str) -> Account | None:
    try:
        email = clean_email(email)
    except Refusal:  # no account has it (and PostgreSQL refuses to compare a NUL character)
        account = None
    else:
        account = await db.scalar(select(Account).where(Account.email == email))
    ok = await verify_password(account, password)
    return account if ok and account is not None else None


async def verify_password(account: Account | None, password: str) -> bool:
    """Whether `password` is the account's; without an account, as slow as with one."""

    def verify() -> bool:
        try:
            return _hasher.verify(account.password_hash if account else _unknown_account_hash(), password)
        except (VerifyMismatchError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(verify)


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


async def signed_in(db: AsyncSession, session_hash: str, account_id: str) -> tuple[Account, BrowserSession] | None:
    """The account a browser session is signed in to, and its row: none once the row is gone
    (signed out from another browser, or by a new password)."""
    try:
        wanted = uuid.UUID(account_id)
    except ValueError:
        return None
    found = (
        await db.execute(
            select(Account, BrowserSession)
            .join(BrowserSession, BrowserSession.account_id == Account.id)
            .where(BrowserSession.session_hash == session_hash, Account.id == wanted)
        )
    ).first()
    return (found[0], found[1]) if found else None


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


async def record_session(db: AsyncSession, account_id: uuid.UUID, session_hash: str, label: str, now: datetime) -> None:
    db.add(
        BrowserSession(
            account_id=account_id, session_hash=session_hash, label=label[:100], created_at=now, last_seen_at=now
        )
    )
    await db.flush()


async def sessions_of(db: AsyncSession, account_id: uuid.UUID) -> list[BrowserSession]:
    return list(
        await db.scalars(
            select(BrowserSession)
            .where(BrowserSession.account_id == account_id)
            .order_by(BrowserSession.last_seen_at.desc(), BrowserSession.id)
        )
    )


async def forget_session(db: AsyncSession, session_hash: str) -> None:
    await db.execute(delete(BrowserSession).where(BrowserSession.session_hash == session_hash))


async def forget_sessions(
    db: AsyncSession, account_id: uuid.UUID, *, only: uuid.UUID | None = None, keeping: str | None = None
) -> list[str]:
    """Deletes the account's session rows (`only` that one, else all but the one whose hash is
    `keeping`) and returns their hashes, for the caller to delete from the session store."""
    where = [BrowserSession.account_id == account_id]
    if only is not None:
        where.append(BrowserSession.id == only)
    if keeping is not None:
        where.append(BrowserSession.session_hash != keeping)
    hashes = list(await db.scalars(select(BrowserSession.session_hash).where(*where)))
    if hashes:
        await db.execute(delete(BrowserSession).where(BrowserSession.session_hash.in_(hashes)))
    return hashes


async def account_of(db: AsyncSession, viewer: Viewer) -> Account:
    account = await db.get(Account, viewer.id)
    if account is None:  # deleted while this request ran
        raise Refusal("not_signed_in", _("Sign in first."), 401)
    return account


def rename(account: Account, name: str) -> None:
    account.name = clean_text(name, "name", MAX_NAME, required=True)


def choose(account: Account, *, language: str | None, time_zone: str | None) -> None:
    """The language and time zone chosen (None: the browser's), checked together before either is set."""
    account.language, account.time_zone = rules.check_language(language), rules.check_time_zone(time_zone)


async def new_email(db: AsyncSession, account: Account, email: str) -> str:
    """The address an account asks to change to, cleaned, if no other account has it."""
    email = clean_email(email)
    if email == account.email:
        raise Refusal("same_email", _("This is already your email."), 422, "email")
    await _refuse_taken(db, account, email)
    return email


async def _refuse_taken(db: AsyncSession, account: Account, email: str) -> None:
    if await db.scalar(select(Account.id).where(Account.email == email, Account.id != account.id)):
        raise Refusal("email_taken", _("Another account has this email."), 409, "email")


async def confirm_email(db: AsyncSession, secret: str, token: str, now: datetime) -> tuple[Account, str]:
    """Sets the email a link was mailed to; returns the account and its old email, to tell it.
    Used once: the link is bound to the email it changes."""
    claim = rules.email_change_claim(secret, token, now)
    account = await db.get(Account, claim.account_id) if claim else None
    if claim is None or account is None or claim.bound_to != rules.fingerprint(account.email):
        raise used_link("email")
    old = account.email
    await _refuse_taken(db, account, claim.text)
    account.email = claim.text
    try:
        await db.flush()
    except IntegrityError as exc:  # another account took it at the same instant
        await db.rollback()
        raise Refusal("email_taken", _("Another account has this email."), 409, "email") from exc
    return account, old


def used_link(what: str) -> Refusal:
    if what == "email":
        return Refusal(
            "link_not_valid", _("This link has expired or was used already; ask for a new email again."), 410
        )
    return Refusal("link_not_valid", _("This link has expired or was used already; ask for a new link again."), 410)


async def set_password(account: Account, password: str) -> None:
    """A new password, held to the rules of sign-up (the length is the body's, `schemas.Password`)."""
    check_password(password, account.name, account.email)
    account.password_hash = await hash_password(password)


async def change_password(account: Account, current: str, new: str) -> None:
    if not await verify_password(account, current):
        raise Refusal("wrong_password", _("Your current password is not the one you typed."), 403, "current")
    await set_password(account, new)


async def account_for_reset(db: AsyncSession, email: str) -> Account | None:
    try:
        return await db.scalar(select(Account).where(Account.email == clean_email(email)))
    except Refusal:
        return None


async def reset_account(db: AsyncSession, secret: str, token: str, now: datetime) -> Account:
    """The account a reset link is for, while the link is valid: an hour, and until the
    password changes (by this link or any other way)."""
    claim = rules.password_reset_claim(secret, token, now)
    account = await db.get(Account, claim.account_id) if claim else None
    if claim is None or account is None or claim.bound_to != rules.fingerprint(account.password_hash):
        raise used_link("password")
    return account
