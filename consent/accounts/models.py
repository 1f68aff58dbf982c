"""An account is a person who signs in; we keep only a name, an email, a password hash, and the
language and time zone they chose."""

from __future__ import annotations

import uuid
from datetime import datetime

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column


class Account(UUIDAuditBase):
    __tablename__ = "account"

    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    password_hash: Mapped[str] = mapped_column(String(255))
    # Chosen on the account page; None: the browser's (Accept-Language, its time zone).
    language: Mapped[str | None] = mapped_column(String(10), default=None)
    time_zone: Mapped[str | None] = mapped_column(String(64), default=None)


class ApiToken(UUIDAuditBase):
    """A bearer token for scripts; only its SHA-256 is stored, so a leaked database leaks no token."""

    __tablename__ = "api_token"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")


class BrowserSession(UUIDAuditBase):
    """A browser signed in to an account, so that its owner can see and end it: only a hash of
    the session id (the cookie), when it was last used, and a coarse "browser on system" label.
    No address. A session without its row is not signed in (consent.accounts.auth)."""

    __tablename__ = "browser_session"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    last_seen_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
