"""Request and response bodies of the account API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from consent.base.text import MAX_EMAIL, MAX_NAME, Email

# A person's name is kept as typed (trimmed), so its limit holds on the wire (400), not after
# whitespace is collapsed as for a circle's name.
AccountName = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME)]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=1000)]
Language = Literal["en", "es"]  # consent.base.i18n.LANGUAGES


class SignUp(msgspec.Struct, forbid_unknown_fields=True):
    name: AccountName
    email: Email
    password: Password


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(max_length=MAX_EMAIL)]  # any text: a wrong one is wrong credentials
    password: Annotated[str, msgspec.Meta(max_length=1000)]


class AccountOut(msgspec.Struct):
    id: str
    name: str
    email: str
    language: str | None = None  # None: the browser's
    time_zone: str | None = None
    # Set in the answer to the change of email that asked for it, until the mailed link confirms it.
    pending_email: str | None = None


class AccountChange(msgspec.Struct, forbid_unknown_fields=True):
    """PATCH /api/accounts/me: what is left out stays; null language or time zone: the browser's."""

    name: AccountName | msgspec.UnsetType = msgspec.UNSET
    email: Email | msgspec.UnsetType = msgspec.UNSET
    language: Language | msgspec.UnsetType | None = msgspec.UNSET
    time_zone: Annotated[str, msgspec.Meta(max_length=64)] | msgspec.UnsetType | None = msgspec.UNSET


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current: Annotated[str, msgspec.Meta(max_length=1000)]
    new: Password


class PasswordResetAsked(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(max_length=MAX_EMAIL)]  # any text: the answer is the same


class ResetAsked(msgspec.Struct):
    message: str  # the same whether the email has an account or not


class SessionOut(msgspec.Struct):
    """A browser signed in to the account: no address, only a coarse label."""

    id: str
    label: str
    created_at: datetime
    last_seen_at: datetime
    current: bool  # the browser asking


class SignedIn(msgspec.Struct):
    token: str
    account: AccountOut


class Erasure(msgspec.Struct, forbid_unknown_fields=True):
    """The account's password again: a signed-in device alone cannot erase the account."""

    password: Annotated[str, msgspec.Meta(max_length=1000)]
